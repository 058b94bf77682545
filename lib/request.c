/*
 * request: loose request records to the one canonical shape of request.h.
 *
 * Everything a user may write is accepted here and nowhere else, so the
 * adapters stay small: each reads one form.  Errors name where in the
 * record the problem is (messages[2]: content[0]: ...), since a bad_input
 * record is all the user gets back.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "errbuf.h"
#include "fsutil.h"
#include "json.h"
#include "request.h"
#include "xalloc.h"

static const char *const levels[] = {
	"off", "minimal", "low", "medium", "high", "xhigh"
};

static int
is_kind(jv v, jv_kind k)
{
	return jv_get_kind(v) == k;
}

static jv
text_part(jv s)
{
	return json_set(json_set(jv_object(), "type", jv_string("text")),
	    "text", s);
}

/* The four formats every provider takes, by their magic bytes. */
static const char *
sniff_mime(const unsigned char *p, size_t n)
{
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "image/jpeg";
	if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 ||
	    memcmp(p, "GIF89a", 6) == 0))
		return "image/gif";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBP", 4) == 0)
		return "image/webp";
	return NULL;
}

static jv
image_data(const char *mime, jv data)
{
	return json_set(json_set(json_set(jv_object(), "type",
	    jv_string("image")),
	    "mime", jv_string(mime)), "data", data);
}

static int
image_path(const char *path, jv *out, char *err)
{
	char *data, *b64;
	const char *mime;
	size_t len, cap;

	if (fsutil_read_file(path, REQUEST_IMAGE_MAX, &data, &len, err) == -1)
		return errbuf_prefix(err, "image");
	if ((mime = sniff_mime((unsigned char *)data, len)) == NULL) {
		free(data);
		return errbuf_set(err, "image '%s': not a png, jpeg, gif or "
		    "webp file", path);
	}
	cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	b64 = xmalloc(cap);
	sodium_bin2base64(b64, cap, (unsigned char *)data, len,
	    sodium_base64_VARIANT_ORIGINAL);
	free(data);
	*out = image_data(mime, jv_string_sized(b64, (int)(cap - 1)));
	free(b64);
	return 0;
}

/*
 * Base64 text as providers want it: wrapped output of base64(1) loses its
 * line breaks, anything outside the original alphabet is refused here
 * rather than by a provider's 400.  Sets *mime from the decoded magic
 * bytes when it is NULL.  Returns a new string or invalid with err.
 */
static jv
clean_base64(const char *s, size_t n, const char **mime, char *err)
{
	unsigned char head[12];
	char *t = xmalloc(n + 1);
	size_t i, m = 0, pad = 0, hn;
	jv v;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
		} else if (pad > 0 || !((c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/')) {
			free(t);
			errbuf_set(err, "image data is not base64");
			return jv_invalid();
		}
		t[m++] = (char)c;
	}
	if (m == 0 || pad > 2 || (pad > 0 && m % 4 != 0)) {
		free(t);
		errbuf_set(err, "image data is not base64");
		return jv_invalid();
	}
	if (*mime == NULL) {
		/* 16 characters decode to the 12 bytes the sniffer needs. */
		if (sodium_base642bin(head, sizeof(head), t, m < 16 ? m : 16,
		    NULL, &hn, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    (*mime = sniff_mime(head, hn)) == NULL) {
			free(t);
			errbuf_set(err, "image data: not a png, jpeg, gif or "
			    "webp image (give \"mime\")");
			return jv_invalid();
		}
	}
	v = jv_string_sized(t, (int)m);
	free(t);
	return v;
}

/* data:[<mime>][;param]*;base64,<data> */
static int
image_data_url(const char *u, jv *out, char *err)
{
	const char *comma, *semi, *mime = NULL, *p;
	char mbuf[128];
	size_t mlen;
	int b64 = 0;
	jv d;

	p = u + 5;
	if ((comma = strchr(p, ',')) == NULL)
		return errbuf_set(err, "data: URL without ','");
	semi = memchr(p, ';', (size_t)(comma - p));
	mlen = (size_t)((semi ? semi : comma) - p);
	for (; semi != NULL && semi < comma; semi = memchr(semi + 1, ';',
	    (size_t)(comma - semi - 1)))
		if ((size_t)(comma - semi) == 7 &&
		    strncmp(semi, ";base64", 7) == 0)
			b64 = 1;
	if (!b64)
		return errbuf_set(err, "data: URL is not base64");
	if (mlen >= sizeof(mbuf))
		return errbuf_set(err, "data: URL has a bad media type");
	if (mlen > 0) {
		memcpy(mbuf, p, mlen);
		mbuf[mlen] = '\0';
		mime = mbuf;
	}
	d = clean_base64(comma + 1, strlen(comma + 1), &mime, err);
	if (!jv_is_valid(d))
		return -1;
	*out = image_data(mime, d);
	return 0;
}

static int
image_url(jv url, jv *out, char *err)
{
	const char *u;

	if (!is_kind(url, JV_KIND_STRING)) {
		jv_free(url);
		return errbuf_set(err, "image url is not a string");
	}
	u = jv_string_value(url);
	if (strncmp(u, "data:", 5) == 0) {
		int r = image_data_url(u, out, err);

		jv_free(url);
		return r;
	}
	if (*u == '\0') {
		jv_free(url);
		return errbuf_set(err, "image url is empty");
	}
	*out = json_set(json_set(jv_object(), "type", jv_string("image")),
	    "url", url);
	return 0;
}

/* "data" as a data: URL or plain base64 with an optional "mime". */
static int
image_b64(jv data, const char *mime, jv *out, char *err)
{
	const char *s;
	jv d;

	if (!is_kind(data, JV_KIND_STRING)) {
		jv_free(data);
		return errbuf_set(err, "image data is not a string");
	}
	s = jv_string_value(data);
	if (strncmp(s, "data:", 5) == 0) {
		int r = image_data_url(s, out, err);

		jv_free(data);
		return r;
	}
	d = clean_base64(s, (size_t)jv_string_length_bytes(jv_copy(data)),
	    &mime, err);
	if (!jv_is_valid(d)) {
		jv_free(data);
		return -1;
	}
	/* mime may point into data: build before freeing it. */
	*out = image_data(mime, d);
	jv_free(data);
	return 0;
}

/*
 * One image part in any of the forms users copy from the APIs' docs:
 * ours {"type":"image","path"|"url"|"data"}, OpenAI's image_url and
 * Anthropic's {"source":{"type":"base64"|"url",...}}.
 */
static int
image_part(jv p, jv *out, char *err)
{
	const char *mime;
	jv v, src;

	if ((mime = json_peek_string(p, "mime")) == NULL &&
	    (mime = json_peek_string(p, "media_type")) == NULL)
		mime = json_peek_string(p, "mime_type");
	v = json_field(p, "image_url");
	if (jv_is_valid(v)) {
		if (is_kind(v, JV_KIND_OBJECT)) {
			jv u = json_field(v, "url");

			jv_free(v);
			v = u;
		}
		return image_url(v, out, err);
	}
	v = json_field(p, "path");
	if (jv_is_valid(v)) {
		int r;

		if (!is_kind(v, JV_KIND_STRING) ||
		    *jv_string_value(v) == '\0') {
			jv_free(v);
			return errbuf_set(err, "image path is not a string");
		}
		r = image_path(jv_string_value(v), out, err);
		jv_free(v);
		return r;
	}
	v = json_field(p, "url");
	if (jv_is_valid(v))
		return image_url(v, out, err);
	v = json_field(p, "data");
	if (jv_is_valid(v))
		return image_b64(v, mime, out, err);
	src = json_field(p, "source");
	if (is_kind(src, JV_KIND_OBJECT)) {
		int r;

		v = json_field(src, "url");
		if (jv_is_valid(v))
			r = image_url(v, out, err);
		else
			r = image_b64(json_field(src, "data"),
			    json_peek_string(src, "media_type"), out, err);
		jv_free(src);
		return r;
	}
	jv_free(src);
	return errbuf_set(err, "image part needs \"path\", \"url\" or "
	    "\"data\"");
}

static int
part(jv p, jv *out, char *err)
{
	const char *type;
	jv t;

	if (is_kind(p, JV_KIND_STRING)) {
		*out = text_part(jv_copy(p));
		return 0;
	}
	if (!is_kind(p, JV_KIND_OBJECT))
		return errbuf_set(err, "part is a %s, not an object",
		    json_kind_name(jv_get_kind(p)));
	if ((type = json_peek_string(p, "type")) == NULL)
		return errbuf_set(err, "part has no \"type\"");
	if (strcmp(type, "text") == 0 || strcmp(type, "input_text") == 0 ||
	    strcmp(type, "output_text") == 0) {
		t = json_field(p, "text");
		if (!is_kind(t, JV_KIND_STRING)) {
			jv_free(t);
			return errbuf_set(err, "text part without a \"text\" "
			    "string");
		}
		*out = text_part(t);
		return 0;
	}
	if (strcmp(type, "image") == 0 || strcmp(type, "image_url") == 0 ||
	    strcmp(type, "input_image") == 0)
		return image_part(p, out, err);
	return errbuf_set(err, "unknown part type '%s'", type);
}

/*
 * Content in canonical form: a list of parts.  An empty string or a
 * missing content is an empty list.  json_ok lets a tool result be any
 * JSON value, kept as its compact text, since results are often objects.
 * Consumes c.
 */
static int
content(jv c, int json_ok, jv *out, char *err)
{
	jv parts, p;
	int i, n;

	switch (jv_get_kind(c)) {
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
		jv_free(c);
		*out = jv_array();
		return 0;
	case JV_KIND_STRING:
		if (jv_string_length_bytes(jv_copy(c)) == 0) {
			jv_free(c);
			*out = jv_array();
		} else
			*out = JV_ARRAY(text_part(c));
		return 0;
	case JV_KIND_ARRAY:
		break;
	default:
		if (json_ok) {
			*out = JV_ARRAY(text_part(jv_dump_string(c, 0)));
			return 0;
		}
		errbuf_set(err, "content is a %s, not a string or a list",
		    json_kind_name(jv_get_kind(c)));
		jv_free(c);
		return -1;
	}
	parts = jv_array();
	n = jv_array_length(jv_copy(c));
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(c), i);
		int r = part(e, &p, err);

		jv_free(e);
		if (r == -1) {
			jv_free(parts);
			jv_free(c);
			return errbuf_prefix(err, "content[%d]", i);
		}
		parts = jv_array_append(parts, p);
	}
	jv_free(c);
	*out = parts;
	return 0;
}

/* Tool call arguments: an object, or JSON text of one. */
static int
arguments(jv a, jv *out, char *err)
{
	const char *s;
	jv v;

	if (!jv_is_valid(a) || is_kind(a, JV_KIND_NULL)) {
		jv_free(a);
		*out = jv_object();
		return 0;
	}
	if (is_kind(a, JV_KIND_OBJECT)) {
		*out = a;
		return 0;
	}
	if (!is_kind(a, JV_KIND_STRING)) {
		jv_free(a);
		return errbuf_set(err, "arguments are not an object");
	}
	for (s = jv_string_value(a); *s == ' ' || *s == '\n' || *s == '\t' ||
	    *s == '\r'; s++)
		;
	if (*s == '\0') {
		jv_free(a);
		*out = jv_object();
		return 0;
	}
	if (json_parse_checked(jv_string_value(a),
	    (size_t)jv_string_length_bytes(jv_copy(a)), &v, err) == -1) {
		jv_free(a);
		return errbuf_prefix(err, "arguments are not a JSON object");
	}
	jv_free(a);
	if (!is_kind(v, JV_KIND_OBJECT)) {
		jv_free(v);
		return errbuf_set(err, "arguments are not a JSON object");
	}
	*out = v;
	return 0;
}

/* {id, name, arguments} from ours or OpenAI's {id, function:{...}}. */
static int
tool_call(jv c, jv *out, char *err)
{
	jv fn, name, args;
	const char *id;

	if (!is_kind(c, JV_KIND_OBJECT))
		return errbuf_set(err, "tool call is not an object");
	if ((id = json_peek_string(c, "id")) == NULL || *id == '\0')
		return errbuf_set(err, "tool call has no \"id\"");
	fn = json_field(c, "function");
	if (is_kind(fn, JV_KIND_OBJECT)) {
		name = json_field(fn, "name");
		args = json_field(fn, "arguments");
	} else {
		name = json_field(c, "name");
		args = json_field(c, "arguments");
		if (!jv_is_valid(args))		/* Anthropic's tool_use */
			args = json_field(c, "input");
	}
	jv_free(fn);
	if (!is_kind(name, JV_KIND_STRING) ||
	    jv_string_length_bytes(jv_copy(name)) == 0) {
		jv_free(name);
		jv_free(args);
		return errbuf_set(err, "tool call '%s' has no \"name\"", id);
	}
	if (arguments(args, &args, err) == -1) {
		jv_free(name);
		return errbuf_prefix(err, "tool call '%s'", id);
	}
	*out = json_set(json_set(json_set(jv_object(), "id", jv_string(id)),
	    "name", name),
	    "arguments", args);
	return 0;
}

/* Appends s to *sys, a blank line between pieces. */
static void
add_system(jv *sys, jv s)
{
	if (jv_string_length_bytes(jv_copy(s)) == 0) {
		jv_free(s);
		return;
	}
	if (!jv_is_valid(*sys)) {
		*sys = s;
		return;
	}
	*sys = jv_string_concat(*sys, jv_string("\n\n"));
	*sys = jv_string_concat(*sys, s);
}

/* System text: a string, or parts that must all be text.  Consumes c. */
static int
system_text(jv c, jv *out, char *err)
{
	jv parts, p;
	int i, n, text;

	if (content(c, 0, &parts, err) == -1)
		return -1;
	n = jv_array_length(jv_copy(parts));
	for (i = 0; i < n; i++) {
		p = jv_array_get(jv_copy(parts), i);
		text = json_peek_kind(p, "text") == JV_KIND_STRING;
		jv_free(p);
		if (!text) {
			jv_free(parts);
			return errbuf_set(err, "system content can only be "
			    "text");
		}
	}
	*out = request_text(parts);
	jv_free(parts);
	return 0;
}

static int
message(jv m, jv *calls, jv *sys, jv *msgs, char *err)
{
	const char *role;
	jv out, c, v;

	if (!is_kind(m, JV_KIND_OBJECT))
		return errbuf_set(err, "message is a %s, not an object",
		    json_kind_name(jv_get_kind(m)));
	if ((role = json_peek_string(m, "role")) == NULL)
		return errbuf_set(err, "message has no \"role\"");
	if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
		if (system_text(json_field(m, "content"), &v, err) == -1)
			return -1;
		add_system(sys, v);
		return 0;
	}
	if (strcmp(role, "user") == 0) {
		c = json_field(m, "content");
		if (!jv_is_valid(c))
			return errbuf_set(err, "user message has no "
			    "\"content\"");
		if (content(c, 0, &c, err) == -1)
			return -1;
		out = json_set(json_set(jv_object(), "role", jv_string("user")),
		    "content", c);
	} else if (strcmp(role, "assistant") == 0) {
		int i, n;

		if (content(json_field(m, "content"), 0, &c, err) == -1)
			return -1;
		out = json_set(json_set(jv_object(), "role",
		    jv_string("assistant")),
		    "content", c);
		v = json_field(m, "reasoning");
		if (!jv_is_valid(v))	/* DeepSeek's and zai's name */
			v = json_field(m, "reasoning_content");
		if (is_kind(v, JV_KIND_STRING) &&
		    jv_string_length_bytes(jv_copy(v)) > 0)
			out = json_set(out, "reasoning", v);
		else
			jv_free(v);
		v = json_field(m, "reasoning_signature");
		if (is_kind(v, JV_KIND_STRING))
			out = json_set(out, "reasoning_signature", v);
		else
			jv_free(v);
		v = json_field(m, "tool_calls");
		if (jv_is_valid(v) && !is_kind(v, JV_KIND_ARRAY)) {
			jv_free(v);
			jv_free(out);
			return errbuf_set(err, "tool_calls is not a list");
		}
		n = jv_is_valid(v) ? jv_array_length(jv_copy(v)) : 0;
		if (n > 0) {
			jv list = jv_array();

			for (i = 0; i < n; i++) {
				jv tc = jv_array_get(jv_copy(v), i), d;
				int r = tool_call(tc, &d, err);

				jv_free(tc);
				if (r == -1) {
					jv_free(list);
					jv_free(v);
					jv_free(out);
					return errbuf_prefix(err,
					    "tool_calls[%d]", i);
				}
				*calls = jv_object_set(*calls,
				    json_get(d, "id"), json_get(d, "name"));
				list = jv_array_append(list, d);
			}
			out = json_set(out, "tool_calls", list);
		}
		jv_free(v);
	} else if (strcmp(role, "tool") == 0) {
		const char *id = json_peek_string(m, "tool_call_id");
		jv name;

		if (id == NULL || *id == '\0')
			return errbuf_set(err, "tool message has no "
			    "\"tool_call_id\"");
		name = json_get(*calls, id);
		if (!jv_is_valid(name))
			return errbuf_set(err, "tool result '%s' answers no "
			    "earlier tool call", id);
		if (content(json_field(m, "content"), 1, &c, err) == -1) {
			jv_free(name);
			return -1;
		}
		if (json_peek_string(m, "name") != NULL) {
			jv_free(name);
			name = json_get(m, "name");
		}
		out = json_set(json_set(json_set(json_set(jv_object(), "role",
		    jv_string("tool")),
		    "tool_call_id", jv_string(id)), "name", name),
		    "content", c);
	} else
		return errbuf_set(err, "unknown role '%s'", role);
	*msgs = jv_array_append(*msgs, out);
	return 0;
}

static int
messages(jv rec, jv *sys, jv *out, char *err)
{
	jv list, msgs, calls, p;
	int i, n;

	msgs = jv_array();
	calls = jv_object();
	list = json_field(rec, "messages");
	if (jv_is_valid(list) && !is_kind(list, JV_KIND_ARRAY)) {
		jv_free(list);
		jv_free(msgs);
		jv_free(calls);
		return errbuf_set(err, "messages is not a list");
	}
	n = jv_is_valid(list) ? jv_array_length(jv_copy(list)) : 0;
	for (i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(list), i);
		int r = message(m, &calls, sys, &msgs, err);

		jv_free(m);
		if (r == -1) {
			jv_free(list);
			jv_free(msgs);
			jv_free(calls);
			return errbuf_prefix(err, "messages[%d]", i);
		}
	}
	jv_free(list);
	jv_free(calls);
	/* "prompt" after any "messages": a template's last user turn. */
	p = json_field(rec, "prompt");
	if (jv_is_valid(p)) {
		if (!is_kind(p, JV_KIND_STRING) &&
		    !is_kind(p, JV_KIND_ARRAY)) {
			jv_free(p);
			jv_free(msgs);
			return errbuf_set(err, "prompt is not a string");
		}
		if (content(p, 0, &p, err) == -1) {
			jv_free(msgs);
			return errbuf_prefix(err, "prompt");
		}
		msgs = jv_array_append(msgs, json_set(json_set(jv_object(),
		    "role",
		    jv_string("user")), "content", p));
	}
	if (jv_array_length(jv_copy(msgs)) == 0) {
		jv_free(msgs);
		return errbuf_set(err, "request has no \"prompt\" or "
		    "\"messages\"");
	}
	*out = msgs;
	return 0;
}

static int
tool_def(jv t, jv *out, char *err)
{
	const char *type = json_peek_string(t, "type");
	jv fn, name, desc, params;
	int strict = 0;

	if (!is_kind(t, JV_KIND_OBJECT))
		return errbuf_set(err, "tool is not an object");
	fn = json_field(t, "function");
	if (is_kind(fn, JV_KIND_OBJECT)) {
		if (type != NULL && strcmp(type, "function") != 0) {
			jv_free(fn);
			return errbuf_set(err, "unsupported tool type '%s'",
			    type);
		}
	} else {
		jv_free(fn);
		/* Bare, Responses-style {"type":"function","name"}, or
		 * Anthropic's (type "custom" or none). */
		if (type != NULL && strcmp(type, "function") != 0 &&
		    strcmp(type, "custom") != 0)
			return errbuf_set(err, "unsupported tool type '%s'",
			    type);
		fn = jv_copy(t);
	}
	name = json_field(fn, "name");
	desc = json_field(fn, "description");
	params = json_field(fn, "parameters");
	if (!jv_is_valid(params))
		params = json_field(fn, "input_schema");
	if (!json_peek_bool(fn, "strict", &strict))
		strict = 0;
	jv_free(fn);
	if (!is_kind(name, JV_KIND_STRING) ||
	    jv_string_length_bytes(jv_copy(name)) == 0) {
		jv_free(name);
		jv_free(desc);
		jv_free(params);
		return errbuf_set(err, "tool has no \"name\"");
	}
	if ((jv_is_valid(desc) && !is_kind(desc, JV_KIND_STRING)) ||
	    (jv_is_valid(params) && !is_kind(params, JV_KIND_OBJECT))) {
		errbuf_set(err, "tool '%s': %s", jv_string_value(name),
		    jv_is_valid(desc) && !is_kind(desc, JV_KIND_STRING) ?
		    "description is not a string" :
		    "parameters are not an object");
		jv_free(name);
		jv_free(desc);
		jv_free(params);
		return -1;
	}
	/* Every API wants an object schema; none given means no arguments. */
	if (!jv_is_valid(params))
		params = json_set(json_set(jv_object(), "type",
		    jv_string("object")),
		    "properties", jv_object());
	*out = json_set(jv_object(), "name", name);
	if (jv_is_valid(desc))
		*out = json_set(*out, "description", desc);
	*out = json_set(*out, "parameters", params);
	if (strict)
		*out = json_set(*out, "strict", jv_true());
	return 0;
}

static int
tools(jv rec, jv *out, jv *names, char *err)
{
	jv list = json_field(rec, "tools"), defs = jv_array();
	int i, n;

	*names = jv_object();
	if (!jv_is_valid(list)) {
		*out = defs;
		return 0;
	}
	if (!is_kind(list, JV_KIND_ARRAY)) {
		jv_free(list);
		jv_free(defs);
		jv_free(*names);
		return errbuf_set(err, "tools is not a list");
	}
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(list), i), d;
		int r = tool_def(t, &d, err);

		jv_free(t);
		if (r == 0 && jv_object_has(jv_copy(*names),
		    json_get(d, "name"))) {
			r = errbuf_set(err, "duplicate tool name '%s'",
			    json_peek_string(d, "name"));
			jv_free(d);
		}
		if (r == -1) {
			jv_free(list);
			jv_free(defs);
			jv_free(*names);
			return errbuf_prefix(err, "tools[%d]", i);
		}
		*names = jv_object_set(*names, json_get(d, "name"), jv_true());
		defs = jv_array_append(defs, d);
	}
	jv_free(list);
	*out = defs;
	return 0;
}

static int
tool_choice(jv c, jv names, jv *out, char *err)
{
	static const char *const modes[] = {
		"auto", "none", "required", "any"
	};
	const char *s, *name;
	jv fn;
	size_t i;

	if (is_kind(c, JV_KIND_OBJECT)) {
		/* OpenAI {"type":"function","function":{"name"}}, Anthropic
		 * {"type":"tool","name"}, {"type":"auto"}, or ours. */
		fn = json_field(c, "function");
		if (json_peek_string(fn, "name") != NULL)
			*out = json_set(jv_object(), "name", json_get(fn,
			    "name"));
		else if (json_peek_string(c, "name") != NULL)
			*out = json_set(jv_object(), "name", json_get(c,
			    "name"));
		else
			*out = jv_invalid();
		jv_free(fn);
		if (!jv_is_valid(*out)) {
			if ((s = json_peek_string(c, "type")) == NULL)
				return errbuf_set(err, "tool_choice names no "
				    "tool");
			c = jv_string(s);
			goto string;
		}
		name = json_peek_string(*out, "name");
		if (!jv_object_has(jv_copy(names), jv_string(name))) {
			errbuf_set(err, "tool_choice names unknown tool '%s'",
			    name);
			jv_free(*out);
			return -1;
		}
		return 0;
	}
	if (!is_kind(c, JV_KIND_STRING))
		return errbuf_set(err, "tool_choice is not a string or an "
		    "object");
	c = jv_copy(c);
string:
	s = jv_string_value(c);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(s, modes[i]) == 0) {
			*out = jv_string(i == 3 ? "required" : s);
			jv_free(c);
			return 0;
		}
	errbuf_set(err, "unknown tool_choice '%s'", s);
	jv_free(c);
	return -1;
}

/*
 * Chat Completions nests the schema under "json_schema", the Responses
 * API does not: both read the same here.  Returns 0 with *out invalid for
 * {"type":"text"}, which asks for nothing.
 */
static int
response_format(jv f, jv *out, char *err)
{
	const char *type;
	jv js, schema, name, strict, desc;

	*out = jv_invalid();
	if (!is_kind(f, JV_KIND_OBJECT) ||
	    (type = json_peek_string(f, "type")) == NULL)
		return errbuf_set(err, "response_format has no \"type\"");
	if (strcmp(type, "text") == 0)
		return 0;
	if (strcmp(type, "json_object") == 0) {
		*out = json_set(jv_object(), "type", jv_string("json_object"));
		return 0;
	}
	if (strcmp(type, "json_schema") != 0)
		return errbuf_set(err, "unknown response_format type '%s'",
		    type);
	js = json_field(f, "json_schema");
	if (!is_kind(js, JV_KIND_OBJECT)) {
		jv_free(js);
		js = jv_copy(f);
	}
	schema = json_field(js, "schema");
	name = json_field(js, "name");
	strict = json_field(js, "strict");
	desc = json_field(js, "description");
	jv_free(js);
	if (!is_kind(schema, JV_KIND_OBJECT)) {
		jv_free(schema);
		jv_free(name);
		jv_free(strict);
		jv_free(desc);
		return errbuf_set(err, "response_format json_schema has no "
		    "\"schema\" object");
	}
	*out = json_set(jv_object(), "type", jv_string("json_schema"));
	if (is_kind(name, JV_KIND_STRING))
		*out = json_set(*out, "name", name);
	else {
		/* OpenAI requires a name; the user rarely cares which. */
		jv_free(name);
		*out = json_set(*out, "name", jv_string("response"));
	}
	if (is_kind(desc, JV_KIND_STRING))
		*out = json_set(*out, "description", desc);
	else
		jv_free(desc);
	*out = json_set(*out, "schema", schema);
	if (is_kind(strict, JV_KIND_TRUE) || is_kind(strict, JV_KIND_FALSE))
		*out = json_set(*out, "strict", strict);
	else
		jv_free(strict);
	return 0;
}

static int
stop(jv s, jv *out, char *err)
{
	int i, n;

	if (is_kind(s, JV_KIND_STRING)) {
		*out = JV_ARRAY(jv_copy(s));
		return 0;
	}
	if (!is_kind(s, JV_KIND_ARRAY))
		return errbuf_set(err, "stop is not a string or a list");
	n = jv_array_length(jv_copy(s));
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(s), i);
		int good = is_kind(e, JV_KIND_STRING);

		jv_free(e);
		if (!good)
			return errbuf_set(err, "stop[%d] is not a string", i);
	}
	*out = jv_copy(s);
	return 0;
}

static int
thinking(jv level, jv target, jv *canon, char *err)
{
	const char *s;
	jv map, v;
	size_t i;

	if (!is_kind(level, JV_KIND_STRING))
		return errbuf_set(err, "thinking is not a string");
	s = jv_string_value(level);
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(s, levels[i]) == 0)
			break;
	if (i == sizeof(levels) / sizeof(levels[0]))
		return errbuf_set(err, "unknown thinking level '%s' (off, "
		    "minimal, low, medium, high, xhigh)", s);
	map = json_get(target, "thinking_map");
	if (is_kind(map, JV_KIND_OBJECT) &&
	    jv_object_has(jv_copy(map), jv_string(s)))
		v = json_get(map, s);	/* null: the model cannot */
	else
		v = jv_string(s);
	jv_free(map);
	*canon = json_set(*canon, "thinking", jv_string(s));
	*canon = json_set(*canon, "thinking_value", v);
	return 0;
}

/* The scalar knobs: max_tokens, temperature, top_p, stop. */
static int
knobs(jv rec, jv *canon, char *err)
{
	static const char *const nums[] = {
		"max_tokens", "temperature", "top_p"
	};
	double d;
	size_t i;
	jv v;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		v = json_field(rec, nums[i]);
		if (!jv_is_valid(v))
			continue;
		if (!is_kind(v, JV_KIND_NUMBER)) {
			jv_free(v);
			return errbuf_set(err, "%s is not a number", nums[i]);
		}
		d = jv_number_value(v);
		if (i == 0 && (d < 1 || d != (double)(long long)d ||
		    d > 1e9)) {
			jv_free(v);
			return errbuf_set(err, "max_tokens is not a positive "
			    "integer");
		}
		if (i > 0 && !(d >= 0)) {
			jv_free(v);
			return errbuf_set(err, "%s is negative", nums[i]);
		}
		*canon = json_set(*canon, nums[i], v);
	}
	v = json_field(rec, "stop");
	if (jv_is_valid(v)) {
		jv s;

		if (stop(v, &s, err) == -1) {
			jv_free(v);
			return -1;
		}
		if (jv_array_length(jv_copy(s)) > 0)
			*canon = json_set(*canon, "stop", s);
		else
			jv_free(s);
	}
	jv_free(v);
	return 0;
}

int
request_normalize(jv rec, jv target, jv *out, char *err)
{
	jv canon, sys = jv_invalid(), msgs, defs, names, v, p;

	if (!is_kind(rec, JV_KIND_OBJECT))
		return errbuf_set(err, "request is not an object");
	v = json_field(rec, "system");
	if (jv_is_valid(v)) {
		if (system_text(v, &sys, err) == -1)
			return errbuf_prefix(err, "system");
		if (jv_string_length_bytes(jv_copy(sys)) == 0) {
			jv_free(sys);
			sys = jv_invalid();
		}
	}
	if (messages(rec, &sys, &msgs, err) == -1) {
		jv_free(sys);
		return -1;
	}
	canon = jv_object();
	if (jv_is_valid(sys))
		canon = json_set(canon, "system", sys);
	canon = json_set(canon, "messages", msgs);

	if (tools(rec, &defs, &names, err) == -1)
		goto fail;
	if (jv_array_length(jv_copy(defs)) > 0)
		canon = json_set(canon, "tools", defs);
	else
		jv_free(defs);
	v = json_field(rec, "tool_choice");
	if (jv_is_valid(v)) {
		int r = tool_choice(v, names, &p, err);

		jv_free(v);
		if (r == -1) {
			jv_free(names);
			goto fail;
		}
		canon = json_set(canon, "tool_choice", p);
	}
	jv_free(names);

	if (knobs(rec, &canon, err) == -1)
		goto fail;
	v = json_field(rec, "response_format");
	if (jv_is_valid(v)) {
		int r = response_format(v, &p, err);

		jv_free(v);
		if (r == -1)
			goto fail;
		if (jv_is_valid(p))
			canon = json_set(canon, "response_format", p);
	}
	v = json_field(rec, "thinking");
	if (jv_is_valid(v)) {
		int r = thinking(v, target, &canon, err);

		jv_free(v);
		if (r == -1)
			goto fail;
	}

	p = json_field(target, "params");
	v = json_field(rec, "params");
	if (jv_is_valid(v) && !is_kind(v, JV_KIND_OBJECT)) {
		jv_free(v);
		jv_free(p);
		errbuf_set(err, "params is not an object");
		goto fail;
	}
	if (!is_kind(p, JV_KIND_OBJECT)) {
		jv_free(p);
		p = jv_invalid();
	}
	if (jv_is_valid(p) && jv_is_valid(v))
		p = json_merge(p, v);
	else if (jv_is_valid(v))
		p = v;
	if (jv_is_valid(p))
		canon = json_set(canon, "params", p);
	*out = canon;
	return 0;
fail:
	jv_free(canon);
	return -1;
}

jv
request_text(jv c)
{
	jv out = jv_string(""), p;
	int i, n, first = 1;

	if (!is_kind(c, JV_KIND_ARRAY))
		return out;
	n = jv_array_length(jv_copy(c));
	for (i = 0; i < n; i++) {
		p = jv_array_get(jv_copy(c), i);
		if (json_peek_string(p, "text") != NULL) {
			if (!first)
				out = jv_string_concat(out, jv_string("\n"));
			out = jv_string_concat(out, json_get(p, "text"));
			first = 0;
		}
		jv_free(p);
	}
	return out;
}
