#include <string.h>

#include <stdlib.h>

#include "embed_api.h"
#include "embed_vec.h"
#include "errbuf.h"
#include "json.h"
#include "xalloc.h"

/*
 * Batching per provider: what its documentation allows in one request.
 * Texts: OpenAI takes 2048 inputs and 300,000 tokens a request, Gemini's
 * batchEmbedContents 100 requests, SiliconFlow 32 inputs.
 */
static const struct {
	const char	*provider;
	int		 def, max;
	double		 tokens;
} limits[] = {
	{ "openai", 256, 2048, 300000 },
	{ "google", 100, 100, 0 },
	{ "siliconflow", 32, 32, 0 },
};

#define DEFAULT_BATCH	64

const struct embed_api *
embed_api_find(jv target, char *err)
{
	const char *api = json_peek_string(target, "api");
	const char *ref = json_peek_string(target, "ref");

	if (api && (strcmp(api, "openai-completions") == 0 ||
	    strcmp(api, "openai-responses") == 0))
		return &embed_api_openai;
	if (api && strcmp(api, "google-generative-ai") == 0)
		return &embed_api_gemini;
	errbuf_set(err, "target '%s': api '%s' has no embeddings",
	    ref ? ref : "?", api ? api : "");
	return NULL;
}

void
embed_api_limits(jv target, int *def, int *max, double *tokens)
{
	const char *p = json_peek_string(target, "provider");
	size_t i;

	*def = DEFAULT_BATCH;
	*max = 0;
	*tokens = 0;
	for (i = 0; p && i < sizeof(limits) / sizeof(limits[0]); i++)
		if (strcmp(limits[i].provider, p) == 0) {
			*def = limits[i].def;
			*max = limits[i].max;
			*tokens = limits[i].tokens;
		}
}

int
embed_api_accept(const char *body, size_t len, jv target, jv *resp,
    char *err)
{
	(void)body;
	(void)len;
	(void)target;
	(void)err;
	*resp = jv_object();
	return 0;
}

char *
embed_api_swap_suffix(const char *url, const char *from, const char *to)
{
	size_t plen = strcspn(url, "?"), n = strlen(from);

	if (plen < n || memcmp(url + plen - n, from, n) != 0)
		return xstrdup(url);
	return xasprintf("%.*s%s%s", (int)(plen - n), url, to, url + plen);
}

/*
 * Decodes one vector, base64 (the string's raw bytes; a server may write
 * "/" as "\/") or a JSON array, into out, at most max floats.  Returns
 * the count, or -1.
 */
static long
decode(const char *p, size_t len, int kind, int escaped, float *out,
    size_t max)
{
	size_t used, i, j;
	char *tmp;
	long n;

	if (kind == '[')
		return embed_vec_parse_array(p, len, out, max, &used);
	if (!escaped)
		return embed_vec_b64_decode(p, len, out, max);
	tmp = xmalloc(len + 1);
	for (i = j = 0; i < len; i++) {
		if (p[i] == '\\') {
			if (i + 1 == len || p[i + 1] != '/') {
				free(tmp);
				return -1;
			}
			i++;
		}
		tmp[j++] = p[i];
	}
	n = embed_vec_b64_decode(tmp, j, out, max);
	free(tmp);
	return n;
}

int
embed_api_place(struct embed_vectors *ev, size_t row, const char *p, size_t len,
    int kind, int escaped, char *err)
{
	float *first;
	long got;

	if (ev->v == NULL && ev->dims == 0) {
		/* No size expected: the first vector sets it. */
		first = xmalloc(EMBED_API_DIMS_MAX * sizeof(float));
		got = decode(p, len, kind, escaped, first,
		    EMBED_API_DIMS_MAX);
		if (got <= 0) {
			free(first);
			return errbuf_set(err, got == 0 ? "an empty vector" :
			    "a vector that does not decode");
		}
		ev->dims = (size_t)got;
		ev->v = xmalloc(ev->n * ev->dims * sizeof(float));
		memcpy(ev->v + row * ev->dims, first, ev->dims *
		    sizeof(float));
		free(first);
		return 0;
	}
	if (ev->v == NULL)
		ev->v = xmalloc(ev->n * ev->dims * sizeof(float));
	got = decode(p, len, kind, escaped, ev->v + row * ev->dims, ev->dims);
	if (got == -1) {
		/* Too long, or not a vector at all: tell which. */
		float *any = xmalloc(EMBED_API_DIMS_MAX * sizeof(float));

		got = decode(p, len, kind, escaped, any, EMBED_API_DIMS_MAX);
		free(any);
		if (got == -1)
			return errbuf_set(err, "vector %zu does not decode",
			    row);
	}
	if ((size_t)got != ev->dims) {
		ev->wrong_dims = 1;
		return errbuf_set(err, "vector %zu has %ld numbers, expected "
		    "%zu", row, got, ev->dims);
	}
	return 0;
}


int
embed_api_finish(struct embed_vectors *ev, int r, int have, const char *list,
    size_t got, char *err)
{
	if (r == -1)
		errbuf_set(err, "not JSON");
	else if (!have)
		errbuf_set(err, "no \"%s\"", list);
	else if (got != ev->n)
		errbuf_set(err, "%zu vectors for %zu texts", got, ev->n);
	else
		return 0;
	free(ev->v);
	ev->v = NULL;
	return -1;
}
