/*
 * provider: effective providers and models, the catalog merged with the
 * user's configuration and the environment.
 *
 * Merge rules are pi's (models.json): a configuration file's provider
 * fields replace the catalog's; "headers", "compat", "limits", "query" and
 * "endpoints" merge key by key; "models" are upserted by id (a configured
 * model replaces a catalog model of the same id whole); "modelOverrides"
 * patch single fields of a model ("cost", "compat" and "headers" key by
 * key) and apply to listed, family-derived and any-model ids alike.  Files
 * apply in order, then LLM_<PROVIDER>_BASE_URL (provider name upper-cased,
 * '-' as '_') replaces the base URL.
 *
 * Every effective provider and model carries an "_origin" object naming,
 * per field, where its value came from; it is for `llm-resolve -e` and is
 * never copied into a record as such.
 */
#ifndef LLM_PROVIDER_H
#define LLM_PROVIDER_H

#include <jv.h>

#include "catalog.h"
#include "config.h"

struct provider_set {
	struct catalog	*cat;
	struct config	*cfg;
	jv		 cache;		/* name -> effective provider */
	int		 ncache;
	jv		 names;		/* all provider names, in order */
};

/* Borrows cat and cfg, which must outlive set. */
void	provider_set_init(struct provider_set *set, struct catalog *cat,
	    struct config *cfg);

void	provider_set_release(struct provider_set *set);

/*
 * Returns a new reference to the effective provider, or jv_invalid() when
 * neither the catalog nor a configuration file knows name.
 */
jv	provider_get(struct provider_set *set, const char *name);

/*
 * All provider names, catalog order first, then providers only the
 * configuration defines, in file order.  Returns a new array.
 */
jv	provider_names(struct provider_set *set);

/*
 * Returns the effective model id of provider p (borrowed): a listed model,
 * else the first family rule whose glob matches (the template's fields with
 * the asked id), else the provider's defaults when it takes any model.
 * Model overrides apply; missing fields take pi's defaults.  Returns
 * jv_invalid() when the provider has no such model.
 */
jv	provider_model(jv p, const char *id);

/* The ids of every model p (borrowed) lists.  Returns a new array. */
jv	provider_model_ids(jv p);

#endif
