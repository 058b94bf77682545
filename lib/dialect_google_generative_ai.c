/*
 * dialect_google_generative_ai: Gemini's generateContent and
 * streamGenerateContent (generativelanguage.googleapis.com, and Vertex
 * AI's publishers/google models, which take the same body).
 *
 * Request mapping, and why where it is not obvious:
 *
 *  - messages become "contents" with roles "user" and "model"; tool
 *    results are user-role "functionResponse" parts.  Consecutive contents
 *    of one role are merged into one, so that a run of tool results (and a
 *    user message after them) is one turn as the API expects.
 *  - A tool result's "response" must be a JSON object.  The API reads its
 *    "output" key as the function's output ("error" for a failure), so
 *    the text of the result goes there: {"output": "<text>"}.  Images in
 *    a tool result follow the functionResponse as inlineData parts.
 *  - Call ids are not sent: the Gemini API pairs calls and responses by
 *    name and order, and the ids a conversation holds are mostly our own
 *    generated "call_<n>", which the server never issued.
 *  - Thought signatures (Gemini 2.5 and 3): the API validates, in the
 *    current turn, that the first functionCall part of every model step
 *    carries the signature it came with; parallel calls carry one, on the
 *    first call.  A canonical assistant message is one step and holds one
 *    "reasoning_signature", so it goes back on its first functionCall part,
 *    or, without calls, on its last text part (where text-only answers put
 *    it; not validated).  A Gemini 3 step with calls but no signature
 *    (history written by hand or by another model) gets the documented
 *    "skip_thought_signature_validator" instead of a 400.
 *  - Image URLs become fileData parts: the API fetches public http(s) and
 *    signed URLs itself (and takes its Files API and gs:// URIs).  The
 *    MIME type is the part's "mime", else guessed from the file extension,
 *    else left out for the server to sniff.
 *  - Tool parameters go in "parameters", the OpenAPI 3.0 subset every
 *    Gemini model takes, which rejects any key it does not know ("Unknown
 *    name \"additionalProperties\""): schema_clean below keeps the keys
 *    the API knows, inlines local $ref, and rewrites the JSON Schema forms
 *    it lacks (type lists, "const", null branches of anyOf/oneOf).
 *  - response_format json_schema goes in "responseJsonSchema", which takes
 *    JSON Schema itself ($ref, additionalProperties) and ignores what it
 *    does not support; only the root "$schema" is dropped.
 *  - thinking: a numeric thinking_value is a token budget (Gemini 2.5:
 *    thinkingBudget, 0 turns thinking off), a word is a level (Gemini 3:
 *    thinkingLevel), as the catalog's thinkingLevelMap writes them.  null
 *    means the model cannot (2.5 Pro and Gemini 3 cannot turn thinking
 *    off): no thinkingConfig.  A level the target's map does not translate
 *    arrives as the level's own name; for a Gemini 1.x/2.x model it is
 *    turned into a budget (default_budgets), for later models "off" is
 *    dropped and "xhigh" becomes "high".  includeThoughts asks for the
 *    thought summaries whenever thinking is on, so "reasoning" is filled.
 *  - "generationConfig" is always present, {} when empty, as the SDK
 *    sends it, so that params can merge into it.
 *
 * Response mapping: see parse_chunk.  Several thought signatures in one
 * response are reduced to the one the API validates: the signature of the
 * first functionCall part, else the last one seen.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dialect.h"
#include "errbuf.h"
#include "json.h"
#include "xalloc.h"

#define SCHEMA_DEPTH_MAX	32	/* nesting kept in tool schemas */
#define SCHEMA_REF_MAX		3	/* $ref expansions on one path */

/* Gemini 3's documented stand-in for a signature the history lacks. */
#define SKIP_SIGNATURE		"skip_thought_signature_validator"

static int
has_kind(jv obj, const char *key, jv_kind k)
{
	return json_peek_kind(obj, key) == k;
}

static int
array_len(jv a)
{
	return jv_get_kind(a) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(a)) : 0;
}

/*
 * Models of the budget era (Gemini 1.x, 2.x) versus the level era
 * (Gemini 3 and later, Gemma 4).  Used only where the request carries
 * no catalog translation, and for the signature stand-in, which is
 * documented for Gemini 3 only.
 */
static int
budget_era(jv target)
{
	const char *m = json_peek_string(target, "model");

	if (m == NULL)
		return 0;
	if (strncmp(m, "models/", 7) == 0)
		m += 7;
	return strncmp(m, "gemini-1", 8) == 0 ||
	    strncmp(m, "gemini-2", 8) == 0 ||
	    strncmp(m, "gemini-pro", 10) == 0;
}

/* Appends parts to contents as role, merging into a last content of the
 * same role.  Consumes contents and parts; an empty parts adds nothing. */
static jv
content_add(jv contents, const char *role, jv parts)
{
	int n = jv_array_length(jv_copy(contents));

	if (jv_array_length(jv_copy(parts)) == 0) {
		jv_free(parts);
		return contents;
	}
	if (n > 0) {
		jv last = jv_array_get(jv_copy(contents), n - 1);
		const char *r = json_peek_string(last, "role");

		if (r != NULL && strcmp(r, role) == 0) {
			jv lp = jv_object_get(jv_copy(last),
			    jv_string("parts"));

			/* Drop last's reference so the concat need not copy. */
			last = jv_object_delete(last, jv_string("parts"));
			lp = jv_array_concat(lp, parts);
			last = json_set(last, "parts", lp);
			return jv_array_set(contents, n - 1, last);
		}
		jv_free(last);
	}
	return jv_array_append(contents, json_set(json_set(jv_object(), "role",
	    jv_string(role)), "parts", parts));
}

/* The MIME type of an image URL by its extension, or NULL. */
static const char *
url_mime(const char *url)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {
		{ "png", "image/png" }, { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" }, { "gif", "image/gif" },
		{ "webp", "image/webp" }, { "heic", "image/heic" },
		{ "heif", "image/heif" },
	};
	const char *end = url + strcspn(url, "?#"), *dot = end;
	size_t i, n;

	while (dot > url && dot[-1] != '.' && dot[-1] != '/')
		dot--;
	if (dot == url || dot[-1] != '.')
		return NULL;
	n = (size_t)(end - dot);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].ext) == n &&
		    strncasecmp(dot, types[i].ext, n) == 0)
			return types[i].mime;
	return NULL;
}

/* inlineData from a data: URL ("data:image/png;base64,...") or NULL. */
static jv
data_url(const char *u)
{
	const char *semi, *comma;

	if (strncmp(u, "data:", 5) != 0 ||
	    (comma = strchr(u, ',')) == NULL ||
	    (semi = strchr(u, ';')) == NULL || semi > comma ||
	    strncmp(semi, ";base64,", 8) != 0 || semi == u + 5)
		return jv_invalid();
	return json_set(json_set(jv_object(), "mimeType",
	    jv_string_sized(u + 5, (int)(semi - u - 5))), "data",
	    jv_string(comma + 1));
}

/* One canonical image part as a Gemini part; invalid with err. */
static jv
image_part(jv p, char *err)
{
	const char *mime = json_peek_string(p, "mime");
	const char *data = json_peek_string(p, "data");
	const char *url = json_peek_string(p, "url");
	jv d;

	if (data != NULL) {
		if (strncmp(data, "data:", 5) == 0) {
			d = data_url(data);
			if (!jv_is_valid(d))
				goto bad;
			return json_set(jv_object(), "inlineData", d);
		}
		if (mime == NULL) {
			errbuf_set(err, "image data has no MIME type");
			return jv_invalid();
		}
		return json_set(jv_object(), "inlineData",
		    json_set(json_set(jv_object(),
		    "mimeType", jv_string(mime)), "data", jv_string(data)));
	}
	if (url != NULL) {
		if (strncmp(url, "data:", 5) == 0) {
			d = data_url(url);
			if (!jv_is_valid(d))
				goto bad;
			return json_set(jv_object(), "inlineData", d);
		}
		d = jv_object();
		if (mime == NULL)
			mime = url_mime(url);
		if (mime != NULL)
			d = json_set(d, "mimeType", jv_string(mime));
		d = json_set(d, "fileUri", jv_string(url));
		return json_set(jv_object(), "fileData", d);
	}
bad:
	errbuf_set(err, "image part has neither base64 data nor a URL");
	return jv_invalid();
}

/*
 * Gemini parts for a canonical content list (borrowed).  With images 0,
 * image parts are skipped (tool results add theirs separately).  Empty
 * text parts are dropped: the API rejects a part without data.  Returns a
 * new array, or invalid with err.
 */
static jv
content_parts(jv content, char *err)
{
	jv parts = jv_array();
	int i, n = array_len(content);

	if (jv_get_kind(content) == JV_KIND_STRING) {	/* be lenient */
		if (jv_string_length_bytes(jv_copy(content)) > 0)
			parts = jv_array_append(parts, json_set(jv_object(),
			    "text", jv_copy(content)));
		return parts;
	}
	for (i = 0; i < n; i++) {
		jv p = jv_array_get(jv_copy(content), i), g;
		const char *type = json_peek_string(p, "type");
		const char *text = json_peek_string(p, "text");

		if (type != NULL && strcmp(type, "text") == 0) {
			if (text != NULL && *text != '\0')
				parts = jv_array_append(parts,
				    json_set(jv_object(),
				    "text", jv_string(text)));
		} else if (type != NULL && strcmp(type, "image") == 0) {
			g = image_part(p, err);
			if (!jv_is_valid(g)) {
				jv_free(p);
				jv_free(parts);
				errbuf_prefix(err, "content[%d]", i);
				return jv_invalid();
			}
			parts = jv_array_append(parts, g);
		} else {
			errbuf_set(err, "content[%d]: unsupported part type "
			    "'%s'", i, type != NULL ? type : "?");
			jv_free(p);
			jv_free(parts);
			return jv_invalid();
		}
		jv_free(p);
	}
	return parts;
}

/* The text parts of a canonical content list joined with "\n". */
static jv
content_text(jv content)
{
	jv out = jv_string("");
	int i, n = array_len(content), first = 1;

	if (jv_get_kind(content) == JV_KIND_STRING) {
		jv_free(out);
		return jv_copy(content);
	}
	for (i = 0; i < n; i++) {
		jv p = jv_array_get(jv_copy(content), i);
		const char *type = json_peek_string(p, "type");
		const char *text = json_peek_string(p, "text");

		if (type != NULL && strcmp(type, "text") == 0 && text != NULL) {
			if (!first)
				out = jv_string_append_str(out, "\n");
			out = jv_string_append_str(out, text);
			first = 0;
		}
		jv_free(p);
	}
	return out;
}

/* An assistant message's parts: text, then calls, signature replayed. */
static jv
model_parts(jv m, jv target, jv *names, char *err)
{
	jv parts, calls, sig, content = json_get(m, "content");
	int i, n, first_call = -1, last_text = -1;

	parts = content_parts(content, err);
	jv_free(content);
	if (!jv_is_valid(parts))
		return parts;
	for (i = 0; i < jv_array_length(jv_copy(parts)); i++) {
		jv p = jv_array_get(jv_copy(parts), i);

		if (has_kind(p, "text", JV_KIND_STRING))
			last_text = i;
		jv_free(p);
	}
	calls = json_field(m, "tool_calls");
	n = array_len(calls);
	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(calls), i), args, fc;
		const char *name = json_peek_string(c, "name");
		const char *id = json_peek_string(c, "id");

		if (name == NULL) {
			jv_free(c);
			jv_free(calls);
			jv_free(parts);
			errbuf_set(err, "tool_calls[%d] has no name", i);
			return jv_invalid();
		}
		if (id != NULL)
			*names = json_set(*names, id, jv_string(name));
		args = json_field(c, "arguments");
		if (jv_get_kind(args) != JV_KIND_OBJECT) {
			jv_free(args);
			args = jv_object();
		}
		fc = json_set(json_set(jv_object(), "name", jv_string(name)),
		    "args",
		    args);
		if (first_call < 0)
			first_call = jv_array_length(jv_copy(parts));
		parts = jv_array_append(parts, json_set(jv_object(),
		    "functionCall", fc));
		jv_free(c);
	}
	jv_free(calls);

	sig = json_field(m, "reasoning_signature");
	if (jv_get_kind(sig) != JV_KIND_STRING ||
	    jv_string_length_bytes(jv_copy(sig)) == 0) {
		jv_free(sig);
		sig = jv_invalid();
		if (first_call >= 0 && !budget_era(target))
			sig = jv_string(SKIP_SIGNATURE);
	}
	if (jv_is_valid(sig)) {
		int at = first_call >= 0 ? first_call : last_text;

		if (at >= 0) {
			jv p = jv_array_get(jv_copy(parts), at);

			p = json_set(p, "thoughtSignature", sig);
			parts = jv_array_set(parts, at, p);
		} else
			jv_free(sig);
	}
	return parts;
}

/* A tool message's parts: its functionResponse, then any images. */
static jv
tool_parts(jv m, jv names, char *err)
{
	jv content = json_get(m, "content"), name, parts, fr, imgs;
	const char *id = json_peek_string(m, "tool_call_id");
	int i, n;

	name = json_field(m, "name");
	if (jv_get_kind(name) != JV_KIND_STRING && id != NULL) {
		jv_free(name);
		name = json_get(names, id);
	}
	if (jv_get_kind(name) != JV_KIND_STRING) {
		jv_free(name);
		jv_free(content);
		errbuf_set(err, "tool result '%s' has no function name",
		    id != NULL ? id : "?");
		return jv_invalid();
	}
	fr = json_set(json_set(jv_object(), "name", name), "response",
	    json_set(jv_object(), "output", content_text(content)));
	parts = jv_array_append(jv_array(), json_set(jv_object(),
	    "functionResponse", fr));
	imgs = content_parts(content, err);
	jv_free(content);
	if (!jv_is_valid(imgs)) {
		jv_free(parts);
		return imgs;
	}
	n = jv_array_length(jv_copy(imgs));
	for (i = 0; i < n; i++) {
		jv p = jv_array_get(jv_copy(imgs), i);

		if (json_peek_kind(p, "text") == JV_KIND_INVALID)
			parts = jv_array_append(parts, p);
		else
			jv_free(p);
	}
	jv_free(imgs);
	return parts;
}

static int
build_contents(jv canon, jv target, jv *out, char *err)
{
	jv msgs = json_field(canon, "messages"), contents = jv_array();
	jv names = jv_object();
	int i, n = array_len(msgs);

	for (i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(msgs), i), parts;
		const char *role = json_peek_string(m, "role");
		const char *grole = "user";

		if (role != NULL && strcmp(role, "user") == 0) {
			jv c = json_get(m, "content");

			parts = content_parts(c, err);
			jv_free(c);
		} else if (role != NULL && strcmp(role, "assistant") == 0) {
			parts = model_parts(m, target, &names, err);
			grole = "model";
		} else if (role != NULL && strcmp(role, "tool") == 0)
			parts = tool_parts(m, names, err);
		else {
			errbuf_set(err, "unsupported role '%s'",
			    role != NULL ? role : "?");
			parts = jv_invalid();
		}
		jv_free(m);
		if (!jv_is_valid(parts)) {
			jv_free(msgs);
			jv_free(contents);
			jv_free(names);
			return errbuf_prefix(err, "messages[%d]", i);
		}
		contents = content_add(contents, grole, parts);
	}
	jv_free(msgs);
	jv_free(names);
	if (jv_array_length(jv_copy(contents)) == 0) {
		jv_free(contents);
		return errbuf_set(err, "request has no message content");
	}
	*out = contents;
	return 0;
}

/*
 * Tool schemas.  The "parameters" Schema is protobuf underneath: every key
 * it does not define is a 400, so this is an allow list, not a deny list.
 */
static const char *const schema_keep[] = {
	"title", "description", "nullable", "minItems", "maxItems",
	"minLength", "maxLength", "pattern", "minimum", "maximum",
	"minProperties", "maxProperties", "propertyOrdering",
};

static jv	schema_clean(jv, jv, int, int);

/* "string" → "STRING"; NULL for what the API has no type for. */
static const char *
schema_type(const char *t)
{
	static const char *const types[][2] = {
		{ "string", "STRING" }, { "number", "NUMBER" },
		{ "integer", "INTEGER" }, { "boolean", "BOOLEAN" },
		{ "array", "ARRAY" }, { "object", "OBJECT" },
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(t, types[i][0]) == 0)
			return types[i][1];
	return NULL;
}

/* Formats the API accepts per type; any other is a 400. */
static int
format_ok(const char *type, const char *f)
{
	if (type == NULL)
		return 0;
	if (strcmp(type, "STRING") == 0)
		return strcmp(f, "enum") == 0 || strcmp(f, "date-time") == 0;
	if (strcmp(type, "NUMBER") == 0)
		return strcmp(f, "float") == 0 || strcmp(f, "double") == 0;
	if (strcmp(type, "INTEGER") == 0)
		return strcmp(f, "int32") == 0 || strcmp(f, "int64") == 0;
	return 0;
}

static int
is_null_schema(jv s)
{
	const char *t = json_peek_string(s, "type");

	return t != NULL && strcmp(t, "null") == 0;
}

/* Resolves a local "#/$defs/x" or "#/definitions/x"; invalid if not. */
static jv
schema_ref(jv root, const char *ref)
{
	jv defs;
	const char *name;

	if (strncmp(ref, "#/$defs/", 8) == 0) {
		defs = json_get(root, "$defs");
		name = ref + 8;
	} else if (strncmp(ref, "#/definitions/", 14) == 0) {
		defs = json_get(root, "definitions");
		name = ref + 14;
	} else
		return jv_invalid();
	if (strchr(name, '/') != NULL || jv_get_kind(defs) != JV_KIND_OBJECT) {
		jv_free(defs);
		return jv_invalid();
	}
	return jv_object_get(defs, jv_string(name));
}

/*
 * The branches of anyOf/oneOf, cleaned, into out: one non-null branch is
 * merged in (Optional[X] as pydantic writes it), several become anyOf,
 * null branches become "nullable".
 */
static jv
schema_union(jv out, jv list, jv root, int depth, int refs)
{
	jv branches = jv_array();
	int i, n = array_len(list), nullable = 0;

	for (i = 0; i < n; i++) {
		jv b = jv_array_get(jv_copy(list), i);

		if (is_null_schema(b))
			nullable = 1;
		else
			branches = jv_array_append(branches,
			    schema_clean(b, root, depth + 1, refs));
		jv_free(b);
	}
	if (nullable)
		out = json_set(out, "nullable", jv_true());
	n = jv_array_length(jv_copy(branches));
	if (n == 1) {
		jv b = jv_array_get(jv_copy(branches), 0);

		/* The outer keys (a description) win over the branch's. */
		out = json_merge(b, out);
	} else if (n > 1)
		out = json_set(out, "anyOf", jv_copy(branches));
	jv_free(branches);
	return out;
}

/* Borrows s and root; returns a new schema in the API's subset. */
static jv
schema_clean(jv s, jv root, int depth, int refs)
{
	jv out = jv_object(), v;
	const char *type = NULL, *ref;
	size_t i;

	if (jv_get_kind(s) != JV_KIND_OBJECT || depth > SCHEMA_DEPTH_MAX)
		return out;
	if ((ref = json_peek_string(s, "$ref")) != NULL) {
		jv r = refs < SCHEMA_REF_MAX ? schema_ref(root, ref) :
		    jv_invalid();

		/* XXX: a $ref past the limit (recursion) reads as any. */
		if (jv_get_kind(r) == JV_KIND_OBJECT) {
			jv_free(out);
			out = schema_clean(r, root, depth + 1, refs + 1);
		}
		jv_free(r);
		if ((v = json_field(s, "description"), jv_is_valid(v)))
			out = json_set(out, "description", v);
		return out;
	}

	/* type: a name, or a JSON Schema list of names. */
	v = json_get(s, "type");
	if (jv_get_kind(v) == JV_KIND_STRING) {
		if (strcmp(jv_string_value(v), "null") == 0)
			out = json_set(out, "nullable", jv_true());
		else
			type = schema_type(jv_string_value(v));
	} else if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv alts = jv_array();
		int k, n = jv_array_length(jv_copy(v));

		for (k = 0; k < n; k++) {
			jv t = jv_array_get(jv_copy(v), k);
			const char *gt;

			if (jv_get_kind(t) == JV_KIND_STRING) {
				if (strcmp(jv_string_value(t), "null") == 0)
					out = json_set(out, "nullable",
					    jv_true());
				else if ((gt = schema_type(
				    jv_string_value(t))) != NULL) {
					alts = jv_array_append(alts,
					    jv_string(gt));
					type = gt;
				}
			}
			jv_free(t);
		}
		if (jv_array_length(jv_copy(alts)) > 1) {
			/* ["string","integer"]: one anyOf branch each. */
			jv any = jv_array();

			for (k = 0; k < jv_array_length(jv_copy(alts)); k++)
				any = jv_array_append(any, json_set(jv_object(),
				    "type", jv_array_get(jv_copy(alts), k)));
			out = json_set(out, "anyOf", any);
			type = NULL;
		}
		jv_free(alts);
	}
	jv_free(v);

	for (i = 0; i < sizeof(schema_keep) / sizeof(schema_keep[0]); i++)
		if ((v = json_field(s, schema_keep[i]), jv_is_valid(v)))
			out = json_set(out, schema_keep[i], v);

	/* enum holds strings only; "const" is a one-value enum. */
	v = json_field(s, "enum");
	if (jv_get_kind(v) != JV_KIND_ARRAY &&
	    has_kind(s, "const", JV_KIND_STRING)) {
		jv_free(v);
		v = jv_array_append(jv_array(), json_get(s, "const"));
	}
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv e = jv_array();
		int k, n = jv_array_length(jv_copy(v)), ok = n > 0;

		for (k = 0; k < n && ok; k++) {
			jv x = jv_array_get(jv_copy(v), k);

			if (jv_get_kind(x) == JV_KIND_STRING)
				e = jv_array_append(e, x);
			else if (jv_get_kind(x) == JV_KIND_NULL) {
				out = json_set(out, "nullable", jv_true());
				jv_free(x);
			} else {
				ok = 0;	/* numbers: the API has no such enum */
				jv_free(x);
			}
		}
		if (ok && jv_array_length(jv_copy(e)) > 0) {
			out = json_set(out, "enum", e);
			if (type == NULL && !has_kind(out, "anyOf",
			    JV_KIND_ARRAY))
				type = "STRING";
		} else
			jv_free(e);
	}
	jv_free(v);

	if (type != NULL) {
		const char *f = json_peek_string(s, "format");

		out = json_set(out, "type", jv_string(type));
		if (f != NULL && format_ok(type, f))
			out = json_set(out, "format", jv_string(f));
	}

	v = json_get(s, "properties");
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv props = jv_object(), req, keep;
		int it;

		for (it = jv_object_iter(v); jv_object_iter_valid(v, it);
		    it = jv_object_iter_next(v, it)) {
			jv k = jv_object_iter_key(v, it);
			jv p = jv_object_iter_value(v, it);

			props = jv_object_set(props, k,
			    schema_clean(p, root, depth + 1, refs));
			jv_free(p);
		}
		/* required may only name properties that exist. */
		req = json_field(s, "required");
		keep = jv_array();
		for (it = 0; it < array_len(req); it++) {
			jv r = jv_array_get(jv_copy(req), it);

			if (jv_get_kind(r) == JV_KIND_STRING &&
			    jv_object_has(jv_copy(props), jv_copy(r)))
				keep = jv_array_append(keep, r);
			else
				jv_free(r);
		}
		jv_free(req);
		if (jv_object_length(jv_copy(props)) > 0)
			out = json_set(out, "properties", props);
		else
			jv_free(props);	/* XXX: the API wants some */
		if (jv_array_length(jv_copy(keep)) > 0)
			out = json_set(out, "required", keep);
		else
			jv_free(keep);
		if (type == NULL && !has_kind(out, "anyOf", JV_KIND_ARRAY))
			out = json_set(out, "type", jv_string("OBJECT"));
	}
	jv_free(v);

	v = json_get(s, "items");
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		out = json_set(out, "items", schema_clean(v, root, depth + 1,
		    refs));
	else if (type != NULL && strcmp(type, "ARRAY") == 0)
		/* XXX: an ARRAY without items is a 400; assume strings. */
		out = json_set(out, "items", json_set(jv_object(), "type",
		    jv_string("STRING")));
	jv_free(v);

	v = json_field(s, "anyOf");
	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		jv_free(v);
		v = json_field(s, "oneOf");	/* the API has no oneOf */
	}
	if (jv_get_kind(v) == JV_KIND_ARRAY)
		out = schema_union(out, v, root, depth, refs);
	jv_free(v);

	/* allOf of one schema is that schema; XXX: larger ones are lost. */
	v = json_field(s, "allOf");
	if (array_len(v) == 1) {
		jv a = jv_array_get(jv_copy(v), 0);

		out = json_merge(schema_clean(a, root, depth + 1, refs), out);
		jv_free(a);
	}
	jv_free(v);
	return out;
}

static int
build_tools(jv canon, jv *body, char *err)
{
	jv tools = json_field(canon, "tools"), decls = jv_array(), tc;
	int i, n = array_len(tools);

	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(tools), i), d, p;
		const char *name = json_peek_string(t, "name");
		const char *desc = json_peek_string(t, "description");

		if (name == NULL) {
			jv_free(t);
			jv_free(tools);
			jv_free(decls);
			return errbuf_set(err, "tools[%d] has no name", i);
		}
		d = json_set(jv_object(), "name", jv_string(name));
		if (desc != NULL)
			d = json_set(d, "description", jv_string(desc));
		p = json_get(t, "parameters");
		if (jv_get_kind(p) == JV_KIND_OBJECT) {
			jv c = schema_clean(p, p, 0, 0);

			/* No properties: no parameters, which the API wants
			 * rather than an empty OBJECT. */
			if (has_kind(c, "properties", JV_KIND_OBJECT))
				d = json_set(d, "parameters", c);
			else
				jv_free(c);
		}
		jv_free(p);
		decls = jv_array_append(decls, d);
		jv_free(t);
	}
	jv_free(tools);
	if (n == 0) {
		jv_free(decls);
		return 0;
	}
	*body = json_set(*body, "tools", jv_array_append(jv_array(),
	    json_set(jv_object(), "functionDeclarations", decls)));

	tc = json_field(canon, "tool_choice");
	if (jv_get_kind(tc) == JV_KIND_STRING) {
		const char *s = jv_string_value(tc), *mode;

		if (strcmp(s, "auto") == 0)
			mode = "AUTO";
		else if (strcmp(s, "none") == 0)
			mode = "NONE";
		else if (strcmp(s, "required") == 0)
			mode = "ANY";
		else {
			errbuf_set(err, "unsupported tool_choice '%s'", s);
			jv_free(tc);
			return -1;
		}
		*body = json_set(*body, "toolConfig", json_set(jv_object(),
		    "functionCallingConfig", json_set(jv_object(), "mode",
		    jv_string(mode))));
	} else if (jv_get_kind(tc) == JV_KIND_OBJECT) {
		const char *name = json_peek_string(tc, "name");

		if (name == NULL) {
			jv_free(tc);
			return errbuf_set(err, "tool_choice has no name");
		}
		*body = json_set(*body, "toolConfig", json_set(jv_object(),
		    "functionCallingConfig", json_set(json_set(jv_object(),
		    "mode",
		    jv_string("ANY")), "allowedFunctionNames",
		    jv_array_append(jv_array(), jv_string(name)))));
	}
	jv_free(tc);
	return 0;
}

/* "1024", "-1": the thinking value is a token budget. */
static int
numeric(const char *s, long *out)
{
	char *end;
	long v;

	if (*s == '\0' || (!isdigit((unsigned char)*s) && *s != '-'))
		return 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || end == s)
		return 0;
	*out = v;
	return 1;
}

/* Budgets for a level no thinkingLevelMap translated, on a 2.x model. */
static long
default_budget(const char *level)
{
	static const struct {
		const char *level;
		long budget;
	} budgets[] = {
		{ "off", 0 }, { "minimal", 1024 }, { "low", 2048 },
		{ "medium", 8192 }, { "high", 24576 }, { "xhigh", 24576 },
	};
	size_t i;

	for (i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++)
		if (strcmp(level, budgets[i].level) == 0)
			return budgets[i].budget;
	return -1;	/* dynamic */
}

/* generationConfig.thinkingConfig, or invalid for none. */
static jv
thinking_config(jv canon, jv target)
{
	jv v = json_get(canon, "thinking_value"), map, tc = jv_object();
	const char *level = json_peek_string(canon, "thinking");
	int mapped, off = level != NULL && strcmp(level, "off") == 0, can;
	long budget;

	/* Models that cannot think refuse a thinkingConfig with a 400. */
	if (json_peek_bool(target, "reasoning", &can) && !can) {
		jv_free(v);
		jv_free(tc);
		return jv_invalid();
	}

	map = json_get(target, "thinking_map");
	mapped = level != NULL && jv_get_kind(map) == JV_KIND_OBJECT &&
	    jv_object_has(jv_copy(map), jv_string(level));
	jv_free(map);

	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		budget = (long)jv_number_value(v);
		goto budget;
	}
	if (jv_get_kind(v) != JV_KIND_STRING) {	/* null: cannot */
		jv_free(v);
		jv_free(tc);
		return jv_invalid();
	}
	if (numeric(jv_string_value(v), &budget))
		goto budget;
	if (!mapped && budget_era(target)) {
		budget = default_budget(jv_string_value(v));
		goto budget;
	}
	if (!mapped && strcmp(jv_string_value(v), "off") == 0) {
		jv_free(v);	/* Gemini 3 cannot turn thinking off */
		jv_free(tc);
		return jv_invalid();
	}
	if (!mapped && strcmp(jv_string_value(v), "xhigh") == 0) {
		jv_free(v);
		v = jv_string("high");
	}
	tc = json_set(tc, "thinkingLevel", v);
	if (!off)
		tc = json_set(tc, "includeThoughts", jv_true());
	return tc;

budget:
	jv_free(v);
	tc = json_set(tc, "thinkingBudget", jv_number((double)budget));
	if (budget != 0 && !off)
		tc = json_set(tc, "includeThoughts", jv_true());
	return tc;
}

static jv
generation_config(jv canon, jv target)
{
	jv gc = jv_object(), v, rf, tc;
	const char *type;

	if ((v = json_field(canon, "max_tokens"), jv_is_valid(v)))
		gc = json_set(gc, "maxOutputTokens", v);
	if ((v = json_field(canon, "temperature"), jv_is_valid(v)))
		gc = json_set(gc, "temperature", v);
	if ((v = json_field(canon, "top_p"), jv_is_valid(v)))
		gc = json_set(gc, "topP", v);
	if ((v = json_field(canon, "stop"), jv_is_valid(v))) {
		if (jv_get_kind(v) == JV_KIND_STRING)
			v = jv_array_append(jv_array(), v);
		if (array_len(v) > 0)
			gc = json_set(gc, "stopSequences", v);
		else
			jv_free(v);
	}
	rf = json_field(canon, "response_format");
	type = json_peek_string(rf, "type");
	if (type != NULL && strcmp(type, "json_object") == 0)
		gc = json_set(gc, "responseMimeType",
		    jv_string("application/json"));
	else if (type != NULL && strcmp(type, "json_schema") == 0) {
		gc = json_set(gc, "responseMimeType",
		    jv_string("application/json"));
		v = json_get(rf, "schema");
		if (jv_get_kind(v) == JV_KIND_OBJECT)
			gc = json_set(gc, "responseJsonSchema",
			    jv_object_delete(v, jv_string("$schema")));
		else
			jv_free(v);
	}
	jv_free(rf);
	tc = thinking_config(canon, target);
	if (jv_is_valid(tc))
		gc = json_set(gc, "thinkingConfig", tc);
	return gc;
}

/*
 * .../models/ID:generateContent[?q] → .../models/ID:streamGenerateContent
 * ?[q&]alt=sse, so that the answer is SSE rather than one JSON array.
 */
static jv
stream_url(const char *url, char *err)
{
	static const char verb[] = ":generateContent";
	const char *q = strchr(url, '?'), *p;
	size_t base;
	jv out;

	base = q != NULL ? (size_t)(q - url) : strlen(url);
	if (base < sizeof(verb) - 1 ||
	    strncmp(url + base - (sizeof(verb) - 1), verb,
	    sizeof(verb) - 1) != 0) {
		p = ":streamGenerateContent";
		if (base < strlen(p) ||
		    strncmp(url + base - strlen(p), p, strlen(p)) != 0) {
			errbuf_set(err, "cannot stream: url does not end in "
			    ":generateContent");
			return jv_invalid();
		}
		/* Already the streaming verb: only make sure of alt=sse. */
		if (q != NULL && (strstr(q, "?alt=sse") != NULL ||
		    strstr(q, "&alt=sse") != NULL))
			return jv_string(url);
		return jv_string_fmt("%s%calt=sse", url, q ? '&' : '?');
	}
	out = jv_string_sized(url, (int)(base - (sizeof(verb) - 1)));
	out = jv_string_append_str(out, ":streamGenerateContent?");
	if (q != NULL && q[1] != '\0') {
		out = jv_string_append_str(out, q + 1);
		out = jv_string_append_str(out, "&");
	}
	return jv_string_append_str(out, "alt=sse");
}

static int
google_build(jv canon, jv target, int stream, jv *body, jv *headers,
    jv *url, char *err)
{
	jv b = jv_object(), contents, u = jv_null();
	const char *sys = json_peek_string(canon, "system");

	*body = *headers = *url = jv_invalid();
	if (build_contents(canon, target, &contents, err) == -1) {
		jv_free(b);
		return -1;
	}
	b = json_set(b, "contents", contents);
	if (sys != NULL && *sys != '\0')
		b = json_set(b, "systemInstruction", json_set(jv_object(),
		    "parts",
		    jv_array_append(jv_array(), json_set(jv_object(), "text",
		    jv_string(sys)))));
	if (build_tools(canon, &b, err) == -1) {
		jv_free(b);
		return -1;
	}
	b = json_set(b, "generationConfig", generation_config(canon, target));
	if (stream) {
		const char *tu = json_peek_string(target, "url");

		if (tu == NULL) {
			jv_free(b);
			return errbuf_set(err, "target has no url");
		}
		u = stream_url(tu, err);
		if (!jv_is_valid(u)) {
			jv_free(b);
			return -1;
		}
	}
	*body = b;
	*headers = jv_object();
	*url = u;
	return 0;
}

/* What parse gathers over one response, or over the chunks of a stream. */
struct acc {
	jv	 text, reasoning, calls;
	jv	 sig_call, sig_last;	/* strings, or invalid */
	jv	 finish, usage, model, block;
	int	 ncalls;
};

/* Folds one GenerateContentResponse (borrowed) into a.  -1 with err. */
static int
parse_chunk(struct acc *a, jv r, char *err)
{
	jv cands, c, parts, v;
	int i, n;

	if (jv_get_kind(r) != JV_KIND_OBJECT)
		return errbuf_set(err, "response is not a JSON object");
	if (has_kind(r, "error", JV_KIND_OBJECT)) {
		jv e = json_get(r, "error");
		const char *m = json_peek_string(e, "message");

		errbuf_set(err, "error in response: %s", m ? m : "?");
		jv_free(e);
		return -1;
	}
	if (!has_kind(r, "candidates", JV_KIND_ARRAY) &&
	    !has_kind(r, "promptFeedback", JV_KIND_OBJECT) &&
	    !has_kind(r, "usageMetadata", JV_KIND_OBJECT))
		return errbuf_set(err, "not a generateContent response "
		    "(no candidates)");

	if ((v = json_field(r, "modelVersion"),
	    jv_get_kind(v) == JV_KIND_STRING)) {
		jv_free(a->model);
		a->model = v;
	} else
		jv_free(v);
	if ((v = json_field(r, "usageMetadata"),
	    jv_get_kind(v) == JV_KIND_OBJECT)) {
		/* Streams repeat the running totals: the last one holds. */
		jv_free(a->usage);
		a->usage = v;
	} else
		jv_free(v);
	v = json_field(r, "promptFeedback");
	if (has_kind(v, "blockReason", JV_KIND_STRING)) {
		jv_free(a->block);
		a->block = json_get(v, "blockReason");
	}
	jv_free(v);

	/* Only the first candidate: we never ask for more. */
	cands = json_field(r, "candidates");
	c = array_len(cands) > 0 ? jv_array_get(jv_copy(cands), 0) :
	    jv_invalid();
	jv_free(cands);
	if (jv_get_kind(c) != JV_KIND_OBJECT) {
		jv_free(c);
		return 0;
	}
	if ((v = json_field(c, "finishReason"),
	    jv_get_kind(v) == JV_KIND_STRING)) {
		jv_free(a->finish);
		a->finish = v;
	} else
		jv_free(v);
	v = json_field(c, "content");
	parts = json_field(v, "parts");
	jv_free(v);
	jv_free(c);
	n = array_len(parts);
	for (i = 0; i < n; i++) {
		jv p = jv_array_get(jv_copy(parts), i), fc, sig;
		int thought = 0;

		sig = json_field(p, "thoughtSignature");
		if (jv_get_kind(sig) != JV_KIND_STRING) {
			jv_free(sig);
			sig = jv_invalid();
		}
		fc = json_field(p, "functionCall");
		if (jv_get_kind(fc) == JV_KIND_OBJECT) {
			const char *id = json_peek_string(fc, "id");
			jv call, args;

			call = json_set(jv_object(), "id", id != NULL && *id ?
			    jv_string(id) : jv_string_fmt("call_%d",
			    a->ncalls));
			call = json_set(call, "name", has_kind(fc, "name",
			    JV_KIND_STRING) ? json_get(fc, "name") :
			    jv_string(""));
			args = json_field(fc, "args");
			if (jv_get_kind(args) == JV_KIND_OBJECT)
				call = json_set(call, "arguments", args);
			else if (!jv_is_valid(args))
				call = json_set(call, "arguments", jv_object());
			else {
				call = json_set(call, "arguments_raw",
				    jv_dump_string(args, 0));
				call = json_set(call, "arguments", jv_object());
			}
			a->calls = jv_array_append(a->calls, call);
			a->ncalls++;
			if (jv_is_valid(sig) && !jv_is_valid(a->sig_call)) {
				a->sig_call = sig;
				sig = jv_invalid();
			}
		} else if (has_kind(p, "text", JV_KIND_STRING)) {
			jv t = json_get(p, "text");

			(void)json_peek_bool(p, "thought", &thought);
			if (thought)
				a->reasoning = jv_string_concat(a->reasoning,
				    t);
			else
				a->text = jv_string_concat(a->text, t);
		}
		jv_free(fc);
		if (jv_is_valid(sig)) {
			jv_free(a->sig_last);
			a->sig_last = sig;
		}
		jv_free(p);
	}
	jv_free(parts);
	return 0;
}

static const char *
stop_reason(const char *finish, int calls)
{
	static const char *const filtered[] = {
		"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT",
		"SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT",
	};
	size_t i;

	if (strcmp(finish, "STOP") == 0)
		return calls ? "tool_use" : "stop";
	if (strcmp(finish, "MAX_TOKENS") == 0)
		return "length";
	for (i = 0; i < sizeof(filtered) / sizeof(filtered[0]); i++)
		if (strcmp(finish, filtered[i]) == 0)
			return "content_filter";
	/* MALFORMED_FUNCTION_CALL, OTHER, LANGUAGE, ... */
	return "error";
}

static double
usage_number(jv u, const char *key)
{
	double d = 0;

	(void)json_peek_number(u, key, &d);
	return d;
}

static jv
usage(jv u)
{
	double prompt = usage_number(u, "promptTokenCount");
	double cached = usage_number(u, "cachedContentTokenCount");
	double cand = usage_number(u, "candidatesTokenCount");
	double thoughts = usage_number(u, "thoughtsTokenCount");
	jv o = jv_object();

	o = json_set(o, "input",
	    jv_number(prompt > cached ? prompt - cached : 0));
	o = json_set(o, "output", jv_number(cand + thoughts));
	o = json_set(o, "cache_read", jv_number(cached));
	o = json_set(o, "cache_write", jv_number(0));
	return json_set(o, "reasoning", jv_number(thoughts));
}

/*
 * A body is one GenerateContentResponse; a JSON array of them (what
 * streamGenerateContent answers without alt=sse) is folded in order, so
 * the last stream event alone and the whole stream parse alike.
 * "stop_reason" is absent when no finishReason came (a stream cut short).
 */
static void
acc_init(struct acc *a)
{
	a->text = jv_string("");
	a->reasoning = jv_string("");
	a->calls = jv_array();
	a->sig_call = a->sig_last = jv_invalid();
	a->finish = a->usage = a->model = a->block = jv_invalid();
	a->ncalls = 0;
}

static void
acc_release(struct acc *a)
{
	jv_free(a->text);
	jv_free(a->reasoning);
	jv_free(a->calls);
	jv_free(a->sig_call);
	jv_free(a->sig_last);
	jv_free(a->finish);
	jv_free(a->usage);
	jv_free(a->model);
	jv_free(a->block);
}

/* The response fields of what a holds. */
static jv
acc_fields(struct acc *a)
{
	jv out = jv_object();

	if (jv_string_length_bytes(jv_copy(a->text)) > 0)
		out = json_set(out, "text", jv_copy(a->text));
	else
		out = json_set(out, "text", jv_null());
	if (jv_string_length_bytes(jv_copy(a->reasoning)) > 0)
		out = json_set(out, "reasoning", jv_copy(a->reasoning));
	if (jv_is_valid(a->sig_call))
		out = json_set(out, "reasoning_signature",
		    jv_copy(a->sig_call));
	else if (jv_is_valid(a->sig_last))
		out = json_set(out, "reasoning_signature",
		    jv_copy(a->sig_last));
	if (a->ncalls > 0)
		out = json_set(out, "tool_calls", jv_copy(a->calls));
	if (jv_is_valid(a->block))
		out = json_set(out, "stop_reason", jv_string("content_filter"));
	else if (jv_is_valid(a->finish))
		out = json_set(out, "stop_reason", jv_string(stop_reason(
		    jv_string_value(a->finish), a->ncalls > 0)));
	out = json_set(out, "usage", usage(a->usage));
	if (jv_is_valid(a->model))
		out = json_set(out, "provider_model", jv_copy(a->model));
	return out;
}

static int
google_parse(const char *body, size_t len, jv target, jv *resp, char *err)
{
	struct acc a;
	jv v;
	int i, n, rc = 0;

	(void)target;
	*resp = jv_invalid();
	if (len > INT_MAX)
		return errbuf_set(err, "response body too large");
	v = jv_parse_sized(body, (int)len);
	if (!jv_is_valid(v)) {
		jv_free(v);
		return errbuf_set(err, "response body is not JSON");
	}
	acc_init(&a);
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		if (n == 0)
			rc = errbuf_set(err, "response is an empty list");
		for (i = 0; i < n && rc == 0; i++) {
			jv r = jv_array_get(jv_copy(v), i);

			rc = parse_chunk(&a, r, err);
			jv_free(r);
		}
	} else
		rc = parse_chunk(&a, v, err);
	jv_free(v);
	if (rc == 0)
		*resp = acc_fields(&a);
	acc_release(&a);
	return rc;
}

/*
 * {"error": {"code": 404, "message": "...", "status": "NOT_FOUND"}}:
 * "type" is the status, "code" the HTTP-like code as a string.
 */
static jv
google_error(int status, const char *body, size_t len)
{
	jv out = dialect_error_generic(status, body, len), v, e;

	if (len == 0 || len > INT_MAX)
		return out;
	v = jv_parse_sized(body, (int)len);
	if (jv_get_kind(v) == JV_KIND_ARRAY)	/* [{"error": ...}] */
		v = jv_array_get(v, 0);
	e = json_get(v, "error");
	if (has_kind(e, "status", JV_KIND_STRING))
		out = json_set(out, "type", json_get(e, "status"));
	jv_free(e);
	jv_free(v);
	return out;
}

/*
 * Streaming (streamGenerateContent?alt=sse): each event is one
 * GenerateContentResponse, folded into the answer as parse folds a list
 * of them, so the end's fields are parse's.  Text parts are text, parts
 * marked "thought" reasoning; each functionCall part is a whole call,
 * sent as one tool_call event with the compact JSON of its "args" (ids
 * "call_<n>" where the API gives none, as parse names them).  Thought
 * signatures go to the end's "reasoning_signature" only.  Usage is the
 * last usageMetadata (each event repeats the running totals).
 *
 * The API has no terminal event: the body ends after the event that
 * carries a finishReason (or a promptFeedback.blockReason).  From that
 * event on the answer can end (DIALECT_STREAM_CAN_END), and events that
 * still come are folded in too; a body that ends before it was cut.  An
 * event holding {"error": {...}} fails the stream, its "code" (429, 500,
 * ...) the kind's hint.  An event that is none of these (no candidates,
 * promptFeedback or usageMetadata) is skipped.
 */
struct gg_stream {
	struct acc	 a;
	int		 state;
};

static void *
gg_stream_new(jv target)
{
	struct gg_stream *st = xcalloc(1, sizeof(*st));

	(void)target;
	acc_init(&st->a);
	return st;
}

static void
gg_stream_free(void *vst)
{
	struct gg_stream *st = vst;

	acc_release(&st->a);
	free(st);
}

/* The events of one GenerateContentResponse (borrowed), before folding. */
static void
gg_events(struct gg_stream *st, jv r, jv *events)
{
	jv cands, c, parts, p, fc, args, t;
	const char *id;
	struct buf b;
	int i, n, k = st->a.ncalls, thought;

	cands = json_field(r, "candidates");
	c = array_len(cands) > 0 ? jv_array_get(jv_copy(cands), 0) :
	    jv_invalid();
	jv_free(cands);
	p = json_field(c, "content");
	parts = json_field(p, "parts");
	jv_free(p);
	jv_free(c);
	n = array_len(parts);
	for (i = 0; i < n; i++) {
		p = jv_array_get(jv_copy(parts), i);
		fc = json_field(p, "functionCall");
		if (jv_get_kind(fc) == JV_KIND_OBJECT) {
			buf_init(&b, DIALECT_STREAM_BODY_MAX);
			args = json_field(fc, "args");
			if (jv_is_valid(args))
				(void)json_write(&b, args);
			jv_free(args);
			id = json_peek_string(fc, "id");
			t = id != NULL && *id ? jv_string(id) :
			    jv_string_fmt("call_%d", k);
			*events = jv_array_append(*events, dialect_event_call(
			    k++, jv_string_value(t), json_peek_string(fc,
			    "name"), buf_cstr(&b), b.len));
			jv_free(t);
			buf_release(&b);
		} else if (has_kind(p, "text", JV_KIND_STRING)) {
			t = json_get(p, "text");
			thought = 0;
			(void)json_peek_bool(p, "thought", &thought);
			if (jv_string_length_bytes(jv_copy(t)) > 0)
				*events = jv_array_append(*events,
				    dialect_event_delta(thought ? "reasoning" :
				    "text", t));
			else
				jv_free(t);
		}
		jv_free(fc);
		jv_free(p);
	}
	jv_free(parts);
}

static int
gg_chunk(struct gg_stream *st, jv r, const char *data, size_t len,
    jv *events, jv *einfo)
{
	char err[ERRBUF_MAX];

	if (jv_get_kind(r) != JV_KIND_OBJECT)
		return dialect_event_fail(einfo, "stream event data is not "
		    "a JSON object");
	if (has_kind(r, "error", JV_KIND_OBJECT)) {
		jv_free(*einfo);
		*einfo = dialect_event_status(google_error(200, data, len));
		return DIALECT_STREAM_FAIL;
	}
	if (!has_kind(r, "candidates", JV_KIND_ARRAY) &&
	    !has_kind(r, "promptFeedback", JV_KIND_OBJECT) &&
	    !has_kind(r, "usageMetadata", JV_KIND_OBJECT))
		return 0;
	gg_events(st, r, events);
	if (parse_chunk(&st->a, r, err) == -1)
		return dialect_event_fail(einfo, "%s", err);
	return 0;
}

static int
gg_stream_event(void *vst, const char *type, const char *data, size_t len,
    jv *events, jv *einfo)
{
	struct gg_stream *st = vst;
	jv v, r;
	int i, n, rc = 0;

	(void)type;
	if (st->state != 0)
		return st->state;
	if (dialect_event_json(data, len, &v, einfo) != 0)
		return st->state = DIALECT_STREAM_FAIL;
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n && rc == 0; i++) {
			r = jv_array_get(jv_copy(v), i);
			rc = gg_chunk(st, r, data, len, events, einfo);
			jv_free(r);
		}
	} else
		rc = gg_chunk(st, v, data, len, events, einfo);
	jv_free(v);
	if (rc != 0)
		return st->state = DIALECT_STREAM_FAIL;
	if (jv_is_valid(st->a.finish) || jv_is_valid(st->a.block))
		return DIALECT_STREAM_CAN_END;
	return DIALECT_STREAM_MORE;
}

static jv
gg_stream_end(void *vst, int complete)
{
	struct gg_stream *st = vst;

	(void)complete;		/* no finishReason: no stop_reason */
	return acc_fields(&st->a);
}

const struct dialect dialect_google_generative_ai = {
	.api = "google-generative-ai",
	.build = google_build,
	.parse = google_parse,
	.error = google_error,
	.stream_new = gg_stream_new,
	.stream_event = gg_stream_event,
	.stream_end = gg_stream_end,
	.stream_free = gg_stream_free,
};
