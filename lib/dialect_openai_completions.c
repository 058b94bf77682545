/*
 * dialect_openai_completions: OpenAI's Chat Completions, and every
 * provider that speaks it with quirks (pi's compat flags, DESIGN.md
 * section 4).
 *
 * Where a compat flag is absent the default is the one that works on the
 * widest set of servers, not OpenAI's own preference: "system" rather
 * than "developer", "max_tokens" rather than "max_completion_tokens"
 * except for provider "openai" (pi defaults to max_completion_tokens for
 * everyone but Mistral and a few others; our catalog names the field for
 * every provider, so the default only matters for user-configured local
 * servers and proxies, which mostly know only max_tokens).
 */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "dialect.h"
#include "errbuf.h"
#include "jscan.h"
#include "json.h"
#include "request.h"
#include "utf8.h"
#include "xalloc.h"

#define BRIDGE_TEXT	"I have processed the tool results."

static const char *const levels[] = {
	"off", "minimal", "low", "medium", "high", "xhigh"
};

/* The compat flags, read once per build. */
struct compat {
	const char	*format;	/* thinkingFormat, NULL for OpenAI's */
	const char	*max_field;
	int		 developer;	/* "developer" for the system prompt */
	int		 effort;	/* reasoning_effort allowed */
	int		 effort_explicit; /* ...and said so */
	int		 usage_stream;
	int		 strict;
	int		 tool_name;
	int		 bridge;
	int		 think_text;
	int		 rc_always;	/* reasoning_content always */
	int		 tool_stream;
	int		 cache_anthropic;
	int		 reasoning;	/* the model can think (not false) */
	int		 short_ids;	/* tool call ids of 9 letters/digits */
};

static int
flag(jv compat, const char *key, int dflt)
{
	int v;

	return json_peek_bool(compat, key, &v) ? v : dflt;
}

static void
read_compat(jv target, struct compat *c)
{
	jv compat = json_get(target, "compat");
	const char *p, *prov = json_peek_string(target, "provider");
	int b;

	c->format = NULL;
	if ((p = json_peek_string(compat, "thinkingFormat")) != NULL &&
	    strcmp(p, "reasoning_effort") != 0 && strcmp(p, "openai") != 0)
		c->format = p;
	c->max_field = json_peek_string(compat, "maxTokensField");
	if (c->max_field == NULL)
		c->max_field = prov != NULL && strcmp(prov, "openai") == 0 ?
		    "max_completion_tokens" : "max_tokens";
	/* pi's rule: developer only for reasoning models that take it. */
	c->developer = flag(compat, "supportsDeveloperRole", 0) &&
	    json_peek_bool(target, "reasoning", &b) && b;
	c->effort = flag(compat, "supportsReasoningEffort", 1);
	c->effort_explicit = flag(compat, "supportsReasoningEffort", 0);
	c->usage_stream = flag(compat, "supportsUsageInStreaming", 1);
	c->strict = flag(compat, "supportsStrictMode", 1);
	c->tool_name = flag(compat, "requiresToolResultName", 0);
	c->bridge = flag(compat, "requiresAssistantAfterToolResult", 0);
	c->think_text = flag(compat, "requiresThinkingAsText", 0);
	c->rc_always = flag(compat,
	    "requiresReasoningContentOnAssistantMessages", 0);
	c->tool_stream = flag(compat, "zaiToolStream", 0);
	p = json_peek_string(compat, "cacheControlFormat");
	c->cache_anthropic = p != NULL && strcmp(p, "anthropic") == 0;
	c->reasoning = !json_peek_bool(target, "reasoning", &b) || b;
	/* Mistral refuses any tool call id that is not 9 letters/digits. */
	p = json_peek_string(compat, "toolCallIdFormat");
	c->short_ids = (p != NULL && strcmp(p, "mistral") == 0) ||
	    (p == NULL && prov != NULL && strcmp(prov, "mistral") == 0);
	/* target borrows compat's strings: target outlives this build. */
	jv_free(compat);
}

/*
 * A tool call id as the provider accepts it.  For short_ids, an id that is
 * not already 9 letters and digits maps (the same way every time, so a
 * call and its result still match) to a hash of it written in base 62.
 */
static jv
call_id(jv id, const struct compat *c)
{
	static const char digits[] =
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	const char *s;
	uint64_t h = 14695981039346656037ULL;
	char out[10];
	size_t i, n;

	if (!c->short_ids || jv_get_kind(id) != JV_KIND_STRING)
		return id;
	s = jv_string_value(id);
	n = strlen(s);
	if (n == 9 && strspn(s, digits) == 9)
		return id;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	for (i = 0; i < 9; i++, h /= 62)
		out[i] = digits[h % 62];
	out[9] = '\0';
	jv_free(id);
	return jv_string(out);
}

static int
is_format(const struct compat *c, const char *f)
{
	return c->format != NULL && strcmp(c->format, f) == 0;
}

/* The field an assistant's reasoning is replayed in, or NULL. */
static const char *
replay_field(const struct compat *c)
{
	if (c->think_text)
		return NULL;
	if (c->rc_always || is_format(c, "zai") || is_format(c, "deepseek") ||
	    is_format(c, "qwen-chat-template"))
		return "reasoning_content";
	if (is_format(c, "openrouter"))
		return "reasoning";
	return NULL;
}

static jv
image_part(jv p)
{
	jv url = json_get(p, "url");

	if (!jv_is_valid(url)) {
		url = jv_string_fmt("data:%s;base64,",
		    json_peek_string(p, "mime") ? json_peek_string(p, "mime") :
		    "application/octet-stream");
		url = jv_string_concat(url, json_get(p, "data"));
	}
	return json_set(json_set(jv_object(), "type", jv_string("image_url")),
	    "image_url", json_set(jv_object(), "url", url));
}

/* User content: a plain string when it is one text part, else parts. */
static jv
user_content(jv parts)
{
	jv out, p;
	int i, n = jv_array_length(jv_copy(parts));

	if (n == 0)
		return jv_string("");
	p = jv_array_get(jv_copy(parts), 0);
	if (n == 1 && json_peek_string(p, "text") != NULL) {
		out = json_get(p, "text");
		jv_free(p);
		return out;
	}
	jv_free(p);
	out = jv_array();
	for (i = 0; i < n; i++) {
		p = jv_array_get(jv_copy(parts), i);
		if (json_peek_string(p, "text") != NULL)
			out = jv_array_append(out,
			    json_set(json_set(jv_object(), "type",
			    jv_string("text")), "text", json_get(p, "text")));
		else
			out = jv_array_append(out, image_part(p));
		jv_free(p);
	}
	return out;
}

static int
has_images(jv parts)
{
	int i, n = jv_array_length(jv_copy(parts)), found = 0;

	for (i = 0; i < n && !found; i++) {
		jv p = jv_array_get(jv_copy(parts), i);

		found = json_peek_string(p, "text") == NULL;
		jv_free(p);
	}
	return found;
}

static jv
assistant(jv m, const struct compat *c)
{
	jv out, text, calls, r, parts;
	const char *field;
	int i, n;

	out = json_set(jv_object(), "role", jv_string("assistant"));
	parts = json_get(m, "content");
	text = request_text(parts);
	jv_free(parts);
	r = json_get(m, "reasoning");
	if (c->think_text && jv_get_kind(r) == JV_KIND_STRING) {
		jv t = jv_string("<thinking>\n");

		t = jv_string_concat(t, jv_copy(r));
		t = jv_string_concat(t, jv_string("\n</thinking>"));
		if (jv_string_length_bytes(jv_copy(text)) > 0) {
			t = jv_string_concat(t, jv_string("\n"));
			t = jv_string_concat(t, text);
		} else
			jv_free(text);
		text = t;
	}
	if (jv_string_length_bytes(jv_copy(text)) > 0)
		out = json_set(out, "content", text);
	else {
		jv_free(text);
		/* Mistral refuses null content; the rest take it. */
		out = json_set(out, "content", c->bridge ? jv_string("") :
		    jv_null());
	}
	if ((field = replay_field(c)) != NULL) {
		if (jv_get_kind(r) == JV_KIND_STRING)
			out = json_set(out, field, jv_copy(r));
		else if (c->rc_always)
			out = json_set(out, field, jv_string(""));
	}
	jv_free(r);
	calls = json_get(m, "tool_calls");
	n = jv_get_kind(calls) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(calls)) : 0;
	if (n > 0) {
		jv list = jv_array();

		for (i = 0; i < n; i++) {
			jv tc = jv_array_get(jv_copy(calls), i);
			jv fn = json_set(json_set(jv_object(), "name",
			    json_get(tc, "name")), "arguments",
			    jv_dump_string(json_get(tc, "arguments"), 0));

			list = jv_array_append(list,
			    json_set(json_set(json_set(jv_object(),
			    "id", call_id(json_get(tc, "id"), c)), "type",
			    jv_string("function")), "function", fn));
			jv_free(tc);
		}
		out = json_set(out, "tool_calls", list);
	}
	jv_free(calls);
	return out;
}

static jv
tool_result(jv m, const struct compat *c)
{
	jv parts = json_get(m, "content");
	jv text = request_text(parts);
	jv out;

	if (jv_string_length_bytes(jv_copy(text)) == 0 && has_images(parts)) {
		jv_free(text);
		text = jv_string("(see attached image)");
	}
	jv_free(parts);
	out = json_set(json_set(json_set(jv_object(), "role",
	    jv_string("tool")),
	    "tool_call_id", call_id(json_get(m, "tool_call_id"), c)),
	    "content", text);
	if (c->tool_name)
		out = json_set(out, "name", json_get(m, "name"));
	return out;
}

/*
 * Images in tool results go in a user message after the run of tool
 * messages: Chat Completions tool messages carry text only, and nothing
 * may come between an assistant's tool calls and their results.
 */
static jv
flush_images(jv msgs, jv *images, const char **last, const struct compat *c)
{
	jv content;

	if (jv_array_length(jv_copy(*images)) == 0)
		return msgs;
	if (c->bridge)
		msgs = jv_array_append(msgs, json_set(json_set(jv_object(),
		    "role",
		    jv_string("assistant")), "content",
		    jv_string(BRIDGE_TEXT)));
	content = JV_ARRAY(json_set(json_set(jv_object(), "type",
	    jv_string("text")),
	    "text", jv_string("Attached image(s) from tool result:")));
	content = jv_array_concat(content, *images);
	*images = jv_array();
	*last = "user";
	return jv_array_append(msgs, json_set(json_set(jv_object(), "role",
	    jv_string("user")), "content", content));
}

static jv
messages(jv canon, const struct compat *c)
{
	jv msgs = jv_array(), list, images = jv_array();
	const char *sys = json_peek_string(canon, "system"), *last = "";
	int i, n;

	if (sys != NULL)
		msgs = jv_array_append(msgs, json_set(json_set(jv_object(),
		    "role",
		    jv_string(c->developer ? "developer" : "system")),
		    "content", jv_string(sys)));
	list = json_get(canon, "messages");
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(list), i), parts, out;
		const char *role = json_peek_string(m, "role");

		if (strcmp(role, "tool") != 0)
			msgs = flush_images(msgs, &images, &last, c);
		if (strcmp(role, "user") == 0) {
			if (c->bridge && strcmp(last, "tool") == 0)
				msgs = jv_array_append(msgs, json_set(json_set(
				    jv_object(), "role",
				    jv_string("assistant")), "content",
				    jv_string(BRIDGE_TEXT)));
			parts = json_get(m, "content");
			out = json_set(json_set(jv_object(), "role",
			    jv_string("user")),
			    "content", user_content(parts));
			jv_free(parts);
			last = "user";
		} else if (strcmp(role, "assistant") == 0) {
			const char *t;

			out = assistant(m, c);
			t = json_peek_string(out, "content");
			/* Nothing to say and no calls: pi drops these, and
			 * Mistral refuses them. */
			if (json_peek_kind(out, "tool_calls") ==
			    JV_KIND_INVALID && (t == NULL || *t == '\0')) {
				jv_free(out);
				jv_free(m);
				continue;
			}
			last = "assistant";
		} else {
			parts = json_get(m, "content");
			out = tool_result(m, c);
			if (has_images(parts)) {
				int j, k = jv_array_length(jv_copy(parts));

				for (j = 0; j < k; j++) {
					jv p = jv_array_get(jv_copy(parts), j);

					if (json_peek_string(p, "text") == NULL)
						images = jv_array_append(images,
						    image_part(p));
					jv_free(p);
				}
			}
			jv_free(parts);
			last = "tool";
		}
		msgs = jv_array_append(msgs, out);
		jv_free(m);
	}
	msgs = flush_images(msgs, &images, &last, c);
	jv_free(images);
	jv_free(list);
	return msgs;
}

static jv
tools(jv defs, const struct compat *c)
{
	jv out = jv_array();
	int i, n = jv_array_length(jv_copy(defs)), strict;

	for (i = 0; i < n; i++) {
		jv d = jv_array_get(jv_copy(defs), i);
		jv fn = json_set(jv_object(), "name", json_get(d, "name"));

		if (json_peek_kind(d, "description") == JV_KIND_STRING)
			fn = json_set(fn, "description", json_get(d,
			    "description"));
		fn = json_set(fn, "parameters", json_get(d, "parameters"));
		if (c->strict && json_peek_bool(d, "strict", &strict) && strict)
			fn = json_set(fn, "strict", jv_true());
		out = jv_array_append(out, json_set(json_set(jv_object(),
		    "type",
		    jv_string("function")), "function", fn));
		jv_free(d);
	}
	return out;
}

/*
 * Anthropic models behind OpenRouter cache only what is marked: the
 * system prompt, the last tool and the last text of the conversation.
 */
static jv
cache_marks(jv body)
{
	jv msgs = json_get(body, "messages"), eph, tl;
	int i, n = jv_array_length(jv_copy(msgs));

	eph = json_set(jv_object(), "type", jv_string("ephemeral"));
	for (i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(msgs), i);
		const char *role = json_peek_string(m, "role");

		if (strcmp(role, "system") == 0 ||
		    strcmp(role, "developer") == 0) {
			m = json_set(m, "content",
			    JV_ARRAY(json_set(json_set(json_set(jv_object(),
			    "type", jv_string("text")), "text",
			    json_get(m, "content")), "cache_control",
			    jv_copy(eph))));
			msgs = jv_array_set(msgs, i, m);
			break;
		}
		jv_free(m);
	}
	for (i = n - 1; i >= 0; i--) {
		jv m = jv_array_get(jv_copy(msgs), i), ct;
		const char *role = json_peek_string(m, "role");
		int k;

		if (strcmp(role, "user") != 0 &&
		    strcmp(role, "assistant") != 0) {
			jv_free(m);
			continue;
		}
		ct = json_get(m, "content");
		if (jv_get_kind(ct) == JV_KIND_STRING &&
		    jv_string_length_bytes(jv_copy(ct)) > 0)
			ct = JV_ARRAY(json_set(json_set(jv_object(), "type",
			    jv_string("text")), "text", ct));
		if (jv_get_kind(ct) != JV_KIND_ARRAY) {
			jv_free(ct);
			jv_free(m);
			continue;
		}
		for (k = jv_array_length(jv_copy(ct)) - 1; k >= 0; k--) {
			jv p = jv_array_get(jv_copy(ct), k);

			if (json_peek_kind(p, "text") == JV_KIND_STRING) {
				ct = jv_array_set(ct, k, json_set(p,
				    "cache_control", jv_copy(eph)));
				break;
			}
			jv_free(p);
		}
		if (k < 0) {
			jv_free(ct);
			jv_free(m);
			continue;
		}
		msgs = jv_array_set(msgs, i, json_set(m, "content", ct));
		break;
	}
	body = json_set(body, "messages", msgs);
	tl = json_get(body, "tools");
	n = jv_get_kind(tl) == JV_KIND_ARRAY ? jv_array_length(jv_copy(tl)) :
	    0;
	if (n > 0) {
		jv t = jv_array_get(jv_copy(tl), n - 1);

		tl = jv_array_set(tl, n - 1, json_set(t, "cache_control",
		    jv_copy(eph)));
		body = json_set(body, "tools", tl);
	} else
		jv_free(tl);
	jv_free(eph);
	return body;
}

/* Does any assistant message carry reasoning to replay? */
static int
replays(jv canon)
{
	jv list = json_get(canon, "messages");
	int i, n = jv_array_length(jv_copy(list)), found = 0;

	for (i = 0; i < n && !found; i++) {
		jv m = jv_array_get(jv_copy(list), i);

		found = json_peek_kind(m, "reasoning") == JV_KIND_STRING;
		jv_free(m);
	}
	jv_free(list);
	return found;
}

/*
 * The provider's value for the requested level.  null in thinking_value
 * means the model cannot think at that level: take the nearest lower
 * level it can (asking for xhigh where high is the top gives high).
 */
static jv
thinking_value(jv canon, jv target, const char *level)
{
	jv v = json_get(canon, "thinking_value"), map;
	int i;

	if (jv_get_kind(v) != JV_KIND_NULL || strcmp(level, "off") == 0)
		return v;
	jv_free(v);
	map = json_get(target, "thinking_map");
	for (i = 5; i > 0; i--)
		if (strcmp(levels[i], level) == 0)
			break;
	for (i--; i > 0; i--) {
		if (jv_get_kind(map) != JV_KIND_OBJECT ||
		    !jv_object_has(jv_copy(map), jv_string(levels[i]))) {
			jv_free(map);
			return jv_string(levels[i]);
		}
		v = json_get(map, levels[i]);
		if (jv_get_kind(v) != JV_KIND_NULL) {
			jv_free(map);
			return v;
		}
		jv_free(v);
	}
	jv_free(map);
	return jv_null();
}

static int
disabling(jv v)
{
	const char *s;

	if (jv_get_kind(v) != JV_KIND_STRING)
		return jv_get_kind(v) == JV_KIND_NULL;
	s = jv_string_value(v);
	return strcmp(s, "none") == 0 || strcmp(s, "disabled") == 0 ||
	    strcmp(s, "off") == 0;
}

static jv
thinking(jv body, jv canon, jv target, const struct compat *c)
{
	const char *level = json_peek_string(canon, "thinking");
	jv v, t;
	int on, preserve;

	if (level == NULL || !c->reasoning)
		return body;
	v = thinking_value(canon, target, level);
	on = strcmp(level, "off") != 0 && !disabling(v);
	preserve = on && replays(canon) && !c->think_text;
	if (is_format(c, "zai")) {
		t = json_set(jv_object(), "type", jv_string(on ? "enabled" :
		    "disabled"));
		/* Preserved thinking: keep the replayed reasoning_content. */
		if (preserve)
			t = json_set(t, "clear_thinking", jv_false());
		body = json_set(body, "thinking", t);
	} else if (is_format(c, "deepseek")) {
		body = json_set(body, "thinking", json_set(jv_object(), "type",
		    jv_string(on ? "enabled" : "disabled")));
		if (on && c->effort)
			body = json_set(body, "reasoning_effort", jv_copy(v));
	} else if (is_format(c, "qwen")) {
		body = json_set(body, "enable_thinking", jv_bool(on));
	} else if (is_format(c, "qwen-chat-template")) {
		t = json_set(jv_object(), "enable_thinking", jv_bool(on));
		if (preserve)
			t = json_set(t, "clear_thinking", jv_false());
		body = json_set(body, "chat_template_kwargs", t);
	} else if (is_format(c, "together")) {
		body = json_set(body, "reasoning", json_set(jv_object(),
		    "enabled",
		    jv_bool(on)));
		if (on && c->effort_explicit)
			body = json_set(body, "reasoning_effort", jv_copy(v));
	} else if (is_format(c, "openrouter")) {
		if (on)
			body = json_set(body, "reasoning", json_set(jv_object(),
			    "effort", jv_copy(v)));
		else if (jv_get_kind(v) == JV_KIND_STRING && disabling(v))
			body = json_set(body, "reasoning", json_set(jv_object(),
			    "enabled", jv_false()));
		else if (jv_get_kind(v) == JV_KIND_STRING)
			body = json_set(body, "reasoning", json_set(jv_object(),
			    "effort", jv_copy(v)));
	} else if (c->effort) {
		/* "off" maps to "none" or "minimal" on some models, to
		 * nothing (null) on those that always think. */
		if (on || (jv_get_kind(v) == JV_KIND_STRING &&
		    strcmp(jv_string_value(v), "disabled") != 0 &&
		    strcmp(jv_string_value(v), "off") != 0))
			body = json_set(body, "reasoning_effort", jv_copy(v));
	}
	jv_free(v);
	return body;
}

static jv
response_format(jv f)
{
	jv js;

	if (strcmp(json_peek_string(f, "type"), "json_schema") != 0)
		return json_set(jv_object(), "type", jv_string("json_object"));
	js = json_set(jv_object(), "name", json_get(f, "name"));
	if (json_peek_kind(f, "description") == JV_KIND_STRING)
		js = json_set(js, "description", json_get(f, "description"));
	js = json_set(js, "schema", json_get(f, "schema"));
	if (json_peek_kind(f, "strict") != JV_KIND_INVALID)
		js = json_set(js, "strict", json_get(f, "strict"));
	return json_set(json_set(jv_object(), "type", jv_string("json_schema")),
	    "json_schema", js);
}

static int
build(jv canon, jv target, int stream, jv *bodyp, jv *headers, jv *url,
    char *err)
{
	struct compat c;
	jv body, v, compat;
	const char *model = json_peek_string(target, "model"), *s;

	if (model == NULL)
		return errbuf_set(err, "target has no model");
	read_compat(target, &c);
	body = json_set(jv_object(), "model", jv_string(model));
	body = json_set(body, "messages", messages(canon, &c));
	v = json_get(canon, "max_tokens");
	if (jv_is_valid(v))
		body = json_set(body, c.max_field, v);
	v = json_get(canon, "temperature");
	if (jv_is_valid(v))
		body = json_set(body, "temperature", v);
	v = json_get(canon, "top_p");
	if (jv_is_valid(v))
		body = json_set(body, "top_p", v);
	v = json_get(canon, "stop");
	if (jv_is_valid(v))
		body = json_set(body, "stop", v);
	v = json_get(canon, "tools");
	if (jv_get_kind(v) == JV_KIND_ARRAY)
		body = json_set(body, "tools", tools(v, &c));
	jv_free(v);
	v = json_get(canon, "tool_choice");
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv name = json_get(v, "name");

		jv_free(v);
		v = json_set(json_set(jv_object(), "type",
		    jv_string("function")),
		    "function", json_set(jv_object(), "name", name));
	}
	if (jv_is_valid(v))
		body = json_set(body, "tool_choice", v);
	v = json_get(canon, "response_format");
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		body = json_set(body, "response_format", response_format(v));
	jv_free(v);
	body = thinking(body, canon, target, &c);
	if (stream) {
		body = json_set(body, "stream", jv_true());
		if (c.usage_stream)
			body = json_set(body, "stream_options",
			    json_set(jv_object(),
			    "include_usage", jv_true()));
		if (c.tool_stream &&
		    json_peek_kind(body, "tools") == JV_KIND_ARRAY)
			body = json_set(body, "tool_stream", jv_true());
	}
	/* Routing preferences of the aggregators, as pi sends them. */
	compat = json_get(target, "compat");
	v = json_get(compat, "openRouterRouting");
	s = json_peek_string(target, "url");
	if (jv_get_kind(v) == JV_KIND_OBJECT && (s == NULL ||
	    strstr(s, "openrouter.ai") != NULL ||
	    (json_peek_string(target, "provider") != NULL &&
	    strcmp(json_peek_string(target, "provider"), "openrouter") == 0)))
		body = json_set(body, "provider", v);
	else
		jv_free(v);
	v = json_get(compat, "vercelGatewayRouting");
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv g = jv_object(), x;

		x = json_get(v, "only");
		if (jv_is_valid(x))
			g = json_set(g, "only", x);
		x = json_get(v, "order");
		if (jv_is_valid(x))
			g = json_set(g, "order", x);
		if (jv_object_length(jv_copy(g)) > 0)
			body = json_set(body, "providerOptions",
			    json_set(jv_object(),
			    "gateway", g));
		else
			jv_free(g);
	}
	jv_free(v);
	jv_free(compat);
	if (c.cache_anthropic)
		body = cache_marks(body);
	*bodyp = body;
	*headers = jv_object();
	*url = jv_null();
	return 0;
}

static const char *
stop_reason(const char *f, int calls)
{
	if (f == NULL)
		return calls ? "tool_use" : "stop";
	if (strcmp(f, "length") == 0 ||
	    strcmp(f, "model_context_window_exceeded") == 0)
		return "length";
	if (strcmp(f, "content_filter") == 0 || strcmp(f, "sensitive") == 0)
		return "content_filter";
	if (strcmp(f, "tool_calls") == 0 || strcmp(f, "function_call") == 0)
		return "tool_use";
	if (strcmp(f, "network_error") == 0)	/* zai */
		return "error";
	/*
	 * "stop" with tool calls is what Ollama, vLLM and others send: the
	 * calls still want answering, so say tool_use.
	 */
	return calls ? "tool_use" : "stop";
}

static double
num(jv obj, const char *key)
{
	double d = 0;

	if (!json_peek_number(obj, key, &d) || d < 0)
		return 0;
	return d;
}

static jv
usage(jv u)
{
	jv pd = json_get(u, "prompt_tokens_details");
	jv cd = json_get(u, "completion_tokens_details");
	double in = num(u, "prompt_tokens"), cached, written, out;

	cached = num(pd, "cached_tokens");
	if (cached == 0)	/* DeepSeek */
		cached = num(u, "prompt_cache_hit_tokens");
	written = num(pd, "cache_write_tokens");	/* OpenRouter */
	in = in > cached + written ? in - cached - written : 0;
	out = num(u, "completion_tokens");
	u = json_set(json_set(json_set(json_set(json_set(jv_object(),
	    "input", jv_number(in)),
	    "output", jv_number(out)),
	    "cache_read", jv_number(cached)),
	    "cache_write", jv_number(written)),
	    "reasoning", jv_number(num(cd, "reasoning_tokens")));
	jv_free(pd);
	jv_free(cd);
	return u;
}

/* Content as a string, or as parts (Mistral's thinking chunks). */
static void
content(jv c, jv *text, jv *reasoning)
{
	int i, n;

	if (jv_get_kind(c) == JV_KIND_STRING) {
		*text = c;
		return;
	}
	if (jv_get_kind(c) != JV_KIND_ARRAY) {
		jv_free(c);
		return;
	}
	n = jv_array_length(jv_copy(c));
	for (i = 0; i < n; i++) {
		jv p = jv_array_get(jv_copy(c), i), t, *dst;
		const char *type = json_peek_string(p, "type");

		dst = type != NULL && strcmp(type, "thinking") == 0 ?
		    reasoning : text;
		t = json_get(p, "text");
		if (jv_get_kind(t) != JV_KIND_STRING && dst == reasoning) {
			/* {"type":"thinking","thinking":[{"text"}]} */
			jv_free(t);
			t = json_get(p, "thinking");
			if (jv_get_kind(t) == JV_KIND_ARRAY) {
				jv parts = t;

				t = request_text(parts);
				jv_free(parts);
			}
		}
		if (jv_get_kind(t) == JV_KIND_STRING)
			*dst = jv_is_valid(*dst) ? jv_string_concat(*dst, t) :
			    t;
		else
			jv_free(t);
		jv_free(p);
	}
	jv_free(c);
}

static int
parse(const char *body, size_t len, jv target, jv *resp, char *err)
{
	static const char *const rfields[] = {
		"reasoning_content", "reasoning", "reasoning_text"
	};
	jv v, choice, msg, text = jv_invalid(), reasoning = jv_invalid();
	jv calls, out, list;
	const char *finish, *refusal, *m;
	size_t i;
	int k, n;

	(void)target;
	v = jv_parse_sized(body, (int)len);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return errbuf_set(err, "response is not a JSON object");
	}
	choice = json_get(v, "choices");
	if (jv_get_kind(choice) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(choice)) == 0) {
		jv e = dialect_error_generic(200, body, len);

		jv_free(choice);
		jv_free(v);
		if ((m = json_peek_string(e, "message")) != NULL)
			errbuf_set(err, "response has no choices: %s", m);
		else
			errbuf_set(err, "response has no choices");
		jv_free(e);
		return -1;
	}
	choice = jv_array_get(choice, 0);
	msg = json_get(choice, "message");
	content(json_get(msg, "content"), &text, &reasoning);
	for (i = 0; i < sizeof(rfields) / sizeof(rfields[0]); i++) {
		jv r = json_get(msg, rfields[i]);

		if (jv_get_kind(r) == JV_KIND_STRING &&
		    jv_string_length_bytes(jv_copy(r)) > 0) {
			jv_free(reasoning);
			reasoning = r;
			break;
		}
		jv_free(r);
	}
	calls = json_get(msg, "tool_calls");
	n = jv_get_kind(calls) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(calls)) : 0;
	list = jv_array();
	for (k = 0; k < n; k++) {
		jv tc = jv_array_get(jv_copy(calls), k), fn, call, a;
		const char *id = json_peek_string(tc, "id");

		fn = json_get(tc, "function");
		call = json_set(jv_object(), "id", id != NULL && *id != '\0' ?
		    jv_string(id) : jv_string_fmt("call_%d", k));
		call = json_set(call, "name", json_peek_string(fn, "name") ?
		    json_get(fn, "name") : jv_string(""));
		a = json_get(fn, "arguments");
		if (jv_get_kind(a) == JV_KIND_STRING)
			call = dialect_arguments(call, jv_string_value(a),
			    (size_t)jv_string_length_bytes(jv_copy(a)));
		else if (jv_get_kind(a) == JV_KIND_OBJECT)
			call = json_set(call, "arguments", jv_copy(a));
		else
			call = dialect_arguments(call, "", 0);
		jv_free(a);
		jv_free(fn);
		jv_free(tc);
		list = jv_array_append(list, call);
	}
	jv_free(calls);

	out = json_set(jv_object(), "text", jv_null());
	refusal = json_peek_string(msg, "refusal");
	if (refusal == NULL && jv_is_valid(text))
		out = json_set(out, "text", text);
	else
		jv_free(text);
	if (jv_is_valid(reasoning))
		out = json_set(out, "reasoning", reasoning);
	if (n > 0)
		out = json_set(out, "tool_calls", list);
	else
		jv_free(list);
	finish = json_peek_string(choice, "finish_reason");
	out = json_set(out, "stop_reason",
	    jv_string(refusal != NULL ? "refusal" :
	    stop_reason(finish, n > 0)));
	{
		jv u = json_get(v, "usage");

		out = json_set(out, "usage", usage(u));
		jv_free(u);
	}
	if (json_peek_kind(v, "model") == JV_KIND_STRING)
		out = json_set(out, "provider_model", json_get(v, "model"));
	jv_free(msg);
	jv_free(choice);
	jv_free(v);
	*resp = out;
	return 0;
}

#define RAW_MAX	400	/* bytes of OpenRouter's upstream message kept */

static jv
error(int status, const char *body, size_t len)
{
	jv e = dialect_error_generic(status, body, len), v, x;

	v = len > 0 ? jv_parse_sized(body, (int)len) : jv_invalid();
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return e;
	}
	/* Zhipu's older form: {"code": 1214, "msg": "..."}. */
	if (json_peek_kind(e, "message") == JV_KIND_INVALID &&
	    json_peek_kind(v, "msg") == JV_KIND_STRING)
		e = json_set(e, "message", json_get(v, "msg"));
	/* OpenRouter wraps the upstream's words in error.metadata.raw. */
	x = json_get(v, "error");
	{
		jv md = json_get(x, "metadata");
		const char *raw = json_peek_string(md, "raw");

		if (raw != NULL && json_peek_string(e, "message") != NULL) {
			size_t rn = strlen(raw);

			e = json_set(e, "message", jv_string_concat(
			    jv_string_concat(json_get(e, "message"),
			    jv_string(": ")), jv_string_sized(raw,
			    (int)(rn > RAW_MAX ? RAW_MAX : rn))));
		}
		jv_free(md);
	}
	jv_free(x);
	jv_free(v);
	return e;
}

/*
 * Streaming: chat.completion.chunk events, ended by "data: [DONE]".
 *
 * Only choice 0 is read (the one with "index": 0, as parse reads the
 * first choice; n > 1 is never asked for): chunks of other choices are
 * skipped.  Text, reasoning (reasoning_content, reasoning or
 * reasoning_text, the first one a delta holds, as parse reads them;
 * Mistral's thinking parts in a content list) and refusals accumulate as
 * in parse: a refusal's words are not text, and stop_reason says
 * "refusal".  The usage chunk (stream_options.include_usage, sent after
 * the finish_reason with "choices": []) or any chunk's non-null "usage"
 * gives usage, the last one winning; Groq's x_groq.usage when there is
 * no other.  An "error" object in a chunk, an SSE event named "error" and
 * OpenRouter's finish_reason "error" are failures.  A stream that never
 * sends a finish_reason (OpenRouter's Kimi) ends at [DONE] with
 * stop_reason "tool_use" when it made calls, else "stop".
 *
 * Tool calls, the quirks of the servers that speak this API:
 *
 *  - A delta's call is found by "index"; without one by a non-empty "id"
 *    seen before; without either it continues the last call.  An empty
 *    "id" or "name" on a continuation delta (some servers send "") never
 *    replaces the one known.
 *  - "arguments": null or absent is no delta; an object (some Ollama
 *    versions) counts as its compact JSON text.
 *  - Gemini's OpenAI endpoint and others send "{}" as a placeholder
 *    first and then the arguments whole: a first delta that is only "{}"
 *    is held back, and dropped when the next delta of the call starts
 *    with "{"; otherwise it goes out when the next delta, the
 *    finish_reason or [DONE] comes.  So the deltas still join into the
 *    arguments parsed at the end.
 *  - A delta equal to all the arguments so far, when those are a
 *    complete JSON object, is a repetition (proxies that resend the
 *    whole call) and ignored.
 *
 * zai's tool_stream (compat.zaiToolStream, sent by build) streams calls
 * in exactly this form; without it zai sends each call whole in one
 * delta, which reads the same way.
 */
#define CALLS_MAX	1024		/* tool calls in one answer */

struct chat_call {
	long		 pindex;	/* the provider's index, -1: none */
	char		*id, *name;
	struct buf	 args;
	int		 held;		/* args: a "{}" not yet sent */
};

struct chat_stream {
	struct buf	 text, reasoning, refusal;
	struct chat_call *calls;
	size_t		 ncalls;
	jv		 finish, usage, model;
	int		 state;		/* 0, then DONE or FAIL */
};

static void *
chat_stream_new(jv target)
{
	struct chat_stream *st = xcalloc(1, sizeof(*st));

	(void)target;
	buf_init(&st->text, DIALECT_STREAM_BODY_MAX);
	buf_init(&st->reasoning, DIALECT_STREAM_BODY_MAX);
	buf_init(&st->refusal, DIALECT_STREAM_BODY_MAX);
	st->finish = st->usage = st->model = jv_invalid();
	return st;
}

static void
chat_stream_free(void *vst)
{
	struct chat_stream *st = vst;
	size_t i;

	for (i = 0; i < st->ncalls; i++) {
		free(st->calls[i].id);
		free(st->calls[i].name);
		buf_release(&st->calls[i].args);
	}
	free(st->calls);
	buf_release(&st->text);
	buf_release(&st->reasoning);
	buf_release(&st->refusal);
	jv_free(st->finish);
	jv_free(st->usage);
	jv_free(st->model);
	free(st);
}

/* Appends a delta (borrowed) to b and, when ev, its event to *events. */
static int
chat_add(struct buf *b, jv delta, const char *ev, jv *events, jv *error)
{
	int n = jv_string_length_bytes(jv_copy(delta));

	if (n == 0)
		return 0;
	if (buf_append(b, jv_string_value(delta), (size_t)n) == -1)
		return dialect_event_fail(error, "answer over %zu bytes",
		    b->max);
	if (ev != NULL)
		*events = jv_array_append(*events,
		    dialect_event_delta(ev, jv_copy(delta)));
	return 0;
}

static jv
chat_call_event(struct chat_stream *st, size_t k, const char *d, size_t n)
{
	return dialect_event_call((int)k, st->calls[k].id, st->calls[k].name,
	    d, n);
}

/* The held-back "{}" of every call goes out. */
static void
chat_flush(struct chat_stream *st, jv *events)
{
	size_t k;

	for (k = 0; k < st->ncalls; k++)
		if (st->calls[k].held) {
			st->calls[k].held = 0;
			*events = jv_array_append(*events,
			    chat_call_event(st, k, "{}", 2));
		}
}

static const char *
skip_ws(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	return s;
}

/* Is s[0..n) "{}", white space allowed around and between? */
static int
empty_object(const char *s, size_t n)
{
	const char *e = s + n;

	s = skip_ws(s, e);
	if (s == e || *s++ != '{')
		return 0;
	s = skip_ws(s, e);
	if (s == e || *s++ != '}')
		return 0;
	return skip_ws(s, e) == e;
}

/* The call a tool_calls element (borrowed) continues, or a new one. */
static int
chat_find(struct chat_stream *st, jv tc, size_t *kp, jv *error)
{
	const char *id = json_peek_string(tc, "id");
	struct chat_call *c;
	long pi = dialect_event_index(tc, "index");
	size_t k;

	if (id != NULL && *id == '\0')
		id = NULL;
	for (k = 0; pi >= 0 && k < st->ncalls; k++)
		if (st->calls[k].pindex == pi)
			goto found;
	for (k = 0; id != NULL && k < st->ncalls; k++)
		if (strcmp(st->calls[k].id, id) == 0)
			goto found;
	if (pi < 0 && id == NULL && st->ncalls > 0) {
		k = st->ncalls - 1;
		goto found;
	}
	if (st->ncalls == CALLS_MAX)
		return dialect_event_fail(error, "more than %d tool calls",
		    CALLS_MAX);
	st->calls = xrealloc(st->calls, (st->ncalls + 1) * sizeof(*c));
	c = &st->calls[st->ncalls];
	c->pindex = pi;
	c->id = xstrdup("");
	c->name = xstrdup("");
	buf_init(&c->args, DIALECT_STREAM_BODY_MAX);
	c->held = 0;
	*kp = st->ncalls++;
	return 1;
found:
	*kp = k;
	return 0;
}

static int
chat_tool_call(struct chat_stream *st, jv tc, jv *events, jv *error)
{
	struct chat_call *c;
	jv fn, a = jv_invalid();
	const char *s, *id, *name, *why;
	size_t k = 0, n = 0, off;
	int isnew;
	struct buf tmp;

	if (jv_get_kind(tc) != JV_KIND_OBJECT)
		return 0;
	if ((isnew = chat_find(st, tc, &k, error)) < 0)
		return DIALECT_STREAM_FAIL;
	c = &st->calls[k];
	fn = json_get(tc, "function");
	if ((id = json_peek_string(tc, "id")) != NULL && *id != '\0' &&
	    *c->id == '\0') {
		free(c->id);
		c->id = xstrdup(id);
	}
	if ((name = json_peek_string(fn, "name")) != NULL && *name != '\0' &&
	    *c->name == '\0') {
		free(c->name);
		c->name = xstrdup(name);
	}
	buf_init(&tmp, DIALECT_STREAM_BODY_MAX);
	a = json_get(fn, "arguments");
	jv_free(fn);
	if (jv_get_kind(a) == JV_KIND_STRING) {
		s = jv_string_value(a);
		n = (size_t)jv_string_length_bytes(jv_copy(a));
	} else if (jv_get_kind(a) == JV_KIND_OBJECT) {
		(void)json_write(&tmp, a);
		s = buf_cstr(&tmp);
		n = tmp.len;
	} else
		s = "";
	if (c->held && n > 0) {
		c->held = 0;
		if (*skip_ws(s, s + n) == '{')
			buf_reset(&c->args);	/* "{}" was a placeholder */
		else
			*events = jv_array_append(*events,
			    chat_call_event(st, k, "{}", 2));
	}
	if (n > 0 && c->args.len == 0 && empty_object(s, n)) {
		(void)buf_append(&c->args, s, n);
		c->held = 1;
		n = 0;
	} else if (n > 0 && n == c->args.len &&
	    memcmp(s, c->args.data, n) == 0 &&
	    json_syntax(s, n, &off, &why) && *skip_ws(s, s + n) == '{')
		n = 0;				/* the whole call again */
	else if (n > 0 && buf_append(&c->args, s, n) == -1) {
		jv_free(a);
		buf_release(&tmp);
		return dialect_event_fail(error, "tool call arguments over "
		    "%zu bytes", c->args.max);
	}
	if (n > 0 || isnew)
		*events = jv_array_append(*events, chat_call_event(st, k, s,
		    n));
	jv_free(a);
	buf_release(&tmp);
	return 0;
}

/* Mistral's content parts: text, and thinking with its own parts. */
static int
chat_parts(struct chat_stream *st, jv parts, jv *events, jv *error)
{
	int i, n = jv_array_length(jv_copy(parts)), r = 0;

	for (i = 0; i < n && r == 0; i++) {
		jv p = jv_array_get(jv_copy(parts), i), t;
		const char *type = json_peek_string(p, "type");

		if (type != NULL && strcmp(type, "thinking") == 0) {
			t = json_get(p, "text");
			if (jv_get_kind(t) != JV_KIND_STRING) {
				jv th = json_get(p, "thinking");

				jv_free(t);
				t = jv_get_kind(th) == JV_KIND_ARRAY ?
				    request_text(th) : jv_invalid();
				jv_free(th);
			}
			if (jv_get_kind(t) == JV_KIND_STRING)
				r = chat_add(&st->reasoning, t, "reasoning",
				    events, error);
		} else {
			t = json_get(p, "text");
			if (jv_get_kind(t) == JV_KIND_STRING)
				r = chat_add(&st->text, t, "text", events,
				    error);
		}
		jv_free(t);
		jv_free(p);
	}
	return r;
}

static int
chat_delta(struct chat_stream *st, jv d, jv *events, jv *error)
{
	static const char *const rfields[] = {
		"reasoning_content", "reasoning", "reasoning_text"
	};
	jv v;
	size_t i;
	int r = 0, k, n;

	v = json_get(d, "content");
	if (jv_get_kind(v) == JV_KIND_STRING)
		r = chat_add(&st->text, v, "text", events, error);
	else if (jv_get_kind(v) == JV_KIND_ARRAY)
		r = chat_parts(st, v, events, error);
	jv_free(v);
	for (i = 0; r == 0 && i < sizeof(rfields) / sizeof(rfields[0]);
	    i++) {
		v = json_get(d, rfields[i]);
		if (jv_get_kind(v) == JV_KIND_STRING &&
		    jv_string_length_bytes(jv_copy(v)) > 0) {
			r = chat_add(&st->reasoning, v, "reasoning", events,
			    error);
			jv_free(v);
			break;
		}
		jv_free(v);
	}
	v = json_get(d, "refusal");
	if (r == 0 && jv_get_kind(v) == JV_KIND_STRING)
		r = chat_add(&st->refusal, v, NULL, events, error);
	jv_free(v);
	v = json_get(d, "tool_calls");
	n = jv_get_kind(v) == JV_KIND_ARRAY ? jv_array_length(jv_copy(v)) : 0;
	for (k = 0; r == 0 && k < n; k++) {
		jv tc = jv_array_get(jv_copy(v), k);

		r = chat_tool_call(st, tc, events, error);
		jv_free(tc);
	}
	jv_free(v);
	return r;
}

/* Choice 0 of a chunk, or invalid. */
static jv
chat_choice(jv chunk)
{
	jv list = json_get(chunk, "choices"), c;
	int i, n;
	double d;

	n = jv_get_kind(list) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(list)) : 0;
	for (i = 0; i < n; i++) {
		c = jv_array_get(jv_copy(list), i);
		if (jv_get_kind(c) == JV_KIND_OBJECT &&
		    (!json_peek_number(c, "index", &d) || d == 0)) {
			jv_free(list);
			return c;
		}
		jv_free(c);
	}
	jv_free(list);
	return jv_invalid();
}

/* -- the fast path of a plain content chunk ----------------------------- */

/*
 * Almost every chunk of a streamed answer is a content delta:
 *
 *	{"id":..,"object":..,"created":..,"model":"m","choices":[{"index":0,
 *	 "delta":{"content":"..."},"finish_reason":null}]}
 *
 * Building it with libjq costs more than everything else the stream does,
 * so such a chunk is read with a cursor over its text instead, and any
 * chunk with more in it (usage, reasoning, tool calls, a finish reason, an
 * error, several choices, a string this reader would have to change) goes
 * the general way below.  Both give the same events.
 */

/* Skips the value, which must be null.  Returns 0, or -1. */
static int
scan_null(struct jscan *sc)
{
	return jscan_peek(sc) == 'N' ? jscan_skip(sc) : -1;
}

/*
 * Reads the delta: only "role" and "content" (a string or null); other
 * members only when null.  *text gets the content's raw bytes.
 */
static int
fast_delta(struct jscan *sc, const char **text, size_t *tn, int *esc)
{
	const char *k;
	size_t kn;
	int r;

	if (jscan_enter(sc, '{') == -1)
		return -1;
	while ((r = jscan_key(sc, &k, &kn)) == 1) {
		if (jscan_is(k, kn, "role"))
			r = jscan_skip(sc);
		else if (jscan_is(k, kn, "content") &&
		    jscan_peek(sc) == '"')
			r = jscan_string(sc, text, tn, esc);
		else
			r = scan_null(sc);
		if (r == -1)
			return -1;
	}
	return r;
}

/* The one choice: index 0, a delta, no finish reason yet. */
static int
fast_choice(struct jscan *sc, const char **text, size_t *tn, int *esc)
{
	const char *k;
	size_t kn;
	double d;
	int r;

	if (jscan_enter(sc, '[') == -1 || jscan_next(sc) != 1 ||
	    jscan_enter(sc, '{') == -1)
		return -1;
	while ((r = jscan_key(sc, &k, &kn)) == 1) {
		if (jscan_is(k, kn, "index"))
			r = jscan_number(sc, &d) == 0 && d == 0 ? 0 : -1;
		else if (jscan_is(k, kn, "delta"))
			r = fast_delta(sc, text, tn, esc);
		else
			r = scan_null(sc);	/* finish_reason, logprobs */
		if (r == -1)
			return -1;
	}
	return r == 0 && jscan_next(sc) == 0 ? 0 : -1;
}

/*
 * Returns 1 when the chunk was a plain content chunk and its events are
 * out, 0 for the general path.  data is valid JSON (checked before).
 */
static int
chat_fast(struct chat_stream *st, const char *data, size_t len, jv *events)
{
	struct jscan sc;
	const char *k, *text = NULL, *model = NULL, *cur;
	size_t kn, tn = 0, mn = 0, mark;
	int r, esc = 0, mesc = 0;

	jscan_init(&sc, data, len);
	if (jscan_enter(&sc, '{') == -1)
		return 0;
	while ((r = jscan_key(&sc, &k, &kn)) == 1) {
		if (jscan_is(k, kn, "choices"))
			r = fast_choice(&sc, &text, &tn, &esc);
		else if (jscan_is(k, kn, "model"))
			r = jscan_peek(&sc) == '"' ?
			    jscan_string(&sc, &model, &mn, &mesc) : -1;
		else if (jscan_is(k, kn, "id") ||
		    jscan_is(k, kn, "object") ||
		    jscan_is(k, kn, "created") ||
		    jscan_is(k, kn, "system_fingerprint") ||
		    jscan_is(k, kn, "service_tier") ||
		    jscan_is(k, kn, "obfuscation"))
			r = jscan_skip(&sc);
		else
			r = scan_null(&sc);	/* "usage": null */
		if (r == -1)
			return 0;
	}
	if (r != 0 || mesc || (text != NULL && !utf8_valid(text, tn, NULL)) ||
	    (model != NULL && !utf8_valid(model, mn, NULL)))
		return 0;
	mark = st->text.len;
	if (text != NULL && tn > 0) {
		if (esc ? jscan_unescape(&st->text, text, tn) == -1 :
		    buf_append(&st->text, text, tn) == -1) {
			st->text.len = mark;	/* the general path says why */
			return 0;
		}
	}
	if (model != NULL && (!jv_is_valid(st->model) ||
	    (cur = jv_string_value(st->model), strlen(cur) != mn) ||
	    memcmp(cur, model, mn) != 0)) {
		jv_free(st->model);
		st->model = jv_string_sized(model, (int)mn);
	}
	if (st->text.len > mark)
		*events = jv_array_append(*events, dialect_event_delta("text",
		    jv_string_sized(st->text.data + mark,
		    (int)(st->text.len - mark))));
	return 1;
}

static int
chat_stream_event(void *vst, const char *type, const char *data,
    size_t len, jv *events, jv *einfo)
{
	struct chat_stream *st = vst;
	const char *s = skip_ws(data, data + len), *f, *why;
	size_t off;
	jv v, c, x;
	int r = 0;

	if (st->state != 0)
		return st->state;
	if ((size_t)(data + len - s) >= 6 && strncmp(s, "[DONE]", 6) == 0 &&
	    skip_ws(s + 6, data + len) == data + len) {
		chat_flush(st, events);
		return st->state = DIALECT_STREAM_DONE;
	}
	if (strcmp(type, "message") == 0 && json_syntax(data, len, &off,
	    &why) && chat_fast(st, data, len, events))
		return DIALECT_STREAM_MORE;
	if (dialect_event_json(data, len, &v, einfo) != 0)
		return st->state = DIALECT_STREAM_FAIL;
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return st->state = dialect_event_fail(einfo,
		    "stream event data is not a JSON object");
	}
	if (strcmp(type, "error") == 0 ||
	    json_peek_kind(v, "error") == JV_KIND_OBJECT ||
	    json_peek_kind(v, "error") == JV_KIND_STRING) {
		jv_free(v);
		jv_free(*einfo);
		*einfo = dialect_event_status(error(200, data, len));
		return st->state = DIALECT_STREAM_FAIL;
	}
	if (json_peek_kind(v, "model") == JV_KIND_STRING) {
		jv_free(st->model);
		st->model = json_get(v, "model");
	}
	x = json_get(v, "usage");
	if (jv_get_kind(x) != JV_KIND_OBJECT) {
		jv g = json_get(v, "x_groq");

		jv_free(x);
		x = jv_is_valid(st->usage) ? jv_invalid() :
		    json_get(g, "usage");
		jv_free(g);
	}
	if (jv_get_kind(x) == JV_KIND_OBJECT) {
		jv_free(st->usage);
		st->usage = x;
	} else
		jv_free(x);
	c = chat_choice(v);
	x = json_get(c, "delta");
	if (jv_get_kind(x) == JV_KIND_OBJECT)
		r = chat_delta(st, x, events, einfo);
	jv_free(x);
	if (r == 0 && (f = json_peek_string(c, "finish_reason")) != NULL) {
		if (strcmp(f, "error") == 0)
			r = dialect_event_fail(einfo, "finish_reason error: "
			    "the provider failed mid-answer");
		else {
			jv_free(st->finish);
			st->finish = json_get(c, "finish_reason");
			chat_flush(st, events);
		}
	}
	jv_free(c);
	jv_free(v);
	if (r != 0)
		return st->state = DIALECT_STREAM_FAIL;
	return DIALECT_STREAM_MORE;
}

static jv
chat_stream_end(void *vst, int complete)
{
	struct chat_stream *st = vst;
	jv out, list;
	size_t k;

	out = json_set(jv_object(), "text", st->text.len > 0 &&
	    st->refusal.len == 0 ? jv_string_sized(st->text.data,
	    (int)st->text.len) : jv_null());
	if (st->reasoning.len > 0)
		out = json_set(out, "reasoning", jv_string_sized(
		    st->reasoning.data, (int)st->reasoning.len));
	if (st->ncalls > 0) {
		list = jv_array();
		for (k = 0; k < st->ncalls; k++) {
			struct chat_call *c = &st->calls[k];
			jv call;

			call = json_set(jv_object(), "id", *c->id != '\0' ?
			    jv_string(c->id) : jv_string_fmt("call_%zu", k));
			call = json_set(call, "name", jv_string(c->name));
			list = jv_array_append(list, dialect_arguments(call,
			    buf_cstr(&c->args), c->args.len));
		}
		out = json_set(out, "tool_calls", list);
	}
	if (st->refusal.len > 0)
		out = json_set(out, "stop_reason", jv_string("refusal"));
	else if (complete || jv_is_valid(st->finish))
		out = json_set(out, "stop_reason", jv_string(stop_reason(
		    jv_is_valid(st->finish) ? jv_string_value(st->finish) :
		    NULL, st->ncalls > 0)));
	out = json_set(out, "usage", usage(st->usage));
	if (jv_is_valid(st->model))
		out = json_set(out, "provider_model", jv_copy(st->model));
	return out;
}

const struct dialect dialect_openai_completions = {
	.api = "openai-completions",
	.build = build,
	.parse = parse,
	.error = error,
	.stream_new = chat_stream_new,
	.stream_event = chat_stream_event,
	.stream_end = chat_stream_end,
	.stream_free = chat_stream_free,
};
