#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errbuf.h"
#include "fsutil.h"
#include "json.h"
#include "paths.h"
#include "schema.h"
#include "xalloc.h"

#define CONFIG_FILE_MAX	(16u << 20)

static int
load_one(struct config_file *f, int must_exist, char *err)
{
	struct schema_where where;
	char msg[ERRBUF_MAX], wpath[512];
	const char *keys[SCHEMA_DEPTH];
	int d;

	f->root = jv_invalid();
	if (fsutil_read_file(f->path, CONFIG_FILE_MAX, &f->text, &f->len,
	    err) == -1) {
		if (errno == ENOENT && !must_exist)
			return 1;
		return -1;
	}
	f->root = jv_parse_sized(f->text, (int)f->len);
	if (!jv_is_valid(f->root)) {
		jv m = jv_invalid_get_msg(jv_copy(f->root));

		json_parse_error(f->path, jv_get_kind(m) == JV_KIND_STRING ?
		    jv_string_value(m) : "invalid JSON", err);
		jv_free(m);
		return -1;
	}
	if (schema_config(f->root, &where, msg) == -1) {
		for (d = 0; d < where.depth && d < SCHEMA_DEPTH; d++)
			keys[d] = where.key[d];
		schema_where_string(&where, wpath, sizeof(wpath));
		return errbuf_set(err, "%s: line %lu: %s%s%s", f->path,
		    json_locate(f->text, f->len, keys, d), wpath,
		    *wpath ? ": " : "", msg);
	}
	return 0;
}

/* Merges root[key] (an object) into *acc, noting the file per entry. */
static void
merge_named(jv *acc, jv *origin, jv root, const char *key, size_t file)
{
	jv o = json_get(root, key);
	int it;

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		return;
	}
	for (it = jv_object_iter(o); jv_object_iter_valid(o, it);
	    it = jv_object_iter_next(o, it)) {
		jv k = jv_object_iter_key(o, it);

		if (origin)
			*origin = jv_object_set(*origin, jv_copy(k),
			    jv_number((double)file));
		*acc = jv_object_set(*acc, k, jv_object_iter_value(o, it));
	}
	jv_free(o);
}

int
config_load_files(struct config *cfg, const char *const *paths, size_t n,
    int must_exist, char *err)
{
	size_t i, kept = 0;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->aliases = jv_object();
	cfg->defaults = jv_object();
	cfg->limits = jv_object();
	cfg->origin = jv_object();
	cfg->files = xcalloc(n ? n : 1, sizeof(*cfg->files));
	for (i = 0; i < n; i++) {
		struct config_file *f = &cfg->files[kept];

		f->path = xstrdup(paths[i]);
		f->root = jv_invalid();
		cfg->nfiles = kept + 1;
		if ((r = load_one(f, must_exist, err)) == -1)
			return -1;
		if (r == 1) {		/* absent, and that is fine */
			free(f->path);
			cfg->nfiles = kept;
			continue;
		}
		merge_named(&cfg->aliases, &cfg->origin, f->root, "models",
		    kept);
		merge_named(&cfg->defaults, NULL, f->root, "defaults", kept);
		merge_named(&cfg->limits, NULL, f->root, "limits", kept);
		kept++;
	}
	return 0;
}

int
config_load(struct config *cfg, char *err)
{
	const char **paths = NULL;
	char *spec, *p, *s;
	size_t n = 0;
	int explicit, r;

	spec = paths_config(&explicit);
	for (p = spec; (s = strsep(&p, ":")) != NULL; ) {
		if (*s == '\0')
			continue;
		paths = xrealloc(paths, (n + 1) * sizeof(*paths));
		paths[n++] = s;
	}
	r = config_load_files(cfg, paths, n, explicit, err);
	free(paths);
	free(spec);
	return r;
}

void
config_release(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nfiles; i++) {
		free(cfg->files[i].path);
		free(cfg->files[i].text);
		jv_free(cfg->files[i].root);
	}
	free(cfg->files);
	jv_free(cfg->aliases);
	jv_free(cfg->defaults);
	jv_free(cfg->limits);
	jv_free(cfg->origin);
	memset(cfg, 0, sizeof(*cfg));
	cfg->aliases = cfg->defaults = cfg->limits = cfg->origin =
	    jv_invalid();
}

char *
config_where(const struct config *cfg, size_t file, const char *const *path,
    int npath)
{
	const struct config_file *f = &cfg->files[file];
	struct schema_where w;
	char dotted[512];
	int i;

	w.depth = npath < SCHEMA_DEPTH ? npath : SCHEMA_DEPTH;
	for (i = 0; i < w.depth; i++)
		snprintf(w.key[i], SCHEMA_KEY, "%s", path[i]);
	schema_where_string(&w, dotted, sizeof(dotted));
	return xasprintf("%s line %lu (%s)", f->path,
	    json_locate(f->text, f->len, path, npath), dotted);
}

jv
config_provider(const struct config *cfg, size_t i, const char *name)
{
	jv ps;

	if (i >= cfg->nfiles)
		return jv_invalid();
	ps = json_get(cfg->files[i].root, "providers");
	if (jv_get_kind(ps) != JV_KIND_OBJECT) {
		jv_free(ps);
		return jv_invalid();
	}
	return jv_object_get(ps, jv_string(name));
}
