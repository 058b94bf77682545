/*
 * Unit tests for lib/paths: LLM_* overrides first, then absolute XDG base
 * directories (relative or empty ones ignored), then the defaults under
 * $HOME; and paths_mkdir.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "paths.h"
#include "tap.h"
#include "xalloc.h"

static const char *const vars[] = {
	"LLM_CONFIG", "LLM_KEYFILE", "LLM_CACHE_DIR", "LLM_STATE_DIR",
	"LLM_CATALOG", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
	"XDG_RUNTIME_DIR",
};

/* An environment: NAME=value pairs; a NULL value leaves NAME unset. */
struct env {
	const char	*name;
	const char	*value;
};

static const struct {
	struct env	 env[8];	/* ends at a NULL name */
	const char	*config;
	int		 explicit;
	const char	*keyfile;
	const char	*cache;
	const char	*state;
	const char	*catalog;
	const char	*what;
} tests[] = {
	{ { { NULL, NULL } },
	    "/h/.config/llm/config.json", 0, "/h/.config/llm/keys.llmk",
	    "/h/.cache/llm", "/h/.local/state/llm", NULL,
	    "defaults under $HOME" },
	{ { { "XDG_CONFIG_HOME", "/x/c" }, { "XDG_CACHE_HOME", "/x/k" },
	    { "XDG_STATE_HOME", "/x/s" } },
	    "/x/c/llm/config.json", 0, "/x/c/llm/keys.llmk", "/x/k/llm",
	    "/x/s/llm", NULL, "absolute XDG directories" },
	{ { { "XDG_CONFIG_HOME", "rel/c" }, { "XDG_CACHE_HOME", "./k" },
	    { "XDG_STATE_HOME", "s" }, { "XDG_RUNTIME_DIR", "run" } },
	    "/h/.config/llm/config.json", 0, "/h/.config/llm/keys.llmk",
	    "/h/.cache/llm", "/h/.local/state/llm", NULL,
	    "relative XDG values are ignored" },
	{ { { "XDG_CONFIG_HOME", "" }, { "XDG_CACHE_HOME", "" },
	    { "XDG_STATE_HOME", "" }, { "XDG_RUNTIME_DIR", "" } },
	    "/h/.config/llm/config.json", 0, "/h/.config/llm/keys.llmk",
	    "/h/.cache/llm", "/h/.local/state/llm", NULL,
	    "empty XDG values are ignored" },
	{ { { "XDG_RUNTIME_DIR", "/run/u" }, { "XDG_STATE_HOME", "/x/s" } },
	    "/h/.config/llm/config.json", 0, "/h/.config/llm/keys.llmk",
	    "/h/.cache/llm", "/run/u/llm", NULL,
	    "state: XDG_RUNTIME_DIR before XDG_STATE_HOME" },
	{ { { "XDG_RUNTIME_DIR", "run/u" }, { "XDG_STATE_HOME", "/x/s" } },
	    "/h/.config/llm/config.json", 0, "/h/.config/llm/keys.llmk",
	    "/h/.cache/llm", "/x/s/llm", NULL,
	    "state: a relative XDG_RUNTIME_DIR falls back to XDG_STATE_HOME" },
	{ { { "LLM_CONFIG", "a.json:/b/c.json" }, { "LLM_KEYFILE", "k.llmk" },
	    { "LLM_CACHE_DIR", "/c" }, { "LLM_STATE_DIR", "st" },
	    { "LLM_CATALOG", "/cat.json" }, { "XDG_CONFIG_HOME", "/x/c" } },
	    "a.json:/b/c.json", 1, "k.llmk", "/c", "st", "/cat.json",
	    "LLM_* overrides win, taken as given" },
	{ { { "LLM_CACHE_DIR", "/c" }, { "LLM_STATE_DIR", "/s" },
	    { "XDG_CACHE_HOME", "/x/k" }, { "XDG_RUNTIME_DIR", "/run/u" },
	    { "XDG_STATE_HOME", "/x/s" } },
	    "/h/.config/llm/config.json", 0, "/h/.config/llm/keys.llmk",
	    "/c", "/s", NULL, "LLM_* overrides win over every XDG variable" },
	{ { { "LLM_CONFIG", "" }, { "LLM_KEYFILE", "" },
	    { "LLM_CACHE_DIR", "" }, { "LLM_STATE_DIR", "" },
	    { "LLM_CATALOG", "" } },
	    "/h/.config/llm/config.json", 0, "/h/.config/llm/keys.llmk",
	    "/h/.cache/llm", "/h/.local/state/llm", NULL,
	    "empty LLM_* values are ignored" },
};

static void
setup(const struct env *env)
{
	size_t i;

	for (i = 0; i < nitems(vars); i++)
		unsetenv(vars[i]);
	setenv("HOME", "/h", 1);
	for (; env->name; env++)
		setenv(env->name, env->value, 1);
}

static void
test_table(void)
{
	char *p;
	size_t i;
	int ex;

	for (i = 0; i < nitems(tests); i++) {
		const char *what = tests[i].what;

		setup(tests[i].env);
		ex = -1;
		p = paths_config(&ex);
		is_str(p, tests[i].config, "%s: config", what);
		is_int(ex, tests[i].explicit, "%s: explicit", what);
		free(p);
		p = paths_keyfile();
		is_str(p, tests[i].keyfile, "%s: keyfile", what);
		free(p);
		p = paths_cache_dir();
		is_str(p, tests[i].cache, "%s: cache", what);
		free(p);
		p = paths_state_dir();
		is_str(p, tests[i].state, "%s: state", what);
		free(p);
		p = paths_catalog();
		is_str(p, tests[i].catalog, "%s: catalog", what);
		free(p);
	}
}

static int
isdir(const char *p, mode_t *mode)
{
	struct stat st;

	if (stat(p, &st) == -1 || !S_ISDIR(st.st_mode))
		return 0;
	if (mode)
		*mode = st.st_mode & 07777;
	return 1;
}

static void
test_mkdir(void)
{
	char base[] = "/tmp/llm-paths.XXXXXX", err[ERRBUF_MAX];
	char *deep, *mid, *file, *under, *slashes;
	mode_t mode = 0, um;
	FILE *f;

	if (mkdtemp(base) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	um = umask(022);
	mid = xasprintf("%s/a", base);
	deep = xasprintf("%s/a/b/c", base);
	file = xasprintf("%s/file", base);
	under = xasprintf("%s/file/x", base);
	slashes = xasprintf("%s//d///e/", base);

	is_int(paths_mkdir(deep, 0700, err), 0, "mkdir: missing parents made");
	ok(isdir(deep, &mode) && mode == 0700, "mkdir: the directory, mode "
	    "0700 (%o)", (unsigned)mode);
	ok(isdir(mid, &mode) && mode == 0700, "mkdir: parents get the mode");
	is_int(paths_mkdir(deep, 0700, err), 0, "mkdir: existing is fine");
	is_int(paths_mkdir(slashes, 0700, err), 0, "mkdir: doubled slashes");
	ok(isdir(slashes, NULL), "mkdir: doubled slashes: made");

	if ((f = fopen(file, "w")) != NULL)
		fclose(f);
	err[0] = '\0';
	is_int(paths_mkdir(file, 0700, err), -1, "mkdir: a file in the way");
	ok(strstr(err, file) != NULL, "mkdir: the message names it (%s)",
	    err);
	err[0] = '\0';
	is_int(paths_mkdir(under, 0700, err), -1, "mkdir: under a file");
	ok(err[0] != '\0', "mkdir: under a file: says why (%s)", err);

	umask(um);
	rmdir(slashes);
	free(slashes);
	slashes = xasprintf("%s/d", base);
	rmdir(slashes);
	rmdir(deep);
	free(deep);
	deep = xasprintf("%s/a/b", base);
	rmdir(deep);
	rmdir(mid);
	unlink(file);
	if (rmdir(base) == -1)
		diag("rmdir %s: %s", base, strerror(errno));
	free(slashes);
	free(deep);
	free(mid);
	free(file);
	free(under);
}

int
main(void)
{
	test_table();
	test_mkdir();
	return done();
}
