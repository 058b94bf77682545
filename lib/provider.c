#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "provider.h"
#include "xalloc.h"

#define PROVIDER_CACHE_MAX	1024

/* Fields that merge key by key instead of being replaced. */
static const char *const merged_fields[] = {
	"headers", "compat", "limits", "query", "endpoints", NULL
};

void
provider_set_init(struct provider_set *set, struct catalog *cat,
    struct config *cfg)
{
	set->cat = cat;
	set->cfg = cfg;
	set->cache = jv_object();
	set->ncache = 0;
	set->names = jv_invalid();
}

void
provider_set_release(struct provider_set *set)
{
	jv_free(set->cache);
	jv_free(set->names);
	set->cache = set->names = jv_invalid();
}

static int
is_merged(const char *k)
{
	const char *const *f;

	for (f = merged_fields; *f; f++)
		if (strcmp(*f, k) == 0)
			return 1;
	return 0;
}

/* Sets origin[field] = where in p's "_origin".  Consumes where. */
static jv
note(jv p, const char *field, jv where)
{
	jv o = json_get(p, "_origin");

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		o = jv_object();
	}
	o = jv_object_set(o, jv_string(field), where);
	return jv_object_set(p, jv_string("_origin"), o);
}

static jv
note_str(jv p, const char *field, const char *where)
{
	return note(p, field, jv_string(where));
}

/* Returns the index of the model with this id in the array, or -1. */
static int
model_index(jv models, const char *id)
{
	int i, n = jv_array_length(jv_copy(models));

	for (i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(models), i);
		const char *mid = json_peek_string(m, "id");
		int hit = mid && strcmp(mid, id) == 0;

		jv_free(m);
		if (hit)
			return i;
	}
	return -1;
}

/* Applies one configuration file's provider object cp to p. */
static jv
apply_layer(struct provider_set *set, jv p, jv cp, size_t file,
    const char *name)
{
	int it;

	for (it = jv_object_iter(cp); jv_object_iter_valid(cp, it);
	    it = jv_object_iter_next(cp, it)) {
		jv k = jv_object_iter_key(cp, it);
		jv v = jv_object_iter_value(cp, it);
		const char *ks = jv_string_value(k);
		const char *path[] = { "providers", name, ks, NULL };
		char *where;

		/* "_origin" and the like are ours: a file may not forge them. */
		if (ks[0] == '_') {
			jv_free(k);
			jv_free(v);
			continue;
		}
		where = config_where(set->cfg, file, path, 3);

		if (strcmp(ks, "models") == 0) {
			jv models = json_get(p, "models");
			int i, n = jv_array_length(jv_copy(v));

			if (jv_get_kind(models) != JV_KIND_ARRAY) {
				jv_free(models);
				models = jv_array();
			}
			for (i = 0; i < n; i++) {
				jv m = jv_array_get(jv_copy(v), i);
				char idx[16], *mw;
				const char *mpath[] = { "providers", name,
				    "models", idx };
				int at = model_index(models,
				    json_peek_string(m, "id"));

				snprintf(idx, sizeof(idx), "%d", i);
				mw = config_where(set->cfg, file, mpath, 4);
				m = note_str(m, "model", mw);
				free(mw);
				models = at >= 0 ? jv_array_set(models, at, m) :
				    jv_array_append(models, m);
			}
			p = jv_object_set(p, jv_string("models"), models);
			jv_free(v);
		} else if (strcmp(ks, "modelOverrides") == 0) {
			jv ov = json_get(p, "modelOverrides");
			int jt;

			if (jv_get_kind(ov) != JV_KIND_OBJECT) {
				jv_free(ov);
				ov = jv_object();
			}
			for (jt = jv_object_iter(v);
			    jv_object_iter_valid(v, jt);
			    jt = jv_object_iter_next(v, jt)) {
				jv mk = jv_object_iter_key(v, jt);
				jv mv = jv_object_iter_value(v, jt);
				const char *opath[] = { "providers", name,
				    "modelOverrides", jv_string_value(mk) };
				char *ow = config_where(set->cfg, file, opath,
				    4);

				mv = note_str(mv, "override", ow);
				free(ow);
				ov = jv_object_set(ov, mk, json_merge(
				    jv_object_get(jv_copy(ov), jv_copy(mk)),
				    mv));
			}
			p = jv_object_set(p, jv_string("modelOverrides"), ov);
			jv_free(v);
		} else if (is_merged(ks)) {
			jv old = json_get(p, ks);

			p = jv_object_set(p, jv_copy(k), json_merge(
			    jv_get_kind(old) == JV_KIND_OBJECT ? old :
			    (jv_free(old), jv_object()), v));
			p = note_str(p, ks, where);
		} else {
			p = jv_object_set(p, jv_copy(k), v);
			p = note_str(p, ks, where);
		}
		free(where);
		jv_free(k);
	}
	return p;
}

static char *
env_name(const char *provider, const char *suffix)
{
	char *s = xasprintf("LLM_%s_%s", provider, suffix), *c;

	for (c = s + 4; *c; c++)
		*c = isalnum((unsigned char)*c) ? (char)toupper(
		    (unsigned char)*c) : '_';
	return s;
}

/* A provider only the configuration names still needs the basics. */
static jv
config_defaults(jv p, const char *name)
{
	p = jv_object_set(p, jv_string("name"), jv_string(name));
	p = jv_object_set(p, jv_string("env"), jv_array());
	p = jv_object_set(p, jv_string("models"), jv_array());
	return p;
}

jv
provider_get(struct provider_set *set, const char *name)
{
	jv p = jv_object_get(jv_copy(set->cache), jv_string(name));
	int ci;
	size_t i;
	char *ev, *where;
	const char *v;

	if (jv_is_valid(p))
		return jv_get_kind(p) == JV_KIND_OBJECT ? p :
		    (jv_free(p), jv_invalid());
	jv_free(p);
	ci = catalog_find(set->cat, name);
	if (ci >= 0) {
		jv o = jv_object();
		int it;

		p = catalog_provider(set->cat, (size_t)ci);
		for (it = jv_object_iter(p); jv_object_iter_valid(p, it);
		    it = jv_object_iter_next(p, it)) {
			jv k = jv_object_iter_key(p, it);

			o = jv_object_set(o, k, jv_string("catalog"));
		}
		p = jv_object_set(p, jv_string("_origin"), o);
	} else
		p = jv_null();
	for (i = 0; i < set->cfg->nfiles; i++) {
		jv cp = config_provider(set->cfg, i, name);

		if (jv_get_kind(cp) != JV_KIND_OBJECT) {
			jv_free(cp);
			continue;
		}
		if (jv_get_kind(p) == JV_KIND_NULL)
			p = config_defaults(jv_object(), name);
		p = apply_layer(set, p, cp, i, name);
		jv_free(cp);
	}
	if (jv_get_kind(p) == JV_KIND_OBJECT) {
		ev = env_name(name, "BASE_URL");
		if ((v = getenv(ev)) != NULL && *v) {
			p = jv_object_set(p, jv_string("baseUrl"),
			    jv_string(v));
			p = jv_object_delete(p, jv_string("endpoint"));
			where = xasprintf("environment %s", ev);
			p = note_str(p, "baseUrl", where);
			free(where);
		}
		free(ev);
	}
	/*
	 * Unknown names are cached too (as null): lookups repeat a lot.  A
	 * stream of made-up names must not grow it without bound.
	 */
	if (++set->ncache > PROVIDER_CACHE_MAX) {
		jv_free(set->cache);
		set->cache = jv_object();
		set->ncache = 1;
	}
	set->cache = jv_object_set(set->cache, jv_string(name), jv_copy(p));
	return jv_get_kind(p) == JV_KIND_OBJECT ? p : (jv_free(p),
	    jv_invalid());
}

jv
provider_names(struct provider_set *set)
{
	jv names;
	size_t i;

	if (jv_is_valid(set->names))
		return jv_copy(set->names);
	names = jv_array();
	for (i = 0; i < set->cat->n; i++)
		names = jv_array_append(names, jv_string(set->cat->names[i]));
	for (i = 0; i < set->cfg->nfiles; i++) {
		jv ps = json_get(set->cfg->files[i].root, "providers");
		int it;

		if (jv_get_kind(ps) == JV_KIND_OBJECT)
			for (it = jv_object_iter(ps);
			    jv_object_iter_valid(ps, it);
			    it = jv_object_iter_next(ps, it)) {
				jv k = jv_object_iter_key(ps, it);
				int seen = catalog_find(set->cat,
				    jv_string_value(k)) >= 0;
				int j, n = jv_array_length(jv_copy(names));

				for (j = 0; !seen && j < n; j++) {
					jv e = jv_array_get(jv_copy(names), j);

					seen = jv_equal(e, jv_copy(k));
				}
				if (!seen)
					names = jv_array_append(names, k);
				else
					jv_free(k);
			}
		jv_free(ps);
	}
	set->names = names;
	return jv_copy(names);
}

jv
provider_model_ids(jv p)
{
	jv models = json_get(p, "models"), ids = jv_array();
	int i, n;

	if (jv_get_kind(models) != JV_KIND_ARRAY) {
		jv_free(models);
		return ids;
	}
	n = jv_array_length(jv_copy(models));
	for (i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(models), i);
		const char *id = json_peek_string(m, "id");

		if (id)
			ids = jv_array_append(ids, jv_string(id));
		jv_free(m);
	}
	jv_free(models);
	return ids;
}

/* pi's defaults for a model that leaves fields out. */
static jv
fill_defaults(jv m)
{
	jv cost;

	if (json_peek_kind(m, "name") != JV_KIND_STRING)
		m = jv_object_set(m, jv_string("name"),
		    json_get(m, "id"));
	if (json_peek_kind(m, "reasoning") == JV_KIND_INVALID)
		m = jv_object_set(m, jv_string("reasoning"), jv_false());
	if (json_peek_kind(m, "input") == JV_KIND_INVALID)
		m = jv_object_set(m, jv_string("input"),
		    jv_array_append(jv_array(), jv_string("text")));
	if (json_peek_kind(m, "contextWindow") == JV_KIND_INVALID)
		m = jv_object_set(m, jv_string("contextWindow"),
		    jv_number(128000));
	if (json_peek_kind(m, "maxTokens") == JV_KIND_INVALID)
		m = jv_object_set(m, jv_string("maxTokens"),
		    jv_number(16384));
	cost = json_get(m, "cost");
	if (jv_get_kind(cost) != JV_KIND_OBJECT) {
		jv_free(cost);
		cost = jv_object();
	}
	cost = json_merge(jv_parse("{\"input\":0,\"output\":0,"
	    "\"cacheRead\":0,\"cacheWrite\":0}"), cost);
	return jv_object_set(m, jv_string("cost"), cost);
}

/* Patches m with an override: cost, compat, headers merge by key. */
static jv
apply_override(jv m, jv ov)
{
	int it;

	for (it = jv_object_iter(ov); jv_object_iter_valid(ov, it);
	    it = jv_object_iter_next(ov, it)) {
		jv k = jv_object_iter_key(ov, it);
		jv v = jv_object_iter_value(ov, it);
		const char *ks = jv_string_value(k);

		if (strcmp(ks, "_origin") == 0) {
			jv_free(k);
			jv_free(v);
			continue;
		}
		if (strcmp(ks, "cost") == 0 || strcmp(ks, "compat") == 0 ||
		    strcmp(ks, "headers") == 0 || strcmp(ks, "limits") == 0)
			v = json_merge(json_get(m, ks), v);
		m = jv_object_set(m, k, v);
	}
	jv_free(ov);
	return m;
}

jv
provider_model(jv p, const char *id)
{
	jv models = json_get(p, "models"), m = jv_invalid(), ov, fam;
	char *where = NULL;
	int i, n, any = 0;

	if (jv_get_kind(models) == JV_KIND_ARRAY &&
	    (i = model_index(models, id)) >= 0) {
		m = jv_array_get(jv_copy(models), i);
		if (json_peek_kind(m, "_origin") == JV_KIND_INVALID)
			m = note_str(m, "model", "catalog");
	}
	fam = json_get(p, "families");
	n = jv_get_kind(fam) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(fam)) : 0;
	for (i = 0; !jv_is_valid(m) && i < n; i++) {
		jv f = jv_array_get(jv_copy(fam), i);
		const char *glob = json_peek_string(f, "match");
		const char *tmpl = json_peek_string(f, "template");
		int at;

		if (glob && tmpl && fnmatch(glob, id, 0) == 0 &&
		    (at = model_index(models, tmpl)) >= 0) {
			m = jv_array_get(jv_copy(models), at);
			m = jv_object_set(m, jv_string("id"), jv_string(id));
			m = jv_object_set(m, jv_string("name"), jv_string(id));
			where = xasprintf("family '%s' from %s", glob, tmpl);
			m = jv_object_delete(m, jv_string("_origin"));
			m = note_str(m, "model", where);
			free(where);
		}
		jv_free(f);
	}
	jv_free(fam);
	jv_free(models);
	if (!jv_is_valid(m) && json_peek_bool(p, "anyModel", &any) && any) {
		m = json_get(p, "modelDefaults");
		if (jv_get_kind(m) != JV_KIND_OBJECT) {
			jv_free(m);
			m = jv_object();
		}
		m = jv_object_set(m, jv_string("id"), jv_string(id));
		m = note_str(m, "model", "provider defaults (any model id)");
	}
	if (!jv_is_valid(m))
		return m;
	ov = json_get(p, "modelOverrides");
	if (jv_get_kind(ov) == JV_KIND_OBJECT) {
		jv o = jv_object_get(ov, jv_string(id));

		if (jv_get_kind(o) == JV_KIND_OBJECT) {
			jv w = json_get(o, "_origin");

			m = apply_override(m, jv_copy(o));
			m = note(m, "override", json_get(w, "override"));
			jv_free(w);
		}
		jv_free(o);
	} else
		jv_free(ov);
	return fill_defaults(m);
}
