#include <stdio.h>
#include <string.h>

#include "json.h"
#include "record.h"

static const struct {
	const char	*name;
	int		 retriable;
} kinds[] = {
	[RECORD_BAD_INPUT] = { "bad_input", 0 },
	[RECORD_CONFIG] = { "config", 0 },
	[RECORD_AUTH] = { "auth", 0 },
	[RECORD_BAD_REQUEST] = { "bad_request", 0 },
	[RECORD_CONTEXT_LENGTH] = { "context_length", 0 },
	[RECORD_CONTENT_FILTER] = { "content_filter", 0 },
	[RECORD_RATE_LIMITED] = { "rate_limited", 1 },
	[RECORD_QUOTA] = { "quota", 0 },
	[RECORD_TIMEOUT] = { "timeout", 1 },
	[RECORD_NETWORK] = { "network", 1 },
	[RECORD_SERVER] = { "server", 1 },
	[RECORD_TRUNCATED] = { "truncated", 1 },
	[RECORD_EXHAUSTED] = { "exhausted", 1 },
};

const char *
record_kind_name(enum record_kind kind)
{
	return kinds[kind].name;
}

int
record_kind_retriable(enum record_kind kind)
{
	return kinds[kind].retriable;
}

jv
record_with_id(jv req, unsigned long lineno)
{
	char num[32];

	if (json_peek_kind(req, "id") != JV_KIND_INVALID)
		return req;
	snprintf(num, sizeof(num), "%lu", lineno);
	return jv_object_set(req, jv_string("id"), jv_string(num));
}

jv
record_error(jv req, enum record_kind kind, int status, const char *provider,
    int retriable, const char *message)
{
	jv e = jv_object();

	e = jv_object_set(e, jv_string("kind"),
	    jv_string(record_kind_name(kind)));
	if (status > 0)
		e = jv_object_set(e, jv_string("status"), jv_number(status));
	e = jv_object_set(e, jv_string("message"), jv_string(message));
	if (provider)
		e = jv_object_set(e, jv_string("provider"),
		    jv_string(provider));
	e = jv_object_set(e, jv_string("retriable"), jv_bool(retriable));
	return jv_object_set(req, jv_string("error"), e);
}

jv
record_bad_input(unsigned long lineno, const char *message)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "line %lu: %s", lineno, message);
	return record_error(record_with_id(jv_object(), lineno),
	    RECORD_BAD_INPUT, 0, NULL, 0, msg);
}

int
record_is_response(jv rec)
{
	const char *type = json_peek_string(rec, "type");
	jv_kind t = json_peek_kind(rec, "text");

	if (json_peek_kind(rec, "error") != JV_KIND_INVALID)
		return 0;
	/* A prompt or messages make a request, whatever else it holds. */
	if (json_peek_kind(rec, "prompt") != JV_KIND_INVALID ||
	    json_peek_kind(rec, "messages") != JV_KIND_INVALID)
		return 0;
	/* Stream events carry what their type says they carry. */
	if (type && (strcmp(type, "text") == 0 ||
	    strcmp(type, "reasoning") == 0))
		return json_peek_kind(rec, "delta") == JV_KIND_STRING;
	if (type && strcmp(type, "tool_call") == 0)
		return json_peek_kind(rec, "index") == JV_KIND_NUMBER;
	if (type && strcmp(type, "start") == 0)
		return json_peek_kind(rec, "model") == JV_KIND_STRING;
	return (t == JV_KIND_STRING || t == JV_KIND_NULL) &&
	    json_peek_kind(rec, "stop_reason") != JV_KIND_INVALID;
}

int
record_is_error(jv rec)
{
	return json_peek_kind(rec, "error") == JV_KIND_OBJECT;
}

const char *
record_error_message(jv rec)
{
	jv e = json_get(rec, "error");
	const char *m = json_peek_string(e, "message");

	jv_free(e);	/* rec still holds the object, and so the string */
	return m;
}
