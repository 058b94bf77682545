/*
 * Gemini's batch embeddings:
 *
 *	POST {base}/models/{id}:batchEmbedContents
 *	{"requests": [{"model": "models/{id}", "content": {"parts":
 *	    [{"text": TEXT}]}, "outputDimensionality": N}, ...]}
 *	-> {"embeddings": [{"values": [x, ...]}, ...]}
 *
 * The answers come in the order of the requests, as numbers only, with
 * no token counts.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "embed_api.h"
#include "errbuf.h"
#include "jscan.h"
#include "json.h"

static char *
gemini_url(jv target, char *err)
{
	const char *url = json_peek_string(target, "url");

	if (url == NULL) {
		errbuf_set(err, "target has no \"url\"");
		return NULL;
	}
	return embed_api_swap_suffix(url, ":generateContent",
	    ":batchEmbedContents");
}

static int
gemini_build(struct buf *b, jv target, const char *const *texts,
    const size_t *lens, size_t n, long dims)
{
	const char *model = json_peek_string(target, "model");
	struct buf name;
	size_t i;
	int r;

	/* Every request names the model; write its JSON string once. */
	buf_init(&name, 0);
	r = buf_puts(&name, "models/") || buf_puts(&name, model ? model : "");
	if (r == 0) {
		struct buf q;

		buf_init(&q, 0);
		json_write_string(&q, name.data, name.len);
		buf_release(&name);
		name = q;
	}
	r = r || buf_puts(b, "{\"requests\":[");
	for (i = 0; i < n && r == 0; i++) {
		r = (i && buf_putc(b, ',')) ||
		    buf_puts(b, "{\"model\":") ||
		    buf_append(b, name.data, name.len) ||
		    buf_puts(b, ",\"content\":{\"parts\":[{\"text\":") ||
		    json_write_string(b, texts[i], lens[i]) ||
		    buf_puts(b, "}]}");
		if (r == 0 && dims > 0)
			r = buf_printf(b, ",\"outputDimensionality\":%ld",
			    dims);
		r = r || buf_putc(b, '}');
	}
	buf_release(&name);
	return r || buf_puts(b, "]}") ? -1 : 0;
}

static int
gemini_parse(const char *body, size_t len, struct embed_vectors *ev,
    char *err)
{
	struct jscan s;
	const char *k, *vp;
	size_t kn, got = 0;
	int r, have = 0;

	ev->v = NULL;
	ev->tokens = -1;
	ev->model[0] = '\0';
	jscan_init(&s, body, len);
	if (jscan_enter(&s, '{') == -1)
		return errbuf_set(err, "not a JSON object");
	while ((r = jscan_key(&s, &k, &kn)) == 1) {
		if (!jscan_is(k, kn, "embeddings")) {
			if (jscan_skip(&s) == -1) {
				r = -1;
				break;
			}
			continue;
		}
		have = 1;
		if (jscan_enter(&s, '[') == -1) {
			errbuf_set(err, "\"embeddings\" is not an array");
			goto bad;
		}
		while ((r = jscan_next(&s)) == 1) {
			vp = NULL;
			if (jscan_enter(&s, '{') == -1) {
				r = -1;
				break;
			}
			while ((r = jscan_key(&s, &k, &kn)) == 1) {
				if (jscan_is(k, kn, "values") &&
				    jscan_peek(&s) == '[') {
					vp = s.p;
					if (jscan_skip(&s) == -1) {
						r = -1;
						break;
					}
					if (got >= ev->n) {
						errbuf_set(err, "more vectors "
						    "than the %zu texts", ev->n);
						goto bad;
					}
					if (embed_api_place(ev, got, vp,
					    (size_t)(s.p - vp), '[', 0,
					    err) == -1)
						goto bad;
				} else if (jscan_skip(&s) == -1) {
					r = -1;
					break;
				}
			}
			if (r == -1)
				break;
			if (vp == NULL) {
				errbuf_set(err, "an embedding without "
				    "\"values\"");
				goto bad;
			}
			got++;
		}
		if (r == -1)
			break;
	}
	return embed_api_finish(ev, r, have, "embeddings", got, err);
bad:
	free(ev->v);
	ev->v = NULL;
	return -1;
}

/* Errors are generateContent's: the chat adapter reads them. */
static jv
gemini_error(int status, const char *body, size_t len)
{
	return dialect_google_generative_ai.error(status, body, len);
}

static const struct dialect gemini_errors = {
	.api = "gemini-embeddings",
	.parse = embed_api_accept,
	.error = gemini_error,
};

const struct embed_api embed_api_gemini = {
	.name = "gemini",
	.url = gemini_url,
	.build = gemini_build,
	.parse = gemini_parse,
	.dialect = &gemini_errors,
};
