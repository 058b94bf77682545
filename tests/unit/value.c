/*
 * Unit tests for lib/value, table-driven over pi's rules: "!command",
 * "$VAR", "${VAR}", the "$$" and "$!" escapes, "keyfile:NAME" with and
 * without a lookup hook, and literals; plus value_available.
 */
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "secmem.h"
#include "tap.h"
#include "value.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/llm-value.XXXXXX";

static const struct {
	const char	*expr;
	int		 r;
	const char	*out;	/* r == 0: the value */
	const char	*err;	/* r != 0: a part of the message, or NULL */
	const char	*what;
} tests[] = {
	/* literals */
	{ "sk-abc123", 0, "sk-abc123", NULL, "a literal" },
	{ "", 0, "", NULL, "the empty literal" },
	{ "a!b", 0, "a!b", NULL, "'!' not at the start is literal" },
	{ " !echo x", 0, " !echo x", NULL, "a space before '!': literal" },
	{ "keyfile", 0, "keyfile", NULL, "\"keyfile\" without a colon" },
	{ "$", 0, "$", NULL, "a lone '$'" },
	{ "a$", 0, "a$", NULL, "a '$' at the end" },
	{ "$ x", 0, "$ x", NULL, "a '$' before a space" },
	{ "$1", 0, "$1", NULL, "a '$' before a digit" },
	{ "cost: 5$/M", 0, "cost: 5$/M", NULL, "a '$' before '/'" },
	/* escapes */
	{ "$$x", 0, "$x", NULL, "$$x is $x" },
	{ "$$", 0, "$", NULL, "$$ alone" },
	{ "$$$$", 0, "$$", NULL, "$$$$ is $$" },
	{ "$$LLMT_A", 0, "$LLMT_A", NULL, "$$ before a name: no lookup" },
	{ "$$LLMT_UNSET", 0, "$LLMT_UNSET", NULL,
	    "$$ before an unset name: still resolved" },
	{ "$!x", 0, "!x", NULL, "$!x is !x" },
	{ "a$!b", 0, "a!b", NULL, "$! inside text" },
	/* variables */
	{ "$LLMT_A", 0, "alpha", NULL, "$VAR" },
	{ "${LLMT_A}", 0, "alpha", NULL, "${VAR}" },
	{ "Bearer $LLMT_A", 0, "Bearer alpha", NULL, "$VAR inside text" },
	{ "${LLMT_A}_B", 0, "alpha_B", NULL, "${A}_B" },
	{ "$LLMT_A-$LLMT_B.", 0, "alpha-beta.", NULL,
	    "two variables, a name ends at a non-name byte" },
	{ "$LLMT_A$LLMT_B", 0, "alphabeta", NULL, "two variables abutting" },
	{ "$LLMT_A_B", 1, NULL, "LLMT_A_B", "$A_B names A_B" },
	{ "$LLMT_UNSET", 1, NULL, "LLMT_UNSET", "an unset variable" },
	{ "${LLMT_UNSET}", 1, NULL, "LLMT_UNSET", "an unset ${VAR}" },
	{ "$LLMT_EMPTY", 1, NULL, "LLMT_EMPTY", "an empty variable" },
	{ "x $LLMT_A $LLMT_UNSET y", 1, NULL, "LLMT_UNSET",
	    "one unset variable in text" },
	/* commands */
	{ "!printf sek", 0, "sek", NULL, "a command" },
	{ "!printf 'sek\\n'", 0, "sek", NULL, "trailing newline chomped" },
	{ "!printf 'sek\\n\\n\\n'", 0, "sek", NULL,
	    "all trailing newlines chomped" },
	{ "!printf 'a\\nb\\n'", 0, "a\nb", NULL, "inner newline kept" },
	{ "!printf ' x '", 0, " x ", NULL, "blanks kept" },
	{ "!printf %s \"$LLMT_A\" x", 0, "alphax", NULL,
	    "the whole rest goes to sh -c" },
	{ "!echo SECRETOUT; exit 3", -1, NULL, NULL,
	    "a failing command" },
	{ "!echo SECRETOUT; kill -9 $$", -1, NULL, NULL,
	    "a command killed by a signal" },
	{ "!exec 2>/dev/null; /nonexistent/llm-cmd", -1, NULL, NULL,
	    "a command that is not found" },
};

static int
lookup(const char *name, struct secmem *out, char *err)
{
	if (strcmp(name, "none") == 0)
		return 1;
	if (strcmp(name, "bad") == 0)
		return errbuf_set(err, "keyfile is damaged");
	return secmem_append(out, "K-", 2) == -1 ||
	    secmem_append(out, name, strlen(name)) == -1 ? -1 : 0;
}

/* Resolves expr into a fresh secret; *outp gets a copy of the value. */
static int
resolve(const char *expr, char **outp, char *err)
{
	struct secmem *s = secmem_new(VALUE_MAX);
	int r;

	*outp = NULL;
	if (s == NULL)
		return -2;
	err[0] = '\0';
	r = value_resolve(expr, s, err);
	*outp = xstrndup(s->data, s->len);
	secmem_free(s);
	return r;
}

static void
test_table(void)
{
	char err[ERRBUF_MAX], *out;
	size_t i;
	int r;

	for (i = 0; i < nitems(tests); i++) {
		r = resolve(tests[i].expr, &out, err);
		is_int(r, tests[i].r, "%s: returns %d", tests[i].what,
		    tests[i].r);
		if (tests[i].r == 0)
			is_str(r == 0 ? out : NULL, tests[i].out, "%s: value",
			    tests[i].what);
		else {
			ok(err[0] != '\0' && (tests[i].err == NULL ||
			    strstr(err, tests[i].err) != NULL),
			    "%s: says why (\"%s\")", tests[i].what, err);
			ok(strstr(err, "SECRETOUT") == NULL &&
			    strstr(err, "echo") == NULL &&
			    strstr(err, "alpha") == NULL,
			    "%s: message quotes neither output, command nor "
			    "value", tests[i].what);
		}
		free(out);
	}
}

static void
test_commands(void)
{
	char err[ERRBUF_MAX], *out, *ran, *expr;
	struct secmem *s;
	struct stat st;
	int r;

	/* "$!" escapes: nothing runs. */
	ran = xasprintf("%s/ran", tmpdir);
	expr = xasprintf("$!touch %s", ran);
	r = resolve(expr, &out, err);
	ok(r == 0 && strcmp(out, expr + 1) == 0, "$!touch: the literal text");
	ok(stat(ran, &st) == -1 && errno == ENOENT, "$!touch: nothing ran");
	free(out);
	free(expr);
	expr = xasprintf("!touch %s; echo y", ran);
	r = resolve(expr, &out, err);
	ok(r == 0 && stat(ran, &st) == 0, "!touch: the command ran");
	unlink(ran);
	free(out);
	free(expr);
	free(ran);

	/* A command printing nothing does not resolve to an empty key. */
	r = resolve("!true", &out, err);
	ok(r != 0, "a command printing nothing does not resolve (%d: %s)",
	    r, err);
	ok(strstr(err, "true") == NULL,
	    "a command printing nothing: message does not quote it");
	free(out);
	r = resolve("!printf '\\n\\n'", &out, err);
	ok(r != 0, "a command printing only newlines does not resolve");
	free(out);

	/* The ceiling. */
	r = resolve("!head -c 70000 /dev/zero | tr '\\0' k", &out, err);
	is_int(r, -1, "command output over VALUE_MAX fails");
	ok(strstr(err, "kkk") == NULL, "over VALUE_MAX: output not quoted");
	free(out);

	/* value_resolve appends. */
	s = secmem_new(VALUE_MAX);
	if (s == NULL) {
		ok(0, "secmem_new");
		return;
	}
	secmem_append(s, "pre:", 4);
	r = value_resolve("$LLMT_A", s, err);
	ok(r == 0 && strcmp(s->data, "pre:alpha") == 0,
	    "value_resolve appends to out");
	r = value_resolve("!printf x", s, err);
	ok(r == 0 && strcmp(s->data, "pre:alphax") == 0,
	    "a command's output is appended too");
	secmem_free(s);
}

static void
test_long(void)
{
	char err[ERRBUF_MAX], *out, *big;

	big = xmalloc(VALUE_MAX + 2);
	memset(big, 'v', VALUE_MAX + 1);
	big[VALUE_MAX + 1] = '\0';
	is_int(resolve(big, &out, err), -1, "a literal over VALUE_MAX fails");
	free(out);
	setenv("LLMT_BIG", big, 1);
	is_int(resolve("$LLMT_BIG", &out, err), -1,
	    "a variable over VALUE_MAX fails");
	ok(strstr(err, "vvv") == NULL, "over VALUE_MAX: value not quoted");
	free(out);
	unsetenv("LLMT_BIG");
	big[VALUE_MAX] = '\0';
	is_int(resolve(big, &out, err), 0, "a literal of VALUE_MAX bytes");
	is_int((long long)strlen(out), VALUE_MAX, "all of it");
	free(out);
	free(big);
}

static void
test_keyfile(void)
{
	char err[ERRBUF_MAX], *out;
	int r;

	value_keyfile_lookup = NULL;
	r = resolve("keyfile:zai", &out, err);
	is_int(r, 1, "keyfile: without a hook: unresolved");
	ok(err[0] != '\0', "keyfile: without a hook says why (\"%s\")", err);
	free(out);
	r = resolve("keyfile:", &out, err);
	ok(r != 0, "keyfile: with no name does not resolve");
	free(out);

	value_keyfile_lookup = lookup;
	r = resolve("keyfile:zai#2", &out, err);
	ok(r == 0 && strcmp(out, "K-zai#2") == 0,
	    "keyfile: the hook gets the name after the colon");
	free(out);
	is_int(resolve("keyfile:none", &out, err), 1,
	    "keyfile: no such entry: unresolved");
	free(out);
	is_int(resolve("keyfile:bad", &out, err), -1,
	    "keyfile: a failing hook fails");
	is_str(err, "keyfile is damaged", "keyfile: the hook's message");
	free(out);
	r = resolve("$LLMT_A keyfile:zai", &out, err);
	ok(r == 0 && strcmp(out, "alpha keyfile:zai") == 0,
	    "keyfile: not at the start is literal");
	free(out);
	value_keyfile_lookup = NULL;
}

static const struct {
	const char	*expr;
	int		 want;
} avail_tests[] = {
	{ "sk-abc", 1 }, { "", 1 }, { "$", 1 }, { "$$LLMT_UNSET", 1 },
	{ "$!cmd", 1 }, { "$LLMT_A", 1 }, { "${LLMT_A}_B", 1 },
	{ "x$LLMT_A$LLMT_B", 1 }, { "$LLMT_UNSET", 0 }, { "$LLMT_EMPTY", 0 },
	{ "$LLMT_A_B", 0 }, { "${LLMT_UNSET}", 0 }, { "a $LLMT_UNSET b", 0 },
	{ "!cmd", 2 }, { "!", 2 }, { "keyfile:zai", 2 },
};

static void
test_available(void)
{
	size_t i;

	for (i = 0; i < nitems(avail_tests); i++)
		is_int(value_available(avail_tests[i].expr),
		    avail_tests[i].want, "value_available(\"%s\")",
		    avail_tests[i].expr);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	setenv("LLMT_A", "alpha", 1);
	setenv("LLMT_B", "beta", 1);
	setenv("LLMT_EMPTY", "", 1);
	unsetenv("LLMT_UNSET");
	unsetenv("LLMT_A_B");
	test_table();
	test_commands();
	test_long();
	test_keyfile();
	test_available();
	if (rmdir(tmpdir) == -1)
		diag("rmdir %s: %s", tmpdir, strerror(errno));
	return done();
}
