#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "paths.h"
#include "xalloc.h"

/* A non-empty absolute value of the variable, or NULL. */
static const char *
absenv(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] == '/' ? v : NULL;
}

static const char *
nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* $XDG_<var> or $HOME/<fallback>, joined with "llm/<leaf>". */
static char *
xdg(const char *var, const char *fallback, const char *leaf)
{
	const char *base = absenv(var), *home;

	if (base)
		return xasprintf("%s/llm%s%s", base, *leaf ? "/" : "", leaf);
	home = getenv("HOME");
	if (home == NULL || *home == '\0')
		home = "/";
	return xasprintf("%s/%s/llm%s%s", strcmp(home, "/") ? home : "",
	    fallback, *leaf ? "/" : "", leaf);
}

char *
paths_config(int *explicit)
{
	const char *v = nonempty("LLM_CONFIG");

	*explicit = v != NULL;
	return v ? xstrdup(v) : xdg("XDG_CONFIG_HOME", ".config",
	    "config.json");
}

char *
paths_keyfile(void)
{
	const char *v = nonempty("LLM_KEYFILE");

	return v ? xstrdup(v) : xdg("XDG_CONFIG_HOME", ".config", "keys.llmk");
}

char *
paths_cache_dir(void)
{
	const char *v = nonempty("LLM_CACHE_DIR");

	return v ? xstrdup(v) : xdg("XDG_CACHE_HOME", ".cache", "");
}

char *
paths_state_dir(void)
{
	const char *v = nonempty("LLM_STATE_DIR");

	if (v)
		return xstrdup(v);
	if ((v = absenv("XDG_RUNTIME_DIR")) != NULL)
		return xasprintf("%s/llm", v);
	return xdg("XDG_STATE_HOME", ".local/state", "");
}

char *
paths_catalog(void)
{
	const char *v = nonempty("LLM_CATALOG");

	return v ? xstrdup(v) : NULL;
}

int
paths_mkdir(const char *dir, int mode, char *err)
{
	char *p = xstrdup(dir), *s;
	struct stat st;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (s[-1] != '/') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, (mode_t)mode) == -1 && errno != EEXIST) {
				errbuf_errno(err, "mkdir '%s'", p);
				free(p);
				return -1;
			}
			*s = c;
		}
		if (*s == '\0')
			break;
	}
	free(p);
	if (stat(dir, &st) == -1)
		return errbuf_errno(err, "stat '%s'", dir);
	if (!S_ISDIR(st.st_mode))
		return errbuf_set(err, "'%s' is not a directory", dir);
	return 0;
}
