/*
 * schema: the shape of the catalog and of user configuration files.
 *
 * Both share one provider and model schema (a superset of pi's
 * models.json, see llm-config(5)).  The catalog is checked strictly: every
 * provider and model carries all of its fields, so resolution never has to
 * guess.  A configuration is checked leniently: fields are optional and
 * merge over the catalog, unknown keys are ignored, but a field that is
 * present must have the right kind.
 *
 * On failure the functions return -1, put the reason in err and the key
 * path of the offending value in *where, so that the caller can turn it
 * into `file: line N: providers.zai.baseUrl: expected a string`.
 */
#ifndef LLM_SCHEMA_H
#define LLM_SCHEMA_H

#include <stddef.h>

#include <jv.h>

#define SCHEMA_DEPTH	6
#define SCHEMA_KEY	128

struct schema_where {
	char	 key[SCHEMA_DEPTH][SCHEMA_KEY];
	int	 depth;
};

/* The API dialects a target may name; NULL-terminated. */
extern const char *const schema_apis[];

/* The auth schemes; NULL-terminated. */
extern const char *const schema_auth_schemes[];

/* The thinking levels, in order; NULL-terminated. */
extern const char *const schema_thinking_levels[];

/* Whether s is one of the NULL-terminated list. */
int	schema_in(const char *s, const char *const *list);

/* Checks a whole catalog document strictly.  Borrows root. */
int	schema_catalog(jv root, struct schema_where *where, char *err);

/* Checks a whole configuration document leniently.  Borrows root. */
int	schema_config(jv root, struct schema_where *where, char *err);

/* Writes where as "a.b.c" (array positions as [n]) into out. */
void	schema_where_string(const struct schema_where *where, char *out,
	    size_t n);

#endif
