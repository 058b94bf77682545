/*
 * OpenAI's embeddings API, and every server that copies it:
 *
 *	POST {base}/embeddings
 *	{"model": ID, "input": [TEXT, ...], "encoding_format": "base64",
 *	 "dimensions": N}
 *	-> {"object": "list", "data": [{"object": "embedding", "index": I,
 *	    "embedding": "<base64 of little-endian float32>"}, ...],
 *	    "model": ID, "usage": {"prompt_tokens": N, "total_tokens": N}}
 *
 * A server that ignores encoding_format sends "embedding" as an array of
 * numbers; both are read.  Items are placed by "index" when they have one,
 * else by their position.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "embed_api.h"
#include "errbuf.h"
#include "jscan.h"
#include "json.h"
#include "xalloc.h"

static char *
openai_url(jv target, char *err)
{
	const char *url = json_peek_string(target, "url");
	char *u;

	if (url == NULL) {
		errbuf_set(err, "target has no \"url\"");
		return NULL;
	}
	/* The dialect's endpoint after the base URL becomes /embeddings. */
	u = embed_api_swap_suffix(url, "/chat/completions", "/embeddings");
	if (strcmp(u, url) == 0) {
		free(u);
		u = embed_api_swap_suffix(url, "/responses", "/embeddings");
	}
	return u;
}

static int
openai_build(struct buf *b, jv target, const char *const *texts,
    const size_t *lens, size_t n, long dims)
{
	const char *model = json_peek_string(target, "model");
	size_t i;
	int r;

	r = buf_puts(b, "{\"model\":") ||
	    json_write_string(b, model ? model : "", model ? strlen(model) :
	    0) || buf_puts(b, ",\"input\":[");
	for (i = 0; i < n && r == 0; i++)
		r = (i && buf_putc(b, ',')) ||
		    json_write_string(b, texts[i], lens[i]);
	if (r == 0)
		r = buf_puts(b, "],\"encoding_format\":\"base64\"");
	if (r == 0 && dims > 0)
		r = buf_printf(b, ",\"dimensions\":%ld", dims);
	return r || buf_putc(b, '}') ? -1 : 0;
}

static int
openai_parse(const char *body, size_t len, struct embed_vectors *ev,
    char *err)
{
	struct jscan s;
	const char *k, *vp;
	unsigned char *seen;
	size_t kn, vl, got = 0, pos = 0;
	int r, kind, esc, have_data = 0;
	long idx;
	double d;

	ev->v = NULL;
	ev->tokens = -1;
	ev->model[0] = '\0';
	jscan_init(&s, body, len);
	if (jscan_enter(&s, '{') == -1)
		return errbuf_set(err, "not a JSON object");
	seen = xcalloc(ev->n ? ev->n : 1, 1);
	while ((r = jscan_key(&s, &k, &kn)) == 1) {
		if (jscan_is(k, kn, "data")) {
			have_data = 1;
			if (jscan_enter(&s, '[') == -1) {
				errbuf_set(err, "\"data\" is not an array");
				goto bad;
			}
			while ((r = jscan_next(&s)) == 1) {
				idx = -1;
				vp = NULL;
				vl = 0;
				kind = esc = 0;
				if (jscan_enter(&s, '{') == -1) {
					r = -1;
					break;
				}
				while ((r = jscan_key(&s, &k, &kn)) == 1) {
					if (jscan_is(k, kn, "index")) {
						if (jscan_number(&s, &d) ==
						    -1 || d < 0 || d > 1e9 ||
						    d != (double)(long)d) {
							errbuf_set(err, "a bad "
							    "\"index\"");
							goto bad;
						}
						idx = (long)d;
					} else if (jscan_is(k, kn,
					    "embedding")) {
						kind = jscan_peek(&s);
						vp = s.p;
						if (kind == '"')
							r = jscan_string(&s,
							    &vp, &vl, &esc);
						else if (kind == '[') {
							r = jscan_skip(&s);
							vl = (size_t)(s.p - vp);
						} else
							r = -1;
						if (r == -1) {
							errbuf_set(err, "an "
							    "\"embedding\" that "
							    "is not a vector");
							goto bad;
						}
					} else if (jscan_skip(&s) == -1) {
						r = -1;
						break;
					}
				}
				if (r == -1)
					break;
				if (vp == NULL) {
					errbuf_set(err, "an item without "
					    "\"embedding\"");
					goto bad;
				}
				if (idx < 0)
					idx = (long)pos;
				pos++;
				if ((size_t)idx >= ev->n) {
					errbuf_set(err, "vector %ld of a batch "
					    "of %zu", idx, ev->n);
					goto bad;
				}
				if (seen[idx]) {
					errbuf_set(err, "vector %ld twice",
					    idx);
					goto bad;
				}
				if (embed_api_place(ev, (size_t)idx, vp, vl,
				    kind, esc, err) == -1)
					goto bad;
				seen[idx] = 1;
				got++;
			}
			if (r == -1)
				break;
		} else if (jscan_is(k, kn, "usage") &&
		    jscan_peek(&s) == '{') {
			jscan_enter(&s, '{');
			while ((r = jscan_key(&s, &k, &kn)) == 1) {
				if ((jscan_is(k, kn, "prompt_tokens") ||
				    (jscan_is(k, kn, "total_tokens") &&
				    ev->tokens < 0)) &&
				    jscan_peek(&s) == 'n')
					jscan_number(&s, &ev->tokens);
				else if (jscan_skip(&s) == -1) {
					r = -1;
					break;
				}
			}
			if (r == -1)
				break;
		} else if (jscan_is(k, kn, "model") &&
		    jscan_peek(&s) == '"') {
			const char *m;
			size_t ml;

			if (jscan_string(&s, &m, &ml, &esc) == -1) {
				r = -1;
				break;
			}
			if (!esc && ml < sizeof(ev->model)) {
				memcpy(ev->model, m, ml);
				ev->model[ml] = '\0';
			}
		} else if (jscan_skip(&s) == -1) {
			r = -1;
			break;
		}
	}
	free(seen);
	return embed_api_finish(ev, r, have_data, "data", got, err);
bad:
	free(seen);
	free(ev->v);
	ev->v = NULL;
	return -1;
}

static const struct dialect openai_errors = {
	.api = "openai-embeddings",
	.parse = embed_api_accept,
	.error = dialect_error_generic,
};

const struct embed_api embed_api_openai = {
	.name = "openai",
	.url = openai_url,
	.build = openai_build,
	.parse = openai_parse,
	.dialect = &openai_errors,
};
