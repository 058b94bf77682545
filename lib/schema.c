#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "json.h"
#include "schema.h"

const char *const schema_apis[] = {
	"openai-completions", "openai-responses", "anthropic-messages",
	"google-generative-ai", "echo", NULL
};

const char *const schema_auth_schemes[] = {
	"bearer", "x-api-key", "api-key", "x-goog-api-key", "none", NULL
};

const char *const schema_thinking_levels[] = {
	"off", "minimal", "low", "medium", "high", "xhigh", "max", NULL
};

static const char *const input_kinds[] = { "text", "image", NULL };

int
schema_in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Path bookkeeping: push a key (or an index) while checking below it. */
static void
push(struct schema_where *w, const char *key)
{
	if (w->depth < SCHEMA_DEPTH)
		snprintf(w->key[w->depth], SCHEMA_KEY, "%s", key);
	w->depth++;
}

static void
pushi(struct schema_where *w, int i)
{
	char n[16];

	snprintf(n, sizeof(n), "%d", i);
	push(w, n);
}

static void
pop(struct schema_where *w)
{
	w->depth--;
}

static int bad(struct schema_where *, char *, const char *, const char *,
    ...) __attribute__((format(printf, 4, 5)));

/* Points where at key (when not NULL) and formats the reason into err. */
static int
bad(struct schema_where *w, char *err, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (key)
		push(w, key);
	va_start(ap, fmt);
	vsnprintf(err, ERRBUF_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* Checks obj[key] has kind k (or is absent when optional). */
static int
want(jv obj, const char *key, jv_kind k, int required,
    struct schema_where *w, char *err)
{
	jv_kind got = json_peek_kind(obj, key);

	if (got == JV_KIND_INVALID)
		return required ? bad(w, err, key, "missing %s", key) : 0;
	if (got == k || (k == JV_KIND_TRUE && got == JV_KIND_FALSE))
		return 0;
	push(w, key);
	return errbuf_set(err, "expected %s, got %s",
	    k == JV_KIND_TRUE ? "true or false" : json_kind_name(k),
	    json_kind_name(got));
}

static int
want_enum(jv obj, const char *key, const char *const *list, int required,
    struct schema_where *w, char *err)
{
	const char *s;

	if (want(obj, key, JV_KIND_STRING, required, w, err) == -1)
		return -1;
	if ((s = json_peek_string(obj, key)) != NULL && !schema_in(s, list))
		return bad(w, err, key, "unknown value '%s'", s);
	return 0;
}

static int
want_posint(jv obj, const char *key, int required, struct schema_where *w,
    char *err)
{
	double d;

	if (want(obj, key, JV_KIND_NUMBER, required, w, err) == -1)
		return -1;
	if (json_peek_number(obj, key, &d) && (d < 1 || d != floor(d) ||
	    d > 1e12))
		return bad(w, err, key, "%s must be a positive integer", key);
	return 0;
}

/* Every member of obj[key] (an object) has kind k; null allowed if nul. */
static int
want_members(jv obj, const char *key, jv_kind k, int nul,
    struct schema_where *w, char *err)
{
	jv o = json_get(obj, key);
	int it, r = 0;

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		return want(obj, key, JV_KIND_OBJECT, 0, w, err);
	}
	push(w, key);
	for (it = jv_object_iter(o); r == 0 && jv_object_iter_valid(o, it);
	    it = jv_object_iter_next(o, it)) {
		jv mk = jv_object_iter_key(o, it);
		jv mv = jv_object_iter_value(o, it);
		jv_kind got = jv_get_kind(mv);

		if (got != k && !(nul && got == JV_KIND_NULL)) {
			push(w, jv_string_value(mk));
			r = errbuf_set(err, "expected %s, got %s",
			    json_kind_name(k), json_kind_name(got));
		}
		jv_free(mk);
		jv_free(mv);
	}
	if (r == 0)
		pop(w);
	jv_free(o);
	return r;
}

static int
want_strings(jv obj, const char *key, const char *const *list, int required,
    struct schema_where *w, char *err)
{
	jv a = json_get(obj, key);
	int i, n, r = 0;

	if (jv_get_kind(a) != JV_KIND_ARRAY) {
		jv_free(a);
		return want(obj, key, JV_KIND_ARRAY, required, w, err);
	}
	push(w, key);
	n = jv_array_length(jv_copy(a));
	for (i = 0; r == 0 && i < n; i++) {
		jv e = jv_array_get(jv_copy(a), i);

		if (jv_get_kind(e) != JV_KIND_STRING) {
			pushi(w, i);
			r = errbuf_set(err, "expected string, got %s",
			    json_kind_name(jv_get_kind(e)));
		} else if (list && !schema_in(jv_string_value(e), list)) {
			pushi(w, i);
			r = errbuf_set(err, "unknown value '%s'",
			    jv_string_value(e));
		}
		jv_free(e);
	}
	if (r == 0)
		pop(w);
	jv_free(a);
	return r;
}

static int
check_limits(jv obj, const char *key, struct schema_where *w, char *err)
{
	jv l = json_get(obj, key);
	int r;

	if (jv_get_kind(l) != JV_KIND_OBJECT) {
		jv_free(l);
		return want(obj, key, JV_KIND_OBJECT, 0, w, err);
	}
	push(w, key);
	r = want_posint(l, "rpm", 0, w, err) == -1 ||
	    want_posint(l, "tpm", 0, w, err) == -1 ||
	    want_posint(l, "rpd", 0, w, err) == -1 ||
	    want_posint(l, "concurrency", 0, w, err) == -1 ? -1 : 0;
	if (r == 0)
		pop(w);
	jv_free(l);
	return r;
}

static int
check_cost(jv m, int strict, struct schema_where *w, char *err)
{
	static const char *const keys[] = {
		"input", "output", "cacheRead", "cacheWrite", NULL
	};
	jv c = json_get(m, "cost");
	const char *const *k;
	double d;
	int r = 0;

	if (jv_get_kind(c) != JV_KIND_OBJECT) {
		jv_free(c);
		return want(m, "cost", JV_KIND_OBJECT, strict, w, err);
	}
	push(w, "cost");
	for (k = keys; r == 0 && *k; k++) {
		if ((r = want(c, *k, JV_KIND_NUMBER, strict, w, err)) == -1)
			break;
		if (json_peek_number(c, *k, &d) && d < 0)
			r = bad(w, err, *k, "%s must not be negative", *k);
	}
	if (r == 0)
		pop(w);
	jv_free(c);
	return r;
}

static int
check_model(jv m, int strict, struct schema_where *w, char *err)
{
	jv tm;
	int it, r = 0;

	if (jv_get_kind(m) != JV_KIND_OBJECT)
		return errbuf_set(err, "expected object, got %s",
		    json_kind_name(jv_get_kind(m)));
	if (want(m, "id", JV_KIND_STRING, 1, w, err) == -1 ||
	    want(m, "name", JV_KIND_STRING, strict, w, err) == -1 ||
	    want_enum(m, "api", schema_apis, 0, w, err) == -1 ||
	    want(m, "baseUrl", JV_KIND_STRING, 0, w, err) == -1 ||
	    want(m, "path", JV_KIND_STRING, 0, w, err) == -1 ||
	    want(m, "reasoning", JV_KIND_TRUE, strict, w, err) == -1 ||
	    want_strings(m, "input", input_kinds, strict, w, err) == -1 ||
	    want_posint(m, "contextWindow", strict, w, err) == -1 ||
	    want_posint(m, "maxTokens", strict, w, err) == -1 ||
	    check_cost(m, strict, w, err) == -1 ||
	    want(m, "compat", JV_KIND_OBJECT, 0, w, err) == -1 ||
	    want_members(m, "headers", JV_KIND_STRING, 0, w, err) == -1 ||
	    check_limits(m, "limits", w, err) == -1 ||
	    want_enum(m, "type", (const char *const[]){ "chat", "embedding",
	    NULL }, 0, w, err) == -1 ||
	    want_posint(m, "dims", 0, w, err) == -1 ||
	    want_members(m, "thinkingLevelMap", JV_KIND_STRING, 1, w,
	    err) == -1)
		return -1;
	tm = json_get(m, "thinkingLevelMap");
	if (jv_get_kind(tm) == JV_KIND_OBJECT) {
		for (it = jv_object_iter(tm); r == 0 &&
		    jv_object_iter_valid(tm, it);
		    it = jv_object_iter_next(tm, it)) {
			jv k = jv_object_iter_key(tm, it);

			if (!schema_in(jv_string_value(k),
			    schema_thinking_levels)) {
				push(w, "thinkingLevelMap");
				r = bad(w, err, jv_string_value(k),
				    "unknown thinking level '%s'",
				    jv_string_value(k));
			}
			jv_free(k);
		}
	}
	jv_free(tm);
	return r;
}

static int
check_families(jv p, jv models, struct schema_where *w, char *err)
{
	jv f = json_get(p, "families");
	int i, j, n, nm, r = 0;

	if (jv_get_kind(f) != JV_KIND_ARRAY) {
		jv_free(f);
		return want(p, "families", JV_KIND_ARRAY, 0, w, err);
	}
	push(w, "families");
	n = jv_array_length(jv_copy(f));
	nm = jv_get_kind(models) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(models)) : 0;
	for (i = 0; r == 0 && i < n; i++) {
		jv e = jv_array_get(jv_copy(f), i);
		const char *t;
		int found = 0;

		pushi(w, i);
		if (jv_get_kind(e) != JV_KIND_OBJECT)
			r = errbuf_set(err, "expected object");
		else if (want(e, "match", JV_KIND_STRING, 1, w, err) == -1 ||
		    want(e, "template", JV_KIND_STRING, 1, w, err) == -1)
			r = -1;
		else {
			t = json_peek_string(e, "template");
			for (j = 0; !found && j < nm; j++) {
				jv m = jv_array_get(jv_copy(models), j);
				const char *id = json_peek_string(m, "id");

				found = id && strcmp(id, t) == 0;
				jv_free(m);
			}
			if (!found && nm > 0)
				r = bad(w, err, "template",
				    "template model '%s' is not listed", t);
		}
		if (r == 0)
			pop(w);
		jv_free(e);
	}
	if (r == 0)
		pop(w);
	jv_free(f);
	return r;
}

static int
check_provider(jv p, int strict, struct schema_where *w, char *err)
{
	jv models, ov;
	int i, n, it, r = 0, any = 0;

	if (jv_get_kind(p) != JV_KIND_OBJECT)
		return errbuf_set(err, "expected object, got %s",
		    json_kind_name(jv_get_kind(p)));
	if (want(p, "name", JV_KIND_STRING, strict, w, err) == -1 ||
	    want(p, "baseUrl", JV_KIND_STRING, strict, w, err) == -1 ||
	    want(p, "path", JV_KIND_STRING, 0, w, err) == -1 ||
	    want_enum(p, "api", schema_apis, strict, w, err) == -1 ||
	    want_enum(p, "auth", schema_auth_schemes, strict, w, err) == -1 ||
	    want_strings(p, "env", NULL, strict, w, err) == -1 ||
	    want(p, "apiKey", JV_KIND_STRING, 0, w, err) == -1 ||
	    want_strings(p, "apiKeys", NULL, 0, w, err) == -1 ||
	    want(p, "authHeader", JV_KIND_TRUE, 0, w, err) == -1 ||
	    want_members(p, "headers", JV_KIND_STRING, 0, w, err) == -1 ||
	    want_members(p, "query", JV_KIND_STRING, 0, w, err) == -1 ||
	    want_members(p, "endpoints", JV_KIND_STRING, 0, w, err) == -1 ||
	    want(p, "endpoint", JV_KIND_STRING, 0, w, err) == -1 ||
	    want(p, "compat", JV_KIND_OBJECT, 0, w, err) == -1 ||
	    check_limits(p, "limits", w, err) == -1 ||
	    want(p, "anyModel", JV_KIND_TRUE, 0, w, err) == -1 ||
	    want(p, "modelDefaults", JV_KIND_OBJECT, 0, w, err) == -1 ||
	    want(p, "models", JV_KIND_ARRAY, strict, w, err) == -1 ||
	    want_members(p, "modelOverrides", JV_KIND_OBJECT, 0, w,
	    err) == -1)
		return -1;
	json_peek_bool(p, "anyModel", &any);
	if (strict && any &&
	    want(p, "modelDefaults", JV_KIND_OBJECT, 1, w, err) == -1)
		return -1;
	/*
	 * A configuration may name an endpoint the catalog defines; only the
	 * catalog must be self-contained.  Resolution checks the name.
	 */
	if (strict && json_peek_kind(p, "endpoint") == JV_KIND_STRING) {
		jv e = json_get(p, "endpoints");
		const char *name = json_peek_string(p, "endpoint");

		r = jv_get_kind(e) == JV_KIND_OBJECT &&
		    json_peek_kind(e, name) == JV_KIND_STRING ? 0 :
		    bad(w, err, "endpoint", "unknown endpoint '%s'", name);
		jv_free(e);
		if (r == -1)
			return -1;
	}
	models = json_get(p, "models");
	n = jv_get_kind(models) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(models)) : 0;
	push(w, "models");
	for (i = 0; r == 0 && i < n; i++) {
		jv m = jv_array_get(jv_copy(models), i);

		pushi(w, i);
		if ((r = check_model(m, strict, w, err)) == 0)
			pop(w);
		jv_free(m);
	}
	if (r == 0) {
		pop(w);
		r = check_families(p, models, w, err);
	}
	jv_free(models);
	if (r == -1)
		return -1;
	ov = json_get(p, "modelOverrides");
	if (jv_get_kind(ov) == JV_KIND_OBJECT) {
		push(w, "modelOverrides");
		for (it = jv_object_iter(ov); r == 0 &&
		    jv_object_iter_valid(ov, it);
		    it = jv_object_iter_next(ov, it)) {
			jv k = jv_object_iter_key(ov, it);
			jv m = jv_object_iter_value(ov, it);

			/* An override names its model by key, not by id. */
			m = jv_object_set(m, jv_string("id"), jv_copy(k));
			push(w, jv_string_value(k));
			if ((r = check_model(m, 0, w, err)) == 0)
				pop(w);
			jv_free(k);
			jv_free(m);
		}
		if (r == 0)
			pop(w);
	}
	jv_free(ov);
	return r;
}

static int
check_providers(jv root, int strict, struct schema_where *w, char *err)
{
	jv ps = json_get(root, "providers");
	int it, r = 0;

	if (jv_get_kind(ps) != JV_KIND_OBJECT) {
		jv_free(ps);
		return want(root, "providers", JV_KIND_OBJECT, strict, w, err);
	}
	push(w, "providers");
	for (it = jv_object_iter(ps); r == 0 && jv_object_iter_valid(ps, it);
	    it = jv_object_iter_next(ps, it)) {
		jv k = jv_object_iter_key(ps, it);
		jv p = jv_object_iter_value(ps, it);

		push(w, jv_string_value(k));
		if (strpbrk(jv_string_value(k), "/#") != NULL ||
		    jv_string_length_bytes(jv_copy(k)) == 0)
			r = errbuf_set(err, "a provider name must be non-empty "
			    "and hold no '/' or '#'");
		else if ((r = check_provider(p, strict, w, err)) == 0)
			pop(w);
		jv_free(k);
		jv_free(p);
	}
	if (r == 0)
		pop(w);
	jv_free(ps);
	return r;
}

int
schema_catalog(jv root, struct schema_where *w, char *err)
{
	w->depth = 0;
	if (jv_get_kind(root) != JV_KIND_OBJECT)
		return errbuf_set(err, "expected an object");
	if (want_posint(root, "version", 1, w, err) == -1)
		return -1;
	return check_providers(root, 1, w, err);
}

static int
check_alias(jv a, struct schema_where *w, char *err)
{
	jv_kind k = jv_get_kind(a);

	if (k == JV_KIND_STRING)
		return 0;
	if (k != JV_KIND_OBJECT)
		return errbuf_set(err, "expected a model reference or an "
		    "object, got %s", json_kind_name(k));
	if (want(a, "model", JV_KIND_STRING, 0, w, err) == -1 ||
	    want_strings(a, "fallbacks", NULL, 0, w, err) == -1 ||
	    want(a, "params", JV_KIND_OBJECT, 0, w, err) == -1 ||
	    want_members(a, "weights", JV_KIND_NUMBER, 0, w, err) == -1)
		return -1;
	if (json_peek_kind(a, "model") == JV_KIND_INVALID &&
	    json_peek_kind(a, "weights") == JV_KIND_INVALID)
		return errbuf_set(err, "an alias needs \"model\" or "
		    "\"weights\"");
	if (json_peek_kind(a, "weights") == JV_KIND_OBJECT) {
		jv ws = json_get(a, "weights");
		int it, r = 0, n = 0;

		for (it = jv_object_iter(ws); r == 0 &&
		    jv_object_iter_valid(ws, it);
		    it = jv_object_iter_next(ws, it)) {
			jv v = jv_object_iter_value(ws, it);

			if (jv_number_value(v) < 0 ||
			    !isfinite(jv_number_value(v)))
				r = bad(w, err, "weights", "%s", "a weight must "
				    "be a non-negative number");
			n++;
			jv_free(v);
		}
		jv_free(ws);
		if (r == 0 && n == 0)
			r = bad(w, err, "weights", "%s", "no weights given");
		return r;
	}
	return 0;
}

int
schema_config(jv root, struct schema_where *w, char *err)
{
	jv o;
	int it, r = 0;

	w->depth = 0;
	if (jv_get_kind(root) != JV_KIND_OBJECT)
		return errbuf_set(err, "expected an object, got %s",
		    json_kind_name(jv_get_kind(root)));
	if (check_providers(root, 0, w, err) == -1 ||
	    want(root, "models", JV_KIND_OBJECT, 0, w, err) == -1 ||
	    want(root, "defaults", JV_KIND_OBJECT, 0, w, err) == -1 ||
	    want_members(root, "limits", JV_KIND_OBJECT, 0, w, err) == -1)
		return -1;
	o = json_get(root, "defaults");
	if (jv_get_kind(o) == JV_KIND_OBJECT) {
		push(w, "defaults");
		r = want(o, "model", JV_KIND_STRING, 0, w, err) == -1 ||
		    want(o, "embed_model", JV_KIND_STRING, 0, w, err) == -1 ?
		    -1 : 0;
		if (r == 0)
			pop(w);
	}
	jv_free(o);
	if (r == -1)
		return -1;
	o = json_get(root, "models");
	if (jv_get_kind(o) == JV_KIND_OBJECT) {
		push(w, "models");
		for (it = jv_object_iter(o); r == 0 &&
		    jv_object_iter_valid(o, it);
		    it = jv_object_iter_next(o, it)) {
			jv k = jv_object_iter_key(o, it);
			jv a = jv_object_iter_value(o, it);

			push(w, jv_string_value(k));
			if ((r = check_alias(a, w, err)) == 0)
				pop(w);
			jv_free(k);
			jv_free(a);
		}
		if (r == 0)
			pop(w);
	}
	jv_free(o);
	if (r == -1)
		return -1;
	o = json_get(root, "limits");
	if (jv_get_kind(o) == JV_KIND_OBJECT) {
		push(w, "limits");
		for (it = jv_object_iter(o); r == 0 &&
		    jv_object_iter_valid(o, it);
		    it = jv_object_iter_next(o, it)) {
			jv k = jv_object_iter_key(o, it);
			jv tmp = jv_object();

			tmp = jv_object_set(tmp, jv_copy(k),
			    jv_object_iter_value(o, it));
			r = check_limits(tmp, jv_string_value(k), w, err);
			jv_free(tmp);
			jv_free(k);
		}
		if (r == 0)
			pop(w);
	}
	jv_free(o);
	return r;
}

void
schema_where_string(const struct schema_where *w, char *out, size_t n)
{
	size_t len = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < w->depth && i < SCHEMA_DEPTH && len < n; i++) {
		const char *k = w->key[i];
		int num = *k && strspn(k, "0123456789") == strlen(k);

		if (num)
			len += (size_t)snprintf(out + len, n - len, "[%s]", k);
		else
			len += (size_t)snprintf(out + len, n - len, "%s%s",
			    i ? "." : "", k);
	}
}
