/*
 * paths: where llm-tools keeps its files (DESIGN.md section 3).
 *
 * Each function returns a new string the caller frees, honouring the LLM_*
 * override first, then the XDG base directory variables (relative values
 * are ignored, as the XDG specification says), then the defaults under
 * $HOME.  Nothing is created here; paths_mkdir does that when a tool is
 * about to write.
 */
#ifndef LLM_PATHS_H
#define LLM_PATHS_H

/*
 * The configuration file list: LLM_CONFIG (a colon-separated list of files,
 * later ones overriding earlier ones) or $XDG_CONFIG_HOME/llm/config.json.
 * *explicit is set to 1 when it came from LLM_CONFIG, so that a missing
 * file can be an error there and silently absent otherwise.
 */
char	*paths_config(int *explicit);

/* The encrypted keyfile: LLM_KEYFILE or $XDG_CONFIG_HOME/llm/keys.llmk. */
char	*paths_keyfile(void);

/* The response cache: LLM_CACHE_DIR or $XDG_CACHE_HOME/llm. */
char	*paths_cache_dir(void);

/*
 * Shared state (cooldowns, rate buckets): LLM_STATE_DIR, else
 * $XDG_RUNTIME_DIR/llm, else $XDG_STATE_HOME/llm.
 */
char	*paths_state_dir(void);

/* A catalog replacing the built-in one: LLM_CATALOG, or NULL. */
char	*paths_catalog(void);

/*
 * Creates dir and its missing parents with the given mode.  Returns 0, or
 * -1 with a message in err.
 */
int	paths_mkdir(const char *dir, int mode, char *err);

#endif
