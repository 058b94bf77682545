/*
 * dialect_echo: the offline provider (api "echo").  Nothing goes over the
 * wire: the engine asks dialect_echo_answer instead of sending, so
 * pipelines, tests and demos run without a key or a network.  build
 * still returns a body, the canonical request itself, so that --dry-run
 * shows what the echo provider was given.
 */
#include <string.h>

#include "dialect.h"
#include "errbuf.h"
#include "json.h"
#include "request.h"

static jv
set(jv o, const char *k, jv v)
{
	return jv_object_set(o, jv_string(k), v);
}

/* Tokens as every estimate in the suite counts them: four bytes each. */
static double
tokens(size_t bytes)
{
	return (double)((bytes + 3) / 4);
}

static size_t
text_bytes(jv content)
{
	jv t = request_text(content);
	size_t n = (size_t)jv_string_length_bytes(t);

	return n;
}

int
dialect_echo_answer(jv canon, jv *resp)
{
	jv list, answer = jv_invalid(), m, c;
	const char *role, *sys;
	size_t in = 0, out;
	int i, n;

	list = json_get(canon, "messages");
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return -1;
	}
	if ((sys = json_peek_string(canon, "system")) != NULL)
		in += strlen(sys);
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		m = jv_array_get(jv_copy(list), i);
		c = json_get(m, "content");
		in += text_bytes(c);
		role = json_peek_string(m, "role");
		if (role != NULL && strcmp(role, "user") == 0) {
			jv_free(answer);
			answer = request_text(c);
		}
		jv_free(c);
		jv_free(m);
	}
	jv_free(list);
	if (!jv_is_valid(answer))
		answer = jv_string("");
	out = (size_t)jv_string_length_bytes(jv_copy(answer));
	*resp = set(set(set(set(jv_object(),
	    "text", answer),
	    "stop_reason", jv_string("stop")),
	    "usage", set(set(set(set(set(jv_object(),
		"input", jv_number(tokens(in))),
		"output", jv_number(tokens(out))),
		"cache_read", jv_number(0)),
		"cache_write", jv_number(0)),
		"reasoning", jv_number(0))),
	    "provider_model", jv_string("echo"));
	return 0;
}

static int
build(jv canon, jv target, int stream, jv *body, jv *headers, jv *url,
    char *err)
{
	(void)target;
	(void)stream;
	(void)err;
	*body = jv_copy(canon);
	*headers = jv_object();
	*url = jv_null();
	return 0;
}

/*
 * The engine never hands the echo provider a body, but a body this
 * adapter built (a canonical request) or answered (response fields)
 * reads back as the answer it stands for.
 */
static int
parse(const char *body, size_t len, jv target, jv *resp, char *err)
{
	jv v = jv_parse_sized(body, (int)len);
	int r;

	(void)target;
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return errbuf_set(err, "response is not a JSON object");
	}
	if (json_peek_kind(v, "stop_reason") == JV_KIND_STRING) {
		*resp = v;
		return 0;
	}
	r = dialect_echo_answer(v, resp);
	jv_free(v);
	if (r == -1)
		return errbuf_set(err, "echo body has no \"messages\"");
	return 0;
}

static jv
error(int status, const char *body, size_t len)
{
	return dialect_error_generic(status, body, len);
}

const struct dialect dialect_echo = {
	"echo", build, parse, error
};
