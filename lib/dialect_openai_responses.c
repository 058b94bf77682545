/*
 * The OpenAI Responses API: POST {baseUrl}/responses, as OpenAI's newer
 * models, ChatGPT's Codex backend and compatible servers speak it.
 *
 * Choices the API leaves to a client, and why:
 *
 * - Stateless.  The suite keeps no conversation on the server, so the
 *   body says "store": false (unless the target's compat.supportsStore is
 *   false, pi's flag for servers that reject the field: then it is left
 *   out) and always sends the whole conversation as "input".
 *
 * - Reasoning replay.  With nothing stored, a reasoning item can only go
 *   back to the model as its "encrypted_content", which reasoning models
 *   return when "include" asks for "reasoning.encrypted_content".  parse
 *   writes the response's reasoning items that carry it into
 *   "reasoning_signature" as the JSON text of a list of
 *   {"type":"reasoning","summary":[...],"encrypted_content":"..."}; build
 *   replays exactly those items before the assistant message they came
 *   with.  Item ids are dropped both ways, as Codex does: under store
 *   false an id names nothing the server has.  A signature that is not
 *   such a list (Anthropic's, say, after a change of model) and reasoning
 *   text without a signature cannot be expressed and are dropped.
 *
 * - Stop sequences.  Responses has no "stop"; the canonical "stop" is a
 *   hint, and a request must not fail for a hint, so it is dropped and
 *   nothing is sent for it.
 *
 * - max_output_tokens below 16 is raised to 16, the API's minimum: the
 *   alternative is a certain 400.
 *
 * - Tools are sent with "strict": false unless the canonical tool asks
 *   for strict mode, because the API's default is strict and a schema
 *   written loosely for any provider rarely meets strict mode's rules.
 *   compat.supportsStrictMode false leaves "strict" out.
 *
 * - A thinking level the model lacks (thinking_value null) becomes the
 *   nearest level its thinking_map has, lower first; "off" with no map
 *   value sends no "reasoning" at all.
 *
 * - Responses: a refusal's words become "text" with stop_reason
 *   "refusal"; a "failed" or "cancelled" response parses to stop_reason
 *   "error", and error() reads the reason out of the same body.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "errbuf.h"
#include "json.h"
#include "request.h"
#include "xalloc.h"

#define OUTPUT_MIN	16	/* the API rejects max_output_tokens < 16 */

/* True when compat[flag] is explicitly false. */
static int
compat_off(jv compat, const char *flag)
{
	int b;

	return json_peek_bool(compat, flag, &b) && !b;
}

/* The image_url of an image part: its URL, or a data: URL of its data. */
static int
image_url(jv part, jv *out, char *err)
{
	const char *url, *data, *mime;

	if ((url = json_peek_string(part, "url")) != NULL) {
		*out = jv_string(url);
		return 0;
	}
	if ((data = json_peek_string(part, "data")) == NULL)
		return errbuf_set(err, "image part has no \"url\" or "
		    "\"data\"");
	if (strncmp(data, "data:", 5) == 0) {
		*out = jv_string(data);
		return 0;
	}
	if ((mime = json_peek_string(part, "mime")) == NULL)
		mime = "image/png";
	*out = jv_string_append_str(jv_string("data:"), mime);
	*out = jv_string_append_str(*out, ";base64,");
	*out = jv_string_append_str(*out, data);
	return 0;
}

/*
 * One canonical content part as an input content part.  Assistant text is
 * "output_text": the API refuses "input_text" in an assistant message.
 */
static int
content_part(jv part, int assistant, jv *out, char *err)
{
	const char *type = json_peek_string(part, "type"), *text;
	jv url;

	if (type == NULL)
		return errbuf_set(err, "content part has no \"type\"");
	if (strcmp(type, "text") == 0) {
		if ((text = json_peek_string(part, "text")) == NULL)
			return errbuf_set(err, "text part has no \"text\"");
		*out = json_set(jv_object(), "type", jv_string(assistant ?
		    "output_text" : "input_text"));
		*out = json_set(*out, "text", jv_string(text));
		return 0;
	}
	if (strcmp(type, "image") == 0) {
		if (assistant)
			return errbuf_set(err, "openai-responses cannot send "
			    "images in an assistant message");
		if (image_url(part, &url, err) == -1)
			return -1;
		*out = json_set(jv_object(), "type", jv_string("input_image"));
		*out = json_set(*out, "image_url", url);
		*out = json_set(*out, "detail", jv_string("auto"));
		return 0;
	}
	return errbuf_set(err, "unsupported content part type '%s'", type);
}

/* A content list (borrowed) as a list of input content parts. */
static int
content_parts(jv content, int assistant, jv *out, char *err)
{
	jv part, p;
	int i, n;

	*out = jv_array();
	if (jv_get_kind(content) == JV_KIND_STRING) {
		/* Not canonical, but cheap to accept. */
		p = json_set(jv_object(), "type", jv_string(assistant ?
		    "output_text" : "input_text"));
		*out = jv_array_append(*out, json_set(p, "text",
		    jv_copy(content)));
		return 0;
	}
	if (jv_get_kind(content) != JV_KIND_ARRAY)
		return 0;
	n = jv_array_length(jv_copy(content));
	for (i = 0; i < n; i++) {
		part = jv_array_get(jv_copy(content), i);
		if (content_part(part, assistant, &p, err) == -1) {
			jv_free(part);
			jv_free(*out);
			*out = jv_invalid();
			return -1;
		}
		jv_free(part);
		*out = jv_array_append(*out, p);
	}
	return 0;
}

/* True when the content list (borrowed) is one text part. */
static int
single_text(jv content)
{
	jv part;
	const char *type;
	int r;

	if (jv_get_kind(content) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(content)) != 1)
		return 0;
	part = jv_array_get(jv_copy(content), 0);
	type = json_peek_string(part, "type");
	r = type != NULL && strcmp(type, "text") == 0 &&
	    json_peek_kind(part, "text") == JV_KIND_STRING;
	jv_free(part);
	return r;
}

/*
 * A user (or stray system) message.  One text part goes as a plain
 * string, the form the SDKs send; anything else as a list of parts.
 */
static int
user_message(jv msg, const char *role, jv *input, char *err)
{
	jv content = json_get(msg, "content"), item, parts, part;

	item = json_set(jv_object(), "role", jv_string(role));
	if (single_text(content)) {
		part = jv_array_get(jv_copy(content), 0);
		item = json_set(item, "content", json_get(part, "text"));
		jv_free(part);
	} else {
		if (content_parts(content, 0, &parts, err) == -1) {
			jv_free(content);
			jv_free(item);
			return -1;
		}
		item = json_set(item, "content", parts);
	}
	jv_free(content);
	*input = jv_array_append(*input, item);
	return 0;
}

/*
 * Appends the reasoning items of a signature parse wrote (see the top of
 * the file), or nothing when sig is not one: another API's signature
 * cannot go to this one, and a partial replay would misplace the rest.
 */
static jv
replay_reasoning(jv input, const char *sig)
{
	jv list, items, e, summary, item;
	int i, n, good = 1;

	if (sig[0] != '[')	/* cheap test before a parse */
		return input;
	list = jv_parse(sig);
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return input;
	}
	items = jv_array();
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n && good; i++) {
		const char *type;

		e = jv_array_get(jv_copy(list), i);
		type = json_peek_string(e, "type");
		if (type == NULL || strcmp(type, "reasoning") != 0 ||
		    json_peek_kind(e, "encrypted_content") != JV_KIND_STRING) {
			good = 0;
			jv_free(e);
			break;
		}
		summary = json_get(e, "summary");
		if (jv_get_kind(summary) != JV_KIND_ARRAY) {
			jv_free(summary);
			summary = jv_array();
		}
		item = json_set(jv_object(), "type", jv_string("reasoning"));
		item = json_set(item, "summary", summary);
		item = json_set(item, "encrypted_content",
		    json_get(e, "encrypted_content"));
		items = jv_array_append(items, item);
		jv_free(e);
	}
	jv_free(list);
	if (good)
		input = jv_array_concat(input, items);
	else
		jv_free(items);
	return input;
}

/* A tool call's arguments as the JSON text the API wants. */
static jv
arguments_text(jv call)
{
	jv a;

	/* Arguments that never parsed go back as they came. */
	if (json_peek_kind(call, "arguments_raw") == JV_KIND_STRING)
		return json_get(call, "arguments_raw");
	a = json_get(call, "arguments");
	if (jv_get_kind(a) == JV_KIND_STRING)
		return a;
	if (!jv_is_valid(a) || jv_get_kind(a) == JV_KIND_NULL) {
		jv_free(a);
		return jv_string("{}");
	}
	return jv_dump_string(a, 0);
}

/*
 * An assistant message: its reasoning items (when replayable), its text
 * as a message item, its tool calls as function_call items, in the order
 * the API produced them.
 */
static int
assistant_message(jv msg, jv *input, char *err)
{
	jv content = json_get(msg, "content"), calls, call, parts, item;
	const char *sig, *id, *name;
	int i, n;

	if ((sig = json_peek_string(msg, "reasoning_signature")) != NULL)
		*input = replay_reasoning(*input, sig);
	if (content_parts(content, 1, &parts, err) == -1) {
		jv_free(content);
		return -1;
	}
	jv_free(content);
	if (jv_array_length(jv_copy(parts)) > 0) {
		item = json_set(jv_object(), "type", jv_string("message"));
		item = json_set(item, "role", jv_string("assistant"));
		item = json_set(item, "content", parts);
		*input = jv_array_append(*input, item);
	} else
		jv_free(parts);

	calls = json_get(msg, "tool_calls");
	if (jv_get_kind(calls) != JV_KIND_ARRAY) {
		jv_free(calls);
		return 0;
	}
	n = jv_array_length(jv_copy(calls));
	for (i = 0; i < n; i++) {
		call = jv_array_get(jv_copy(calls), i);
		if ((id = json_peek_string(call, "id")) == NULL ||
		    (name = json_peek_string(call, "name")) == NULL) {
			jv_free(call);
			jv_free(calls);
			return errbuf_set(err, "tool call has no \"id\" or "
			    "\"name\"");
		}
		item = json_set(jv_object(), "type",
		    jv_string("function_call"));
		item = json_set(item, "call_id", jv_string(id));
		item = json_set(item, "name", jv_string(name));
		item = json_set(item, "arguments", arguments_text(call));
		*input = jv_array_append(*input, item);
		jv_free(call);
	}
	jv_free(calls);
	return 0;
}

/*
 * A tool result.  Text goes as the "output" string; a result with images
 * as a list of input parts, which the API takes for function output too.
 */
static int
tool_message(jv msg, jv *input, char *err)
{
	jv content = json_get(msg, "content"), item, out;
	const char *id;
	int i, n, image = 0;

	if ((id = json_peek_string(msg, "tool_call_id")) == NULL) {
		jv_free(content);
		return errbuf_set(err, "tool message has no \"tool_call_id\"");
	}
	if (jv_get_kind(content) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(content));
		for (i = 0; i < n; i++) {
			jv part = jv_array_get(jv_copy(content), i);
			const char *type = json_peek_string(part, "type");

			if (type != NULL && strcmp(type, "image") == 0)
				image = 1;
			jv_free(part);
		}
	}
	if (image) {
		if (content_parts(content, 0, &out, err) == -1) {
			jv_free(content);
			return -1;
		}
	} else if (jv_get_kind(content) == JV_KIND_STRING)
		out = jv_copy(content);
	else
		out = request_text(content);	/* borrows */
	jv_free(content);
	item = json_set(jv_object(), "type", jv_string("function_call_output"));
	item = json_set(item, "call_id", jv_string(id));
	item = json_set(item, "output", out);
	*input = jv_array_append(*input, item);
	return 0;
}

static int
build_input(jv canon, jv *input, char *err)
{
	jv msgs = json_get(canon, "messages"), msg;
	const char *role;
	int i, n, r = 0;

	*input = jv_array();
	if (jv_get_kind(msgs) != JV_KIND_ARRAY) {
		jv_free(msgs);
		return 0;
	}
	n = jv_array_length(jv_copy(msgs));
	for (i = 0; i < n && r == 0; i++) {
		msg = jv_array_get(jv_copy(msgs), i);
		if ((role = json_peek_string(msg, "role")) == NULL)
			r = errbuf_set(err, "message has no \"role\"");
		else if (strcmp(role, "user") == 0)
			r = user_message(msg, "user", input, err);
		else if (strcmp(role, "assistant") == 0)
			r = assistant_message(msg, input, err);
		else if (strcmp(role, "tool") == 0)
			r = tool_message(msg, input, err);
		else if (strcmp(role, "system") == 0 ||
		    strcmp(role, "developer") == 0)
			/* Normalization moves these to "system"; be kind. */
			r = user_message(msg, "developer", input, err);
		else
			r = errbuf_set(err, "unknown message role '%s'", role);
		if (r == -1)
			errbuf_prefix(err, "message %d", i + 1);
		jv_free(msg);
	}
	jv_free(msgs);
	if (r == -1) {
		jv_free(*input);
		*input = jv_invalid();
	}
	return r;
}

static jv
build_tools(jv tools, jv compat)
{
	jv out = jv_array(), t, d, v;
	int i, n, strict, strict_ok = !compat_off(compat, "supportsStrictMode");

	n = jv_array_length(jv_copy(tools));
	for (i = 0; i < n; i++) {
		t = jv_array_get(jv_copy(tools), i);
		d = json_set(jv_object(), "type", jv_string("function"));
		d = json_set(d, "name", json_get(t, "name"));
		if (json_peek_kind(t, "description") == JV_KIND_STRING)
			d = json_set(d, "description", json_get(t,
			    "description"));
		v = json_get(t, "parameters");
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			jv_free(v);
			v = json_set(json_set(jv_object(), "type",
			    jv_string("object")),
			    "properties", jv_object());
		}
		d = json_set(d, "parameters", v);
		if (strict_ok) {
			if (!json_peek_bool(t, "strict", &strict))
				strict = 0;
			d = json_set(d, "strict", jv_bool(strict));
		}
		out = jv_array_append(out, d);
		jv_free(t);
	}
	return out;
}

static int
tool_choice(jv tc, jv *out, char *err)
{
	const char *name;

	if (jv_get_kind(tc) == JV_KIND_STRING) {
		*out = jv_copy(tc);
		return 0;
	}
	if ((name = json_peek_string(tc, "name")) == NULL)
		return errbuf_set(err, "tool_choice names no tool");
	*out = json_set(jv_object(), "type", jv_string("function"));
	*out = json_set(*out, "name", jv_string(name));
	return 0;
}

/* response_format as text.format: Responses flattens json_schema too. */
static int
text_format(jv rf, jv *out, char *err)
{
	static const char *const keys[] = {
		"type", "name", "description", "schema", "strict"
	};
	const char *type = json_peek_string(rf, "type");
	size_t i;

	if (type == NULL)
		return errbuf_set(err, "response_format has no \"type\"");
	if (strcmp(type, "json_object") != 0 &&
	    strcmp(type, "json_schema") != 0 && strcmp(type, "text") != 0)
		return errbuf_set(err, "unsupported response_format type "
		    "'%s'", type);
	*out = jv_object();
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_peek_kind(rf, keys[i]) != JV_KIND_INVALID)
			*out = json_set(*out, keys[i], json_get(rf, keys[i]));
	if (strcmp(type, "json_schema") == 0 &&
	    json_peek_kind(*out, "name") != JV_KIND_STRING)
		*out = json_set(*out, "name", jv_string("response"));
	return 0;
}

/*
 * The reasoning effort to ask for, or NULL for none.  The string is
 * borrowed from canon or target.
 */
static const char *
effort(jv canon, jv target)
{
	static const char *const levels[] = {
		"minimal", "low", "medium", "high", "xhigh"
	};
	const int nlevels = sizeof(levels) / sizeof(levels[0]);
	const char *level, *v = NULL;
	jv map;
	int at, d;

	if ((level = json_peek_string(canon, "thinking")) == NULL)
		return NULL;
	if ((v = json_peek_string(canon, "thinking_value")) != NULL)
		return v;
	if (strcmp(level, "off") == 0)
		return NULL;
	if (json_peek_kind(canon, "thinking_value") == JV_KIND_INVALID)
		return level;	/* no map: the level is the effort */
	for (at = 0; at < nlevels; at++)
		if (strcmp(level, levels[at]) == 0)
			break;
	if (at == nlevels)
		return NULL;
	/* The target still holds the map, so its strings stay valid. */
	map = json_get(target, "thinking_map");
	for (d = 1; d < nlevels && v == NULL; d++) {
		if (at - d >= 0)
			v = json_peek_string(map, levels[at - d]);
		if (v == NULL && at + d < nlevels)
			v = json_peek_string(map, levels[at + d]);
	}
	jv_free(map);
	return v;
}

static int
responses_build(jv canon, jv target, int stream, jv *body, jv *headers,
    jv *url, char *err)
{
	jv b, input, compat, v;
	const char *model, *e;
	double max;
	int reasoning, sent = 0;

	*body = *headers = *url = jv_invalid();
	if ((model = json_peek_string(target, "model")) == NULL)
		return errbuf_set(err, "target has no \"model\"");
	if (build_input(canon, &input, err) == -1)
		return -1;
	compat = json_get(target, "compat");
	b = json_set(jv_object(), "model", jv_string(model));
	if (json_peek_kind(canon, "system") == JV_KIND_STRING)
		b = json_set(b, "instructions", json_get(canon, "system"));
	b = json_set(b, "input", input);

	v = json_get(canon, "tools");
	if (jv_get_kind(v) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(v)) > 0)
		b = json_set(b, "tools", build_tools(v, compat));
	jv_free(v);
	if (json_peek_kind(canon, "tool_choice") != JV_KIND_INVALID) {
		jv tc = json_get(canon, "tool_choice");

		if (tool_choice(tc, &v, err) == -1) {
			jv_free(tc);
			goto fail;
		}
		jv_free(tc);
		b = json_set(b, "tool_choice", v);
	}
	if (json_peek_kind(canon, "response_format") == JV_KIND_OBJECT) {
		jv rf = json_get(canon, "response_format");

		if (text_format(rf, &v, err) == -1) {
			jv_free(rf);
			goto fail;
		}
		jv_free(rf);
		b = json_set(b, "text", json_set(jv_object(), "format", v));
	}
	if (json_peek_number(canon, "max_tokens", &max))
		b = json_set(b, "max_output_tokens",
		    jv_number(max < OUTPUT_MIN ? OUTPUT_MIN : max));
	if (json_peek_kind(canon, "temperature") == JV_KIND_NUMBER)
		b = json_set(b, "temperature", json_get(canon, "temperature"));
	if (json_peek_kind(canon, "top_p") == JV_KIND_NUMBER)
		b = json_set(b, "top_p", json_get(canon, "top_p"));
	/* "stop": Responses has none; dropped (see the top of the file). */

	/*
	 * Reasoning controls go only to a model that reasons: non-reasoning
	 * models reject "reasoning" and the encrypted_content include.
	 */
	if (!json_peek_bool(target, "reasoning", &reasoning))
		reasoning = -1;	/* unknown: trust the thinking map */
	if (reasoning != 0 && !compat_off(compat, "supportsReasoningEffort") &&
	    (e = effort(canon, target)) != NULL) {
		v = json_set(jv_object(), "effort", jv_string(e));
		if (strcmp(e, "none") != 0)
			v = json_set(v, "summary", jv_string("auto"));
		b = json_set(b, "reasoning", v);
		sent = 1;
	}
	if (reasoning == 1 || sent)
		b = json_set(b, "include",
		    JV_ARRAY(jv_string("reasoning.encrypted_content")));
	if (!compat_off(compat, "supportsStore"))
		b = json_set(b, "store", jv_false());
	if (stream)
		b = json_set(b, "stream", jv_true());
	jv_free(compat);
	*body = b;
	*headers = jv_object();
	*url = jv_null();
	return 0;

fail:
	jv_free(compat);
	jv_free(b);
	return -1;
}

/* Appends s to a string jv that may still be null. */
static jv
append(jv acc, const char *s, const char *sep)
{
	if (jv_get_kind(acc) != JV_KIND_STRING)
		return jv_string(s);
	if (sep != NULL)
		acc = jv_string_append_str(acc, sep);
	return jv_string_append_str(acc, s);
}

/* The "text" of each element of list[key] (borrowed), joined by sep. */
static jv
texts(jv acc, jv item, const char *key, const char *sep)
{
	jv list = json_get(item, key), e;
	const char *s;
	int i, n;

	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return acc;
	}
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		e = jv_array_get(jv_copy(list), i);
		if ((s = json_peek_string(e, "text")) != NULL && *s != '\0')
			acc = append(acc, s, sep);
		jv_free(e);
	}
	jv_free(list);
	return acc;
}

struct output {
	jv	text;		/* null until a text part */
	jv	reasoning;	/* null until a summary */
	jv	sigs;		/* replayable reasoning items */
	jv	calls;
	int	refusal;
};

static void
message_item(struct output *o, jv item)
{
	jv content = json_get(item, "content"), part;
	const char *type, *s;
	int i, n;

	if (jv_get_kind(content) != JV_KIND_ARRAY) {
		jv_free(content);
		return;
	}
	n = jv_array_length(jv_copy(content));
	for (i = 0; i < n; i++) {
		part = jv_array_get(jv_copy(content), i);
		type = json_peek_string(part, "type");
		if (type != NULL && strcmp(type, "output_text") == 0 &&
		    (s = json_peek_string(part, "text")) != NULL)
			o->text = append(o->text, s, NULL);
		else if (type != NULL && strcmp(type, "refusal") == 0) {
			/* The refusal's words are the answer a user sees. */
			o->refusal = 1;
			if ((s = json_peek_string(part, "refusal")) != NULL)
				o->text = append(o->text, s, NULL);
		}
		jv_free(part);
	}
	jv_free(content);
}

static void
reasoning_item(struct output *o, jv item)
{
	jv sig, summary;

	o->reasoning = texts(o->reasoning, item, "summary", "\n\n");
	/* Open-weight servers send the raw text as "content" instead. */
	if (json_peek_kind(item, "summary") != JV_KIND_ARRAY ||
	    jv_array_length(json_get(item, "summary")) == 0)
		o->reasoning = texts(o->reasoning, item, "content", "\n\n");
	if (json_peek_kind(item, "encrypted_content") != JV_KIND_STRING)
		return;
	summary = json_get(item, "summary");
	if (jv_get_kind(summary) != JV_KIND_ARRAY) {
		jv_free(summary);
		summary = jv_array();
	}
	sig = json_set(jv_object(), "type", jv_string("reasoning"));
	sig = json_set(sig, "summary", summary);
	sig = json_set(sig, "encrypted_content",
	    json_get(item, "encrypted_content"));
	o->sigs = jv_array_append(o->sigs, sig);
}

static void
call_item(struct output *o, jv item)
{
	jv call = jv_object(), a;
	const char *id;

	/* call_id pairs the result with the call; "id" is the item's. */
	if ((id = json_peek_string(item, "call_id")) == NULL)
		id = json_peek_string(item, "id");
	call = json_set(call, "id", id ? jv_string(id) : jv_string(""));
	call = json_set(call, "name", json_peek_kind(item, "name") ==
	    JV_KIND_STRING ? json_get(item, "name") : jv_string(""));
	a = json_get(item, "arguments");
	if (jv_get_kind(a) == JV_KIND_STRING)
		call = dialect_arguments(call, jv_string_value(a),
		    (size_t)jv_string_length_bytes(jv_copy(a)));
	else if (jv_get_kind(a) == JV_KIND_OBJECT) {
		call = json_set(call, "arguments", a);
		a = jv_invalid();
	} else
		call = json_set(call, "arguments", jv_object());
	jv_free(a);
	o->calls = jv_array_append(o->calls, call);
}

static jv
usage(jv r)
{
	jv u = json_get(r, "usage"), d, out = jv_object();
	double in = 0, out_tok = 0, cached = 0, reasoning = 0;

	json_peek_number(u, "input_tokens", &in);
	json_peek_number(u, "output_tokens", &out_tok);
	d = json_get(u, "input_tokens_details");
	json_peek_number(d, "cached_tokens", &cached);
	jv_free(d);
	d = json_get(u, "output_tokens_details");
	json_peek_number(d, "reasoning_tokens", &reasoning);
	jv_free(d);
	jv_free(u);
	out = json_set(out, "input", jv_number(in > cached ? in - cached : 0));
	out = json_set(out, "output", jv_number(out_tok));
	out = json_set(out, "cache_read", jv_number(cached));
	out = json_set(out, "cache_write", jv_number(0));
	out = json_set(out, "reasoning", jv_number(reasoning));
	return out;
}

static const char *
stop_reason(jv r, const struct output *o)
{
	const char *status = json_peek_string(r, "status"), *why;
	jv d;

	if (status == NULL || strcmp(status, "completed") == 0) {
		if (jv_array_length(jv_copy(o->calls)) > 0)
			return "tool_use";
		return o->refusal ? "refusal" : "stop";
	}
	if (strcmp(status, "incomplete") == 0) {
		d = json_get(r, "incomplete_details");
		why = json_peek_string(d, "reason");
		why = why != NULL && strcmp(why, "content_filter") == 0 ?
		    "content_filter" : "length";
		jv_free(d);
		return why;
	}
	/*
	 * "failed", "cancelled", or a body still "in_progress": no answer.
	 * The provider's reason is in the body, where error() reads it.
	 */
	return "error";
}

/* The response fields of a response object (borrowed). */
static jv
responses_fields(jv v)
{
	struct output o;
	jv output, item, out;
	const char *type, *model;
	int i, n;

	output = json_get(v, "output");
	o.text = jv_null();
	o.reasoning = jv_null();
	o.sigs = jv_array();
	o.calls = jv_array();
	o.refusal = 0;
	n = jv_get_kind(output) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(output)) : 0;
	for (i = 0; i < n; i++) {
		item = jv_array_get(jv_copy(output), i);
		if ((type = json_peek_string(item, "type")) == NULL)
			;
		else if (strcmp(type, "message") == 0)
			message_item(&o, item);
		else if (strcmp(type, "reasoning") == 0)
			reasoning_item(&o, item);
		else if (strcmp(type, "function_call") == 0)
			call_item(&o, item);
		/* Built-in tool calls (web search, ...) are not ours. */
		jv_free(item);
	}
	jv_free(output);

	out = json_set(jv_object(), "text", o.text);
	if (jv_get_kind(o.reasoning) == JV_KIND_STRING)
		out = json_set(out, "reasoning", o.reasoning);
	else
		jv_free(o.reasoning);
	if (jv_array_length(jv_copy(o.sigs)) > 0)
		out = json_set(out, "reasoning_signature",
		    jv_dump_string(o.sigs, 0));
	else
		jv_free(o.sigs);
	out = json_set(out, "stop_reason", jv_string(stop_reason(v, &o)));
	if (jv_array_length(jv_copy(o.calls)) > 0)
		out = json_set(out, "tool_calls", o.calls);
	else
		jv_free(o.calls);
	out = json_set(out, "usage", usage(v));
	if ((model = json_peek_string(v, "model")) != NULL)
		out = json_set(out, "provider_model", jv_string(model));
	return out;
}

static int
responses_parse(const char *body, size_t len, jv target, jv *resp,
    char *err)
{
	jv v, r;

	(void)target;
	*resp = jv_invalid();
	if (len > INT_MAX)
		return errbuf_set(err, "response body too large");
	v = jv_parse_sized(body, (int)len);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return errbuf_set(err, "response is not a JSON object");
	}
	/* A stream's terminal event wraps the same object. */
	r = json_get(v, "response");
	if (jv_get_kind(r) == JV_KIND_OBJECT &&
	    json_peek_kind(v, "output") == JV_KIND_INVALID) {
		jv_free(v);
		v = r;
	} else
		jv_free(r);
	if (json_peek_kind(v, "output") != JV_KIND_ARRAY &&
	    json_peek_kind(v, "status") != JV_KIND_STRING) {
		jv_free(v);
		return errbuf_set(err, "response has no \"output\"");
	}
	*resp = responses_fields(v);
	jv_free(v);
	return 0;
}

/* Copies src[skey] into dst[key] when a string (or a numeric code). */
static jv
take(jv dst, const char *key, jv src, const char *skey)
{
	jv v = json_get(src, skey);

	if (jv_get_kind(v) == JV_KIND_NUMBER)
		return json_set(dst, key, jv_dump_string(v, 0));
	if (jv_get_kind(v) == JV_KIND_STRING)
		return json_set(dst, key, v);
	jv_free(v);
	return dst;
}

/*
 * Beyond the generic {"error": {...}} shape, Responses reports errors
 * as a stream "error" event ({"type": "error", "code", "message"}, the
 * type being the event's, not the error's), as a "response.failed"
 * event, and as a response object with "status": "failed" and
 * "error": {"code", "message"}, which the generic reading already takes.
 */
static jv
responses_error(int status, const char *body, size_t len)
{
	jv out = dialect_error_generic(status, body, len), v, r, e;
	const char *type;

	if (len == 0 || len > INT_MAX)
		return out;
	v = jv_parse_sized(body, (int)len);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return out;
	}
	r = json_get(v, "response");
	e = json_get(r, "error");
	if (jv_get_kind(e) == JV_KIND_OBJECT) {
		jv_free(out);
		out = take(jv_object(), "message", e, "message");
		out = take(out, "type", e, "type");
		out = take(out, "code", e, "code");
	} else if ((type = json_peek_string(v, "type")) != NULL &&
	    (strcmp(type, "error") == 0 ||
	    strncmp(type, "response.", 9) == 0) &&
	    json_peek_kind(v, "error") != JV_KIND_OBJECT)
		/* The event's type says nothing about the error. */
		out = jv_object_delete(out, jv_string("type"));
	jv_free(e);
	jv_free(r);
	jv_free(v);
	return out;
}

/*
 * Streaming: the typed events of the Responses API ("event:" lines, and
 * a "type" in each data, which counts when the event has no name).
 *
 * response.output_text.delta is text and response.refusal.delta too (a
 * refusal's words are the text, as parse has it); reasoning summary text
 * deltas (and reasoning_text deltas, the raw reasoning of open-weight
 * servers) are reasoning, with "\n\n" sent between two summary parts, the
 * separator parse puts between them.  A function_call item is announced
 * when response.output_item.added brings it, with its call_id and name;
 * response.function_call_arguments.delta are its deltas, and what the
 * .done event or the finished item holds beyond them (a server that sent
 * the arguments whole) is sent as one more delta.
 *
 * response.completed and response.incomplete are terminal.  Their
 * response object is read as parse reads a body, so the end's fields are
 * parse's: "incomplete" (max_output_tokens, content_filter) is an answer
 * cut short, like Chat's finish_reason "length", and ends with "end" and
 * stop_reason "length" or "content_filter", not with an error; its text
 * went out already and its usage counts.  (The list of mid-stream
 * failures names response.incomplete; an end record is what a user of
 * every other dialect gets for the same outcome.)  When the terminal
 * response lists no output (the ChatGPT Codex backend sends "output":
 * []), the items of the response.output_item.done events stand in, and
 * without those what the deltas built.  response.failed and "error"
 * events fail the stream, with the provider's code ("insufficient_quota",
 * "rate_limit_exceeded", "server_error", ...) as the kind's hint.
 */
#define CALLS_MAX	1024		/* function calls in one answer */

struct rs_call {
	char		*item_id;	/* "" when none */
	long		 oindex;	/* output_index, -1: none */
	char		*call_id, *name;
	struct buf	 args;
};

struct rs_stream {
	struct buf	 text, reasoning;
	char		*part;		/* the last reasoning part */
	struct rs_call	*calls;
	size_t		 ncalls;
	jv		 items;		/* output_item.done's items */
	jv		 final;		/* the terminal response */
	jv		 model;
	int		 refusal;
	int		 state;
};

static void *
rs_stream_new(jv target)
{
	struct rs_stream *st = xcalloc(1, sizeof(*st));

	(void)target;
	buf_init(&st->text, DIALECT_STREAM_BODY_MAX);
	buf_init(&st->reasoning, DIALECT_STREAM_BODY_MAX);
	st->part = xstrdup("");
	st->items = jv_array();
	st->final = st->model = jv_invalid();
	return st;
}

static void
rs_stream_free(void *vst)
{
	struct rs_stream *st = vst;
	size_t i;

	for (i = 0; i < st->ncalls; i++) {
		free(st->calls[i].item_id);
		free(st->calls[i].call_id);
		free(st->calls[i].name);
		buf_release(&st->calls[i].args);
	}
	free(st->calls);
	free(st->part);
	buf_release(&st->text);
	buf_release(&st->reasoning);
	jv_free(st->items);
	jv_free(st->final);
	jv_free(st->model);
	free(st);
}

static int
rs_grow(struct buf *b, const char *s, size_t n, jv *error)
{
	if (buf_append(b, s, n) == -1)
		return dialect_event_fail(error, "answer over %zu bytes",
		    b->max);
	return 0;
}

static jv
rs_call_event(struct rs_stream *st, size_t k, const char *d, size_t n)
{
	return dialect_event_call((int)k, st->calls[k].call_id,
	    st->calls[k].name, d, n);
}

/* The call an event (borrowed) is about: by item id, else by index. */
static struct rs_call *
rs_find(struct rs_stream *st, jv v, const char *id)
{
	long oi = dialect_event_index(v, "output_index");
	size_t k;

	for (k = 0; id != NULL && *id != '\0' && k < st->ncalls; k++)
		if (strcmp(st->calls[k].item_id, id) == 0)
			return &st->calls[k];
	for (k = 0; oi >= 0 && k < st->ncalls; k++)
		if (st->calls[k].oindex == oi)
			return &st->calls[k];
	return NULL;
}

/* A new call, from its item (borrowed; may be invalid), announced. */
static struct rs_call *
rs_open(struct rs_stream *st, jv v, jv item, jv *events)
{
	struct rs_call *c;
	const char *s;

	if (st->ncalls == CALLS_MAX)
		return NULL;
	st->calls = xrealloc(st->calls, (st->ncalls + 1) * sizeof(*c));
	c = &st->calls[st->ncalls++];
	if ((s = json_peek_string(item, "id")) == NULL)
		s = json_peek_string(v, "item_id");
	c->item_id = xstrdup(s ? s : "");
	c->oindex = dialect_event_index(v, "output_index");
	/* call_id pairs the result with the call; "id" is the item's. */
	if ((s = json_peek_string(item, "call_id")) == NULL)
		s = json_peek_string(item, "id");
	c->call_id = xstrdup(s ? s : "");
	s = json_peek_string(item, "name");
	c->name = xstrdup(s ? s : "");
	buf_init(&c->args, DIALECT_STREAM_BODY_MAX);
	*events = jv_array_append(*events, rs_call_event(st,
	    st->ncalls - 1, "", 0));
	return c;
}

/* Appends n bytes of arguments to call c and sends them. */
static int
rs_args(struct rs_stream *st, struct rs_call *c, const char *s, size_t n,
    jv *events, jv *error)
{
	if (n == 0)
		return 0;
	if (rs_grow(&c->args, s, n, error) != 0)
		return DIALECT_STREAM_FAIL;
	*events = jv_array_append(*events, rs_call_event(st,
	    (size_t)(c - st->calls), s, n));
	return 0;
}

/*
 * The complete arguments (borrowed) of a .done event or a finished item:
 * what they hold beyond the deltas sent goes out as one more delta.
 */
static int
rs_complete(struct rs_stream *st, struct rs_call *c, jv args, jv *events,
    jv *error)
{
	const char *s;
	size_t n;

	if (jv_get_kind(args) != JV_KIND_STRING)
		return 0;
	s = jv_string_value(args);
	n = (size_t)jv_string_length_bytes(jv_copy(args));
	if (n <= c->args.len ||
	    memcmp(s, buf_cstr(&c->args), c->args.len) != 0)
		return 0;
	return rs_args(st, c, s + c->args.len, n - c->args.len, events,
	    error);
}

/* A reasoning delta of the part named key ("item/s3", "item/c0"). */
static int
rs_reasoning(struct rs_stream *st, jv delta, const char *key, jv *events,
    jv *error)
{
	size_t n = (size_t)jv_string_length_bytes(jv_copy(delta));

	if (n == 0)
		return 0;
	if (st->reasoning.len > 0 && strcmp(st->part, key) != 0) {
		if (rs_grow(&st->reasoning, "\n\n", 2, error) != 0)
			return DIALECT_STREAM_FAIL;
		*events = jv_array_append(*events, dialect_event_delta(
		    "reasoning", jv_string("\n\n")));
	}
	free(st->part);
	st->part = xstrdup(key);
	if (rs_grow(&st->reasoning, jv_string_value(delta), n, error) != 0)
		return DIALECT_STREAM_FAIL;
	*events = jv_array_append(*events, dialect_event_delta("reasoning",
	    jv_copy(delta)));
	return 0;
}

static int
rs_item(struct rs_stream *st, jv v, int added, jv *events, jv *error)
{
	jv item = json_get(v, "item"), a;
	const char *type = json_peek_string(item, "type"), *s;
	struct rs_call *c;
	int r = 0;

	if (jv_get_kind(item) != JV_KIND_OBJECT) {
		jv_free(item);
		return 0;
	}
	if (!added)
		st->items = jv_array_append(st->items, jv_copy(item));
	if (type == NULL || strcmp(type, "function_call") != 0) {
		jv_free(item);
		return 0;
	}
	if ((c = rs_find(st, v, json_peek_string(item, "id"))) == NULL &&
	    (c = rs_open(st, v, item, events)) == NULL) {
		jv_free(item);
		return dialect_event_fail(error, "more than %d function "
		    "calls", CALLS_MAX);
	}
	if (*c->call_id == '\0' &&
	    (s = json_peek_string(item, "call_id")) != NULL) {
		free(c->call_id);
		c->call_id = xstrdup(s);
	}
	if (*c->name == '\0' && (s = json_peek_string(item, "name")) != NULL) {
		free(c->name);
		c->name = xstrdup(s);
	}
	a = json_get(item, "arguments");
	r = rs_complete(st, c, a, events, error);
	jv_free(a);
	jv_free(item);
	return r;
}

static int
rs_call_args(struct rs_stream *st, jv v, int done, jv *events, jv *error)
{
	struct rs_call *c;
	jv a;
	int r;

	if ((c = rs_find(st, v, json_peek_string(v, "item_id"))) == NULL &&
	    (c = rs_open(st, v, jv_invalid(), events)) == NULL)
		return dialect_event_fail(error, "more than %d function "
		    "calls", CALLS_MAX);
	a = json_get(v, done ? "arguments" : "delta");
	if (done)
		r = rs_complete(st, c, a, events, error);
	else if (jv_get_kind(a) == JV_KIND_STRING)
		r = rs_args(st, c, jv_string_value(a),
		    (size_t)jv_string_length_bytes(jv_copy(a)), events, error);
	else
		r = 0;
	jv_free(a);
	return r;
}

static int
rs_stream_event(void *vst, const char *sse_type, const char *data,
    size_t len, jv *events, jv *einfo)
{
	struct rs_stream *st = vst;
	const char *type;
	char key[64];
	jv v, x, resp;
	int r = 0, summary;

	if (st->state != 0)
		return st->state;
	if (dialect_event_json(data, len, &v, einfo) != 0)
		return st->state = DIALECT_STREAM_FAIL;
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return st->state = dialect_event_fail(einfo,
		    "stream event data is not a JSON object");
	}
	type = strcmp(sse_type, "message") != 0 ? sse_type :
	    json_peek_string(v, "type") != NULL ?
	    json_peek_string(v, "type") : "";
	resp = json_get(v, "response");
	if (json_peek_kind(resp, "model") == JV_KIND_STRING) {
		jv_free(st->model);
		st->model = json_get(resp, "model");
	}
	summary = strcmp(type, "response.reasoning_summary_text.delta") == 0;
	if (strcmp(type, "response.output_text.delta") == 0 ||
	    strcmp(type, "response.refusal.delta") == 0) {
		x = json_get(v, "delta");
		if (jv_get_kind(x) == JV_KIND_STRING &&
		    jv_string_length_bytes(jv_copy(x)) > 0) {
			if (strcmp(type, "response.refusal.delta") == 0)
				st->refusal = 1;
			r = rs_grow(&st->text, jv_string_value(x),
			    (size_t)jv_string_length_bytes(jv_copy(x)), einfo);
			if (r == 0)
				*events = jv_array_append(*events,
				    dialect_event_delta("text", x));
			else
				jv_free(x);
		} else
			jv_free(x);
	} else if (summary ||
	    strcmp(type, "response.reasoning_text.delta") == 0) {
		/* Parts are told apart by item and index. */
		snprintf(key, sizeof(key), "%.40s/%c%ld",
		    json_peek_string(v, "item_id") ? json_peek_string(v,
		    "item_id") : "", summary ? 's' : 'c',
		    dialect_event_index(v, summary ? "summary_index" :
		    "content_index"));
		x = json_get(v, "delta");
		if (jv_get_kind(x) == JV_KIND_STRING)
			r = rs_reasoning(st, x, key, events, einfo);
		jv_free(x);
	} else if (strcmp(type, "response.output_item.added") == 0)
		r = rs_item(st, v, 1, events, einfo);
	else if (strcmp(type, "response.output_item.done") == 0)
		r = rs_item(st, v, 0, events, einfo);
	else if (strcmp(type, "response.function_call_arguments.delta") == 0)
		r = rs_call_args(st, v, 0, events, einfo);
	else if (strcmp(type, "response.function_call_arguments.done") == 0)
		r = rs_call_args(st, v, 1, events, einfo);
	else if (strcmp(type, "response.completed") == 0 ||
	    strcmp(type, "response.incomplete") == 0) {
		if (jv_get_kind(resp) == JV_KIND_OBJECT) {
			jv_free(st->final);
			st->final = jv_copy(resp);
		}
		r = DIALECT_STREAM_DONE;
	} else if (strcmp(type, "response.failed") == 0 ||
	    strcmp(type, "error") == 0) {
		jv_free(*einfo);
		*einfo = dialect_event_status(responses_error(200, data, len));
		r = DIALECT_STREAM_FAIL;
	}
	jv_free(resp);
	jv_free(v);
	if (r != 0)
		st->state = r;
	return r;
}

/* Output items made from what the deltas built. */
static jv
rs_built(struct rs_stream *st)
{
	jv out = jv_array(), part;
	size_t k;

	if (st->reasoning.len > 0)
		out = jv_array_append(out, json_set(json_set(jv_object(),
		    "type",
		    jv_string("reasoning")), "summary",
		    JV_ARRAY(json_set(json_set(
		    jv_object(), "type", jv_string("summary_text")), "text",
		    jv_string_sized(st->reasoning.data,
		    (int)st->reasoning.len)))));
	if (st->text.len > 0) {
		part = jv_string_sized(st->text.data, (int)st->text.len);
		part = st->refusal ? json_set(json_set(jv_object(), "type",
		    jv_string("refusal")), "refusal", part) : json_set(json_set(
		    jv_object(), "type", jv_string("output_text")), "text",
		    part);
		out = jv_array_append(out, json_set(json_set(jv_object(),
		    "type",
		    jv_string("message")), "content", JV_ARRAY(part)));
	}
	for (k = 0; k < st->ncalls; k++)
		out = jv_array_append(out,
		    json_set(json_set(json_set(json_set(jv_object(),
		    "type", jv_string("function_call")), "call_id",
		    jv_string(st->calls[k].call_id)), "name",
		    jv_string(st->calls[k].name)), "arguments",
		    jv_string_sized(buf_cstr(&st->calls[k].args),
		    (int)st->calls[k].args.len)));
	return out;
}

static jv
rs_stream_end(void *vst, int complete)
{
	struct rs_stream *st = vst;
	jv resp, out;
	int n;

	resp = complete && jv_get_kind(st->final) == JV_KIND_OBJECT ?
	    jv_copy(st->final) : jv_object();
	n = json_peek_kind(resp, "output") == JV_KIND_ARRAY ?
	    jv_array_length(json_get(resp, "output")) : 0;
	if (n == 0 && jv_array_length(jv_copy(st->items)) > 0)
		resp = json_set(resp, "output", jv_copy(st->items));
	else if (n == 0)
		resp = json_set(resp, "output", rs_built(st));
	if (json_peek_kind(resp, "model") != JV_KIND_STRING &&
	    jv_is_valid(st->model))
		resp = json_set(resp, "model", jv_copy(st->model));
	out = responses_fields(resp);
	if (!complete)
		out = jv_object_delete(out, jv_string("stop_reason"));
	jv_free(resp);
	return out;
}

const struct dialect dialect_openai_responses = {
	.api = "openai-responses",
	.build = responses_build,
	.parse = responses_parse,
	.error = responses_error,
	.stream_new = rs_stream_new,
	.stream_event = rs_stream_event,
	.stream_end = rs_stream_end,
	.stream_free = rs_stream_free,
};
