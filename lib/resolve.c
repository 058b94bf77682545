#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "json.h"
#include "record.h"
#include "resolve.h"
#include "schema.h"
#include "value.h"
#include "xalloc.h"

#define ALIAS_DEPTH	8	/* aliases naming aliases, at most */
#define SUGGEST_MAX	3
#define RESOLVE_CACHE_MAX 4096	/* targets and failures kept */

void
resolver_init(struct resolver *r, struct catalog *cat, struct config *cfg)
{
	memset(r, 0, sizeof(*r));
	provider_set_init(&r->ps, cat, cfg);
	r->cfg = cfg;
	r->targets = jv_object();
	r->failures = jv_object();
	r->extra = jv_array();
	r->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

void
resolver_release(struct resolver *r)
{
	provider_set_release(&r->ps);
	jv_free(r->targets);
	jv_free(r->failures);
	jv_free(r->extra);
	r->targets = r->failures = r->extra = jv_invalid();
}

void
resolver_seed(struct resolver *r, uint64_t seed)
{
	r->rng = seed;
}

/* splitmix64: small, fast, and the same sequence for the same seed. */
static double
rnd(struct resolver *r)
{
	uint64_t z = (r->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return (double)(z >> 11) / (double)(1ULL << 53);
}

/*
 * Replaces {VAR} in a base URL with the variable's value.  Returns a new
 * string, or NULL with err naming the unset variable.
 */
static char *
expand_url(const char *pname, const char *url, char *err)
{
	char *out = xstrdup(""), *tmp, name[128];
	const char *s = url, *open, *close, *v;

	while ((open = strchr(s, '{')) != NULL &&
	    (close = strchr(open, '}')) != NULL) {
		size_t n = (size_t)(close - open - 1);

		if (n == 0 || n >= sizeof(name))
			break;
		memcpy(name, open + 1, n);
		name[n] = '\0';
		if ((v = getenv(name)) == NULL || *v == '\0') {
			errbuf_set(err, "provider '%s': its base URL needs %s "
			    "set in the environment", pname, name);
			free(out);
			return NULL;
		}
		tmp = xasprintf("%s%.*s%s", out, (int)(open - s), s, v);
		free(out);
		out = tmp;
		s = close + 1;
	}
	tmp = xasprintf("%s%s", out, s);
	free(out);
	return tmp;
}

static const char *
default_scheme(const char *api)
{
	if (strcmp(api, "anthropic-messages") == 0)
		return "x-api-key";
	if (strcmp(api, "google-generative-ai") == 0)
		return "x-goog-api-key";
	if (strcmp(api, "echo") == 0)
		return "none";
	return "bearer";
}

static char *
endpoint_url(const char *api, const char *base, const char *path,
    const char *id)
{
	const char *p, *q;
	char *out;

	if (path == NULL) {
		if (strcmp(api, "openai-completions") == 0)
			path = "/chat/completions";
		else if (strcmp(api, "openai-responses") == 0)
			path = "/responses";
		else if (strcmp(api, "anthropic-messages") == 0)
			path = "/v1/messages";
		else if (strcmp(api, "google-generative-ai") == 0)
			path = "/models/{model}:generateContent";
		else
			path = "";
	}
	/* A query in the base URL goes after the endpoint's path. */
	if ((q = strchr(base, '?')) == NULL)
		q = base + strlen(base);
	if ((p = strstr(path, "{model}")) != NULL)
		out = xasprintf("%.*s%.*s%s%s%s", (int)(q - base), base,
		    (int)(p - path), path, id, p + 7, q);
	else
		out = xasprintf("%.*s%s%s", (int)(q - base), base, path, q);
	return out;
}

/* Appends query parameters (catalog/config values, plain text). */
static char *
add_query(char *url, jv query)
{
	int it, first = strchr(url, '?') == NULL;
	char *tmp;

	if (jv_get_kind(query) != JV_KIND_OBJECT)
		return url;
	for (it = jv_object_iter(query); jv_object_iter_valid(query, it);
	    it = jv_object_iter_next(query, it)) {
		jv k = jv_object_iter_key(query, it);
		jv v = jv_object_iter_value(query, it);

		tmp = xasprintf("%s%c%s=%s", url, first ? '?' : '&',
		    jv_string_value(k), jv_string_value(v));
		free(url);
		url = tmp;
		first = 0;
		jv_free(k);
		jv_free(v);
	}
	jv_free(query);
	return url;
}

static jv
origin_of(jv obj, const char *field)
{
	jv o = json_get(obj, "_origin");
	jv w = json_get(o, field);

	jv_free(o);
	return jv_is_valid(w) ? w : jv_string("default");
}

/* Whether p's apiKey is the catalog's own default. */
static int
catalog_key(jv p)
{
	jv o = json_get(p, "_origin");
	const char *w = json_peek_string(o, "apiKey");
	int r = w && strcmp(w, "catalog") == 0;

	jv_free(o);
	return r;
}

/*
 * Whether a key expression names where a key comes from (a variable, a
 * command, a keyfile entry) rather than holding it.  Anything else is
 * taken as a literal key, which must never reach a record.
 */
static int
names_source(const char *k)
{
	size_t n;

	if (k[0] == '!' || strncmp(k, "keyfile:", 8) == 0)
		return 1;
	if (k[0] != '$')
		return 0;
	n = strlen(k);
	if (k[1] == '{')
		return k[n - 1] == '}' && strspn(k + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_") == n - 3;
	return n > 1 && strspn(k + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") == n - 1;
}

/* A configured key: its expression, or "config:NAME[#N]" for a literal. */
static jv
config_key(const char *k, const char *pname, int nth)
{
	char *ref;
	jv v;

	if (names_source(k))
		return jv_string(k);
	ref = nth ? xasprintf("config:%s#%d", pname, nth) :
	    xasprintf("config:%s", pname);
	v = jv_string(ref);
	free(ref);
	return v;
}

/* The ordered key sources: apiKeys, apiKey, or keyfile then variables. */
static jv
key_sources(jv p, const char *pname, const char *scheme)
{
	jv keys = json_get(p, "apiKeys"), env;
	const char *k;
	char *kf;
	int i, n;

	if (jv_get_kind(keys) == JV_KIND_ARRAY) {
		jv out = jv_array();

		n = jv_array_length(jv_copy(keys));
		for (i = 0; i < n; i++) {
			jv e = jv_array_get(jv_copy(keys), i);

			out = jv_array_append(out, config_key(
			    jv_string_value(e), pname, i + 1));
			jv_free(e);
		}
		jv_free(keys);
		return out;
	}
	jv_free(keys);
	keys = jv_array();
	/*
	 * A configured apiKey is the only source.  The catalog's (a command
	 * such as Vertex's gcloud call) is the last resort after the keyfile
	 * and the variables.
	 */
	k = json_peek_string(p, "apiKey");
	if (k && !catalog_key(p))
		return jv_array_append(keys, config_key(k, pname, 0));
	if (strcmp(scheme, "none") == 0 && k == NULL)
		return keys;
	kf = xasprintf("keyfile:%s", pname);
	keys = jv_array_append(keys, jv_string(kf));
	free(kf);
	env = json_get(p, "env");
	n = jv_get_kind(env) == JV_KIND_ARRAY ? jv_array_length(jv_copy(env)) :
	    0;
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(env), i);
		char *ref = xasprintf("$%s", jv_string_value(e));

		keys = jv_array_append(keys, jv_string(ref));
		free(ref);
		jv_free(e);
	}
	jv_free(env);
	if (k)
		keys = jv_array_append(keys, jv_string(k));
	return keys;
}

static jv
merged(jv a, jv b)
{
	if (jv_get_kind(a) != JV_KIND_OBJECT) {
		jv_free(a);
		a = jv_object();
	}
	if (jv_get_kind(b) != JV_KIND_OBJECT) {
		jv_free(b);
		return a;
	}
	return json_merge(a, b);
}

/*
 * Header values as a target may show them: expressions with variables,
 * commands, keyfile entries and the catalog's own literals as they are;
 * any other literal from a configuration file (a token someone pasted
 * in) as a "config:NAME/header/H" reference the sender looks up again.
 */
static jv
safe_headers(struct resolver *r, const char *pname, jv m, jv hs)
{
	int ci = catalog_find(r->ps.cat, pname), it;
	jv cat = ci >= 0 ? catalog_provider(r->ps.cat, (size_t)ci) :
	    jv_invalid(), ch = json_get(cat, "headers"), out = jv_object();
	jv mo = json_get(m, "_origin"), mh = jv_invalid();
	const char *how = json_peek_string(mo, "model");

	/* A catalog model's own headers (not a configured model's). */
	if (how == NULL || strcmp(how, "catalog") == 0 ||
	    strncmp(how, "family ", 7) == 0 ||
	    strncmp(how, "provider defaults", 17) == 0)
		mh = json_get(m, "headers");
	jv_free(mo);

	for (it = jv_object_iter(hs); jv_object_iter_valid(hs, it);
	    it = jv_object_iter_next(hs, it)) {
		jv k = jv_object_iter_key(hs, it);
		jv v = jv_object_iter_value(hs, it);
		const char *s = jv_get_kind(v) == JV_KIND_STRING ?
		    jv_string_value(v) : "";
		const char *c = json_peek_string(ch, jv_string_value(k));
		const char *cm = json_peek_string(mh, jv_string_value(k));

		if (!names_source(s) && strchr(s, '$') == NULL &&
		    (c == NULL || strcmp(c, s) != 0) &&
		    (cm == NULL || strcmp(cm, s) != 0)) {
			char *ref = xasprintf("config:%s/header/%s", pname,
			    jv_string_value(k));

			jv_free(v);
			v = jv_string(ref);
			free(ref);
		}
		out = jv_object_set(out, k, v);
	}
	jv_free(mh);
	jv_free(ch);
	jv_free(cat);
	jv_free(hs);
	return out;
}

/* Builds the target of model m (borrowed) of provider p (borrowed). */
static jv
build_target(struct resolver *r, const char *pname, jv p, jv m, char *err)
{
	const char *id = json_peek_string(m, "id");
	const char *api, *base, *scheme, *ep;
	char *ref, *url, *lkey;
	jv t, keys, limits, explain, ex_keys, endpoints;
	int i, n, flag = 0;

	api = json_peek_string(m, "api");
	if (api == NULL)
		api = json_peek_string(p, "api");
	if (api == NULL) {
		errbuf_set(err, "provider '%s' names no api", pname);
		return jv_invalid();
	}
	if (!schema_in(api, schema_apis)) {
		errbuf_set(err, "provider '%s': unsupported api '%s'", pname,
		    api);
		return jv_invalid();
	}
	base = json_peek_string(m, "baseUrl");
	endpoints = json_get(p, "endpoints");
	if (base == NULL && (ep = json_peek_string(p, "endpoint")) != NULL &&
	    (base = json_peek_string(endpoints, ep)) == NULL) {
		jv_free(endpoints);
		errbuf_set(err, "provider '%s' has no endpoint '%s'", pname, ep);
		return jv_invalid();
	}
	if (base == NULL)
		base = json_peek_string(p, "baseUrl");
	if (base == NULL) {
		jv_free(endpoints);
		errbuf_set(err, "provider '%s' has no baseUrl", pname);
		return jv_invalid();
	}
	if ((url = expand_url(pname, base, err)) == NULL) {
		jv_free(endpoints);
		return jv_invalid();
	}
	/* "https://host/v1/" and "https://host/v1" are the same base. */
	while (*url && url[strlen(url) - 1] == '/')
		url[strlen(url) - 1] = '\0';
	jv_free(endpoints);
	{
		char *full = endpoint_url(api, url,
		    json_peek_string(m, "path") ? json_peek_string(m, "path") :
		    json_peek_string(p, "path"), id);

		free(url);
		url = add_query(full, json_get(p, "query"));
	}
	scheme = json_peek_string(p, "auth");
	if (scheme == NULL)
		scheme = default_scheme(api);
	if (json_peek_bool(p, "authHeader", &flag) && flag)
		scheme = "bearer";
	keys = key_sources(p, pname, scheme);
	if (strcmp(scheme, "none") == 0 && jv_array_length(jv_copy(keys)) > 0)
		scheme = "bearer";

	ref = xasprintf("%s/%s", pname, id);
	t = jv_object();
	t = json_set(t, "ref", jv_string(ref));
	t = json_set(t, "provider", jv_string(pname));
	t = json_set(t, "api", jv_string(api));
	t = json_set(t, "url", jv_string(url));
	t = json_set(t, "model", jv_string(id));
	t = json_set(t, "auth", json_set(json_set(jv_object(), "scheme",
	    jv_string(scheme)),
	    "keys", jv_copy(keys)));
	t = json_set(t, "headers", safe_headers(r, pname, m, merged(json_get(p,
	    "headers"), json_get(m, "headers"))));
	t = json_set(t, "compat", merged(json_get(p, "compat"),
	    json_get(m, "compat")));
	limits = merged(json_get(p, "limits"), json_get(m, "limits"));
	limits = merged(limits, json_get(r->cfg->limits, pname));
	limits = merged(limits, json_get(r->cfg->limits, ref));
	t = json_set(t, "limits", limits);
	/*
	 * The provider's own limits apply per key across its models (40
	 * requests a minute per NVIDIA key); the senders tell them from a
	 * model's (policy.h).
	 */
	limits = merged(json_get(p, "limits"), json_get(r->cfg->limits,
	    pname));
	if (jv_object_length(jv_copy(limits)) > 0)
		t = json_set(t, "provider_limits", limits);
	else
		jv_free(limits);
	{
		jv c = json_get(m, "cost");

		t = json_set(t, "cost",
		    json_set(json_set(json_set(json_set(jv_object(),
		    "input", json_get(c, "input")),
		    "output", json_get(c, "output")),
		    "cache_read", json_get(c, "cacheRead")),
		    "cache_write", json_get(c, "cacheWrite")));
		jv_free(c);
	}
	t = json_set(t, "context_window", json_get(m, "contextWindow"));
	t = json_set(t, "max_tokens", json_get(m, "maxTokens"));
	t = json_set(t, "reasoning", json_get(m, "reasoning"));
	t = json_set(t, "input", json_get(m, "input"));
	if (json_peek_kind(m, "thinkingLevelMap") == JV_KIND_OBJECT)
		t = json_set(t, "thinking_map", json_get(m,
		    "thinkingLevelMap"));
	if (json_peek_kind(m, "type") == JV_KIND_STRING)
		t = json_set(t, "type", json_get(m, "type"));
	if (json_peek_kind(m, "dims") == JV_KIND_NUMBER)
		t = json_set(t, "dims", json_get(m, "dims"));

	/* Where each part came from, for -e; stripped from the cache copy. */
	explain = jv_object();
	explain = json_set(explain, "model", origin_of(m, "model"));
	{
		jv o = json_get(m, "_origin");

		if (json_peek_kind(o, "override") != JV_KIND_INVALID)
			explain = json_set(explain, "override",
			    origin_of(m, "override"));
		jv_free(o);
	}
	explain = json_set(explain, "api", origin_of(json_peek_string(m,
	    "api") ?
	    m : p, json_peek_string(m, "api") ? "model" : "api"));
	explain = json_set(explain, "url", origin_of(p,
	    json_peek_string(p, "endpoint") ? "endpoint" : "baseUrl"));
	explain = json_set(explain, "auth", origin_of(p,
	    json_peek_kind(p, "apiKeys") != JV_KIND_INVALID ? "apiKeys" :
	    json_peek_kind(p, "apiKey") != JV_KIND_INVALID ? "apiKey" :
	    "env"));
	ex_keys = jv_array();
	n = jv_array_length(jv_copy(keys));
	for (i = 0; i < n; i++) {
		jv k = jv_array_get(jv_copy(keys), i);
		static const char *const avail[] = { "unset", "set",
		    "checked when sending" };

		ex_keys = jv_array_append(ex_keys,
		    json_set(json_set(jv_object(),
		    "source", jv_copy(k)), "status",
		    jv_string(avail[value_available(jv_string_value(k))])));
		jv_free(k);
	}
	jv_free(keys);
	explain = json_set(explain, "keys", ex_keys);
	explain = json_set(explain, "headers", origin_of(p, "headers"));
	explain = json_set(explain, "compat", origin_of(p, "compat"));
	lkey = NULL;
	explain = json_set(explain, "limits",
	    json_peek_kind(r->cfg->limits, ref) != JV_KIND_INVALID ?
	    jv_string("config limits (model)") :
	    json_peek_kind(r->cfg->limits, pname) != JV_KIND_INVALID ?
	    jv_string("config limits (provider)") : origin_of(p, "limits"));
	free(lkey);
	t = json_set(t, "_explain", explain);
	free(ref);
	free(url);
	return t;
}

/* Looks up a concrete provider/model pair, with the target cache. */
static jv
concrete(struct resolver *r, const char *pname, const char *id, char *err)
{
	char *ref = xasprintf("%s/%s", pname, id);
	jv t = jv_object_get(jv_copy(r->targets), jv_string(ref));
	jv p, m;

	if (jv_is_valid(t)) {
		free(ref);
		return t;
	}
	jv_free(t);
	p = provider_get(&r->ps, pname);
	if (!jv_is_valid(p)) {
		errbuf_set(err, "unknown provider '%s'", pname);
		snprintf(r->failed, sizeof(r->failed), "%s", ref);
		free(ref);
		return p;
	}
	m = provider_model(p, id);
	if (!jv_is_valid(m)) {
		errbuf_set(err, "unknown model '%s'", ref);
		snprintf(r->failed, sizeof(r->failed), "%s", ref);
		jv_free(p);
		free(ref);
		return m;
	}
	t = build_target(r, pname, p, m, err);
	jv_free(p);
	jv_free(m);
	if (jv_is_valid(t)) {
		/*
		 * Any-model providers take any id a record names: keep the
		 * cache bounded by starting afresh when it is full.
		 */
		if (++r->ntargets > RESOLVE_CACHE_MAX) {
			jv_free(r->targets);
			r->targets = jv_object();
			r->ntargets = 1;
		}
		r->targets = jv_object_set(r->targets, jv_string(ref),
		    jv_copy(t));
	}
	free(ref);
	return t;
}

/*
 * A bare id: the earliest provider that lists it (catalog order, then
 * configuration-only providers), else the first family rule matching it.
 */
static jv
bare(struct resolver *r, const char *id, char *err)
{
	struct catalog *cat = r->ps.cat;
	jv names, best = jv_invalid();
	int pos = catalog_lookup_model(cat, id), bestpos = INT_MAX, i, n;
	size_t f;

	if (pos >= 0) {
		bestpos = pos;
		best = jv_string(cat->names[pos]);
	}
	names = provider_names(&r->ps);
	n = jv_array_length(jv_copy(names));
	/* Models the configuration adds to any provider. */
	for (f = 0; f < r->cfg->nfiles; f++) {
		jv ps = json_get(r->cfg->files[f].root, "providers");
		int it;

		if (jv_get_kind(ps) != JV_KIND_OBJECT) {
			jv_free(ps);
			continue;
		}
		for (it = jv_object_iter(ps); jv_object_iter_valid(ps, it);
		    it = jv_object_iter_next(ps, it)) {
			jv k = jv_object_iter_key(ps, it);
			jv p = jv_object_iter_value(ps, it);
			jv ids = provider_model_ids(p);
			int j, m = jv_array_length(jv_copy(ids)), kpos = -1;

			for (j = 0; j < n && kpos < 0; j++) {
				jv e = jv_array_get(jv_copy(names), j);

				if (jv_equal(e, jv_copy(k)))
					kpos = j;
			}
			for (j = 0; j < m; j++) {
				jv e = jv_array_get(jv_copy(ids), j);

				if (strcmp(jv_string_value(e), id) == 0 &&
				    kpos >= 0 && kpos < bestpos) {
					bestpos = kpos;
					jv_free(best);
					best = jv_copy(k);
				}
				jv_free(e);
			}
			jv_free(ids);
			jv_free(p);
			jv_free(k);
		}
		jv_free(ps);
	}
	for (i = 0; !jv_is_valid(best) && i < n; i++) {
		jv name = jv_array_get(jv_copy(names), i);
		jv p = provider_get(&r->ps, jv_string_value(name));
		jv fam = json_get(p, "families");
		int j, nf = jv_get_kind(fam) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(fam)) : 0;

		/* The family's glob itself: any-model providers claim no id. */
		for (j = 0; j < nf && !jv_is_valid(best); j++) {
			jv rule = jv_array_get(jv_copy(fam), j);
			const char *glob = json_peek_string(rule, "match");

			if (glob && fnmatch(glob, id, 0) == 0)
				best = jv_copy(name);
			jv_free(rule);
		}
		jv_free(fam);
		jv_free(p);
		jv_free(name);
	}
	jv_free(names);
	if (!jv_is_valid(best)) {
		errbuf_set(err, "unknown model '%s'", id);
		snprintf(r->failed, sizeof(r->failed), "%s", id);
		return best;
	}
	{
		jv t = concrete(r, jv_string_value(best), id, err);

		jv_free(best);
		return t;
	}
}

/* A reference that is no alias: "provider/id" or a bare id. */
static jv
direct(struct resolver *r, const char *ref, char *err)
{
	const char *slash = strchr(ref, '/');
	char *pname;
	jv p, t;

	if (slash == NULL)
		return bare(r, ref, err);
	pname = xstrndup(ref, (size_t)(slash - ref));
	p = provider_get(&r->ps, pname);
	if (jv_is_valid(p)) {
		jv_free(p);
		t = concrete(r, pname, slash + 1, err);
		/*
		 * "openai/gpt-oss-120b" is no OpenAI API model but an id
		 * hosts such as groq list: try the whole reference as an id.
		 */
		if (!jv_is_valid(t)) {
			char err2[ERRBUF_MAX];
			jv t2 = bare(r, ref, err2);

			if (jv_is_valid(t2)) {
				jv_free(t);
				t = t2;
			} else {
				jv_free(t2);
				snprintf(r->failed, sizeof(r->failed), "%s",
				    ref);
			}
		}
	} else if (!jv_is_valid(t = bare(r, ref, err))) {	/* id with '/' */
		errbuf_set(err, "unknown model '%s': no provider '%s', and no "
		    "provider lists that id", ref, pname);
		snprintf(r->failed, sizeof(r->failed), "%s", ref);
	}
	free(pname);
	return t;
}

/*
 * Appends ref's candidates to *list: an alias's primary, then its
 * fallbacks (each expanded in turn); a direct reference is one candidate.
 * params from the alias are merged into each target it contributes.
 */
static int
expand(struct resolver *r, const char *ref, jv *list, jv *how, int depth,
    char *err)
{
	jv a = json_get(r->cfg->aliases, ref), params, fb, t;
	const char *prim;
	int i, n, start = jv_array_length(jv_copy(*list));

	if (depth > ALIAS_DEPTH) {
		jv_free(a);
		return errbuf_set(err, "alias '%s': aliases nest more than %d "
		    "deep (a loop?)", ref, ALIAS_DEPTH);
	}
	if (!jv_is_valid(a)) {
		jv_free(a);
		if (!jv_is_valid(t = direct(r, ref, err)))
			return -1;
		*list = jv_array_append(*list, t);
		return 0;
	}
	if (jv_get_kind(*how) == JV_KIND_NULL) {
		jv f = json_get(r->cfg->origin, ref);
		const char *path[] = { "models", ref };
		char *w = config_where(r->cfg, (size_t)jv_number_value(f),
		    path, 2);
		char *s = xasprintf("alias '%s' at %s", ref, w);

		jv_free(*how);
		*how = jv_string(s);
		free(s);
		free(w);
		jv_free(f);
	}
	if (jv_get_kind(a) == JV_KIND_STRING) {
		int rr = expand(r, jv_string_value(a), list, how, depth + 1,
		    err);

		jv_free(a);
		return rr;
	}
	if (json_peek_kind(a, "weights") == JV_KIND_OBJECT) {
		jv ws = json_get(a, "weights"), order = jv_array();
		double total = 0, pick, acc = 0;
		int it, chosen = -1, k;

		for (it = jv_object_iter(ws); jv_object_iter_valid(ws, it);
		    it = jv_object_iter_next(ws, it)) {
			jv v = jv_object_iter_value(ws, it);

			total += jv_number_value(v);
			jv_free(v);
		}
		pick = rnd(r) * total;
		k = 0;
		for (it = jv_object_iter(ws); jv_object_iter_valid(ws, it);
		    it = jv_object_iter_next(ws, it), k++) {
			jv v = jv_object_iter_value(ws, it);

			acc += jv_number_value(v);
			if (chosen < 0 && (pick < acc || total <= 0))
				chosen = k;
			jv_free(v);
		}
		/* The pick first, then the rest by weight, heaviest first. */
		k = 0;
		for (it = jv_object_iter(ws); jv_object_iter_valid(ws, it);
		    it = jv_object_iter_next(ws, it), k++)
			if (k == chosen)
				order = jv_array_append(order,
				    jv_object_iter_key(ws, it));
		for (;;) {
			double w, bw = -1;
			jv bk = jv_invalid();

			k = 0;
			for (it = jv_object_iter(ws);
			    jv_object_iter_valid(ws, it);
			    it = jv_object_iter_next(ws, it), k++) {
				jv key = jv_object_iter_key(ws, it);
				jv v = jv_object_iter_value(ws, it);
				int taken = 0, j, no;

				w = jv_number_value(v);
				jv_free(v);
				no = jv_array_length(jv_copy(order));
				for (j = 0; j < no && !taken; j++)
					taken = jv_equal(jv_array_get(
					    jv_copy(order), j), jv_copy(key));
				if (!taken && w > bw) {
					bw = w;
					jv_free(bk);
					bk = key;
				} else
					jv_free(key);
			}
			if (!jv_is_valid(bk))
				break;
			order = jv_array_append(order, bk);
		}
		jv_free(ws);
		n = jv_array_length(jv_copy(order));
		for (i = 0; i < n; i++) {
			jv e = jv_array_get(jv_copy(order), i);

			if (expand(r, jv_string_value(e), list, how,
			    depth + 1, err) == -1) {
				jv_free(e);
				jv_free(order);
				jv_free(a);
				return -1;
			}
			jv_free(e);
		}
		jv_free(order);
	} else if ((prim = json_peek_string(a, "model")) != NULL) {
		if (expand(r, prim, list, how, depth + 1, err) == -1) {
			jv_free(a);
			return -1;
		}
	}
	fb = json_get(a, "fallbacks");
	n = jv_get_kind(fb) == JV_KIND_ARRAY ? jv_array_length(jv_copy(fb)) :
	    0;
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(fb), i);
		int rr = expand(r, jv_string_value(e), list, how, depth + 1,
		    err);

		jv_free(e);
		if (rr == -1) {
			jv_free(fb);
			jv_free(a);
			return errbuf_prefix(err, "alias '%s'", ref);
		}
	}
	jv_free(fb);
	params = json_get(a, "params");
	if (jv_get_kind(params) == JV_KIND_OBJECT) {
		n = jv_array_length(jv_copy(*list));
		for (i = start; i < n; i++) {
			jv tt = jv_array_get(jv_copy(*list), i);

			tt = json_set(tt, "params", merged(json_get(tt,
			    "params"),
			    jv_copy(params)));
			*list = jv_array_set(*list, i, tt);
		}
	}
	jv_free(params);
	jv_free(a);
	return 0;
}

int
resolver_add_fallbacks(struct resolver *r, const char *list, char *err)
{
	char *copy = xstrdup(list), *p = copy, *s;
	jv tmp = jv_array(), how = jv_null();
	int rr = 0;

	while (rr == 0 && (s = strsep(&p, ",")) != NULL) {
		if (*s == '\0')
			continue;
		if ((rr = expand(r, s, &tmp, &how, 0, err)) == 0)
			r->extra = jv_array_append(r->extra, jv_string(s));
	}
	jv_free(tmp);
	jv_free(how);
	free(copy);
	return rr;
}

jv
resolve_target(struct resolver *r, const char *ref, char *err)
{
	jv list = jv_array(), how = jv_null(), t;

	if (expand(r, ref, &list, &how, 0, err) == -1) {
		jv_free(list);
		jv_free(how);
		return jv_invalid();
	}
	jv_free(how);
	t = jv_array_get(list, 0);
	return jv_object_delete(t, jv_string("_explain"));
}

/* Bytes of text a request carries, as a stand-in for its size. */
static size_t
text_bytes(jv v)
{
	size_t n = 0;
	int i, len, it;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		n = (size_t)jv_string_length_bytes(jv_copy(v));
		break;
	case JV_KIND_ARRAY:
		len = jv_array_length(jv_copy(v));
		for (i = 0; i < len; i++)
			n += text_bytes(jv_array_get(jv_copy(v), i));
		break;
	case JV_KIND_OBJECT:
		for (it = jv_object_iter(v); jv_object_iter_valid(v, it);
		    it = jv_object_iter_next(v, it)) {
			jv e = jv_object_iter_value(v, it);

			n += text_bytes(e);
		}
		break;
	default:
		break;
	}
	jv_free(v);
	return n;
}

/* Levenshtein distance, bounded to short strings. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t row[128];

	if (la >= 128 || lb >= 128)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = row[j];
			tmp = prev + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (row[j] + 1 < tmp)
				tmp = row[j] + 1;
			if (row[j - 1] + 1 < tmp)
				tmp = row[j - 1] + 1;
			row[j] = tmp;
			prev = cur;
		}
	}
	return row[lb];
}

/* "; did you mean a, b or c?" for an unknown reference, or "". */
static char *
suggest(struct resolver *r, const char *ref)
{
	jv all = resolve_list(r, NULL);
	const char *best[SUGGEST_MAX] = { 0 }, *cmp;
	size_t bd[SUGGEST_MAX], d;
	int i, j, n = jv_array_length(jv_copy(all)), k;
	char *out;
	const char *bare_id = strrchr(ref, '/') ? NULL : ref;

	for (k = 0; k < SUGGEST_MAX; k++)
		bd[k] = SIZE_MAX;
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(all), i);
		const char *cand = json_peek_string(e, "ref");

		cmp = bare_id && json_peek_string(e, "model") &&
		    !json_peek_kind(e, "alias") ? json_peek_string(e, "model") :
		    cand;
		d = distance(ref, cmp);
		for (k = 0; k < SUGGEST_MAX; k++)
			if (d < bd[k]) {
				for (j = SUGGEST_MAX - 1; j > k; j--) {
					bd[j] = bd[j - 1];
					best[j] = best[j - 1];
				}
				bd[k] = d;
				best[k] = cand;	/* lives in all */
				break;
			}
		jv_free(e);
	}
	if (best[0] == NULL || bd[0] > strlen(ref) / 2 + 3) {
		jv_free(all);
		return xstrdup("");
	}
	out = xasprintf("; did you mean %s%s%s%s%s?", best[0],
	    best[1] && bd[1] <= strlen(ref) / 2 + 3 ? (best[2] &&
	    bd[2] <= strlen(ref) / 2 + 3 ? ", " : " or ") : "",
	    best[1] && bd[1] <= strlen(ref) / 2 + 3 ? best[1] : "",
	    best[2] && bd[2] <= strlen(ref) / 2 + 3 ? " or " : "",
	    best[2] && bd[2] <= strlen(ref) / 2 + 3 ? best[2] : "");
	jv_free(all);
	return out;
}

static jv
fail(jv req, enum record_kind kind, const char *msg, int *failed)
{
	*failed = 1;
	return record_error(req, kind, 0, NULL, 0, msg);
}

jv
resolve_request(struct resolver *r, jv req, const char *default_model,
    int *failed)
{
	char err[ERRBUF_MAX], *msg, *sug;
	const char *ref = json_peek_string(req, "model");
	jv list = jv_array(), how = jv_null(), out = jv_array(), skipped;
	size_t need;
	double mt = 0;
	int i, n, no;

	*failed = 0;
	if (ref == NULL && json_peek_kind(req, "model") != JV_KIND_INVALID) {
		jv_free(list);
		jv_free(how);
		jv_free(out);
		return fail(req, RECORD_BAD_INPUT, "\"model\" must be a string",
		    failed);
	}
	if (ref == NULL && json_peek_kind(req, "target") == JV_KIND_OBJECT) {
		/* Resolved before, with no model to resolve again: keep it. */
		jv_free(list);
		jv_free(how);
		jv_free(out);
		return req;
	}
	if (ref == NULL)
		ref = default_model;
	if (ref == NULL) {
		jv_free(list);
		jv_free(how);
		jv_free(out);
		return fail(req, RECORD_CONFIG, "no model: give the record a "
		    "\"model\", use -m, set LLM_MODEL or defaults.model",
		    failed);
	}
	r->failed[0] = '\0';
	if (expand(r, ref, &list, &how, 0, err) == -1) {
		/*
		 * Suggestions scan the whole catalog: remember the message
		 * per reference, so a file full of one typo stays fast.
		 */
		jv known = jv_object_get(jv_copy(r->failures), jv_string(ref));

		if (jv_get_kind(known) == JV_KIND_STRING)
			msg = xstrdup(jv_string_value(known));
		else {
			sug = strncmp(err, "unknown ", 8) == 0 ? suggest(r,
			    r->failed[0] ? r->failed : ref) : xstrdup("");
			msg = xasprintf("%s%s", err, sug);
			free(sug);
			if (++r->nfailures > RESOLVE_CACHE_MAX) {
				jv_free(r->failures);
				r->failures = jv_object();
				r->nfailures = 1;
			}
			r->failures = jv_object_set(r->failures,
			    jv_string(ref), jv_string(msg));
		}
		jv_free(known);
		jv_free(list);
		jv_free(how);
		jv_free(out);
		req = fail(req, RECORD_CONFIG, msg, failed);
		free(msg);
		return req;
	}
	n = jv_array_length(jv_copy(r->extra));
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(r->extra), i);
		jv dummy = jv_null();

		/* Checked by resolver_add_fallbacks; cannot fail now. */
		expand(r, jv_string_value(e), &list, &dummy, 0, err);
		jv_free(dummy);
		jv_free(e);
	}
	/*
	 * Keep each concrete target once, and skip those whose context
	 * window cannot hold the request (about four bytes a token).
	 */
	need = text_bytes(json_get(req, "system")) +
	    text_bytes(json_get(req, "prompt")) +
	    text_bytes(json_get(req, "messages")) +
	    text_bytes(json_get(req, "tools"));
	need = need / 4 + 1;
	/* In double: an untrusted 1e300 must not overflow a conversion. */
	if (json_peek_number(req, "max_tokens", &mt) && mt > 0)
		mt += (double)need;
	else
		mt = (double)need;
	skipped = jv_array();
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(list), i);
		const char *tref = json_peek_string(t, "ref");
		double cw = 0;
		int j, dup = 0;

		no = jv_array_length(jv_copy(out));
		for (j = 0; j < no && !dup; j++) {
			jv o = jv_array_get(jv_copy(out), j);

			dup = strcmp(json_peek_string(o, "ref"), tref) == 0;
			jv_free(o);
		}
		if (!dup && json_peek_number(t, "context_window", &cw) &&
		    cw < mt) {
			skipped = jv_array_append(skipped, jv_string(tref));
			dup = 1;
		}
		if (dup)
			jv_free(t);
		else
			out = jv_array_append(out, t);
	}
	jv_free(list);
	if (jv_array_length(jv_copy(out)) == 0) {
		msg = xasprintf("the request (about %.0f tokens) is larger than "
		    "the context window of every candidate", mt);
		jv_free(out);
		jv_free(how);
		jv_free(skipped);
		req = fail(req, RECORD_CONTEXT_LENGTH, msg, failed);
		free(msg);
		return req;
	}
	{
		jv t = jv_array_get(jv_copy(out), 0), rest = jv_array();
		jv ex = json_get(t, "_explain");

		no = jv_array_length(jv_copy(out));
		for (i = 1; i < no; i++)
			rest = jv_array_append(rest, jv_object_delete(
			    jv_array_get(jv_copy(out), i),
			    jv_string("_explain")));
		req = json_set(req, "target", jv_object_delete(t,
		    jv_string("_explain")));
		req = json_set(req, "fallbacks", rest);
		if (r->explain) {
			ex = json_set(ex, "ref",
			    jv_get_kind(how) == JV_KIND_STRING ?
			    jv_copy(how) : jv_string("reference"));
			if (jv_array_length(jv_copy(skipped)) > 0)
				ex = json_set(ex, "skipped_context",
				    jv_copy(skipped));
			req = json_set(req, "explain", ex);
		} else
			jv_free(ex);
	}
	jv_free(skipped);
	jv_free(how);
	jv_free(out);
	return req;
}

jv
resolve_list(struct resolver *r, const char *provider)
{
	jv names = provider_names(&r->ps), out = jv_array();
	int i, n = jv_array_length(jv_copy(names)), it;

	for (i = 0; i < n; i++) {
		jv name = jv_array_get(jv_copy(names), i);
		const char *pn = jv_string_value(name);
		jv p, ids;
		int j, m;

		if (provider && strcmp(provider, pn) != 0) {
			jv_free(name);
			continue;
		}
		p = provider_get(&r->ps, pn);
		ids = provider_model_ids(p);
		m = jv_array_length(jv_copy(ids));
		for (j = 0; j < m; j++) {
			jv id = jv_array_get(jv_copy(ids), j);
			jv mo = provider_model(p, jv_string_value(id));
			char *ref = xasprintf("%s/%s", pn, jv_string_value(id));
			jv e = jv_object(), c = json_get(mo, "cost");
			const char *api = json_peek_string(mo, "api");

			e = json_set(e, "ref", jv_string(ref));
			e = json_set(e, "provider", jv_string(pn));
			e = json_set(e, "model", id);
			e = json_set(e, "name", json_get(mo, "name"));
			e = json_set(e, "api", jv_string(api ? api :
			    json_peek_string(p, "api") ?
			    json_peek_string(p, "api") : ""));
			e = json_set(e, "context_window",
			    json_get(mo, "contextWindow"));
			e = json_set(e, "max_tokens", json_get(mo,
			    "maxTokens"));
			e = json_set(e, "reasoning", json_get(mo, "reasoning"));
			e = json_set(e, "input", json_get(mo, "input"));
			e = json_set(e, "cost",
			    json_set(json_set(json_set(json_set(jv_object(),
			    "input", json_get(c, "input")),
			    "output", json_get(c, "output")),
			    "cache_read", json_get(c, "cacheRead")),
			    "cache_write", json_get(c, "cacheWrite")));
			if (json_peek_kind(mo, "type") == JV_KIND_STRING)
				e = json_set(e, "type", json_get(mo, "type"));
			if (json_peek_kind(mo, "dims") == JV_KIND_NUMBER)
				e = json_set(e, "dims", json_get(mo, "dims"));
			out = jv_array_append(out, e);
			jv_free(c);
			jv_free(mo);
			free(ref);
		}
		jv_free(ids);
		jv_free(p);
		jv_free(name);
	}
	jv_free(names);
	if (provider)
		return out;
	for (it = jv_object_iter(r->cfg->aliases);
	    jv_object_iter_valid(r->cfg->aliases, it);
	    it = jv_object_iter_next(r->cfg->aliases, it)) {
		jv k = jv_object_iter_key(r->cfg->aliases, it);
		jv a = jv_object_iter_value(r->cfg->aliases, it);
		jv e = json_set(json_set(jv_object(), "ref", k), "alias",
		    jv_true());

		if (jv_get_kind(a) == JV_KIND_STRING)
			e = json_set(e, "model", a);
		else {
			if (json_peek_kind(a, "model") == JV_KIND_STRING)
				e = json_set(e, "model", json_get(a, "model"));
			if (json_peek_kind(a, "weights") == JV_KIND_OBJECT)
				e = json_set(e, "weights", json_get(a,
				    "weights"));
			if (json_peek_kind(a, "fallbacks") == JV_KIND_ARRAY)
				e = json_set(e, "fallbacks", json_get(a,
				    "fallbacks"));
			jv_free(a);
		}
		out = jv_array_append(out, e);
	}
	return out;
}

char *
resolver_config_key(struct resolver *r, const char *ref)
{
	const char *hdr = strstr(ref, "/header/");
	const char *hash = hdr ? NULL : strrchr(ref, '#');
	char *name, *out = NULL, *end;
	long nth = 0;
	jv p, k = jv_invalid();

	if (hash) {
		nth = strtol(hash + 1, &end, 10);
		if (*end != '\0' || nth < 1 || nth > 1000)
			return NULL;
	}
	name = xstrndup(ref, hdr ? (size_t)(hdr - ref) :
	    hash ? (size_t)(hash - ref) : strlen(ref));
	p = provider_get(&r->ps, name);
	if (hdr) {
		jv hs = json_get(p, "headers");

		k = json_get(hs, hdr + 8);
		jv_free(hs);
	} else if (hash && json_peek_kind(p, "apiKeys") == JV_KIND_ARRAY)
		k = jv_array_get(json_get(p, "apiKeys"), (int)nth - 1);
	else if (!hash)
		k = json_get(p, "apiKey");
	if (jv_get_kind(k) == JV_KIND_STRING)
		out = xstrdup(jv_string_value(k));
	jv_free(k);
	jv_free(p);
	free(name);
	return out;
}
