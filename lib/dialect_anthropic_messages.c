/*
 * dialect_anthropic_messages: Anthropic's Messages API, POST
 * {baseUrl}/v1/messages, as spoken by Anthropic itself, Claude on Vertex AI
 * (rawPredict), MiniMax, Xiaomi MiMo, GitLab Duo and GitHub Copilot.
 *
 * Decisions, where the canonical request and this API do not map 1:1:
 *
 * - max_tokens is always sent (the API requires it): the request's, else
 *   the target's, else DEFAULT_MAX_TOKENS.  With budget thinking the API
 *   wants max_tokens > budget_tokens: when it is not, max_tokens is raised
 *   by the budget (pi adds it always; here only when needed, so that the
 *   answer keeps the room the caller asked for), capped at the target's
 *   max_tokens; when the cap still does
 *   not leave room, the budget is clamped to leave ANSWER_ROOM tokens, and
 *   thinking is left out when that leaves less than the API's 1024.
 * - Thinking: "off", a "disabled" map value, a target with "reasoning":
 *   false or a forced tool_choice (which the API refuses with thinking)
 *   send none.  A numeric map value is a budget ({"type":"enabled"}); an
 *   effort word (low medium high xhigh max), as the catalog maps Opus 4.6,
 *   4.7 and Sonnet 4.6, asks for {"type":"adaptive"} plus
 *   output_config.effort.  compat.forceAdaptiveThinking turns a budget into
 *   adaptive with the level's effort (minimal and low are "low", xhigh
 *   "max", pi's mapping).  A level the map marks null steps down to the
 *   nearest level the model has.  Without a map, pi's model-id rule picks
 *   adaptive for the 4.6/4.7 generation, else the budget table below.
 * - temperature is dropped when thinking is on (the API rejects it), and
 *   top_p unless it is at least 0.95, the range the API allows then.
 * - Stop sequences that are empty or only whitespace are dropped: the API
 *   rejects them outright, and failing the record would break fallback
 *   chains that end at an Anthropic model.
 * - response_format json_schema becomes output_config.format, the native
 *   structured output the SDKs send; "name" and "strict" have no place
 *   there.  json_object has no native form: the system prompt gets an
 *   instruction to answer with one JSON object.
 * - Prompt caching is on by default, as in pi: the system prompt (then a
 *   list of one block) and the last block of the last user message carry
 *   cache_control {"type":"ephemeral"}.  compat.cacheControlFormat "none"
 *   (or false) turns the markers off.  The records have no retention
 *   option, so an explicit compat.supportsLongCacheRetention true asks for
 *   the one-hour TTL, which costs more per write; absent means five
 *   minutes.
 * - Assistant reasoning is replayed as a thinking block, first, only with
 *   its signature (an empty one only under compat.allowEmptySignature);
 *   unsigned reasoning is dropped, since the API would reject it.
 * - A response with more than one thinking block, or any
 *   redacted_thinking, cannot be replayed from one text and one signature:
 *   reasoning_signature then holds the original blocks as a JSON list
 *   (signatures are base64, so a leading '[' is unambiguous) and build
 *   replays them verbatim.  The common single block keeps the plain
 *   signature.
 * - Tool call ids are rewritten to the API's [A-Za-z0-9_-]{1,64}, on both
 *   the tool_use and its tool_result, so calls made by other providers
 *   replay.  Consecutive tool results share one user message and adjacent
 *   turns of one role are merged: the API wants the roles to alternate.
 *   Empty text parts are skipped, and turns left empty dropped.
 * - A tool's "strict" goes out only under compat.supportsStrictTools
 *   (pi's flag, default false): not every endpoint of this API takes it.
 * - Streaming with tools marks each tool eager_input_streaming unless
 *   compat.supportsEagerToolInputStreaming is false; then the request
 *   carries the fine-grained-tool-streaming beta header instead, as pi does.
 * - Vertex (anthropic-version "vertex-..." in target.headers, or a
 *   rawPredict URL): no model in the body, anthropic_version in it, and
 *   :streamRawPredict for streaming.
 * - Stop reasons: end_turn, stop_sequence and pause_turn (a server tool
 *   paused the turn; nothing here continues it) are "stop"; max_tokens
 *   and model_context_window_exceeded "length"; tool_use and refusal as
 *   named; anything unknown "stop".
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dialect.h"
#include "errbuf.h"
#include "json.h"
#include "xalloc.h"

#define ANTHROPIC_VERSION	"2023-06-01"
#define VERTEX_VERSION		"vertex-2023-10-16"
#define TOOL_STREAMING_BETA	"fine-grained-tool-streaming-2025-05-14"
#define DEFAULT_MAX_TOKENS	4096
#define BUDGET_MIN		1024	/* the least budget_tokens */
#define ANSWER_ROOM		1024	/* left to answer on a clamp */
#define TOOL_ID_MAX		64
#define JSON_INSTRUCTION \
	"Respond with a single JSON object and nothing else."

enum { THINK_NONE, THINK_BUDGET, THINK_ADAPTIVE };

/* Thinking levels, and their defaults when the target has no map. */
static const char *const levels[] = {
	"minimal", "low", "medium", "high", "xhigh"
};
static const long budgets[] = { 1024, 1024, 8192, 16384, 32768 };
static const char *const efforts[] = {
	"low", "low", "medium", "high", "max"
};
#define NLEVELS	((int)(sizeof(levels) / sizeof(levels[0])))

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

static int
array_len(jv a)
{
	return jv_get_kind(a) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(a)) : 0;
}

/* compat[name] as 0/1, or dflt when absent or not a boolean. */
static int
compat_flag(jv target, const char *name, int dflt)
{
	jv c = json_get(target, "compat");
	int b;

	if (!json_peek_bool(c, name, &b))
		b = dflt;
	jv_free(c);
	return b;
}

/*
 * The value of target.headers[name], the name compared without case, or
 * NULL; *keyp (if not NULL) gets the spelling the target uses.  Both point
 * into target, which the caller holds.
 */
static const char *
target_header(jv target, const char *name, const char **keyp)
{
	jv h = json_get(target, "headers");
	const char *val = NULL;
	int it;

	if (jv_get_kind(h) == JV_KIND_OBJECT) {
		for (it = jv_object_iter(h); val == NULL &&
		    jv_object_iter_valid(h, it);
		    it = jv_object_iter_next(h, it)) {
			jv k = jv_object_iter_key(h, it);
			jv v = jv_object_iter_value(h, it);

			if (jv_get_kind(v) == JV_KIND_STRING &&
			    strcasecmp(jv_string_value(k), name) == 0) {
				val = jv_string_value(v);
				if (keyp != NULL)
					*keyp = jv_string_value(k);
			}
			jv_free(k);
			jv_free(v);
		}
	}
	jv_free(h);
	return val;
}

static int
is_vertex(jv target)
{
	const char *v = target_header(target, "anthropic-version", NULL);
	const char *url = json_peek_string(target, "url");

	if (v != NULL && strncmp(v, "vertex-", 7) == 0)
		return 1;
	return url != NULL && (has_suffix(url, ":rawPredict") ||
	    has_suffix(url, ":streamRawPredict"));
}

/* The API's tool id alphabet, [A-Za-z0-9_-]{1,64}. */
static jv
tool_id(const char *id)
{
	char b[TOOL_ID_MAX + 1];
	size_t i;

	for (i = 0; id[i] != '\0' && i < TOOL_ID_MAX; i++) {
		char c = id[i];

		b[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ? c : '_';
	}
	if (i == 0)
		b[i++] = '_';
	b[i] = '\0';
	return jv_string(b);
}

static int
image_block(jv part, jv *out, char *err)
{
	const char *url = json_peek_string(part, "url");
	const char *p, *comma;
	jv src;

	if (json_peek_kind(part, "data") == JV_KIND_STRING) {
		if (json_peek_string(part, "mime") == NULL)
			return errbuf_set(err, "image has no \"mime\"");
		src = json_set(json_set(json_set(jv_object(), "type",
		    jv_string("base64")),
		    "media_type", json_get(part, "mime")),
		    "data", json_get(part, "data"));
	} else if (url != NULL && strncmp(url, "data:", 5) == 0) {
		p = url + 5;
		if ((comma = strchr(p, ',')) == NULL || comma - p < 7 ||
		    strncmp(comma - 7, ";base64", 7) != 0 || comma - 7 == p)
			return errbuf_set(err, "image data: URL is not "
			    "base64 with a MIME type");
		src = json_set(json_set(json_set(jv_object(), "type",
		    jv_string("base64")),
		    "media_type", jv_string_sized(p, (int)(comma - 7 - p))),
		    "data", jv_string(comma + 1));
	} else if (url != NULL)
		src = json_set(json_set(jv_object(), "type", jv_string("url")),
		    "url",
		    jv_string(url));
	else
		return errbuf_set(err, "image has neither \"data\" nor "
		    "\"url\"");
	*out = json_set(json_set(jv_object(), "type", jv_string("image")),
	    "source",
	    src);
	return 0;
}

/*
 * Appends the blocks for a canonical content list to *blocks.  Assistant
 * turns (images 0) take text only.  Empty text is skipped: the API
 * rejects empty text blocks.
 */
static int
add_parts(jv *blocks, jv parts, int images, char *err)
{
	int i, n = array_len(parts);

	for (i = 0; i < n; i++) {
		jv p = jv_array_get(jv_copy(parts), i), b;
		const char *type = json_peek_string(p, "type");
		const char *text = json_peek_string(p, "text");

		if (type == NULL) {
			jv_free(p);
			return errbuf_set(err, "content part has no type");
		}
		if (strcmp(type, "text") == 0) {
			if (text != NULL && *text != '\0')
				*blocks = jv_array_append(*blocks,
				    json_set(json_set(jv_object(), "type",
				    jv_string("text")), "text",
				    json_get(p, "text")));
		} else if (strcmp(type, "image") == 0) {
			if (images) {
				if (image_block(p, &b, err) == -1) {
					jv_free(p);
					return -1;
				}
				*blocks = jv_array_append(*blocks, b);
			}
		} else {
			errbuf_set(err, "unsupported content part type '%s'",
			    type);
			jv_free(p);
			return -1;
		}
		jv_free(p);
	}
	return 0;
}

/*
 * The blocks a reasoning_signature list holds (see the top of the file),
 * rebuilt with only the fields the API takes, or jv_invalid() when sig is
 * not such a list.  Borrows sig.
 */
static jv
replay_blocks(const char *sig)
{
	jv a = jv_parse(sig), out = jv_array();
	int i, n;

	if (jv_get_kind(a) != JV_KIND_ARRAY ||
	    (n = jv_array_length(jv_copy(a))) == 0)
		goto bad;
	for (i = 0; i < n; i++) {
		jv b = jv_array_get(jv_copy(a), i);
		const char *type = json_peek_string(b, "type");

		if (type != NULL && strcmp(type, "thinking") == 0 &&
		    json_peek_string(b, "thinking") != NULL &&
		    json_peek_string(b, "signature") != NULL)
			out = jv_array_append(out,
			    json_set(json_set(json_set(jv_object(),
			    "type", jv_string("thinking")), "thinking",
			    json_get(b, "thinking")), "signature",
			    json_get(b, "signature")));
		else if (type != NULL &&
		    strcmp(type, "redacted_thinking") == 0 &&
		    json_peek_string(b, "data") != NULL)
			out = jv_array_append(out,
			    json_set(json_set(jv_object(),
			    "type", jv_string("redacted_thinking")), "data",
			    json_get(b, "data")));
		else {
			jv_free(b);
			goto bad;
		}
		jv_free(b);
	}
	jv_free(a);
	return out;
bad:
	jv_free(a);
	jv_free(out);
	return jv_invalid();
}

/* An assistant turn's reasoning, replayed first when it can be. */
static void
add_thinking(jv *blocks, jv m, int allow_empty)
{
	const char *r = json_peek_string(m, "reasoning");
	const char *sig = json_peek_string(m, "reasoning_signature");
	jv b;

	if (sig != NULL && sig[0] == '[') {
		b = replay_blocks(sig);
		if (jv_is_valid(b)) {
			*blocks = jv_array_concat(*blocks, b);
			return;
		}
		jv_free(b);
	}
	if (sig != NULL && *sig != '\0')
		b = json_set(json_set(json_set(jv_object(), "type",
		    jv_string("thinking")),
		    "thinking", r != NULL ? json_get(m, "reasoning") :
		    jv_string("")), "signature",
		    json_get(m, "reasoning_signature"));
	else if (r != NULL && *r != '\0' && allow_empty)
		b = json_set(json_set(json_set(jv_object(), "type",
		    jv_string("thinking")),
		    "thinking", json_get(m, "reasoning")), "signature",
		    jv_string(""));
	else
		return;
	*blocks = jv_array_append(*blocks, b);
}

static int
add_tool_uses(jv *blocks, jv m, char *err)
{
	jv calls = json_get(m, "tool_calls");
	int i, n = array_len(calls);

	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(calls), i), args;
		const char *id = json_peek_string(c, "id");

		if (id == NULL || json_peek_string(c, "name") == NULL) {
			jv_free(c);
			jv_free(calls);
			return errbuf_set(err, "tool call without an id or "
			    "a name");
		}
		args = json_get(c, "arguments");
		if (jv_get_kind(args) != JV_KIND_OBJECT) {
			jv_free(args);
			args = jv_object();
		}
		*blocks = jv_array_append(*blocks,
		    json_set(json_set(json_set(json_set(jv_object(),
		    "type", jv_string("tool_use")), "id", tool_id(id)),
		    "name", json_get(c, "name")), "input", args));
		jv_free(c);
	}
	jv_free(calls);
	return 0;
}

/*
 * A tool result block.  Text alone goes as one string (the parts joined
 * with "\n", as request_text joins them); with images, as blocks.
 */
static int
tool_result(jv m, jv *out, char *err)
{
	const char *id = json_peek_string(m, "tool_call_id");
	jv parts = jv_array(), c = jv_invalid(), b;
	int i, n, text_only = 1;

	if (id == NULL)
		return errbuf_set(err, "tool message has no tool_call_id");
	c = json_get(m, "content");
	i = add_parts(&parts, c, 1, err);
	jv_free(c);
	c = jv_invalid();
	if (i == -1) {
		jv_free(parts);
		return -1;
	}
	n = jv_array_length(jv_copy(parts));
	for (i = 0; i < n && text_only; i++) {
		b = jv_array_get(jv_copy(parts), i);
		text_only = strcmp(json_peek_string(b, "type"), "text") == 0;
		jv_free(b);
	}
	if (n > 0 && text_only) {
		c = jv_string("");
		for (i = 0; i < n; i++) {
			b = jv_array_get(jv_copy(parts), i);
			if (i > 0)
				c = jv_string_append_str(c, "\n");
			c = jv_string_concat(c, json_get(b, "text"));
			jv_free(b);
		}
		jv_free(parts);
	} else if (n > 0)
		c = parts;
	else
		jv_free(parts);
	*out = json_set(json_set(jv_object(), "type", jv_string("tool_result")),
	    "tool_use_id", tool_id(id));
	if (jv_is_valid(c))
		*out = json_set(*out, "content", c);
	return 0;
}

static jv
flush_turn(jv list, const char *role, jv blocks)
{
	if (role == NULL)
		return list;
	return jv_array_append(list, json_set(json_set(jv_object(), "role",
	    jv_string(role)), "content", blocks));
}

/*
 * Maps the canonical messages to the API's, merging adjacent turns of one
 * role (tool results are user turns) so that the roles alternate.
 */
static int
convert_messages(jv canon, int allow_empty, jv *out, char *err)
{
	jv msgs = json_get(canon, "messages"), list = jv_array();
	jv cur = jv_invalid();
	const char *cur_role = NULL;
	int i, n = array_len(msgs);

	for (i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(msgs), i), blocks = jv_array();
		jv c, b;
		const char *role = json_peek_string(m, "role"), *wire = NULL;
		int r = 0;

		if (role == NULL)
			r = errbuf_set(err, "message has no role");
		else if (strcmp(role, "user") == 0) {
			wire = "user";
			c = json_get(m, "content");
			r = add_parts(&blocks, c, 1, err);
			jv_free(c);
		} else if (strcmp(role, "assistant") == 0) {
			wire = "assistant";
			add_thinking(&blocks, m, allow_empty);
			c = json_get(m, "content");
			r = add_parts(&blocks, c, 0, err);
			jv_free(c);
			if (r == 0)
				r = add_tool_uses(&blocks, m, err);
		} else if (strcmp(role, "tool") == 0) {
			wire = "user";
			if ((r = tool_result(m, &b, err)) == 0)
				blocks = jv_array_append(blocks, b);
		} else
			r = errbuf_set(err, "unknown role '%s'", role);
		jv_free(m);
		if (r == -1) {
			jv_free(blocks);
			jv_free(cur);
			jv_free(list);
			jv_free(msgs);
			return errbuf_prefix(err, "messages[%d]", i);
		}
		if (jv_array_length(jv_copy(blocks)) == 0) {
			jv_free(blocks);
			continue;
		}
		if (cur_role != NULL && strcmp(cur_role, wire) == 0)
			cur = jv_array_concat(cur, blocks);
		else {
			list = flush_turn(list, cur_role, cur);
			cur = blocks;
			cur_role = wire;
		}
	}
	*out = flush_turn(list, cur_role, cur);
	jv_free(msgs);
	return 0;
}

/* Puts cc (consumed) on the last block of the last user turn. */
static jv
mark_last_user(jv list, jv cc)
{
	int i, k;

	for (i = jv_array_length(jv_copy(list)) - 1; i >= 0; i--) {
		jv m = jv_array_get(jv_copy(list), i), content, b;
		const char *role = json_peek_string(m, "role");

		if (role == NULL || strcmp(role, "user") != 0) {
			jv_free(m);
			continue;
		}
		content = json_get(m, "content");
		k = jv_array_length(jv_copy(content)) - 1;
		b = json_set(jv_array_get(jv_copy(content), k), "cache_control",
		    jv_copy(cc));
		content = jv_array_set(content, k, b);
		list = jv_array_set(list, i, json_set(m, "content", content));
		break;
	}
	jv_free(cc);
	return list;
}

/* The cache_control marker for target, or null when markers are off. */
static jv
cache_control(jv target)
{
	jv c = json_get(target, "compat");
	jv f = json_get(c, "cacheControlFormat"), cc;
	int off = jv_get_kind(f) == JV_KIND_FALSE ||
	    (jv_get_kind(f) == JV_KIND_STRING &&
	    strcmp(jv_string_value(f), "none") == 0);

	jv_free(f);
	jv_free(c);
	if (off)
		return jv_null();
	cc = json_set(jv_object(), "type", jv_string("ephemeral"));
	if (compat_flag(target, "supportsLongCacheRetention", 0))
		cc = json_set(cc, "ttl", jv_string("1h"));
	return cc;
}

static int
convert_tools(jv tools, int eager, int strict, jv *out, char *err)
{
	jv list = jv_array();
	int i, n = array_len(tools), b;

	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(tools), i), d, schema;

		if (json_peek_string(t, "name") == NULL) {
			jv_free(t);
			jv_free(list);
			return errbuf_set(err, "tools[%d] has no name", i);
		}
		d = json_set(jv_object(), "name", json_get(t, "name"));
		if (json_peek_string(t, "description") != NULL)
			d = json_set(d, "description", json_get(t,
			    "description"));
		/* input_schema is required; a tool without parameters
		 * takes an empty object. */
		schema = json_get(t, "parameters");
		if (jv_get_kind(schema) != JV_KIND_OBJECT) {
			jv_free(schema);
			schema = json_set(json_set(jv_object(), "type",
			    jv_string("object")), "properties", jv_object());
		}
		d = json_set(d, "input_schema", schema);
		if (strict && json_peek_bool(t, "strict", &b) && b)
			d = json_set(d, "strict", jv_true());
		if (eager)
			d = json_set(d, "eager_input_streaming", jv_true());
		list = jv_array_append(list, d);
		jv_free(t);
	}
	*out = list;
	return 0;
}

/*
 * Sets *out to the API's tool_choice for the canonical one (borrowed), or
 * jv_invalid() when there is none.  Returns 1 when it forces a tool call.
 */
static int
tool_choice(jv tc, jv *out)
{
	const char *s;

	*out = jv_invalid();
	if (jv_get_kind(tc) == JV_KIND_OBJECT &&
	    json_peek_string(tc, "name") != NULL) {
		*out = json_set(json_set(jv_object(), "type",
		    jv_string("tool")),
		    "name", json_get(tc, "name"));
		return 1;
	}
	if (jv_get_kind(tc) != JV_KIND_STRING)
		return 0;
	s = jv_string_value(tc);
	if (strcmp(s, "required") == 0) {
		*out = json_set(jv_object(), "type", jv_string("any"));
		return 1;
	}
	if (strcmp(s, "auto") == 0 || strcmp(s, "none") == 0)
		*out = json_set(jv_object(), "type", jv_string(s));
	return 0;
}

static int
level_index(const char *s)
{
	int i;

	for (i = 0; i < NLEVELS; i++)
		if (strcmp(s, levels[i]) == 0)
			return i;
	return -1;
}

/* The API's effort word for s, static, or NULL when s is none. */
static const char *
effort_word(const char *s)
{
	static const char *const words[] = {
		"low", "medium", "high", "xhigh", "max"
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(s, words[i]) == 0)
			return words[i];
	return NULL;
}

/* A map value as a token count (a number or digits), else -1. */
static long
budget_value(jv v)
{
	const char *s;
	char *end;
	double d;
	long l;

	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		d = jv_number_value(v);
		return d >= 0 && d <= 1e7 && d == (double)(long)d ?
		    (long)d : -1;
	}
	if (jv_get_kind(v) != JV_KIND_STRING)
		return -1;
	s = jv_string_value(v);
	if (*s < '0' || *s > '9')
		return -1;
	l = strtol(s, &end, 10);
	return *end == '\0' && l <= 10000000 ? l : -1;
}

/*
 * pi's rule for models that want adaptive thinking, used only when the
 * target has no thinking map to say so.
 */
static int
adaptive_model(const char *id)
{
	static const char *const ids[] = {
		"opus-4-6", "opus-4.6", "opus-4-7", "opus-4.7",
		"sonnet-4-6", "sonnet-4.6"
	};
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strstr(id, ids[i]) != NULL)
			return 1;
	return 0;
}

/*
 * Decides the thinking a request gets (see the top of the file): returns
 * THINK_NONE, THINK_BUDGET with *budget, or THINK_ADAPTIVE with *effort
 * (a static string).
 */
static int
thinking_plan(jv canon, jv target, long *budget, const char **effort)
{
	const char *level = json_peek_string(canon, "thinking"), *s;
	const char *model = json_peek_string(target, "model");
	int b, li, i, force, has_map;
	jv v, map;
	long n;

	if (level == NULL || strcmp(level, "off") == 0)
		return THINK_NONE;
	if (json_peek_bool(target, "reasoning", &b) && !b)
		return THINK_NONE;
	if ((li = level_index(level)) < 0)
		return THINK_NONE;
	force = compat_flag(target, "forceAdaptiveThinking", 0);
	map = json_get(target, "thinking_map");
	/* A map that does not name the level says nothing about it. */
	has_map = jv_get_kind(map) == JV_KIND_OBJECT &&
	    jv_object_has(jv_copy(map), jv_string(level));
	v = jv_invalid();
	if (has_map) {
		v = json_get(canon, "thinking_value");
		if (!jv_is_valid(v))
			v = json_get(map, level);
		/* null: the model lacks the level; step down. */
		for (i = li; jv_get_kind(v) == JV_KIND_NULL && i > 0; ) {
			jv_free(v);
			v = json_get(map, levels[--i]);
			if (!jv_is_valid(v))
				v = jv_null();
			li = i;
		}
	}
	jv_free(map);
	if (jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return THINK_NONE;
	}
	if ((n = budget_value(v)) >= 0) {
		jv_free(v);
		if (n == 0)
			return THINK_NONE;
		if (force) {
			*effort = efforts[li];
			return THINK_ADAPTIVE;
		}
		*budget = n < BUDGET_MIN ? BUDGET_MIN : n;
		return THINK_BUDGET;
	}
	if (jv_get_kind(v) == JV_KIND_STRING) {
		s = jv_string_value(v);
		if (strcmp(s, "disabled") == 0 || strcmp(s, "none") == 0 ||
		    strcmp(s, "off") == 0) {
			jv_free(v);
			return THINK_NONE;
		}
		if ((*effort = effort_word(s)) != NULL) {
			jv_free(v);
			return THINK_ADAPTIVE;
		}
	}
	jv_free(v);
	/* No map, or a value we do not know: the level's defaults. */
	if (force || (model != NULL && adaptive_model(model))) {
		*effort = efforts[li];
		return THINK_ADAPTIVE;
	}
	*budget = budgets[li];
	return THINK_BUDGET;
}

/* Stop sequences the API takes: not empty, not only whitespace. */
static jv
stop_sequences(jv canon)
{
	jv stop = json_get(canon, "stop"), out = jv_array();
	int i, n = array_len(stop);

	for (i = 0; i < n; i++) {
		jv s = jv_array_get(jv_copy(stop), i);
		const char *p;

		if (jv_get_kind(s) == JV_KIND_STRING) {
			p = jv_string_value(s);
			p += strspn(p, " \t\n\r\f\v");
			if (*p != '\0') {
				out = jv_array_append(out, s);
				continue;
			}
		}
		jv_free(s);
	}
	jv_free(stop);
	return out;
}

/* The system prompt, with the JSON instruction when json_object asks. */
static jv
system_prompt(jv canon, int json_object, jv cc)
{
	jv sys = json_get(canon, "system");

	if (jv_get_kind(sys) != JV_KIND_STRING ||
	    jv_string_length_bytes(jv_copy(sys)) == 0) {
		jv_free(sys);
		sys = jv_invalid();
	}
	if (json_object)
		sys = jv_is_valid(sys) ? jv_string_append_str(sys,
		    "\n\n" JSON_INSTRUCTION) : jv_string(JSON_INSTRUCTION);
	if (!jv_is_valid(sys) || jv_get_kind(cc) != JV_KIND_OBJECT)
		return sys;
	return JV_ARRAY(json_set(json_set(json_set(jv_object(), "type",
	    jv_string("text")),
	    "text", sys), "cache_control", jv_copy(cc)));
}

static jv
build_headers(jv target, int beta)
{
	jv h = jv_object();
	const char *s, *key = "anthropic-beta";

	if (target_header(target, "anthropic-version", NULL) == NULL)
		h = json_set(h, "anthropic-version",
		    jv_string(ANTHROPIC_VERSION));
	if (!beta)
		return h;
	if ((s = target_header(target, "anthropic-beta", &key)) == NULL)
		return json_set(h, key, jv_string(TOOL_STREAMING_BETA));
	/* The target's betas go too: send the joined list under its name. */
	if (strstr(s, TOOL_STREAMING_BETA) == NULL)
		h = json_set(h, key, jv_string_fmt("%s,%s", s,
		    TOOL_STREAMING_BETA));
	return h;
}

/* Vertex streams from :streamRawPredict; null when the URL stays. */
static jv
vertex_url(jv target, int stream)
{
	const char *url = json_peek_string(target, "url");
	size_t n;

	if (url == NULL)
		return jv_null();
	n = strlen(url);
	if (stream && has_suffix(url, ":rawPredict"))
		return jv_string_fmt("%.*s:streamRawPredict",
		    (int)(n - strlen(":rawPredict")), url);
	if (!stream && has_suffix(url, ":streamRawPredict"))
		return jv_string_fmt("%.*s:rawPredict",
		    (int)(n - strlen(":streamRawPredict")), url);
	return jv_null();
}

static int
am_build(jv canon, jv target, int stream, jv *body, jv *headers, jv *url,
    char *err)
{
	jv b, msgs, tools = jv_invalid(), choice, v, cc, rf, oc, stop;
	const char *s, *effort = NULL;
	int vertex, forced, think, eager_ok, ntools;
	long budget = 0, maxt, lim;
	double d, cap;

	*body = *headers = *url = jv_invalid();
	if (jv_get_kind(canon) != JV_KIND_OBJECT)
		return errbuf_set(err, "request is not an object");
	vertex = is_vertex(target);
	if (!vertex && json_peek_string(target, "model") == NULL)
		return errbuf_set(err, "target has no model");
	if (convert_messages(canon, compat_flag(target, "allowEmptySignature",
	    0), &msgs, err) == -1)
		return -1;
	if (jv_array_length(jv_copy(msgs)) == 0) {
		jv_free(msgs);
		return errbuf_set(err, "request has no message with content");
	}

	eager_ok = compat_flag(target, "supportsEagerToolInputStreaming", 1);
	v = json_get(canon, "tools");
	ntools = array_len(v);
	if (ntools > 0 && convert_tools(v, stream && eager_ok,
	    compat_flag(target, "supportsStrictTools", 0), &tools,
	    err) == -1) {
		jv_free(v);
		jv_free(msgs);
		return -1;
	}
	jv_free(v);
	v = json_get(canon, "tool_choice");
	forced = tool_choice(v, &choice);
	jv_free(v);

	rf = json_get(canon, "response_format");
	oc = jv_object();
	if ((s = json_peek_string(rf, "type")) != NULL &&
	    strcmp(s, "json_schema") == 0) {
		v = json_get(rf, "schema");
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			jv_free(v);
			jv_free(rf);
			jv_free(oc);
			jv_free(choice);
			jv_free(tools);
			jv_free(msgs);
			return errbuf_set(err, "response_format json_schema "
			    "has no schema");
		}
		oc = json_set(oc, "format", json_set(json_set(jv_object(),
		    "type",
		    jv_string("json_schema")), "schema", v));
	}

	/* The API refuses thinking when tool_choice forces a tool. */
	think = forced ? THINK_NONE :
	    thinking_plan(canon, target, &budget, &effort);

	if (!json_peek_number(canon, "max_tokens", &d) || d < 1)
		if (!json_peek_number(target, "max_tokens", &d) || d < 1)
			d = DEFAULT_MAX_TOKENS;
	maxt = d > 1e9 ? 1000000000L : (long)d;
	if (think == THINK_BUDGET && budget >= maxt) {
		lim = json_peek_number(target, "max_tokens", &cap) &&
		    cap >= 1 && cap <= 1e9 ? (long)cap : 1000000000L;
		maxt = maxt + budget > lim ? lim : maxt + budget;
		if (budget >= maxt) {
			budget = maxt - ANSWER_ROOM;
			if (budget < BUDGET_MIN)
				think = THINK_NONE;
		}
	}

	b = jv_object();
	if (vertex) {
		s = target_header(target, "anthropic-version", NULL);
		b = json_set(b, "anthropic_version", jv_string(s != NULL &&
		    strncmp(s, "vertex-", 7) == 0 ? s : VERTEX_VERSION));
	} else
		b = json_set(b, "model", json_get(target, "model"));
	b = json_set(b, "max_tokens", jv_number((double)maxt));

	cc = cache_control(target);
	s = json_peek_string(rf, "type");
	v = system_prompt(canon, s != NULL && strcmp(s, "json_object") == 0,
	    cc);
	jv_free(rf);
	if (jv_is_valid(v))
		b = json_set(b, "system", v);
	if (jv_get_kind(cc) == JV_KIND_OBJECT)
		msgs = mark_last_user(msgs, jv_copy(cc));
	jv_free(cc);
	b = json_set(b, "messages", msgs);
	if (jv_is_valid(tools))
		b = json_set(b, "tools", tools);
	if (jv_is_valid(choice))
		b = json_set(b, "tool_choice", choice);

	if (think == THINK_BUDGET)
		b = json_set(b, "thinking", json_set(json_set(jv_object(),
		    "type",
		    jv_string("enabled")), "budget_tokens",
		    jv_number((double)budget)));
	else if (think == THINK_ADAPTIVE) {
		b = json_set(b, "thinking", json_set(jv_object(), "type",
		    jv_string("adaptive")));
		oc = json_set(oc, "effort", jv_string(effort));
	}
	if (jv_object_length(jv_copy(oc)) > 0)
		b = json_set(b, "output_config", oc);
	else
		jv_free(oc);

	if (think == THINK_NONE && json_peek_number(canon, "temperature", &d))
		b = json_set(b, "temperature", jv_number(d));
	if (json_peek_number(canon, "top_p", &d) &&
	    (think == THINK_NONE || d >= 0.95))
		b = json_set(b, "top_p", jv_number(d));
	stop = stop_sequences(canon);
	if (jv_array_length(jv_copy(stop)) > 0)
		b = json_set(b, "stop_sequences", stop);
	else
		jv_free(stop);
	if (stream)
		b = json_set(b, "stream", jv_true());

	*body = b;
	*headers = build_headers(target, stream && ntools > 0 && !eager_ok);
	*url = vertex ? vertex_url(target, stream) : jv_null();
	return 0;
}

static const char *
stop_reason(const char *r)
{
	if (r == NULL)
		return "stop";
	if (strcmp(r, "max_tokens") == 0 ||
	    strcmp(r, "model_context_window_exceeded") == 0)
		return "length";
	if (strcmp(r, "tool_use") == 0)
		return "tool_use";
	if (strcmp(r, "refusal") == 0)
		return "refusal";
	return "stop";
}

static jv
usage(jv msg)
{
	jv u = json_get(msg, "usage"), det, out = jv_object();
	static const char *const map[][2] = {
		{ "input", "input_tokens" },
		{ "output", "output_tokens" },
		{ "cache_read", "cache_read_input_tokens" },
		{ "cache_write", "cache_creation_input_tokens" },
	};
	double d;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		out = json_set(out, map[i][0], jv_number(json_peek_number(u,
		    map[i][1], &d) ? d : 0));
	/* Only some servers break thinking out of output_tokens. */
	det = json_get(u, "output_tokens_details");
	out = json_set(out, "reasoning", jv_number(json_peek_number(det,
	    "thinking_tokens", &d) ? d : 0));
	jv_free(det);
	jv_free(u);
	return out;
}

/* A tool_use block as a response tool call. */
static jv
tool_call(jv blk)
{
	jv c = json_set(json_set(jv_object(), "id", json_get(blk, "id")),
	    "name",
	    json_get(blk, "name"));
	jv in = json_get(blk, "input");

	if (jv_get_kind(in) == JV_KIND_OBJECT)
		return json_set(c, "arguments", in);
	c = json_set(c, "arguments", jv_object());
	if (jv_is_valid(in))
		return json_set(c, "arguments_raw", jv_dump_string(in, 0));
	return c;
}

/*
 * The response fields of a message object (borrowed) whose "content" is
 * a list: parse's reading, and the stream's at its end.
 */
static jv
am_fields(jv v)
{
	jv content, blk, out, text, reasoning, sig, thinks, calls;
	const char *type;
	int i, n, nthink = 0, nredacted = 0;

	content = json_get(v, "content");
	text = reasoning = sig = jv_invalid();
	thinks = jv_array();
	calls = jv_array();
	n = jv_array_length(jv_copy(content));
	for (i = 0; i < n; i++) {
		blk = jv_array_get(jv_copy(content), i);
		type = json_peek_string(blk, "type");
		if (type == NULL)
			;
		else if (strcmp(type, "text") == 0 &&
		    json_peek_string(blk, "text") != NULL)
			text = jv_is_valid(text) ? jv_string_concat(text,
			    json_get(blk, "text")) : json_get(blk, "text");
		else if (strcmp(type, "thinking") == 0 &&
		    json_peek_string(blk, "thinking") != NULL) {
			if (jv_is_valid(reasoning))
				reasoning = jv_string_concat(
				    jv_string_append_str(reasoning, "\n"),
				    json_get(blk, "thinking"));
			else
				reasoning = json_get(blk, "thinking");
			jv_free(sig);
			sig = json_get(blk, "signature");
			if (jv_get_kind(sig) != JV_KIND_STRING) {
				jv_free(sig);
				sig = jv_string("");
			}
			thinks = jv_array_append(thinks,
			    json_set(json_set(json_set(
			    jv_object(), "type", jv_string("thinking")),
			    "thinking", json_get(blk, "thinking")),
			    "signature", jv_copy(sig)));
			nthink++;
		} else if (strcmp(type, "redacted_thinking") == 0 &&
		    json_peek_string(blk, "data") != NULL) {
			thinks = jv_array_append(thinks,
			    json_set(json_set(jv_object(),
			    "type", jv_string("redacted_thinking")), "data",
			    json_get(blk, "data")));
			nredacted++;
		} else if (strcmp(type, "tool_use") == 0 &&
		    json_peek_string(blk, "id") != NULL &&
		    json_peek_string(blk, "name") != NULL)
			calls = jv_array_append(calls, tool_call(blk));
		/* Server tool blocks and citations carry nothing here. */
		jv_free(blk);
	}
	jv_free(content);

	out = json_set(jv_object(), "text",
	    jv_is_valid(text) ? text : jv_null());
	if (jv_is_valid(reasoning))
		out = json_set(out, "reasoning", reasoning);
	if (nthink == 1 && nredacted == 0) {
		if (jv_string_length_bytes(jv_copy(sig)) > 0)
			out = json_set(out, "reasoning_signature",
			    jv_copy(sig));
		jv_free(thinks);
	} else if (nthink + nredacted > 0)
		out = json_set(out, "reasoning_signature",
		    jv_dump_string(thinks, 0));
	else
		jv_free(thinks);
	jv_free(sig);
	if (jv_array_length(jv_copy(calls)) > 0)
		out = json_set(out, "tool_calls", calls);
	else
		jv_free(calls);
	out = json_set(out, "stop_reason", jv_string(stop_reason(
	    json_peek_string(v, "stop_reason"))));
	out = json_set(out, "usage", usage(v));
	if (json_peek_string(v, "model") != NULL)
		out = json_set(out, "provider_model", json_get(v, "model"));
	return out;
}

static int
am_parse(const char *body, size_t len, jv target, jv *resp, char *err)
{
	jv v, content;
	const char *type, *s;

	(void)target;
	*resp = jv_invalid();
	if (len == 0 || len > 0x7fffffff)
		return errbuf_set(err, "response body is empty or too large");
	v = jv_parse_sized(body, (int)len);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		/* A parse error message quotes the body: not ours to show. */
		jv_free(v);
		return errbuf_set(err, "response is not a JSON object");
	}
	if ((type = json_peek_string(v, "type")) != NULL &&
	    strcmp(type, "error") == 0) {
		jv e = json_get(v, "error");

		s = json_peek_string(e, "message");
		errbuf_set(err, "error in a response: %s",
		    s != NULL ? s : "no message");
		jv_free(e);
		jv_free(v);
		return -1;
	}
	content = json_get(v, "content");
	if (jv_get_kind(content) != JV_KIND_ARRAY) {
		jv_free(content);
		jv_free(v);
		return errbuf_set(err, "response has no content list");
	}
	jv_free(content);
	*resp = am_fields(v);
	jv_free(v);
	return 0;
}

/*
 * Anthropic's errors are {"type": "error", "error": {"type", "message"}},
 * which the generic reading takes; Vertex's Google-style errors too.  The
 * envelope's "error" is no error type.
 */
static jv
am_error(int status, const char *body, size_t len)
{
	jv e = dialect_error_generic(status, body, len);
	const char *t = json_peek_string(e, "type");

	if (t != NULL && strcmp(t, "error") == 0)
		e = jv_object_delete(e, jv_string("type"));
	return e;
}

/*
 * Streaming: message_start, content blocks (content_block_start, _delta,
 * _stop), message_delta, message_stop, with ping and error events.
 *
 * The events are told apart by the SSE event name, or by the data's
 * "type" when the event has none (a proxy that drops "event:" lines).
 * The message is rebuilt as the SDKs rebuild it: message_start's message,
 * the blocks by their index, message_delta's stop_reason and usage (its
 * non-null counts replace message_start's: output_tokens there is the
 * total, and newer servers repeat input and cache counts), and then read
 * as parse reads a message, so the end's fields are parse's (but for
 * text and reasoning, which are the deltas joined as they came: the same
 * unless a server interleaves blocks).  Text deltas are text, thinking
 * deltas reasoning (a "\n" goes out before a second thinking block, as
 * parse joins them), signature deltas complete the block's signature,
 * which the end holds in "reasoning_signature", and redacted_thinking
 * blocks are kept for it too.  A tool_use block is a
 * call: announced at its start, its input_json_delta fragments are the
 * arguments deltas (the empty first fragment sends nothing), and the
 * arguments are the fragments joined and parsed at the end; input cut
 * off (max_tokens inside a call, no content_block_stop) leaves
 * "arguments" {} and the fragments in "arguments_raw".  An "error" event
 * (overloaded_error, ...) fails the stream.  message_stop is the terminal
 * event.
 */
enum { AB_TEXT, AB_THINKING, AB_REDACTED, AB_TOOL, AB_OTHER };

#define BLOCKS_MAX	4096	/* content blocks in one message */

struct am_block {
	long		 index;	/* the API's content block index */
	int		 kind;
	int		 call;	/* AB_TOOL: the call's number */
	struct buf	 text;	/* text, thinking or input JSON */
	struct buf	 sig;	/* AB_THINKING: the signature */
	jv		 start;	/* content_block_start's block */
};

struct am_stream {
	jv		 msg;		/* the message, content aside */
	struct buf	 text, reasoning; /* the deltas as they came */
	struct am_block	*blocks;
	size_t		 nblocks;
	int		 ncalls, nthink;
	int		 state;
};

static void *
am_stream_new(jv target)
{
	struct am_stream *st = xcalloc(1, sizeof(*st));

	(void)target;
	st->msg = jv_object();
	buf_init(&st->text, DIALECT_STREAM_BODY_MAX);
	buf_init(&st->reasoning, DIALECT_STREAM_BODY_MAX);
	return st;
}

static void
am_stream_free(void *vst)
{
	struct am_stream *st = vst;
	size_t i;

	for (i = 0; i < st->nblocks; i++) {
		buf_release(&st->blocks[i].text);
		buf_release(&st->blocks[i].sig);
		jv_free(st->blocks[i].start);
	}
	free(st->blocks);
	buf_release(&st->text);
	buf_release(&st->reasoning);
	jv_free(st->msg);
	free(st);
}

static int
am_append(struct buf *b, jv s, jv *error)
{
	if (buf_append(b, jv_string_value(s),
	    (size_t)jv_string_length_bytes(jv_copy(s))) == -1)
		return dialect_event_fail(error, "answer over %zu bytes",
		    b->max);
	return 0;
}

static struct am_block *
am_block(struct am_stream *st, long index)
{
	size_t i;

	for (i = st->nblocks; i > 0; i--)
		if (st->blocks[i - 1].index == index)
			return &st->blocks[i - 1];
	return NULL;
}

static jv
am_call_event(struct am_block *b, const char *delta, size_t n)
{
	return dialect_event_call(b->call, json_peek_string(b->start, "id"),
	    json_peek_string(b->start, "name"), delta, n);
}

/* A new block of the given kind at index; NULL past BLOCKS_MAX. */
static struct am_block *
am_open(struct am_stream *st, long index, int kind, jv start,
    jv *events)
{
	struct am_block *b;

	if (st->nblocks == BLOCKS_MAX) {
		jv_free(start);
		return NULL;
	}
	st->blocks = xrealloc(st->blocks, (st->nblocks + 1) *
	    sizeof(*st->blocks));
	b = &st->blocks[st->nblocks++];
	b->index = index;
	b->kind = kind;
	b->call = -1;
	buf_init(&b->text, DIALECT_STREAM_BODY_MAX);
	buf_init(&b->sig, DIALECT_STREAM_BODY_MAX);
	b->start = start;
	if (kind == AB_THINKING && st->nthink++ > 0) {
		(void)buf_putc(&st->reasoning, '\n');
		*events = jv_array_append(*events, dialect_event_delta(
		    "reasoning", jv_string("\n")));
	}
	if (kind == AB_TOOL) {
		b->call = st->ncalls++;
		*events = jv_array_append(*events, am_call_event(b, "", 0));
	}
	return b;
}

/* Appends a delta (borrowed) to the block and sends its event. */
static int
am_delta(struct am_stream *st, struct am_block *b, jv delta, jv *events,
    jv *error)
{
	int n = jv_string_length_bytes(jv_copy(delta));

	if (n == 0 || b->kind == AB_OTHER || b->kind == AB_REDACTED)
		return 0;
	if (am_append(&b->text, delta, error) != 0 ||
	    (b->kind == AB_TEXT && am_append(&st->text, delta, error) != 0) ||
	    (b->kind == AB_THINKING &&
	    am_append(&st->reasoning, delta, error) != 0))
		return DIALECT_STREAM_FAIL;
	if (b->kind == AB_TOOL)
		*events = jv_array_append(*events, am_call_event(b,
		    jv_string_value(delta), (size_t)n));
	else
		*events = jv_array_append(*events, dialect_event_delta(
		    b->kind == AB_TEXT ? "text" : "reasoning", jv_copy(delta)));
	return 0;
}

static int
am_kind(const char *type)
{
	if (type == NULL)
		return AB_OTHER;
	if (strcmp(type, "text") == 0 || strcmp(type, "text_delta") == 0)
		return AB_TEXT;
	if (strcmp(type, "thinking") == 0 ||
	    strcmp(type, "thinking_delta") == 0 ||
	    strcmp(type, "signature_delta") == 0)
		return AB_THINKING;
	if (strcmp(type, "redacted_thinking") == 0)
		return AB_REDACTED;
	if (strcmp(type, "tool_use") == 0 ||
	    strcmp(type, "input_json_delta") == 0)
		return AB_TOOL;
	return AB_OTHER;
}

static int
am_block_start(struct am_stream *st, jv v, jv *events, jv *error)
{
	jv blk = json_get(v, "content_block"), x;
	struct am_block *b;
	long index = dialect_event_index(v, "index");
	struct buf in;
	int r = 0;

	if (jv_get_kind(blk) != JV_KIND_OBJECT) {
		jv_free(blk);
		return 0;
	}
	if ((b = am_open(st, index, am_kind(json_peek_string(blk, "type")),
	    blk, events)) == NULL)
		return dialect_event_fail(error, "more than %d content "
		    "blocks", BLOCKS_MAX);
	/* Servers may put content in the start; the API sends it empty. */
	if (b->kind == AB_TEXT || b->kind == AB_THINKING) {
		x = json_get(b->start, b->kind == AB_TEXT ? "text" :
		    "thinking");
		if (jv_get_kind(x) == JV_KIND_STRING)
			r = am_delta(st, b, x, events, error);
		jv_free(x);
		x = json_get(b->start, "signature");
		if (r == 0 && jv_get_kind(x) == JV_KIND_STRING)
			r = am_append(&b->sig, x, error);
		jv_free(x);
	} else if (b->kind == AB_TOOL) {
		x = json_get(b->start, "input");
		if (jv_get_kind(x) == JV_KIND_OBJECT &&
		    jv_object_length(jv_copy(x)) > 0) {
			jv d;

			buf_init(&in, DIALECT_STREAM_BODY_MAX);
			(void)json_write(&in, x);
			d = jv_string_sized(in.data, (int)in.len);
			r = am_delta(st, b, d, events, error);
			jv_free(d);
			buf_release(&in);
		}
		jv_free(x);
	}
	return r;
}

static int
am_block_delta(struct am_stream *st, jv v, jv *events, jv *error)
{
	jv d = json_get(v, "delta"), x;
	const char *type = json_peek_string(d, "type");
	struct am_block *b;
	long index = dialect_event_index(v, "index");
	int r = 0, kind = am_kind(type);

	if ((b = am_block(st, index)) == NULL && kind != AB_OTHER) {
		/* A delta without its block start: open one for it. */
		b = am_open(st, index, kind, jv_object(), events);
		if (b == NULL) {
			jv_free(d);
			return dialect_event_fail(error, "more than %d "
			    "content blocks", BLOCKS_MAX);
		}
	}
	if (b == NULL || type == NULL) {
		jv_free(d);
		return 0;
	}
	if (strcmp(type, "text_delta") == 0 && b->kind == AB_TEXT)
		x = json_get(d, "text");
	else if (strcmp(type, "thinking_delta") == 0 &&
	    b->kind == AB_THINKING)
		x = json_get(d, "thinking");
	else if (strcmp(type, "input_json_delta") == 0 && b->kind == AB_TOOL)
		x = json_get(d, "partial_json");
	else if (strcmp(type, "signature_delta") == 0 &&
	    b->kind == AB_THINKING) {
		x = json_get(d, "signature");
		if (jv_get_kind(x) == JV_KIND_STRING)
			r = am_append(&b->sig, x, error);
		jv_free(x);
		jv_free(d);
		return r;
	} else
		x = jv_invalid();	/* citations_delta, ... */
	if (jv_get_kind(x) == JV_KIND_STRING)
		r = am_delta(st, b, x, events, error);
	jv_free(x);
	jv_free(d);
	return r;
}

/* message_delta: the stop reason, and usage counts that replace. */
static void
am_message_delta(struct am_stream *st, jv v)
{
	jv d = json_get(v, "delta"), u, mu;
	int it;

	if (json_peek_kind(d, "stop_reason") == JV_KIND_STRING)
		st->msg = json_set(st->msg, "stop_reason",
		    json_get(d, "stop_reason"));
	jv_free(d);
	u = json_get(v, "usage");
	if (jv_get_kind(u) == JV_KIND_OBJECT) {
		mu = json_get(st->msg, "usage");
		if (jv_get_kind(mu) != JV_KIND_OBJECT) {
			jv_free(mu);
			mu = jv_object();
		}
		for (it = jv_object_iter(u); jv_object_iter_valid(u, it);
		    it = jv_object_iter_next(u, it)) {
			jv val = jv_object_iter_value(u, it);

			if (jv_get_kind(val) != JV_KIND_NULL)
				mu = jv_object_set(mu,
				    jv_object_iter_key(u, it), val);
			else
				jv_free(val);
		}
		st->msg = json_set(st->msg, "usage", mu);
	}
	jv_free(u);
}

static int
am_stream_event(void *vst, const char *sse_type, const char *data,
    size_t len, jv *events, jv *einfo)
{
	struct am_stream *st = vst;
	const char *type;
	jv v, m;
	int r = 0;

	if (st->state != 0)
		return st->state;
	if (strcmp(sse_type, "ping") == 0)
		return DIALECT_STREAM_MORE;
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
	if (strcmp(type, "error") == 0) {
		const char *t;
		jv info = am_error(200, data, len);

		t = json_peek_string(info, "type");
		if (t != NULL && strcmp(t, "request_too_large") == 0)
			info = json_set(info, "status", jv_number(413));
		jv_free(*einfo);
		*einfo = dialect_event_status(info);
		r = DIALECT_STREAM_FAIL;
	} else if (strcmp(type, "message_start") == 0) {
		m = json_get(v, "message");
		if (jv_get_kind(m) == JV_KIND_OBJECT) {
			jv_free(st->msg);
			st->msg = m;
		} else
			jv_free(m);
	} else if (strcmp(type, "content_block_start") == 0)
		r = am_block_start(st, v, events, einfo);
	else if (strcmp(type, "content_block_delta") == 0)
		r = am_block_delta(st, v, events, einfo);
	else if (strcmp(type, "message_delta") == 0)
		am_message_delta(st, v);
	else if (strcmp(type, "message_stop") == 0)
		r = DIALECT_STREAM_DONE;
	/* ping, content_block_stop and new event types change nothing. */
	jv_free(v);
	if (r != 0)
		st->state = r;
	return r;
}

static jv
am_stream_end(void *vst, int complete)
{
	struct am_stream *st = vst;
	jv m, content = jv_array(), calls = jv_array(), out, blk;
	struct am_block *b;
	size_t i;

	for (i = 0; i < st->nblocks; i++) {
		b = &st->blocks[i];
		blk = jv_invalid();
		if (b->kind == AB_TEXT)
			blk = json_set(json_set(jv_object(), "type",
			    jv_string("text")),
			    "text", jv_string_sized(buf_cstr(&b->text),
			    (int)b->text.len));
		else if (b->kind == AB_THINKING)
			blk = json_set(json_set(json_set(jv_object(), "type",
			    jv_string("thinking")), "thinking",
			    jv_string_sized(buf_cstr(&b->text),
			    (int)b->text.len)), "signature", jv_string_sized(
			    buf_cstr(&b->sig), (int)b->sig.len));
		else if (b->kind == AB_REDACTED)
			blk = jv_copy(b->start);
		else if (b->kind == AB_TOOL &&
		    json_peek_string(b->start, "id") != NULL &&
		    json_peek_string(b->start, "name") != NULL) {
			jv c = json_set(json_set(jv_object(), "id",
			    json_get(b->start,
			    "id")), "name", json_get(b->start, "name"));

			calls = jv_array_append(calls, dialect_arguments(c,
			    buf_cstr(&b->text), b->text.len));
		}
		if (jv_is_valid(blk))
			content = jv_array_append(content, blk);
	}
	m = json_set(jv_copy(st->msg), "content", content);
	out = am_fields(m);
	/*
	 * Text and reasoning in the order the deltas came, which is the
	 * blocks' order unless a server interleaves them: the deltas join
	 * into these.
	 */
	if (json_peek_kind(out, "text") == JV_KIND_STRING)
		out = json_set(out, "text", jv_string_sized(buf_cstr(&st->text),
		    (int)st->text.len));
	if (json_peek_kind(out, "reasoning") == JV_KIND_STRING)
		out = json_set(out, "reasoning", jv_string_sized(
		    buf_cstr(&st->reasoning), (int)st->reasoning.len));
	if (jv_array_length(jv_copy(calls)) > 0)
		out = json_set(out, "tool_calls", calls);
	else
		jv_free(calls);
	if (!complete && json_peek_kind(m, "stop_reason") != JV_KIND_STRING)
		out = jv_object_delete(out, jv_string("stop_reason"));
	jv_free(m);
	return out;
}

const struct dialect dialect_anthropic_messages = {
	.api = "anthropic-messages",
	.build = am_build,
	.parse = am_parse,
	.error = am_error,
	.stream_new = am_stream_new,
	.stream_event = am_stream_event,
	.stream_end = am_stream_end,
	.stream_free = am_stream_free,
};
