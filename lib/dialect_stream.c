/*
 * dialect_stream: the SSE framing and a dialect's stream adapter put
 * together (see dialect.h).  What is the same for every API lives here:
 * exactly one end or error per answer, the ceilings, the kinds of the
 * failures, and bodies that are no event stream at all.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "dialect.h"
#include "errbuf.h"
#include "json.h"
#include "record.h"

#define HEAD_MAX	(1u << 20)	/* bytes of a non-SSE body read */

static void
push(struct dialect_stream *ds, jv ev)
{
	ds->out = jv_array_append(ds->out, ev);
}

static void
fail(struct dialect_stream *ds, enum record_kind kind, int retriable,
    const char *msg)
{
	jv e = json_set(jv_object(), "kind", jv_string(record_kind_name(kind)));
	const char *prov = json_peek_string(ds->target, "provider");

	e = json_set(e, "message", jv_string(msg));
	if (prov != NULL)
		e = json_set(e, "provider", jv_string(prov));
	e = json_set(e, "retriable", jv_bool(retriable));
	push(ds, json_set(json_set(json_set(jv_object(), "type",
	    jv_string("error")),
	    "error", e), "partial", jv_bool(ds->content)));
	ds->ended = -1;
}

/* The error an adapter or error() read: kind from its status hint. */
static void
fail_info(struct dialect_stream *ds, jv info, const char *prefix,
    int status)
{
	const char *m = json_peek_string(info, "message");
	const char *t = json_peek_string(info, "type");
	char msg[ERRBUF_MAX];
	enum record_kind kind;
	double d;
	int retriable;

	if (json_peek_number(info, "status", &d) && d >= 400 && d < 600)
		status = (int)d;
	kind = classify_http(status, info, &retriable);
	snprintf(msg, sizeof(msg), "%s%s%s%s", prefix, t ? t : "",
	    t && m ? ": " : "", m ? m : t ? "" : "no message");
	fail(ds, kind, retriable, msg);
}

static void
end(struct dialect_stream *ds, jv fields)
{
	jv ev = json_set(jv_object(), "type", jv_string("end"));
	int it;

	/* The fields after "type", which no field may replace. */
	if (jv_get_kind(fields) == JV_KIND_OBJECT)
		for (it = jv_object_iter(fields); jv_object_iter_valid(fields,
		    it); it = jv_object_iter_next(fields, it)) {
			jv k = jv_object_iter_key(fields, it);

			if (strcmp(jv_string_value(k), "type") == 0)
				jv_free(k);
			else
				ev = jv_object_set(ev, k,
				    jv_object_iter_value(fields, it));
		}
	jv_free(fields);
	push(ds, ev);
	ds->ended = 1;
}

void
dialect_stream_init(struct dialect_stream *ds, const struct dialect *d,
    jv target, size_t max_event, size_t max_body)
{
	ds->d = d;
	ds->st = d->stream_new(target);
	ds->target = jv_copy(target);
	sse_init(&ds->sse, max_event);
	buf_init(&ds->head, HEAD_MAX < ds->sse.max ? HEAD_MAX : ds->sse.max);
	ds->out = jv_invalid();
	ds->body = 0;
	ds->max_body = max_body ? max_body : DIALECT_STREAM_BODY_MAX;
	ds->ended = 0;
	ds->can_end = 0;
	ds->content = 0;
}

void
dialect_stream_release(struct dialect_stream *ds)
{
	if (ds->st != NULL)
		ds->d->stream_free(ds->st);
	ds->st = NULL;
	jv_free(ds->target);
	ds->target = jv_invalid();
	jv_free(ds->out);
	ds->out = jv_invalid();
	sse_release(&ds->sse);
	buf_release(&ds->head);
}

static int
is_content(jv ev)
{
	const char *t = json_peek_string(ev, "type");

	return t != NULL && (strcmp(t, "text") == 0 ||
	    strcmp(t, "reasoning") == 0 || strcmp(t, "tool_call") == 0);
}

/* Moves the adapter's events into ds->out. */
static void
take(struct dialect_stream *ds, jv events)
{
	int i, n = jv_array_length(jv_copy(events));

	for (i = 0; i < n; i++) {
		jv ev = jv_array_get(jv_copy(events), i);

		if (is_content(ev))
			ds->content = 1;
		push(ds, ev);
	}
	jv_free(events);
}

static int
on_event(void *arg, const struct sse_event *ev)
{
	struct dialect_stream *ds = arg;
	jv events, info = jv_invalid();
	char msg[ERRBUF_MAX];
	int r;

	if (ev->toolong) {
		snprintf(msg, sizeof(msg), "stream event over %zu bytes",
		    ds->sse.max);
		fail(ds, RECORD_SERVER, 0, msg);
		return 1;
	}
	events = jv_array();
	r = ds->d->stream_event(ds->st, ev->type, ev->data, ev->len, &events,
	    &info);
	take(ds, events);
	switch (r) {
	case DIALECT_STREAM_DONE:
		end(ds, ds->d->stream_end(ds->st, 1));
		return 1;
	case DIALECT_STREAM_FAIL:
		if (jv_get_kind(info) != JV_KIND_OBJECT) {
			jv_free(info);
			info = jv_object();
		}
		fail_info(ds, info, "", 500);
		jv_free(info);
		return 1;
	default:
		jv_free(info);
		ds->can_end = r == DIALECT_STREAM_CAN_END;
		return 0;
	}
}

int
dialect_stream_feed(struct dialect_stream *ds, const char *p, size_t n,
    jv *events)
{
	char msg[ERRBUF_MAX];
	size_t room;

	if (ds->ended)
		return 1;
	ds->out = *events;
	if (n > ds->max_body - ds->body) {
		snprintf(msg, sizeof(msg), "stream over %zu bytes",
		    ds->max_body);
		fail(ds, RECORD_SERVER, 0, msg);
	} else {
		ds->body += n;
		/* Keep the start of the body until it looks like SSE. */
		if (ds->sse.nknown == 0 && ds->head.len < ds->head.max) {
			room = ds->head.max - ds->head.len;
			(void)buf_append(&ds->head, p, n < room ? n : room);
		}
		(void)sse_feed(&ds->sse, p, n, on_event, ds);
		if (ds->sse.nknown > 0 && ds->head.data != NULL)
			buf_release(&ds->head);
	}
	*events = ds->out;
	ds->out = jv_invalid();
	return ds->ended != 0;
}

/* The content of complete response fields (borrowed), as events. */
static void
replay_fields(struct dialect_stream *ds, jv fields)
{
	jv v = json_get(fields, "reasoning"), calls;
	int i, n;

	if (jv_get_kind(v) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(v)) > 0) {
		push(ds, dialect_event_delta("reasoning", v));
		ds->content = 1;
	} else
		jv_free(v);
	v = json_get(fields, "text");
	if (jv_get_kind(v) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(v)) > 0) {
		push(ds, dialect_event_delta("text", v));
		ds->content = 1;
	} else
		jv_free(v);
	calls = json_get(fields, "tool_calls");
	n = jv_get_kind(calls) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(calls)) : 0;
	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(calls), i), a, ev;
		struct buf b;

		buf_init(&b, 0);
		a = json_get(c, "arguments_raw");
		if (jv_get_kind(a) != JV_KIND_STRING) {
			jv_free(a);
			a = json_get(c, "arguments");
			(void)json_write(&b, a);	/* borrows a */
			jv_free(a);
			a = jv_string_sized(buf_cstr(&b), (int)b.len);
		}
		buf_release(&b);
		ev = json_set(json_set(jv_object(), "type",
		    jv_string("tool_call")),
		    "index", jv_number(i));
		ev = json_set(ev, "call_id", json_peek_string(c, "id") ?
		    json_get(c, "id") : jv_string(""));
		ev = json_set(ev, "name", json_peek_string(c, "name") ?
		    json_get(c, "name") : jv_string(""));
		push(ds, json_set(ev, "arguments_delta", a));
		jv_free(c);
	}
	jv_free(calls);
	ds->content |= n > 0;
}

/* A body in which the SSE parser found no line of its own. */
static void
not_sse(struct dialect_stream *ds)
{
	const char *s = buf_cstr(&ds->head), *why;
	size_t n = ds->head.len, i, off;
	char err[ERRBUF_MAX];
	jv fields, info;

	for (i = 0; i < n && strchr(" \t\r\n", s[i]) != NULL; i++)
		;
	/* Only JSON goes to parse and error (libjq leaks on bad input). */
	if (ds->body > ds->head.len || i == n || (s[i] != '{' &&
	    s[i] != '[') || !json_syntax(s, n, &off, &why)) {
		fail(ds, RECORD_SERVER, 1, "response is not an event stream");
		return;
	}
	if (ds->d->parse(s, n, ds->target, &fields, err) == 0) {
		replay_fields(ds, fields);
		end(ds, fields);
		return;
	}
	/* The words of the error say what it is: the status was 2xx. */
	info = dialect_event_status(ds->d->error(200, s, n));
	fail_info(ds, info, "response is not an event stream: ", 500);
	jv_free(info);
}

int
dialect_stream_finish(struct dialect_stream *ds, jv *events)
{
	int cut;

	if (ds->ended)
		return ds->ended == 1;
	ds->out = *events;
	if (ds->can_end)
		end(ds, ds->d->stream_end(ds->st, 1));
	else if (ds->sse.nknown == 0 && ds->body > 0)
		not_sse(ds);
	else {
		cut = sse_finish(&ds->sse);
		fail(ds, RECORD_TRUNCATED, 1, cut ?
		    "stream cut inside an event, before its terminal event" :
		    "stream ended before its terminal event");
	}
	*events = ds->out;
	ds->out = jv_invalid();
	return ds->ended == 1;
}

jv
dialect_event_delta(const char *type, jv delta)
{
	return json_set(json_set(jv_object(), "type", jv_string(type)), "delta",
	    delta);
}

jv
dialect_event_call(int index, const char *call_id, const char *name,
    const char *delta, size_t len)
{
	jv ev = json_set(jv_object(), "type", jv_string("tool_call"));

	ev = json_set(ev, "index", jv_number(index));
	ev = json_set(ev, "call_id", jv_string(call_id ? call_id : ""));
	ev = json_set(ev, "name", jv_string(name ? name : ""));
	return json_set(ev, "arguments_delta", jv_string_sized(delta,
	    (int)len));
}

int
dialect_event_fail(jv *error, const char *fmt, ...)
{
	char msg[ERRBUF_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jv_free(*error);
	*error = json_set(jv_object(), "message", jv_string(msg));
	return DIALECT_STREAM_FAIL;
}

int
dialect_event_json(const char *data, size_t len, jv *v, jv *error)
{
	const char *why;
	size_t off;

	*v = jv_invalid();
	if (len > INT_MAX)
		return dialect_event_fail(error, "stream event too large");
	if (!json_syntax(data, len, &off, &why))
		return dialect_event_fail(error, "stream event data is not "
		    "JSON: %s at byte %zu", why, off + 1);
	*v = jv_parse_sized(data, (int)len);
	if (!jv_is_valid(*v)) {	/* json_syntax said yes: unlikely */
		jv_free(*v);
		*v = jv_invalid();
		return dialect_event_fail(error, "stream event data is not "
		    "JSON");
	}
	return 0;
}

long
dialect_event_index(jv obj, const char *key)
{
	double d;

	if (!json_peek_number(obj, key, &d) || !(d >= 0 && d <= 1e9) ||
	    d != (double)(long)d)
		return -1;
	return (long)d;
}

static int
has_word(const char *s, const char *w)
{
	char low[128];
	size_t i;

	for (i = 0; s[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = '\0';
	return strstr(low, w) != NULL;
}

jv
dialect_event_status(jv info)
{
	static const struct {
		const char	*word;
		int		 status;
	} words[] = {
		{ "rate_limit", 429 }, { "quota", 429 }, { "overloaded", 529 },
		{ "server_error", 500 }, { "internal", 500 },
		{ "invalid_request", 400 }, { "not_found", 404 },
		{ "permission", 403 }, { "forbidden", 403 },
		{ "auth", 401 }, { "api_key", 401 }, { "timeout", 408 },
	};
	const char *code = json_peek_string(info, "code");
	const char *type = json_peek_string(info, "type");
	size_t i;
	int status = 0;

	if (code != NULL && strlen(code) == 3 && code[0] >= '4' &&
	    code[0] <= '5' && isdigit((unsigned char)code[1]) &&
	    isdigit((unsigned char)code[2]))
		status = atoi(code);
	for (i = 0; status == 0 && i < sizeof(words) / sizeof(words[0]); i++)
		if ((code != NULL && has_word(code, words[i].word)) ||
		    (type != NULL && has_word(type, words[i].word)))
			status = words[i].status;
	if (status != 0)
		info = json_set(info, "status", jv_number(status));
	return info;
}
