#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "errbuf.h"
#include "json.h"
#include "paths.h"
#include "record.h"
#include "state.h"
#include "xalloc.h"

#define MAGIC		"LLMSTAT1"
#define US		1000000.0
#define LOCK_WAIT_US	100000		/* give up a lock after 100 ms */
#define FUTURE_MAX	(86400.0 + 3600)	/* longest cooldown, slack */
#define SERVER_FAILS	5		/* server failures in a row ... */
#define SERVER_SPAN	10.0		/* ... over this many seconds */
#define COOL_MAX	86400.0		/* a Retry-After is cut to this */

enum { T_COOL = 1, T_BUCKET = 2, T_SLOT = 3 };

/* Problems, each reported once per process. */
enum {
	W_DIR = 1 << 0,
	W_CORRUPT = 1 << 1,
	W_FOREIGN = 1 << 2,
	W_WRITE = 1 << 3,
	W_LOCK = 1 << 4,
	W_CLOCK = 1 << 5
};

/*
 * The file formats.  Host byte order: the files never leave the machine
 * (the directory is per user, usually on tmpfs).  Every structure is a
 * multiple of 8 bytes without holes.
 */
struct cd_entry {
	int64_t		 until;		/* cooldown end, 0: none */
	int64_t		 lease;		/* probe lease end */
	int64_t		 last;		/* start of the episode */
	int64_t		 first;		/* first of the server failures */
	int32_t		 level;		/* step on the ladder, 0: none */
	int32_t		 fails;		/* server failures in a row */
	int32_t		 status;
	int32_t		 kind;
	int32_t		 pid;		/* lease holder */
	uint32_t	 tok;
	char		 message[STATE_MESSAGE_MAX];
};

struct cd_file {
	char		 magic[8];
	uint32_t	 type;
	uint32_t	 size;
	char		 endpoint[256];
	char		 key[16];
	char		 model[128];
	struct cd_entry	 e[STATE_NREASONS];
	uint64_t	 check;
};

struct rl_file {
	char		 magic[8];
	uint32_t	 type;
	uint32_t	 size;
	char		 scope[368];
	char		 kind[16];
	int64_t		 tat;
	double		 interval;
	double		 burst;
	int64_t		 updated;
	uint64_t	 check;
};

struct cc_file {
	char		 magic[8];
	uint32_t	 type;
	uint32_t	 size;
	char		 scope[368];
	int32_t		 limit;
	int32_t		 index;
	uint64_t	 check;
};

static const double ladder_rate[] = { 60, 300, 1500, 3600 };
static const double ladder_quota[] = { 18000, 36000, 72000, 86400 };
static const double ladder_auth[] = { 3600, 18000, 86400 };

static const char *const reason_names[STATE_NREASONS] = {
	"rate_limited", "server", "quota", "auth"
};

const char *
state_reason_name(enum state_reason r)
{
	return r < STATE_NREASONS ? reason_names[r] : "?";
}

/* The cooldown of the nth step (n >= 1) of reason's ladder. */
static double
ladder(enum state_reason r, int n)
{
	const double *l = ladder_rate;
	size_t len = sizeof(ladder_rate) / sizeof(ladder_rate[0]);

	if (r == STATE_QUOTA) {
		l = ladder_quota;
		len = sizeof(ladder_quota) / sizeof(ladder_quota[0]);
	} else if (r == STATE_AUTH) {
		l = ladder_auth;
		len = sizeof(ladder_auth) / sizeof(ladder_auth[0]);
	}
	if (n < 1)
		n = 1;
	return l[(size_t)n > len ? len - 1 : (size_t)n - 1];
}

static int64_t
to_us(double t)
{
	return (int64_t)llround(t * US);
}

static double
from_us(int64_t t)
{
	return (double)t / US;
}

static uint64_t
fnv(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

static void
warn_once(struct state *s, unsigned kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
warn_once(struct state *s, unsigned kind, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (s->warned & kind)
		return;
	s->warned |= kind;
	va_start(ap, fmt);
	vsnprintf(s->warning, sizeof(s->warning), fmt, ap);
	va_end(ap);
	n = strlen(s->warning);
	snprintf(s->warning + n, sizeof(s->warning) - n, "; going on without "
	    "shared cooldowns and rate limits where it matters");
}

const char *
state_warning(struct state *s)
{
	static char taken[ERRBUF_MAX];

	if (s->warning[0] == '\0')
		return NULL;
	memcpy(taken, s->warning, sizeof(taken));
	s->warning[0] = '\0';
	return taken;
}

int
state_usable(const struct state *s)
{
	return s->dfd >= 0;
}

int
state_open(struct state *s, const char *dir, char *err)
{
	struct stat st;
	char e[ERRBUF_MAX];

	memset(s, 0, sizeof(*s));
	s->dfd = -1;
	if (sodium_init() < 0)
		return errbuf_set(err, "state: libsodium does not start");
	s->dir = dir ? xstrdup(dir) : paths_state_dir();
	if (paths_mkdir(s->dir, 0700, e) == -1) {
		s->warned |= W_DIR;
		return errbuf_set(err, "state directory: %s; going on without "
		    "shared cooldowns and rate limits", e);
	}
	s->dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dfd == -1) {
		s->warned |= W_DIR;
		return errbuf_errno(err, "state directory: open '%s'",
		    s->dir);
	}
	if (fstat(s->dfd, &st) == -1 || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		close(s->dfd);
		s->dfd = -1;
		s->warned |= W_DIR;
		return errbuf_set(err, "state directory '%s' is not the "
		    "user's own (it must belong to you and be writable by no "
		    "one else); going on without shared cooldowns and rate "
		    "limits", s->dir);
	}
	return 0;
}

void
state_close(struct state *s)
{
	if (s->dfd >= 0)
		close(s->dfd);
	free(s->dir);
	s->dir = NULL;
	s->dfd = -1;
}

/* "<prefix><32 hex digits of BLAKE2b-128 over text>" into name. */
static void
file_name(char *name, size_t n, const char *prefix, const char *text)
{
	unsigned char h[16];
	char hex[33];

	crypto_generichash(h, sizeof(h), (const unsigned char *)text,
	    strlen(text), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(name, n, "%s%s", prefix, hex);
}

static void
copy_str(char *dst, size_t n, const char *src)
{
	size_t len = src ? strlen(src) : 0;

	if (len >= n)
		len = n - 1;
	memset(dst, 0, n);
	if (len)
		memcpy(dst, src, len);
}

/*
 * Opens a state file to read, to write, or to write and create when
 * missing: O_NOFOLLOW, never blocking, 0600 when created, and only a
 * regular file of the user's with no permission for others.  Returns the
 * descriptor, or -1: errno ENOENT when absent and not created, anything
 * else reported once.
 */
enum { F_READ, F_WRITE, F_CREATE };

static int
file_open(struct state *s, const char *name, int mode)
{
	struct stat st;
	int fd, create = mode == F_CREATE, flags = (mode == F_READ ?
	    O_RDONLY : O_RDWR) | (create ? O_CREAT : 0) | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK;

	if (s->dfd < 0) {
		errno = EBADF;
		return -1;
	}
	if ((fd = openat(s->dfd, name, flags, 0600)) == -1) {
		int saved = errno;

		if (errno == ELOOP)
			warn_once(s, W_FOREIGN, "state file '%s/%s' is a "
			    "symbolic link, ignored", s->dir, name);
		else if (errno != ENOENT || create)
			warn_once(s, W_WRITE, "state file '%s/%s': %s", s->dir,
			    name, strerror(errno));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		warn_once(s, W_FOREIGN, "state file '%s/%s' is not a private "
		    "file of the user's, ignored", s->dir, name);
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* flock without blocking, retried for up to LOCK_WAIT_US. */
static int
file_lock(struct state *s, int fd, int op, const char *name)
{
	struct timespec ts;
	long waited = 0, step = 50;

	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		if (waited >= LOCK_WAIT_US) {
			warn_once(s, W_LOCK, "state file '%s/%s' stayed "
			    "locked for %d ms", s->dir, name,
			    LOCK_WAIT_US / 1000);
			return -1;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = step * 1000;
		nanosleep(&ts, NULL);
		waited += step;
		if (step < 2000)
			step *= 2;
	}
	warn_once(s, W_WRITE, "state file '%s/%s': flock: %s", s->dir, name,
	    strerror(errno));
	return -1;
}

/*
 * Reads a record of size n and type into p.  Returns 1 when it is valid,
 * 0 when the file is empty (new), -1 when it is corrupt or foreign.
 */
static int
file_read(struct state *s, int fd, void *p, size_t n, uint32_t type,
    const char *name)
{
	ssize_t got = pread(fd, p, n, 0);
	const char *b = p;
	uint32_t t, size;
	uint64_t check;

	if (got == 0)
		return 0;
	memcpy(&t, b + 8, 4);
	memcpy(&size, b + 12, 4);
	memcpy(&check, b + n - 8, 8);
	if (got != (ssize_t)n || memcmp(b, MAGIC, 8) != 0 || t != type ||
	    size != n || check != fnv(p, n - 8)) {
		warn_once(s, W_CORRUPT, "state file '%s/%s' is corrupt or "
		    "not ours, ignored (the next update rewrites it)",
		    s->dir, name);
		return -1;
	}
	return 1;
}

static int
file_write(struct state *s, int fd, void *p, size_t n, uint32_t type,
    const char *name)
{
	char *b = p;
	uint32_t size = (uint32_t)n;
	uint64_t check;

	memcpy(b, MAGIC, 8);
	memcpy(b + 8, &type, 4);
	memcpy(b + 12, &size, 4);
	check = fnv(p, n - 8);
	memcpy(b + n - 8, &check, 8);
	if (pwrite(fd, p, n, 0) != (ssize_t)n) {
		warn_once(s, W_WRITE, "state file '%s/%s': write: %s", s->dir,
		    name, errno ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

/* -- cooldowns ------------------------------------------------------------ */

static void
cd_name(char *name, size_t n, const struct state_scope *sc)
{
	char *text = xasprintf("cd\n%s\n%s\n%s", sc->endpoint,
	    sc->key ? sc->key : "", sc->model);

	file_name(name, n, "cd-", text);
	free(text);
}

static int
alive(int32_t pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static int
mine(const struct cd_entry *e, uint32_t tok)
{
	return e->pid == (int32_t)getpid() && e->tok == tok;
}

/* Whether someone else holds e's lease. */
static int
held_by_other(const struct cd_entry *e, uint32_t tok, int64_t now)
{
	return e->pid != 0 && e->lease > now && !mine(e, tok) &&
	    alive(e->pid);
}

/*
 * Resets entries that cannot be (the clock went back, or a damaged
 * write); returns whether any was.
 */
static int
cd_sane(struct state *s, struct cd_file *f, int64_t now, const char *name)
{
	int i, bad = 0;

	for (i = 0; i < STATE_NREASONS; i++) {
		struct cd_entry *e = &f->e[i];

		if (e->until > now + to_us(FUTURE_MAX) ||
		    e->lease > now + to_us(FUTURE_MAX) ||
		    e->last > now + to_us(60) || e->first > now + to_us(60) ||
		    e->level < 0 || e->level > 64 || e->fails < 0) {
			memset(e, 0, sizeof(*e));
			bad = 1;
		}
		e->message[sizeof(e->message) - 1] = '\0';
	}
	if (bad)
		warn_once(s, W_CLOCK, "state file '%s/%s' holds times "
		    "that cannot be (has the clock jumped?), reset", s->dir,
		    name);
	return bad;
}

/* Reads the record of sc into f; 1 found, 0 none, -1 unreadable. */
static int
cd_load(struct state *s, const struct state_scope *sc, struct cd_file *f,
    char *name, size_t namelen)
{
	int fd, r;

	cd_name(name, namelen, sc);
	if ((fd = file_open(s, name, F_READ)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (file_lock(s, fd, LOCK_SH, name) == -1) {
		close(fd);
		return -1;
	}
	r = file_read(s, fd, f, sizeof(*f), T_COOL, name);
	close(fd);
	return r == 1 ? 1 : r == 0 ? 0 : -1;
}

/*
 * Read-modify-write of the record of sc under its lock: fn changes f
 * (zeroed when new or corrupt) and returns whether to write.  Returns
 * 0, or -1 (no state).
 */
static int
cd_update(struct state *s, const struct state_scope *sc, int create,
    int64_t now, int (*fn)(struct cd_file *, void *), void *arg)
{
	struct cd_file f;
	char name[64];
	int fd, r;

	cd_name(name, sizeof(name), sc);
	if ((fd = file_open(s, name, create ? F_CREATE : F_WRITE)) == -1)
		return errno == ENOENT && !create ? 0 : -1;
	if (file_lock(s, fd, LOCK_EX, name) == -1) {
		close(fd);
		return -1;
	}
	if ((r = file_read(s, fd, &f, sizeof(f), T_COOL, name)) != 1) {
		if (!create) {
			close(fd);
			return r == 0 ? 0 : -1;
		}
		memset(&f, 0, sizeof(f));
	}
	copy_str(f.endpoint, sizeof(f.endpoint), sc->endpoint);
	copy_str(f.key, sizeof(f.key), sc->key);
	copy_str(f.model, sizeof(f.model), sc->model);
	cd_sane(s, &f, now, name);
	r = fn(&f, arg) ? file_write(s, fd, &f, sizeof(f), T_COOL, name) : 0;
	close(fd);
	return r;
}

/* What one entry says about sending now. */
static enum state_go
cd_judge(const struct cd_entry *e, uint32_t tok, int64_t now, int64_t *wake)
{
	int64_t poll = now + to_us(STATE_POLL);
	int other = held_by_other(e, tok, now);

	if (mine(e, tok) && e->lease > now)
		return STATE_GO;
	if (e->until > now) {
		/* A holder may clear it early: look again soon. */
		*wake = other && poll < e->until ? poll : e->until;
		return STATE_COOLING;
	}
	if (e->level > 0) {
		if (other) {
			*wake = poll < e->lease ? poll : e->lease;
			return STATE_COOLING;
		}
		return STATE_PROBE;
	}
	return STATE_GO;
}

struct take_arg {
	uint32_t	 tok;
	int64_t		 now;
	int64_t		 lease;
	int		 taken;		/* all the leases it needed */
};

static int
take_lease(struct cd_file *f, void *arg)
{
	struct take_arg *a = arg;
	int i, changed = 0;
	int64_t wake;

	a->taken = 1;
	for (i = 0; i < STATE_NREASONS; i++) {
		struct cd_entry *e = &f->e[i];

		switch (cd_judge(e, a->tok, a->now, &wake)) {
		case STATE_PROBE:
			e->pid = (int32_t)getpid();
			e->tok = a->tok;
			e->lease = a->now + a->lease;
			changed = 1;
			break;
		case STATE_COOLING:
			a->taken = 0;	/* someone was quicker */
			break;
		default:
			break;
		}
	}
	return changed && a->taken;
}

static void
verdict_from(struct state_verdict *v, const struct cd_entry *e, int reason,
    int64_t wake)
{
	v->go = STATE_COOLING;
	v->until = from_us(wake);
	v->ends = from_us(e->until > e->lease ? e->until : e->lease);
	v->reason = (enum state_reason)reason;
	v->status = e->status;
	v->kind = e->kind;
	memcpy(v->message, e->message, sizeof(v->message));
}

int
state_check(struct state *s, const struct state_scope *sc, uint32_t tok,
    double now_s, double lease, struct state_verdict *v)
{
	struct cd_file f;
	struct take_arg a;
	char name[64];
	int64_t now = to_us(now_s), wake, latest = 0;
	int i, r, probe = 0, cooling = -1;

	memset(v, 0, sizeof(*v));
	v->go = STATE_GO;
	if (s->dfd < 0)
		return -1;
	if ((r = cd_load(s, sc, &f, name, sizeof(name))) <= 0)
		return r;
	cd_sane(s, &f, now, name);
	for (i = 0; i < STATE_NREASONS; i++) {
		wake = 0;
		switch (cd_judge(&f.e[i], tok, now, &wake)) {
		case STATE_COOLING:
			/* Usable only once every entry allows it. */
			if (wake > latest) {
				latest = wake;
				cooling = i;
			}
			break;
		case STATE_PROBE:
			probe = 1;
			break;
		default:
			break;
		}
	}
	if (cooling >= 0) {
		verdict_from(v, &f.e[cooling], cooling, latest);
		return 0;
	}
	if (!probe)
		return 0;
	a.tok = tok;
	a.now = now;
	a.lease = to_us(lease);
	a.taken = 0;
	if (cd_update(s, sc, 0, now, take_lease, &a) == -1)
		return -1;
	if (a.taken) {
		v->go = STATE_PROBE;
		return 0;
	}
	/* Lost the race: judge again what the winner left. */
	if (cd_load(s, sc, &f, name, sizeof(name)) == 1)
		for (i = 0; i < STATE_NREASONS; i++) {
			wake = 0;
			if (cd_judge(&f.e[i], tok, now, &wake) ==
			    STATE_COOLING) {
				verdict_from(v, &f.e[i], i, wake);
				break;
			}
		}
	return 0;
}

struct fail_arg {
	const struct state_failure *f;
	uint32_t	 tok;
	int64_t		 now;
	int64_t		 lease;
	int64_t		 until;
};

static void
note_failure(struct cd_entry *e, const struct state_failure *f)
{
	e->status = f->status;
	e->kind = f->kind;
	copy_str(e->message, sizeof(e->message), f->message);
}

static int
record_fail(struct cd_file *file, void *arg)
{
	struct fail_arg *a = arg;
	const struct state_failure *f = a->f;
	struct cd_entry *e = &file->e[f->reason];
	int64_t ra = f->retry_after >= 0 ? to_us(f->retry_after < COOL_MAX ?
	    f->retry_after : COOL_MAX) : -1;

	a->until = 0;
	if (f->reason == STATE_SERVER && e->level == 0 && e->until <= a->now &&
	    ra < 0) {
		/* A server failure cools the scope only once it persists. */
		if (e->fails == 0)
			e->first = a->now;
		e->fails++;
		note_failure(e, f);
		if (e->fails < SERVER_FAILS ||
		    a->now - e->first < to_us(SERVER_SPAN))
			return 1;
	}
	if (e->until > a->now) {
		/*
		 * An episode is on: an answer to a request that was under
		 * way, or a retry of the lease holder's.  Only the server
		 * may lengthen it; the ladder climbs when a probe after its
		 * end fails.
		 */
		if (ra >= 0 && a->now + ra > e->until)
			e->until = a->now + ra;
		if (!held_by_other(e, a->tok, a->now)) {
			e->pid = (int32_t)getpid();
			e->tok = a->tok;
			e->lease = a->now + a->lease;
		}
		a->until = e->until;
		return 1;
	}
	/* A new episode, or its probe failed: one step up. */
	if (e->level > 0 && e->until > 0 &&
	    a->now > e->until + to_us(ladder(f->reason, e->level)))
		e->level = 0;		/* quiet for long: start over */
	if (e->level < 64)
		e->level++;
	e->until = a->now + (ra >= 0 ? ra : to_us(ladder(f->reason,
	    e->level)));
	e->last = a->now;
	note_failure(e, f);
	if (!held_by_other(e, a->tok, a->now)) {
		e->pid = (int32_t)getpid();
		e->tok = a->tok;
		e->lease = a->now + a->lease;
	}
	a->until = e->until;
	return 1;
}

int
state_fail(struct state *s, const struct state_scope *sc,
    const struct state_failure *f, uint32_t tok, double now, double lease,
    double *until)
{
	struct fail_arg a;
	int r;

	*until = 0;
	if (s->dfd < 0 || f->reason >= STATE_NREASONS)
		return -1;
	a.f = f;
	a.tok = tok;
	a.now = to_us(now);
	a.lease = to_us(lease);
	a.until = 0;
	r = cd_update(s, sc, 1, a.now, record_fail, &a);
	*until = from_us(a.until);
	return r;
}

struct ok_arg {
	int64_t		 sent;
	int64_t		 now;
};

/* Whether a success sent at a->sent changes e (and changes it). */
static int
clear_entry(struct cd_entry *e, int reason, const struct ok_arg *a)
{
	if (e->level > 0 && a->sent >= e->last) {
		memset(e, 0, sizeof(*e));
		return 1;
	}
	if (reason == STATE_SERVER && e->level == 0 && e->fails > 0) {
		e->fails = 0;
		e->first = 0;
		return 1;
	}
	return 0;
}

static int
record_ok(struct cd_file *f, void *arg)
{
	int i, changed = 0;

	for (i = 0; i < STATE_NREASONS; i++)
		changed |= clear_entry(&f->e[i], i, arg);
	return changed;
}

int
state_ok(struct state *s, const struct state_scope *sc, double sent,
    double now)
{
	struct cd_file f;
	struct ok_arg a;
	char name[64];
	int i, r, any = 0;

	if (s->dfd < 0)
		return -1;
	if ((r = cd_load(s, sc, &f, name, sizeof(name))) <= 0)
		return r;
	a.sent = to_us(sent);
	a.now = to_us(now);
	/* Look first: most successes change nothing and need no lock. */
	for (i = 0; i < STATE_NREASONS; i++) {
		struct cd_entry e = f.e[i];

		any |= clear_entry(&e, i, &a);
	}
	return any ? cd_update(s, sc, 0, a.now, record_ok, &a) : 0;
}

struct pause_arg {
	int64_t		 until;
	int64_t		 now;
};

static int
record_pause(struct cd_file *f, void *arg)
{
	struct pause_arg *a = arg;
	struct cd_entry *e = &f->e[STATE_RATE];

	if (e->until >= a->until)
		return 0;
	e->until = a->until;
	if (e->level == 0) {
		e->status = 0;
		e->kind = RECORD_RATE_LIMITED;
		copy_str(e->message, sizeof(e->message), "the provider's rate "
		    "limit headers said nothing is left until the reset");
	}
	return 1;
}

int
state_pause(struct state *s, const struct state_scope *sc, double until,
    double now)
{
	struct pause_arg a;

	if (s->dfd < 0)
		return -1;
	if (until - now > 3600)
		until = now + 3600;
	a.until = to_us(until);
	a.now = to_us(now);
	return cd_update(s, sc, 1, a.now, record_pause, &a);
}

static int
record_release(struct cd_file *f, void *arg)
{
	uint32_t tok = *(uint32_t *)arg;
	int i, changed = 0;

	for (i = 0; i < STATE_NREASONS; i++)
		if (mine(&f->e[i], tok)) {
			f->e[i].pid = 0;
			f->e[i].tok = 0;
			f->e[i].lease = 0;
			changed = 1;
		}
	return changed;
}

void
state_release(struct state *s, const struct state_scope *sc, uint32_t tok)
{
	struct timespec ts;

	if (s->dfd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	cd_update(s, sc, 0, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
	    record_release, &tok);
}

/* -- rate buckets and concurrency slots ----------------------------------- */

int
state_bucket(struct state *s, const char *scope, const char *kind,
    double interval, double burst, int (*fn)(int64_t *, void *), void *arg)
{
	struct rl_file f;
	struct timespec ts;
	char name[64], *text;
	int fd, r;

	if (s->dfd < 0)
		return -1;
	text = xasprintf("rl\n%s\n%s", scope, kind);
	file_name(name, sizeof(name), "rl-", text);
	free(text);
	if ((fd = file_open(s, name, F_CREATE)) == -1)
		return -1;
	if (file_lock(s, fd, LOCK_EX, name) == -1) {
		close(fd);
		return -1;
	}
	if (file_read(s, fd, &f, sizeof(f), T_BUCKET, name) != 1)
		memset(&f, 0, sizeof(f));
	copy_str(f.scope, sizeof(f.scope), scope);
	copy_str(f.kind, sizeof(f.kind), kind);
	f.interval = interval;
	f.burst = burst;
	if ((r = fn(&f.tat, arg)) == 1) {
		clock_gettime(CLOCK_REALTIME, &ts);
		f.updated = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		if (file_write(s, fd, &f, sizeof(f), T_BUCKET, name) == -1)
			r = -1;
	}
	close(fd);
	return r;
}

int
state_slot_acquire(struct state *s, const char *scope, int limit)
{
	static unsigned spread;
	char base[64], name[80], *text;
	struct cc_file f;
	struct stat st;
	int i, k, fd, start;

	if (s->dfd < 0 || limit < 1)
		return -2;
	text = xasprintf("cc\n%s", scope);
	file_name(base, sizeof(base), "cc-", text);
	free(text);
	/* Start at different slots so that takers rarely collide. */
	if (spread == 0)
		spread = (unsigned)getpid();
	start = (int)(spread++ % (unsigned)limit);
	for (k = 0; k < limit; k++) {
		i = (start + k) % limit;
		snprintf(name, sizeof(name), "%s.%d", base, i);
		if ((fd = file_open(s, name, F_CREATE)) == -1)
			return -2;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			/* A new slot file says what it is, for state_list. */
			if (fstat(fd, &st) == 0 && st.st_size == 0) {
				memset(&f, 0, sizeof(f));
				copy_str(f.scope, sizeof(f.scope), scope);
				f.limit = limit;
				f.index = i;
				file_write(s, fd, &f, sizeof(f), T_SLOT, name);
			}
			return fd;
		}
		close(fd);
	}
	return -1;
}

void
state_slot_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* -- listing and clearing ------------------------------------------------- */

static jv
iso_time(double t)
{
	char b[32];
	time_t sec = (time_t)floor(t);
	struct tm tm;

	if (gmtime_r(&sec, &tm) == NULL)
		return jv_null();
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return jv_string(b);
}

static jv
round3(double v)
{
	return jv_number(round(v * 1000) / 1000);
}

static jv
list_cooldowns(struct state *s, jv out, const char *name, double now)
{
	struct cd_file f;
	int fd, i, r;

	if ((fd = file_open(s, name, F_READ)) == -1)
		return out;
	r = file_lock(s, fd, LOCK_SH, name) == 0 ?
	    file_read(s, fd, &f, sizeof(f), T_COOL, name) : -1;
	close(fd);
	if (r != 1)
		return out;
	cd_sane(s, &f, to_us(now), name);
	f.endpoint[sizeof(f.endpoint) - 1] = f.key[sizeof(f.key) - 1] =
	    f.model[sizeof(f.model) - 1] = '\0';
	for (i = 0; i < STATE_NREASONS; i++) {
		struct cd_entry *e = &f.e[i];
		double until = from_us(e->until);
		jv o;

		if (e->level == 0 && e->fails == 0 && e->until <= to_us(now))
			continue;
		o = json_set(jv_object(), "type", jv_string("cooldown"));
		o = json_set(o, "endpoint", jv_string(f.endpoint));
		o = json_set(o, "key", jv_string(f.key));
		o = json_set(o, "model", jv_string(f.model));
		o = json_set(o, "reason", jv_string(reason_names[i]));
		o = json_set(o, "active", jv_bool(until > now));
		o = json_set(o, "until",
		    e->until ? iso_time(until) : jv_null());
		o = json_set(o, "remaining_s",
		    round3(until > now ? until - now :
		    0));
		o = json_set(o, "level", jv_number(e->level));
		o = json_set(o, "fails", jv_number(e->fails));
		o = json_set(o, "status", e->status ? jv_number(e->status) :
		    jv_null());
		o = json_set(o, "kind", jv_string(record_kind_name(
		    (enum record_kind)e->kind)));
		o = json_set(o, "message", jv_string(e->message));
		o = json_set(o, "probe", e->pid && e->lease > to_us(now) &&
		    alive(e->pid) ? json_set(json_set(jv_object(), "pid",
		    jv_number(e->pid)), "until", iso_time(from_us(e->lease))) :
		    jv_null());
		out = jv_array_append(out, o);
	}
	return out;
}

static jv
list_bucket(struct state *s, jv out, const char *name, double now)
{
	struct rl_file f;
	double next;
	int fd, r;
	jv o;

	if ((fd = file_open(s, name, F_READ)) == -1)
		return out;
	r = file_lock(s, fd, LOCK_SH, name) == 0 ?
	    file_read(s, fd, &f, sizeof(f), T_BUCKET, name) : -1;
	close(fd);
	if (r != 1)
		return out;
	f.scope[sizeof(f.scope) - 1] = f.kind[sizeof(f.kind) - 1] = '\0';
	/* When a request of one unit could go. */
	next = from_us(f.tat) + f.interval - f.burst;
	o = json_set(jv_object(), "type", jv_string("rate"));
	o = json_set(o, "scope", jv_string(f.scope));
	o = json_set(o, "kind", jv_string(f.kind));
	o = json_set(o, "interval_s", round3(f.interval));
	o = json_set(o, "burst_s", round3(f.burst));
	o = json_set(o, "next", iso_time(next > now ? next : now));
	o = json_set(o, "wait_s", round3(next > now ? next - now : 0));
	return jv_array_append(out, o);
}

static jv
list_slots(struct state *s, jv out, const char *name)
{
	struct cc_file f;
	char base[64], other[80];
	const char *dot = strrchr(name, '.');
	int fd, i, busy = 0, r;

	/* Slot 0 speaks for its scope. */
	if (dot == NULL || strcmp(dot, ".0") != 0 ||
	    (size_t)(dot - name) >= sizeof(base))
		return out;
	if ((fd = file_open(s, name, F_READ)) == -1)
		return out;
	r = file_read(s, fd, &f, sizeof(f), T_SLOT, name);
	close(fd);
	if (r != 1)
		return out;
	f.scope[sizeof(f.scope) - 1] = '\0';
	memcpy(base, name, (size_t)(dot - name));
	base[dot - name] = '\0';
	for (i = 0; i < f.limit && i < 4096; i++) {
		snprintf(other, sizeof(other), "%s.%d", base, i);
		if ((fd = file_open(s, other, F_READ)) == -1)
			continue;
		if (flock(fd, LOCK_SH | LOCK_NB) == -1)
			busy++;
		close(fd);
	}
	out = jv_array_append(out,
	    json_set(json_set(json_set(json_set(jv_object(),
	    "type", jv_string("concurrency")), "scope", jv_string(f.scope)),
	    "limit", jv_number(f.limit)), "in_use", jv_number(busy)));
	return out;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the state files, sorted; NULL-terminated, caller frees. */
static char **
names(struct state *s)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;
	int fd;

	if (s->dfd < 0 || (fd = dup(s->dfd)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return NULL;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "cd-", 3) != 0 &&
		    strncmp(de->d_name, "rl-", 3) != 0 &&
		    strncmp(de->d_name, "cc-", 3) != 0)
			continue;
		v = xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	if (v)
		qsort(v, n, sizeof(*v), by_name);
	return v;
}

jv
state_list(struct state *s, double now)
{
	jv out = jv_array();
	char **v = names(s), **p;

	for (p = v; p && *p; p++) {
		if (strncmp(*p, "cd-", 3) == 0)
			out = list_cooldowns(s, out, *p, now);
		else if (strncmp(*p, "rl-", 3) == 0)
			out = list_bucket(s, out, *p, now);
		else
			out = list_slots(s, out, *p);
		free(*p);
	}
	free(v);
	return out;
}

int
state_clear(struct state *s, char *err)
{
	char **v, **p;
	int n = 0, r = 0;

	if (s->dfd < 0)
		return errbuf_set(err, "no state directory");
	v = names(s);
	for (p = v; p && *p; p++) {
		if (unlinkat(s->dfd, *p, 0) == 0)
			n++;
		else if (errno != ENOENT && r == 0)
			r = errbuf_errno(err, "remove '%s/%s'", s->dir, *p);
		free(*p);
	}
	free(v);
	return r ? r : n;
}
