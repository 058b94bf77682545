#include <string.h>

#include "dialect.h"
#include "json.h"

#define MESSAGE_MAX	512	/* bytes of a non-JSON error body kept */

static jv
copy_string(jv dst, const char *key, jv src, const char *skey)
{
	jv v = json_get(src, skey);

	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		/* Some providers send numeric codes (zhipu 1113). */
		jv s = jv_dump_string(v, 0);

		return jv_object_set(dst, jv_string(key), s);
	}
	if (jv_get_kind(v) == JV_KIND_STRING)
		return jv_object_set(dst, jv_string(key), v);
	jv_free(v);
	return dst;
}

jv
dialect_error_generic(int status, const char *body, size_t len)
{
	jv v, e, out = jv_object();
	size_t n;

	(void)status;
	v = len > 0 ? jv_parse_sized(body, (int)len) : jv_invalid();
	if (jv_get_kind(v) == JV_KIND_ARRAY)	/* Gemini may wrap in [] */
		v = jv_array_get(v, 0);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		for (n = 0; n < len && n < MESSAGE_MAX && body[n] != '\n' &&
		    body[n] != '\r'; n++)
			;
		if (n > 0)
			out = jv_object_set(out, jv_string("message"),
			    jv_string_sized(body, (int)n));
		return out;
	}
	e = json_get(v, "error");
	if (jv_get_kind(e) == JV_KIND_STRING) {
		out = jv_object_set(out, jv_string("message"), e);
		e = jv_invalid();
	} else if (jv_get_kind(e) == JV_KIND_OBJECT) {
		out = copy_string(out, "message", e, "message");
		out = copy_string(out, "type", e, "type");
		out = copy_string(out, "code", e, "code");
		if (json_peek_kind(out, "type") == JV_KIND_INVALID)
			out = copy_string(out, "type", e, "status");
	}
	jv_free(e);
	if (json_peek_kind(out, "message") == JV_KIND_INVALID)
		out = copy_string(out, "message", v, "message");
	if (json_peek_kind(out, "type") == JV_KIND_INVALID)
		out = copy_string(out, "type", v, "type");
	if (json_peek_kind(out, "code") == JV_KIND_INVALID)
		out = copy_string(out, "code", v, "code");
	jv_free(v);
	return out;
}

jv
dialect_arguments(jv call, const char *text, size_t len)
{
	jv a;
	size_t i;

	for (i = 0; i < len && (text[i] == ' ' || text[i] == '\n' ||
	    text[i] == '\t' || text[i] == '\r'); i++)
		;
	if (i == len)	/* "" means no arguments */
		return jv_object_set(call, jv_string("arguments"),
		    jv_object());
	a = jv_parse_sized(text, (int)len);
	if (jv_get_kind(a) == JV_KIND_OBJECT)
		return jv_object_set(call, jv_string("arguments"), a);
	jv_free(a);
	call = jv_object_set(call, jv_string("arguments"), jv_object());
	return jv_object_set(call, jv_string("arguments_raw"),
	    jv_string_sized(text, (int)len));
}
