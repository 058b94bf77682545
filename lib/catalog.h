/*
 * catalog: the built-in provider and model catalog.
 *
 * The catalog is data (share/llm/catalog.json, described in llm-config(5)).
 * At build time tools/catalog-gen validates it and compiles it into the
 * binaries as one JSON text per provider plus a sorted index of model ids,
 * so a lone binary works and resolving `zai/glm-4.7` parses only the zai
 * entry.  LLM_CATALOG names a file that replaces the built-in catalog
 * whole; it is parsed and checked the same way when the catalog is opened.
 *
 * Providers keep the catalog's order, which is also the order of preference
 * when a bare model id is listed by several providers.
 */
#ifndef LLM_CATALOG_H
#define LLM_CATALOG_H

#include <stddef.h>

#include <jv.h>

/* What catalog-gen emits (obj/catalog_data.c). */
struct catalog_entry {
	const char	*name;
	const char	*json;
	size_t		 len;
};

struct catalog_index {
	const char	*id;		/* a model id */
	unsigned	 provider;	/* position in the provider list */
};

extern const struct catalog_entry catalog_builtin[];
extern const size_t catalog_builtin_count;
extern const struct catalog_index catalog_builtin_index[];
extern const size_t catalog_builtin_index_count;

struct catalog {
	size_t			 n;
	const char		**names;
	jv			*cache;		/* parsed providers, lazily */
	const struct catalog_entry *entries;	/* NULL for a file */
	struct catalog_index	*index;		/* sorted by id */
	size_t			 nindex;
	char			*source;	/* "built-in" or the file */
};

/*
 * Opens the built-in catalog, or the file LLM_CATALOG names.  Returns 0, or
 * -1 with `file: line N: path: reason` in err for a bad override.
 */
int	catalog_open(struct catalog *cat, char *err);

void	catalog_release(struct catalog *cat);

/* The position of provider name, or -1. */
int	catalog_find(const struct catalog *cat, const char *name);

/*
 * Returns a new reference to provider i's object.  The built-in JSON is
 * parsed on first use and kept.
 */
jv	catalog_provider(struct catalog *cat, size_t i);

/*
 * The position of the first provider (in catalog order) that lists model
 * id exactly, or -1.
 */
int	catalog_lookup_model(const struct catalog *cat, const char *id);

#endif
