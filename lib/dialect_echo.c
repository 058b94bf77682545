/*
 * dialect_echo: the offline provider (api "echo").  Nothing goes over the
 * wire: the engine asks dialect_echo_answer instead of sending, so
 * pipelines, tests and demos run without a key or a network.  build
 * still returns a body, the canonical request itself, so that --dry-run
 * shows what the echo provider was given.
 */
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "errbuf.h"
#include "json.h"
#include "request.h"
#include "utf8.h"
#include "xalloc.h"

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
	*resp = json_set(json_set(json_set(json_set(jv_object(),
	    "text", answer),
	    "stop_reason", jv_string("stop")),
	    "usage", json_set(json_set(json_set(json_set(json_set(jv_object(),
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

/*
 * Streaming.  The echo provider's stream is one made here, by
 * dialect_echo_stream, in a form of its own: "text" events whose data is
 * a JSON string, then an "end" event whose data is the response fields.
 */
static int
ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
put_event(struct buf *out, const char *type, jv v)
{
	int r = buf_printf(out, "event: %s\ndata: ", type) == -1 ||
	    json_write(out, v) == -1 || buf_puts(out, "\n\n") == -1;

	jv_free(v);
	return r ? -1 : 0;
}

int
dialect_echo_stream(jv canon, struct buf *out)
{
	jv resp, text;
	const char *s;
	size_t n, i, cut;

	if (dialect_echo_answer(canon, &resp) == -1)
		return -1;
	text = json_get(resp, "text");
	s = jv_string_value(text);
	n = (size_t)jv_string_length_bytes(jv_copy(text));
	for (i = 0; i < n; i += cut) {
		/* A word and the white space after it, in one delta. */
		for (cut = 0; i + cut < n && cut < ECHO_DELTA_MAX &&
		    !ws((unsigned char)s[i + cut]); cut++)
			;
		while (i + cut < n && cut < ECHO_DELTA_MAX &&
		    ws((unsigned char)s[i + cut]))
			cut++;
		if (i + cut < n)	/* never inside a character */
			cut -= utf8_tail(s + i, cut);
		if (cut == 0)		/* a character over the cap */
			cut = 1;
		if (put_event(out, "text", jv_string_sized(s + i, (int)cut))
		    == -1) {
			jv_free(text);
			jv_free(resp);
			return -1;
		}
	}
	jv_free(text);
	return put_event(out, "end", resp);
}

static jv
zero_usage(void)
{
	return json_set(json_set(json_set(json_set(json_set(jv_object(),
	    "input", jv_number(0)),
	    "output", jv_number(0)),
	    "cache_read", jv_number(0)),
	    "cache_write", jv_number(0)),
	    "reasoning", jv_number(0));
}

struct echo_stream {
	struct buf	 text;
	jv		 fields;	/* the end's, once read */
	int		 state;
};

static void *
echo_stream_new(jv target)
{
	struct echo_stream *st = xcalloc(1, sizeof(*st));

	(void)target;
	buf_init(&st->text, DIALECT_STREAM_BODY_MAX);
	st->fields = jv_invalid();
	return st;
}

static void
echo_stream_free(void *vst)
{
	struct echo_stream *st = vst;

	buf_release(&st->text);
	jv_free(st->fields);
	free(st);
}

static int
echo_stream_event(void *vst, const char *type, const char *data,
    size_t len, jv *events, jv *err)
{
	struct echo_stream *st = vst;
	jv v;

	if (st->state != 0)
		return st->state;
	if (strcmp(type, "text") != 0 && strcmp(type, "end") != 0)
		return DIALECT_STREAM_MORE;
	if (dialect_event_json(data, len, &v, err) != 0)
		return st->state = DIALECT_STREAM_FAIL;
	if (strcmp(type, "end") == 0) {
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			jv_free(v);
			return st->state = dialect_event_fail(err,
			    "echo end event holds no object");
		}
		/* Every end holds usage: zeros when this one has none. */
		if (json_peek_kind(v, "usage") != JV_KIND_OBJECT)
			v = json_set(v, "usage", zero_usage());
		st->fields = v;
		return st->state = DIALECT_STREAM_DONE;
	}
	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return st->state = dialect_event_fail(err,
		    "echo text event holds no string");
	}
	if (buf_append(&st->text, jv_string_value(v),
	    (size_t)jv_string_length_bytes(jv_copy(v))) == -1) {
		jv_free(v);
		return st->state = dialect_event_fail(err, "answer too long");
	}
	if (jv_string_length_bytes(jv_copy(v)) > 0)
		*events = jv_array_append(*events,
		    dialect_event_delta("text", v));
	else
		jv_free(v);
	return DIALECT_STREAM_MORE;
}

static jv
echo_stream_end(void *vst, int complete)
{
	struct echo_stream *st = vst;

	(void)complete;
	if (jv_is_valid(st->fields))
		return jv_copy(st->fields);
	return json_set(json_set(jv_object(), "text", st->text.len > 0 ?
	    jv_string_sized(st->text.data, (int)st->text.len) : jv_null()),
	    "usage", zero_usage());
}

const struct dialect dialect_echo = {
	.api = "echo",
	.build = build,
	.parse = parse,
	.error = error,
	.stream_new = echo_stream_new,
	.stream_event = echo_stream_event,
	.stream_end = echo_stream_end,
	.stream_free = echo_stream_free,
};
