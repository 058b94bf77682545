#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "errbuf.h"
#include "fsutil.h"
#include "json.h"
#include "paths.h"
#include "schema.h"
#include "xalloc.h"

#define CATALOG_FILE_MAX	(64u << 20)

static int
index_cmp(const void *a, const void *b)
{
	const struct catalog_index *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->provider < y->provider ? -1 : x->provider > y->provider;
}

/* Loads and checks an override file; fills names, cache and index. */
static int
open_file(struct catalog *cat, const char *path, char *err)
{
	struct schema_where where;
	char *text, wpath[512];
	size_t len, i, j, nm;
	jv root, ps;
	int it;

	if (fsutil_read_file(path, CATALOG_FILE_MAX, &text, &len, err) == -1)
		return -1;
	root = jv_parse_sized(text, (int)len);
	if (!jv_is_valid(root)) {
		jv m = jv_invalid_get_msg(root);

		json_parse_error(path, jv_get_kind(m) == JV_KIND_STRING ?
		    jv_string_value(m) : "invalid JSON", err);
		jv_free(m);
		free(text);
		return -1;
	}
	if (schema_catalog(root, &where, err) == -1) {
		const char *keys[SCHEMA_DEPTH];
		int d;

		for (d = 0; d < where.depth && d < SCHEMA_DEPTH; d++)
			keys[d] = where.key[d];
		schema_where_string(&where, wpath, sizeof(wpath));
		errbuf_prefix(err, "%s: line %lu: %s", path,
		    json_locate(text, len, keys, d), wpath);
		jv_free(root);
		free(text);
		return -1;
	}
	free(text);
	ps = json_get(root, "providers");
	cat->n = (size_t)jv_object_length(jv_copy(ps));
	cat->names = xcalloc(cat->n, sizeof(*cat->names));
	cat->cache = xcalloc(cat->n, sizeof(*cat->cache));
	i = 0;
	for (it = jv_object_iter(ps); jv_object_iter_valid(ps, it);
	    it = jv_object_iter_next(ps, it), i++) {
		jv k = jv_object_iter_key(ps, it);

		cat->names[i] = xstrdup(jv_string_value(k));
		cat->cache[i] = jv_object_iter_value(ps, it);
		jv_free(k);
	}
	for (i = 0; i < cat->n; i++) {
		jv ms = json_get(cat->cache[i], "models");

		nm = (size_t)jv_array_length(ms);
		cat->index = xrealloc(cat->index, (cat->nindex + nm) *
		    sizeof(*cat->index));
		for (j = 0; j < nm; j++) {
			jv m = jv_array_get(json_get(cat->cache[i], "models"),
			    (int)j);

			cat->index[cat->nindex].id =
			    xstrdup(json_peek_string(m, "id"));
			cat->index[cat->nindex++].provider = (unsigned)i;
			jv_free(m);
		}
	}
	qsort(cat->index, cat->nindex, sizeof(*cat->index), index_cmp);
	jv_free(ps);
	jv_free(root);
	return 0;
}

int
catalog_open(struct catalog *cat, char *err)
{
	char *path = paths_catalog();
	size_t i;
	int r = 0;

	memset(cat, 0, sizeof(*cat));
	if (path) {
		cat->source = path;
		if ((r = open_file(cat, path, err)) == -1)
			catalog_release(cat);
		return r;
	}
	cat->source = xstrdup("built-in");
	cat->entries = catalog_builtin;
	cat->n = catalog_builtin_count;
	cat->names = xcalloc(cat->n, sizeof(*cat->names));
	cat->cache = xcalloc(cat->n, sizeof(*cat->cache));
	for (i = 0; i < cat->n; i++) {
		cat->names[i] = catalog_builtin[i].name;
		cat->cache[i] = jv_invalid();
	}
	/* The generated index is sorted already; share it read-only. */
	cat->index = (struct catalog_index *)catalog_builtin_index;
	cat->nindex = catalog_builtin_index_count;
	return 0;
}

void
catalog_release(struct catalog *cat)
{
	size_t i;

	for (i = 0; cat->cache && i < cat->n; i++)
		jv_free(cat->cache[i]);
	if (cat->entries == NULL) {
		for (i = 0; cat->names && i < cat->n; i++)
			free((char *)cat->names[i]);
		for (i = 0; i < cat->nindex; i++)
			free((char *)cat->index[i].id);
		free(cat->index);
	}
	free(cat->names);
	free(cat->cache);
	free(cat->source);
	memset(cat, 0, sizeof(*cat));
}

int
catalog_find(const struct catalog *cat, const char *name)
{
	size_t i;

	for (i = 0; i < cat->n; i++)
		if (strcmp(cat->names[i], name) == 0)
			return (int)i;
	return -1;
}

jv
catalog_provider(struct catalog *cat, size_t i)
{
	if (i >= cat->n)
		return jv_invalid();
	if (!jv_is_valid(cat->cache[i]))
		cat->cache[i] = jv_parse_sized(cat->entries[i].json,
		    (int)cat->entries[i].len);
	return jv_copy(cat->cache[i]);
}

int
catalog_lookup_model(const struct catalog *cat, const char *id)
{
	size_t lo = 0, hi = cat->nindex, mid;
	int c;

	/* Lower bound: the first entry for id has the lowest provider. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(cat->index[mid].id, id)) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cat->nindex && strcmp(cat->index[lo].id, id) == 0)
		return (int)cat->index[lo].provider;
	return -1;
}
