/*
 * config: the user's configuration files (llm-config(5)).
 *
 * The files are $XDG_CONFIG_HOME/llm/config.json, or the colon-separated
 * list in LLM_CONFIG, later files overriding earlier ones.  Each is a
 * superset of pi's models.json: "providers" merge over the catalog (see
 * provider.h), "models" holds aliases, "defaults" and "limits" hold what
 * their names say.  Loading parses and checks every file; nothing here
 * resolves a secret.
 *
 * The text of each file is kept so that messages and `llm-resolve -e` can
 * name the line a value came from.
 */
#ifndef LLM_CONFIG_H
#define LLM_CONFIG_H

#include <stddef.h>

#include <jv.h>

struct config_file {
	char	*path;
	char	*text;
	size_t	 len;
	jv	 root;
};

struct config {
	struct config_file	*files;
	size_t			 nfiles;
	jv			 aliases;	/* merged "models" */
	jv			 defaults;	/* merged "defaults" */
	jv			 limits;	/* merged "limits" */
	jv			 origin;	/* alias/limit name -> file index */
};

/*
 * Loads the configuration.  A missing default file is no configuration; a
 * missing file named in LLM_CONFIG, a syntax error or a schema violation is
 * an error: -1 with `file: line N: what is wrong` in err.  Either way cfg
 * must be given to config_release afterwards.
 */
int	config_load(struct config *cfg, char *err);

/* Loads exactly the given files (for tests and tools with -c). */
int	config_load_files(struct config *cfg, const char *const *paths,
	    size_t n, int must_exist, char *err);

void	config_release(struct config *cfg);

/*
 * Describes where a value sits, for `-e`: "FILE line N (a.b.c)".  file is
 * an index into cfg->files; path is npath keys.  Returns a new string.
 */
char	*config_where(const struct config *cfg, size_t file,
	    const char *const *path, int npath);

/*
 * The provider object file i gives for name, or jv_invalid().  Returns a
 * new reference.
 */
jv	config_provider(const struct config *cfg, size_t i, const char *name);

#endif
