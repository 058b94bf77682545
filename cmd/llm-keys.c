/*
 * llm-keys: the encrypted keyfile (llm-keys(1), format llm-keys(5)).
 *
 * Every command runs with core dumps off.  A secret goes from the keyfile
 * (sodium_malloc memory) to exactly one place: stdout for `get`, the
 * environment of the command for `exec`, the keyfile for `set` and
 * `import`.  Messages name entries and paths, never values.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "catalog.h"
#include "errbuf.h"
#include "json.h"
#include "keyfile.h"
#include "keyring.h"
#include "passphrase.h"
#include "paths.h"
#include "secmem.h"
#include "tool.h"
#include "xalloc.h"

#define TTL_DEFAULT	(15u * 60)

extern char **environ;

static char *path;		/* the keyfile */

/*
 * What a command holds, released by an atexit handler on every way out,
 * tool_die included: keyfiles and secrets are wiped, and LeakSanitizer
 * sees no leak on an error path either.
 */
static struct keyfile kf_a, kf_b;
static struct secmem *sec_a, *sec_b;
static struct secmem **vals;	/* exec: "VAR=secret" */
static size_t nvals;
static char **strs;		/* exec, import: names and variables */
static size_t nstrs;
static char **envp;		/* exec */
static struct catalog cat;
static int cat_open;

static void
release(void)
{
	size_t i;

	keyfile_release(&kf_a);
	keyfile_release(&kf_b);
	secmem_free(sec_a);
	secmem_free(sec_b);
	for (i = 0; i < nvals; i++)
		secmem_free(vals[i]);
	free(vals);
	for (i = 0; i < nstrs; i++)
		free(strs[i]);
	free(strs);
	free(envp);
	if (cat_open)
		catalog_release(&cat);
	free(path);
	sec_a = sec_b = NULL;
	vals = NULL;
	strs = envp = NULL;
	path = NULL;
	nvals = nstrs = 0;
	cat_open = 0;
}

static void
open_catalog(void)
{
	char err[ERRBUF_MAX];

	if (!cat_open && catalog_open(&cat, err) == -1)
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	cat_open = 1;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: llm-keys init [-f] [-m memlimit] [-o opslimit]\n"
	    "       llm-keys set name\n"
	    "       llm-keys get [-n] name\n"
	    "       llm-keys list\n"
	    "       llm-keys rm name ...\n"
	    "       llm-keys passwd [-r] [-m memlimit] [-o opslimit]\n"
	    "       llm-keys unlock [-t ttl]\n"
	    "       llm-keys lock\n"
	    "       llm-keys exec -e name[=var] ... [--] command [arg ...]\n"
	    "       llm-keys import [-f] [provider ...]\n"
	    "       llm-keys path\n"
	    "       llm-keys -h | -V\n");
}

static void __attribute__((noreturn))
bad_usage(void)
{
	usage(stderr);
	exit(tool_finish(TOOL_EXIT_USAGE));
}

/* Ends the process over a keyfile that cannot be opened. */
static void __attribute__((noreturn))
die_open(const char *err)
{
	if (errno == ENOENT)
		tool_die(TOOL_EXIT_FAIL, "no keyfile at '%s'; create one with "
		    "'llm-keys init'", path);
	tool_die(TOOL_EXIT_FAIL, "%s", err);
}

static void
open_sealed(struct keyfile *kf)
{
	char err[ERRBUF_MAX];

	keyfile_release(kf);
	if (keyfile_open(kf, path, err) == -1)
		die_open(err);
}

static void
open_unlocked(struct keyfile *kf, int flags)
{
	char err[ERRBUF_MAX];

	open_sealed(kf);
	if (keyfile_unlock_auto(kf, flags, err) == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
}

static void
check_name(const char *name)
{
	char err[ERRBUF_MAX];

	if (keyfile_name_check(name, err) == -1)
		tool_die(TOOL_EXIT_USAGE, "%s", err);
}

/*
 * A read-modify-write of the keyfile.  The passphrase (and its KDF) comes
 * first, outside the lock; under the lock the file is read again and
 * opened with the data key already recovered, so that concurrent writers
 * serialise and none loses another's entry.  fn changes the keyfile and
 * returns 0 to save it, -1 to give up with a message in err.
 */
static int
update(int (*fn)(struct keyfile *, void *, char *), void *arg, int flags)
{
	char err[ERRBUF_MAX];
	int lock, r;

	open_unlocked(&kf_a, flags);
	if ((lock = keyfile_flock(path, err)) == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
	open_sealed(&kf_b);
	if (keyfile_unlock_key(&kf_b, kf_a.key, err) != 0)
		tool_die(TOOL_EXIT_FAIL, "'%s' changed while waiting for the "
		    "lock; try again", path);
	keyfile_release(&kf_a);
	if ((r = fn(&kf_b, arg, err)) == 0)
		r = keyfile_save(&kf_b, err);
	keyfile_funlock(lock);
	keyfile_release(&kf_b);
	if (r == -1)
		tool_warn("%s", err);
	return r == 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}

/* -m: bytes with an optional K, M or G (binary) suffix. */
static unsigned long long
parse_size(const char *s, const char *opt)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		mul = 1ULL << 10;
	else if (*end == 'M' || *end == 'm')
		mul = 1ULL << 20;
	else if (*end == 'G' || *end == 'g')
		mul = 1ULL << 30;
	if (mul > 1)
		end++;
	if (errno || *end || *s < '0' || *s > '9' || v > ULLONG_MAX / mul)
		tool_die(TOOL_EXIT_USAGE, "%s: '%s' is not a size", opt, s);
	return v * mul;
}

static unsigned long long
parse_count(const char *s, const char *opt)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || *s < '0' || *s > '9')
		tool_die(TOOL_EXIT_USAGE, "%s: '%s' is not a number", opt, s);
	return v;
}

/* -t: seconds, or a number with s, m, h or d. */
static unsigned
parse_ttl(const char *s)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'd':
		mul *= 24;
		/* FALLTHROUGH */
	case 'h':
		mul *= 60;
		/* FALLTHROUGH */
	case 'm':
		mul *= 60;
		/* FALLTHROUGH */
	case 's':
		end++;
		break;
	}
	if (errno || *end || *s < '0' || *s > '9' || v == 0 ||
	    v > KEYRING_TTL_MAX / mul)
		tool_die(TOOL_EXIT_USAGE, "-t: '%s' is not a timeout between "
		    "1s and %ud", s, KEYRING_TTL_MAX / 86400);
	return (unsigned)(v * mul);
}

/*
 * A new passphrase from fdvar or var, else the terminal (twice).  Returns
 * a new secret; dies when there is no source.
 */
static struct secmem *
new_passphrase(const char *fdvar, const char *var, const char *prompt)
{
	struct secmem *p = sec_a = secmem_new(PASSPHRASE_MAX);
	char err[ERRBUF_MAX];
	int r;

	if (p == NULL)
		tool_die(TOOL_EXIT_FAIL, "out of secure memory");
	if ((r = passphrase_from_env(fdvar, var, p, err)) == 1 &&
	    (r = passphrase_tty_new(prompt, p, err)) == 1)
		tool_die(TOOL_EXIT_FAIL, "no passphrase: set %s or %s, or use "
		    "a terminal", fdvar, var);
	if (r == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
	if (p->len == 0)
		tool_die(TOOL_EXIT_FAIL, "empty passphrase");
	return p;
}

static const struct option force_opts[] = {
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 }
};

static int
cmd_init(int argc, char *argv[])
{
	struct keyfile_kdf kdf = { KEYFILE_OPS_DEFAULT, KEYFILE_MEM_DEFAULT };
	struct secmem *pass;
	char err[ERRBUF_MAX];
	struct stat st;
	int ch, force = 0, lock;

	while ((ch = getopt_long(argc, argv, "+fm:o:", force_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			force = 1;
			break;
		case 'm':
			kdf.memlimit = parse_size(optarg, "-m");
			break;
		case 'o':
			kdf.opslimit = parse_count(optarg, "-o");
			break;
		default:
			bad_usage();
		}
	}
	if (optind != argc)
		bad_usage();
	if (keyfile_kdf_check(&kdf, err) == -1)
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		tool_die(TOOL_EXIT_FAIL, "'%s' is a directory", path);
	if (lstat(path, &st) == 0 && !force)
		tool_die(TOOL_EXIT_FAIL, "'%s' exists; use --force to replace "
		    "it and lose its entries", path);
	pass = new_passphrase("LLM_KEYS_PASSPHRASE_FD", "LLM_KEYS_PASSPHRASE",
	    "New passphrase: ");
	if ((lock = keyfile_flock(path, err)) == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
	if (lstat(path, &st) == 0 && !force)
		tool_die(TOOL_EXIT_FAIL, "'%s' exists; use --force to replace "
		    "it and lose its entries", path);
	/* A session unlock of the file being replaced ends with it. */
	if (force && keyfile_open(&kf_b, path, err) == 0)
		keyfile_session_forget(&kf_b, err);
	keyfile_release(&kf_b);
	if (keyfile_create(&kf_a, path, pass, &kdf, err) == -1 ||
	    keyfile_save(&kf_a, err) == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
	keyfile_funlock(lock);
	return TOOL_EXIT_OK;
}

/* The secret for set: stdin when it is not a terminal, else a prompt. */
static struct secmem *
read_secret(const char *name)
{
	struct secmem *s = sec_b = secmem_new(KEYFILE_SECRET_MAX + 2);
	char chunk[4096], err[ERRBUF_MAX], prompt[KEYFILE_NAME_MAX + 32];
	ssize_t n;
	int r = 0;

	if (s == NULL)
		tool_die(TOOL_EXIT_FAIL, "out of secure memory");
	if (isatty(STDIN_FILENO)) {
		snprintf(prompt, sizeof(prompt), "Secret for %s: ", name);
		if (passphrase_tty(prompt, s, err) != 0)
			tool_die(TOOL_EXIT_FAIL, "%s", err);
		return s;
	}
	for (;;) {
		n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR && !tool_interrupted)
			continue;
		if (n < 0) {
			r = errbuf_errno(err, "read stdin");
			break;
		}
		if (n == 0)
			break;
		if (secmem_append(s, chunk, (size_t)n) == -1) {
			r = errbuf_set(err, "secret is longer than %u bytes",
			    KEYFILE_SECRET_MAX);
			break;
		}
	}
	sodium_memzero(chunk, sizeof(chunk));
	if (r == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
	secmem_chomp(s);
	return s;
}

struct set_arg {
	const char	*name;
	struct secmem	*secret;
};

static int
do_set(struct keyfile *kf, void *arg, char *err)
{
	struct set_arg *a = arg;

	return keyfile_set(kf, a->name, a->secret->data, a->secret->len,
	    (long long)time(NULL), err);
}

static int
cmd_set(int argc, char *argv[])
{
	struct set_arg a;
	int status;

	if (getopt(argc, argv, "+") != -1 || argc - optind != 1)
		bad_usage();
	a.name = argv[optind];
	check_name(a.name);
	a.secret = read_secret(a.name);
	/* Refuse bad input before asking for a passphrase. */
	if (a.secret->len == 0)
		tool_die(TOOL_EXIT_FAIL, "empty secret");
	if (a.secret->len > KEYFILE_SECRET_MAX)
		tool_die(TOOL_EXIT_FAIL, "secret is longer than %u bytes",
		    KEYFILE_SECRET_MAX);
	if (memchr(a.secret->data, '\0', a.secret->len) != NULL)
		tool_die(TOOL_EXIT_FAIL, "secret contains a NUL byte");
	status = update(do_set, &a, 0);
	return status;
}

/* Writes n bytes straight from secure memory: never through stdio. */
static void
write_all(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(STDOUT_FILENO, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				signal(SIGPIPE, SIG_DFL);
				raise(SIGPIPE);
			}
			tool_die(TOOL_EXIT_FAIL, "write error: %s",
			    strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

static int
cmd_get(int argc, char *argv[])
{
	const struct keyfile_entry *e;
	int ch, nflag = 0;

	while ((ch = getopt(argc, argv, "+n")) != -1) {
		if (ch != 'n')
			bad_usage();
		nflag = 1;
	}
	if (argc - optind != 1)
		bad_usage();
	check_name(argv[optind]);
	open_unlocked(&kf_a, 0);
	if ((e = keyfile_get(&kf_a, argv[optind])) == NULL)
		tool_die(TOOL_EXIT_FAIL, "no entry '%s'", argv[optind]);
	write_all(e->secret->data, e->secret->len);
	if (!nflag)
		write_all("\n", 1);
	return TOOL_EXIT_OK;
}

static void
iso_time(long long t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "%lld", t);
}

static int
cmd_list(int argc, char *argv[])
{
	struct keyfile *kf = &kf_a;
	char when[64], fp[KEYFILE_FP_LEN + 1], *line;
	size_t i, w = 4;
	int tty = tool_stdout_tty();

	if (getopt(argc, argv, "+") != -1 || optind != argc)
		bad_usage();
	open_unlocked(kf, 0);
	for (i = 0; i < kf->n; i++)
		if (strlen(kf->entries[i].name) > w)
			w = strlen(kf->entries[i].name);
	if (tty && kf->n > 0) {
		line = xasprintf("%-*s  %-20s  %s\n", (int)w, "NAME",
		    "CREATED", "FINGERPRINT");
		tool_write(line, strlen(line));
		free(line);
	}
	for (i = 0; i < kf->n; i++) {
		const struct keyfile_entry *e = &kf->entries[i];

		iso_time(e->created, when, sizeof(when));
		keyfile_fingerprint(e->secret->data, e->secret->len, fp);
		if (tty) {
			line = xasprintf("%-*s  %-20s  %s\n", (int)w, e->name,
			    when, fp);
			tool_write(line, strlen(line));
			free(line);
			continue;
		}
		tool_emit(jv_object_set(jv_object_set(jv_object_set(
		    jv_object(), jv_string("name"), jv_string(e->name)),
		    jv_string("created"), jv_string(when)),
		    jv_string("fingerprint"), jv_string(fp)));
	}
	return TOOL_EXIT_OK;
}

struct rm_arg {
	char	**names;
	int	  n;
};

static int
do_rm(struct keyfile *kf, void *arg, char *err)
{
	struct rm_arg *a = arg;
	int i;

	for (i = 0; i < a->n; i++)
		if (keyfile_rm(kf, a->names[i]) == 1)
			return errbuf_set(err, "no entry '%s'", a->names[i]);
	return 0;
}

static int
cmd_rm(int argc, char *argv[])
{
	struct rm_arg a;
	int i;

	if (getopt(argc, argv, "+") != -1 || optind == argc)
		bad_usage();
	a.names = argv + optind;
	a.n = argc - optind;
	for (i = 0; i < a.n; i++)
		check_name(a.names[i]);
	return update(do_rm, &a, 0);
}

static int
cmd_passwd(int argc, char *argv[])
{
	struct keyfile_kdf kdf = { 0, 0 };
	struct secmem *pass;
	char err[ERRBUF_MAX];
	size_t i;
	int ch, rekey = 0, lock, r;

	while ((ch = getopt(argc, argv, "+m:o:r")) != -1) {
		switch (ch) {
		case 'm':
			kdf.memlimit = parse_size(optarg, "-m");
			break;
		case 'o':
			kdf.opslimit = parse_count(optarg, "-o");
			break;
		case 'r':
			rekey = 1;
			break;
		default:
			bad_usage();
		}
	}
	if (optind != argc)
		bad_usage();
	/* The old passphrase, not a session: it is the one to change. */
	open_unlocked(&kf_a, KEYFILE_NO_SESSION);
	/* Unchanged parameters stay as they are in the file. */
	for (i = 0; i < kf_a.nslots; i++) {
		if (kf_a.slots[i].type != KEYFILE_SLOT_PASSPHRASE)
			continue;
		if (kdf.opslimit == 0)
			kdf.opslimit = kf_a.slots[i].params.opslimit;
		if (kdf.memlimit == 0)
			kdf.memlimit = kf_a.slots[i].params.memlimit;
		break;
	}
	if (kdf.opslimit == 0)
		kdf.opslimit = KEYFILE_OPS_DEFAULT;
	if (kdf.memlimit == 0)
		kdf.memlimit = KEYFILE_MEM_DEFAULT;
	if (keyfile_kdf_check(&kdf, err) == -1)
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	pass = new_passphrase("LLM_KEYS_NEW_PASSPHRASE_FD",
	    "LLM_KEYS_NEW_PASSPHRASE", "New passphrase: ");
	if ((lock = keyfile_flock(path, err)) == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
	open_sealed(&kf_b);
	if (keyfile_unlock_key(&kf_b, kf_a.key, err) != 0)
		tool_die(TOOL_EXIT_FAIL, "'%s' changed while waiting for the "
		    "lock; try again", path);
	r = rekey ? keyfile_rekey(&kf_b, pass, &kdf, err) :
	    keyfile_passwd(&kf_b, pass, &kdf, err);
	if (r == 0)
		r = keyfile_save(&kf_b, err);
	keyfile_funlock(lock);
	if (r == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
	/* A new data key leaves the session on the old one useless. */
	if (rekey && keyfile_session_forget(&kf_a, err) == -1 &&
	    keyring_available(NULL) == 0)
		tool_warn("%s", err);
	return TOOL_EXIT_OK;
}

static int
cmd_unlock(int argc, char *argv[])
{
	char err[ERRBUF_MAX];
	unsigned ttl = TTL_DEFAULT;
	int ch;

	while ((ch = getopt(argc, argv, "+t:")) != -1) {
		if (ch != 't')
			bad_usage();
		ttl = parse_ttl(optarg);
	}
	if (optind != argc)
		bad_usage();
	/* Say so before anyone types a passphrase for nothing. */
	if (keyring_available(err) == -1)
		tool_die(TOOL_EXIT_FAIL, "%s; a session unlock needs them "
		    "(use LLM_KEYS_PASSPHRASE_FD in scripts)", err);
	open_unlocked(&kf_a, KEYFILE_NO_SESSION);
	if (keyfile_session_store(&kf_a, ttl, err) == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
	return TOOL_EXIT_OK;
}

static int
cmd_lock(int argc, char *argv[])
{
	char err[ERRBUF_MAX];

	if (getopt(argc, argv, "+") != -1 || optind != argc)
		bad_usage();
	open_sealed(&kf_a);
	if (keyfile_session_forget(&kf_a, err) == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
	return TOOL_EXIT_OK;
}

/* Whether s is a portable variable name. */
static int
var_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	    *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/*
 * The variable of a provider in the catalog: the first of its "env" list.
 * "zai#2" is a rotation of zai.  Returns a new string or NULL.
 */
static char *
provider_var(const char *name)
{
	char *prov = xstrndup(name, strcspn(name, "#")), *var = NULL;
	int i;
	jv p, env;

	open_catalog();
	i = catalog_find(&cat, prov);
	free(prov);
	if (i < 0)
		return NULL;
	p = catalog_provider(&cat, (size_t)i);
	env = json_get(p, "env");
	if (jv_get_kind(env) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(env)) > 0) {
		jv v = jv_array_get(jv_copy(env), 0);

		if (jv_get_kind(v) == JV_KIND_STRING)
			var = xstrdup(jv_string_value(v));
		jv_free(v);
	}
	jv_free(env);
	jv_free(p);
	return var;
}

static int
dropped(const char *env, char **vars, size_t nvars)
{
	static const char *const never[] = {
		"LLM_KEYS_PASSPHRASE", "LLM_KEYS_PASSPHRASE_FD",
		"LLM_KEYS_NEW_PASSPHRASE", "LLM_KEYS_NEW_PASSPHRASE_FD"
	};
	size_t i, l = strcspn(env, "=");

	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (strlen(never[i]) == l && strncmp(env, never[i], l) == 0)
			return 1;
	for (i = 0; i < nvars; i++)
		if (strlen(vars[i]) == l && strncmp(env, vars[i], l) == 0)
			return 1;
	return 0;
}

static int
cmd_exec(int argc, char *argv[])
{
	char **names, **vars, **saved = environ, *eq, *v;
	size_t n = 0, i, k, nenv;
	int ch, e;

	/* At most one name and one variable per argument: kept until exit. */
	strs = xcalloc((size_t)argc * 2 + 1, sizeof(*strs));
	nstrs = (size_t)argc * 2;
	names = strs;
	vars = strs + argc;
	while ((ch = getopt(argc, argv, "+e:")) != -1) {
		if (ch != 'e')
			bad_usage();
		if ((eq = strchr(optarg, '=')) != NULL) {
			names[n] = xstrndup(optarg, (size_t)(eq - optarg));
			vars[n] = xstrdup(eq + 1);
		} else
			names[n] = xstrdup(optarg);
		n++;
	}
	if (n == 0 || optind == argc)
		bad_usage();
	for (i = 0; i < n; i++) {
		check_name(names[i]);
		if (vars[i] == NULL) {
			if ((v = provider_var(names[i])) == NULL)
				tool_die(TOOL_EXIT_USAGE, "-e %s: not a "
				    "catalog provider with a variable; write "
				    "-e %s=VAR", names[i], names[i]);
			vars[i] = v;
		}
		if (!var_name(vars[i]))
			tool_die(TOOL_EXIT_USAGE, "-e %s: '%s' is not a "
			    "variable name", names[i], vars[i]);
	}
	open_unlocked(&kf_a, 0);
	vals = xcalloc(n, sizeof(*vals));
	for (i = 0; i < n; i++) {
		const struct keyfile_entry *ent = keyfile_get(&kf_a, names[i]);

		if (ent == NULL)
			tool_die(TOOL_EXIT_FAIL, "no entry '%s'", names[i]);
		nvals++;
		if ((vals[i] = secmem_new(KEYFILE_SECRET_MAX + 256)) == NULL ||
		    secmem_append(vals[i], vars[i], strlen(vars[i])) == -1 ||
		    secmem_append(vals[i], "=", 1) == -1 ||
		    secmem_append(vals[i], ent->secret->data,
		    ent->secret->len) == -1)
			tool_die(TOOL_EXIT_FAIL, "out of secure memory");
	}
	keyfile_release(&kf_a);
	for (nenv = 0; environ[nenv] != NULL; nenv++)
		;
	envp = xcalloc(nenv + n + 1, sizeof(*envp));
	for (i = k = 0; i < nenv; i++)
		if (!dropped(environ[i], vars, n))
			envp[k++] = environ[i];
	for (i = 0; i < n; i++)
		envp[k++] = vals[i]->data;
	envp[k] = NULL;
	tool_flush();
	fflush(stdout);
	secmem_nodump_undo();
	signal(SIGPIPE, SIG_DFL);
	environ = envp;
	execvp(argv[optind], argv + optind);
	e = errno;
	environ = saved;
	tool_die(e == ENOENT ? 127 : 126, "exec '%s': %s", argv[optind],
	    strerror(e));
}

struct import_arg {
	size_t	  n;
	char	**names;
	char	**vars;
	int	  force;
};

static int
do_import(struct keyfile *kf, void *arg, char *err)
{
	struct import_arg *a = arg;
	const char *v;
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (keyfile_get(kf, a->names[i]) != NULL && !a->force) {
			tool_warn("%s: entry exists, kept (use -f to replace "
			    "it)", a->names[i]);
			continue;
		}
		v = getenv(a->vars[i]);
		if (keyfile_set(kf, a->names[i], v, strlen(v),
		    (long long)time(NULL), err) == -1)
			return errbuf_prefix(err, "%s from %s", a->names[i],
			    a->vars[i]);
		tool_warn("%s: imported from %s", a->names[i], a->vars[i]);
	}
	return 0;
}

/* The first variable of provider i that is set, as a new string, or NULL. */
static char *
set_var(size_t i)
{
	jv p = catalog_provider(&cat, i), env = json_get(p, "env");
	int j, m = jv_get_kind(env) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(env)) : 0;
	const char *s;
	char *found = NULL;

	for (j = 0; j < m && found == NULL; j++) {
		jv v = jv_array_get(jv_copy(env), j);

		if (jv_get_kind(v) == JV_KIND_STRING &&
		    (s = getenv(jv_string_value(v))) != NULL && *s != '\0')
			found = xstrdup(jv_string_value(v));
		jv_free(v);
	}
	jv_free(env);
	jv_free(p);
	return found;
}

static int
cmd_import(int argc, char *argv[])
{
	struct import_arg a = { 0, NULL, NULL, 0 };
	const char *prov;
	char *var;
	size_t i, np;
	int ch, k;

	while ((ch = getopt_long(argc, argv, "+f", force_opts,
	    NULL)) != -1) {
		if (ch != 'f')
			bad_usage();
		a.force = 1;
	}
	open_catalog();
	for (k = optind; k < argc; k++)
		if (catalog_find(&cat, argv[k]) < 0)
			tool_die(TOOL_EXIT_USAGE, "unknown provider '%s'",
			    argv[k]);
	np = optind < argc ? (size_t)(argc - optind) : cat.n;
	/* Names and variables, kept until exit: strs[0 .. 2 * np). */
	strs = xcalloc(np * 2 + 1, sizeof(*strs));
	nstrs = np * 2;
	a.names = strs;
	a.vars = strs + np;
	for (i = 0; i < np; i++) {
		prov = optind < argc ? argv[optind + i] : cat.names[i];
		if ((var = set_var((size_t)catalog_find(&cat, prov))) == NULL)
			continue;
		a.names[a.n] = xstrdup(prov);
		a.vars[a.n++] = var;
	}
	if (a.n == 0) {
		tool_warn("nothing to import: no provider's variable is set");
		return TOOL_EXIT_OK;
	}
	return update(do_import, &a, 0);
}

static int
cmd_path(int argc, char *argv[])
{
	if (getopt(argc, argv, "+") != -1 || optind != argc)
		bad_usage();
	printf("%s\n", path);
	return TOOL_EXIT_OK;
}

static const struct {
	const char	*name;
	int		(*fn)(int, char *[]);
} cmds[] = {
	{ "exec", cmd_exec },
	{ "get", cmd_get },
	{ "import", cmd_import },
	{ "init", cmd_init },
	{ "list", cmd_list },
	{ "lock", cmd_lock },
	{ "passwd", cmd_passwd },
	{ "path", cmd_path },
	{ "rm", cmd_rm },
	{ "set", cmd_set },
	{ "unlock", cmd_unlock },
};

int
main(int argc, char *argv[])
{
	char err[ERRBUF_MAX];
	size_t i;
	int ch, status;

	tool_init("llm-keys");
	atexit(release);
	if (secmem_nodump(err) == -1)
		tool_die(TOOL_EXIT_FAIL, "%s", err);
	if (sodium_init() < 0)
		tool_die(TOOL_EXIT_FAIL, "cannot initialise libsodium");
	while ((ch = getopt(argc, argv, "+hV")) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return tool_finish(TOOL_EXIT_OK);
		case 'V':
			printf("llm-keys %s\n", VERSION);
			return tool_finish(TOOL_EXIT_OK);
		default:
			bad_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		bad_usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		tool_warn("unknown command '%s'", argv[0]);
		bad_usage();
	}
	path = paths_keyfile();
	optind = 1;
	status = cmds[i].fn(argc, argv);
	release();
	return tool_finish(status);
}
