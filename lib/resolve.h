/*
 * resolve: model references to concrete targets (DESIGN.md sections 2, 4).
 *
 * A reference is an alias from the configuration ("fast"), a provider and
 * model id ("zai/glm-4.7", "openrouter/anthropic/claude-sonnet-4"), or a
 * bare model id ("glm-4.7", "echo") looked up across providers in catalog
 * order.  Aliases expand to a primary reference, its fallbacks and
 * parameters, or pick one of several weighted references (the others
 * become fallbacks, heaviest first).
 *
 * A target names everything a sender needs: dialect, URL, where the key
 * comes from (never the key), headers (unresolved value expressions),
 * compat flags, limits, prices, context window.  Targets are cached per
 * concrete reference, so resolving a long stream of records costs little.
 */
#ifndef LLM_RESOLVE_H
#define LLM_RESOLVE_H

#include <stdint.h>

#include <jv.h>

#include "catalog.h"
#include "config.h"
#include "provider.h"

struct resolver {
	struct provider_set	 ps;
	struct config		*cfg;
	jv			 targets;	/* concrete ref -> target */
	int			 ntargets;
	jv			 failures;	/* ref -> message, memoized */
	int			 nfailures;
	jv			 extra;		/* -F refs, appended */
	uint64_t		 rng;
	int			 explain;
	char			 failed[256];	/* the reference that failed */
};

/* Borrows cat and cfg, which must outlive r. */
void	resolver_init(struct resolver *r, struct catalog *cat,
	    struct config *cfg);

void	resolver_release(struct resolver *r);

/* Seeds the weighted choice (-S); unseeded resolvers use time and pid. */
void	resolver_seed(struct resolver *r, uint64_t seed);

/*
 * Adds the comma-separated references in list as fallbacks of every
 * record.  Returns 0, or -1 with err when one does not resolve.
 */
int	resolver_add_fallbacks(struct resolver *r, const char *list,
	    char *err);

/*
 * Resolves one concrete or aliased reference to its first target.
 * Returns a new target, or jv_invalid() with err.
 */
jv	resolve_target(struct resolver *r, const char *ref, char *err);

/*
 * Resolves a request record: adds "target" and "fallbacks" (and, when
 * r->explain is set, "explain").  A record without "model" takes
 * default_model (may be NULL).  A reference that does not resolve gives
 * a "config" error record naming the closest known references; a request
 * too large for every candidate's context window a "context_length" one.
 * Consumes req; returns the record to emit.  *failed is set to 1 for an
 * error record.
 */
jv	resolve_request(struct resolver *r, jv req, const char *default_model,
	    int *failed);

/*
 * The key expression behind a "config:NAME" or "config:NAME#N" key source
 * (a literal apiKey, or the Nth of apiKeys, of provider NAME), which
 * targets name instead of copying the key.  Returns a new string, or
 * NULL when there is none.
 */
char	*resolver_config_key(struct resolver *r, const char *ref);

/*
 * Lists every model: {"ref","provider","model","name","api",
 * "context_window","max_tokens","reasoning","input","cost"} per model of
 * provider (or of all providers when NULL), then the aliases as
 * {"ref","alias":true,"model"}.  Returns a new array.
 */
jv	resolve_list(struct resolver *r, const char *provider);

#endif
