/*
 * Unit tests for lib/state and lib/ratelimit's shared buckets: cooldown
 * episodes (Retry-After, the ladders, the probe lease, exactly one
 * prober, success clearing, the server failure threshold, pauses),
 * concurrency slots across processes, rate turns, listing and clearing,
 * and bad state (a corrupt file, a symbolic link, a clock jump, a
 * directory that is not the user's or not there); and the cost of a check.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "ratelimit.h"
#include "record.h"
#include "state.h"
#include "tap.h"
#include "xalloc.h"

static char dir[256];

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct state_scope scope = {
	"http://127.0.0.1:9/v1/chat/completions", "0123456789ab", "m1"
};

static struct state_failure
failure(enum state_reason r, int status, int kind, double ra)
{
	struct state_failure f;

	f.reason = r;
	f.status = status;
	f.kind = kind;
	f.message = "HTTP 429 rate_limit: slow down";
	f.retry_after = ra;
	return f;
}

/* The only file of the directory whose name starts with prefix. */
static char *
file_named(const char *prefix)
{
	char *cmd = xasprintf("ls %s | grep '^%s' | head -n 1", dir, prefix);
	FILE *p = popen(cmd, "r");
	char line[256] = "";

	if (p) {
		if (fgets(line, sizeof(line), p) == NULL)
			line[0] = '\0';
		pclose(p);
	}
	free(cmd);
	line[strcspn(line, "\n")] = '\0';
	return line[0] ? xasprintf("%s/%s", dir, line) : NULL;
}

static void
test_episode(struct state *s)
{
	struct state_verdict v;
	struct state_failure f = failure(STATE_RATE, 429, RECORD_RATE_LIMITED,
	    2);
	double now = wall(), until;

	ok(state_check(s, &scope, 1, now, 60, &v) == 0 && v.go == STATE_GO,
	    "no record: go");
	ok(state_fail(s, &scope, &f, 1, now, 60, &until) == 0 &&
	    fabs(until - (now + 2)) < 1e-3, "a 429 with Retry-After: 2 cools "
	    "for 2 s");
	state_check(s, &scope, 1, now + 1, 60, &v);
	ok(v.go == STATE_GO, "its record holds the probe: it may retry");
	f.retry_after = -1;
	state_fail(s, &scope, &f, 1, now + 1, 60, &until);
	ok(fabs(until - (now + 2)) < 1e-3, "its retry failing within the "
	    "cooldown does not climb the ladder");
	f.retry_after = 2;
	state_check(s, &scope, 2, now + 1, 60, &v);
	ok(v.go == STATE_COOLING && v.until <= now + 1 + STATE_POLL + 1e-3 &&
	    v.status == 429 && v.kind == RECORD_RATE_LIMITED &&
	    strstr(v.message, "slow down") != NULL,
	    "another record waits, looking again soon (a holder may clear it)");
	state_release(s, &scope, 1);
	state_check(s, &scope, 2, now + 1, 60, &v);
	ok(v.go == STATE_COOLING && fabs(v.until - (now + 2)) < 1e-3,
	    "released: the others wait for the end of the cooldown");
	state_check(s, &scope, 2, now + 2.5, 60, &v);
	ok(v.go == STATE_PROBE, "the cooldown over: the first to look probes");
	state_check(s, &scope, 3, now + 2.5, 60, &v);
	ok(v.go == STATE_COOLING, "exactly one: the second to look waits");
	state_check(s, &scope, 2, now + 2.6, 60, &v);
	ok(v.go == STATE_GO, "the prober may send");
	f.retry_after = -1;
	state_fail(s, &scope, &f, 2, now + 3, 60, &until);
	ok(fabs(until - (now + 3 + 300)) < 1e-3,
	    "the probe fails: one step up the ladder, 5 min");
	state_fail(s, &scope, &f, 3, now + 3.1, 60, &until);
	ok(fabs(until - (now + 3 + 300)) < 1e-3,
	    "another record's failure in the episode does not escalate");
	state_ok(s, &scope, now + 2.9, now + 3.2);
	state_check(s, &scope, 3, now + 3.3, 60, &v);
	ok(v.go == STATE_COOLING, "a success sent before the episode does "
	    "not end it");
	state_ok(s, &scope, now + 3.5, now + 3.6);
	state_check(s, &scope, 3, now + 3.7, 60, &v);
	ok(v.go == STATE_GO, "a success sent after it does");
	state_fail(s, &scope, &f, 4, now + 4, 60, &until);
	ok(fabs(until - (now + 4 + 60)) < 1e-3,
	    "a new episode starts at the bottom: 1 min");
	state_ok(s, &scope, now + 5, now + 5);
}

static void
test_ladders(struct state *s)
{
	static const struct {
		enum state_reason r;
		int		 kind;
		double		 steps[5];
	} t[] = {
		{ STATE_RATE, RECORD_RATE_LIMITED,
		    { 60, 300, 1500, 3600, 3600 } },
		{ STATE_QUOTA, RECORD_QUOTA,
		    { 18000, 36000, 72000, 86400, 86400 } },
		{ STATE_AUTH, RECORD_AUTH,
		    { 3600, 18000, 86400, 86400, 86400 } },
	};
	struct state_scope sc = scope;
	double now = wall(), until;
	size_t i;
	int k, good;

	sc.model = "ladder";
	for (i = 0; i < nitems(t); i++) {
		struct state_failure f = failure(t[i].r, 0, t[i].kind, -1);
		double at = now;

		for (good = 1, k = 0; k < 5; k++) {
			/* The probe (same token) fails each time. */
			state_fail(s, &sc, &f, 7, at, 60, &until);
			if (fabs(until - (at + t[i].steps[k])) > 1e-3)
				good = 0;
			at = until + 1;
		}
		ok(good, "%s ladder: %g, %g, %g, %g, then %g",
		    state_reason_name(t[i].r), t[i].steps[0], t[i].steps[1],
		    t[i].steps[2], t[i].steps[3], t[i].steps[4]);
		state_ok(s, &sc, at + 1, at + 1);
	}
}

static void
test_server(struct state *s)
{
	struct state_scope sc = scope;
	struct state_failure f = failure(STATE_SERVER, 503, RECORD_SERVER, -1);
	struct state_verdict v;
	double now = wall(), until = 0;
	int i, cooled = 0;

	sc.model = "server";
	for (i = 0; i < 4; i++) {
		state_fail(s, &sc, &f, 1, now + i * 3, 60, &until);
		cooled |= until > 0;
	}
	ok(!cooled, "server: four failures in 9 s do not cool");
	state_ok(s, &sc, now + 9.5, now + 10);
	state_fail(s, &sc, &f, 1, now + 11, 60, &until);
	ok(until == 0, "server: a success starts the count again");
	for (i = 1; i < 5; i++)
		state_fail(s, &sc, &f, 1, now + 11 + i * 3, 60, &until);
	ok(fabs(until - (now + 23 + 60)) < 1e-3,
	    "server: the fifth failure over 10 s cools for 1 min");
	state_release(s, &sc, 1);
	state_check(s, &sc, 2, now + 24, 60, &v);
	ok(v.go == STATE_COOLING && v.status == 503 &&
	    v.reason == STATE_SERVER, "server: cooling, with its status");
	f.retry_after = 5;
	sc.model = "server-ra";
	state_fail(s, &sc, &f, 1, now, 60, &until);
	ok(fabs(until - (now + 5)) < 1e-3,
	    "server: a 503 with Retry-After cools at once");
}

static void
test_pause(struct state *s)
{
	struct state_scope sc = scope;
	struct state_verdict v;
	double now = wall();

	sc.model = "pause";
	state_pause(s, &sc, now + 2, now);
	state_check(s, &sc, 1, now + 1, 60, &v);
	ok(v.go == STATE_COOLING && fabs(v.until - (now + 2)) < 1e-3,
	    "pause: wait for the reset");
	state_check(s, &sc, 1, now + 2.1, 60, &v);
	ok(v.go == STATE_GO, "pause: after the reset, go, no probe needed");
}

static void
test_lease_holder_dies(struct state *s)
{
	struct state_scope sc = scope;
	struct state_verdict v;
	struct state_failure f = failure(STATE_RATE, 429, RECORD_RATE_LIMITED,
	    0.2);
	double now = wall(), until;
	pid_t pid;
	int st;

	sc.model = "dead-holder";
	if ((pid = fork()) == 0) {
		state_fail(s, &sc, &f, 1, now, 600, &until);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	state_check(s, &sc, 1, now + 0.5, 60, &v);
	ok(v.go == STATE_PROBE, "a lease whose holder died is free to take");
}

static void
test_slots(struct state *s)
{
	int a, b, c, up[2], down[2], st;
	pid_t pid;
	char x;

	a = state_slot_acquire(s, "origin p key k", 2);
	b = state_slot_acquire(s, "origin p key k", 2);
	c = state_slot_acquire(s, "origin p key k", 2);
	ok(a >= 0 && b >= 0 && c == -1, "concurrency 2: two slots, the "
	    "third busy");
	state_slot_release(a);
	a = state_slot_acquire(s, "origin p key k", 2);
	ok(a >= 0, "a slot given back is taken again");
	state_slot_release(a);
	state_slot_release(b);
	if (pipe(up) == -1 || pipe(down) == -1)
		return;
	if ((pid = fork()) == 0) {
		int h1 = state_slot_acquire(s, "origin p key k", 2);
		int h2 = state_slot_acquire(s, "origin p key k", 2);

		(void)!write(up[1], h1 >= 0 && h2 >= 0 ? "y" : "n", 1);
		(void)!read(down[0], &x, 1);
		_exit(0);
	}
	x = 'n';
	(void)!read(up[0], &x, 1);
	c = state_slot_acquire(s, "origin p key k", 2);
	ok(x == 'y' && c == -1, "another process holds both: busy here");
	(void)!write(down[1], "q", 1);
	waitpid(pid, &st, 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	c = state_slot_acquire(s, "origin p key k", 2);
	ok(c >= 0, "its death gives them back");
	state_slot_release(c);
}

static void
test_buckets(struct state *s)
{
	struct ratelimit_limit l = { "rpm", 120, 60, 1 };
	double now = wall(), at, iv = ratelimit_interval(&l);
	int i, good = 1;

	for (i = 0; i < 4; i++)
		if (ratelimit_reserve(s, "o p key k", &l, 1, now, now + 60,
		    &at) != 0 || fabs(at - (now + i * iv)) > 1e-3)
			good = 0;
	ok(good, "rpm 120: turns 0.505 s apart (margin 1%%)");
	ok(ratelimit_reserve(s, "o p key k", &l, 1, now, now + 1, &at) == 1,
	    "a turn past the latest time is refused");
	ratelimit_refund(s, "o p key k", &l, 1);
	ok(ratelimit_reserve(s, "o p key k", &l, 1, now, now + 60, &at) == 0 &&
	    fabs(at - (now + 3 * iv)) < 1e-3, "a refund gives a turn back");
}

static void
test_list_clear(struct state *s)
{
	jv all = state_list(s, wall());
	int i, n = jv_array_length(jv_copy(all)), cd = 0, rl = 0, cc = 0;
	char err[ERRBUF_MAX];

	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(all), i), t = jv_object_get(
		    jv_copy(e), jv_string("type"));
		const char *ts = jv_get_kind(t) == JV_KIND_STRING ?
		    jv_string_value(t) : "";

		cd += strcmp(ts, "cooldown") == 0;
		rl += strcmp(ts, "rate") == 0;
		cc += strcmp(ts, "concurrency") == 0;
		jv_free(t);
		jv_free(e);
	}
	ok(cd > 0 && rl == 1 && cc == 1, "list: cooldowns, a rate bucket, a "
	    "concurrency scope (%d, %d, %d)", cd, rl, cc);
	jv_free(all);
	ok(state_clear(s, err) > 0, "clear removes files");
	all = state_list(s, wall());
	is_int(jv_array_length(all), 0, "after clear: nothing listed");
}

static void
test_bad_state(struct state *s)
{
	struct state_scope sc = scope;
	struct state_failure f = failure(STATE_RATE, 429, RECORD_RATE_LIMITED,
	    30);
	struct state_verdict v;
	struct state st2;
	double now = wall(), until;
	char *path, err[ERRBUF_MAX], sub[300];
	const char *w;
	int fd;

	sc.model = "bad";
	state_fail(s, &sc, &f, 1, now, 60, &until);
	path = file_named("cd-");
	ok(path != NULL, "a cooldown file exists");
	if (path == NULL)
		return;
	fd = open(path, O_WRONLY);
	(void)!write(fd, "garbage!", 8);
	close(fd);
	state_warning(s);
	state_check(s, &sc, 2, now, 60, &v);
	w = state_warning(s);
	ok(v.go == STATE_GO && w && strstr(w, "corrupt"), "a corrupt file: "
	    "ignored, one warning");
	state_check(s, &sc, 2, now, 60, &v);
	ok(state_warning(s) == NULL, "... and only one");
	ok(state_fail(s, &sc, &f, 1, now, 60, &until) == 0 && until > now,
	    "the next update rewrites it");
	/* A clock jump: a cooldown written by a clock days ahead. */
	f.retry_after = 60;
	unlink(path);
	state_fail(s, &sc, &f, 1, now + 5 * 86400, 60, &until);
	state_check(s, &sc, 2, now, 60, &v);
	w = state_warning(s);
	ok(v.go == STATE_GO && w && strstr(w, "clock"),
	    "times from the future: reset, one warning");
	unlink(path);
	if (symlink("/etc/passwd", path) == 0) {
		ok(state_fail(s, &sc, &f, 1, now, 60, &until) == -1,
		    "a symbolic link is not followed");
		w = state_warning(s);
		ok(w && strstr(w, "symbolic"), "... with a warning");
		unlink(path);
	}
	free(path);
	/* A directory others may write to is refused. */
	snprintf(sub, sizeof(sub), "%s/open", dir);
	mkdir(sub, 0777);
	chmod(sub, 0777);
	ok(state_open(&st2, sub, err) == -1 && !state_usable(&st2) &&
	    strstr(err, "not the user's own"), "a directory writable by "
	    "others: no sharing");
	ok(state_check(&st2, &sc, 1, now, 60, &v) == -1 && v.go == STATE_GO,
	    "... and a check says go");
	state_close(&st2);
	snprintf(sub, sizeof(sub), "%s/file", dir);
	close(open(sub, O_WRONLY | O_CREAT, 0600));
	snprintf(sub, sizeof(sub), "%s/file/llm", dir);
	ok(state_open(&st2, sub, err) == -1 && state_fail(&st2, &sc, &f, 1,
	    now, 60, &until) == -1 && state_slot_acquire(&st2, "x", 1) == -2,
	    "a directory that cannot be made: every operation carries on");
	state_close(&st2);
}

static void
test_cost(struct state *s)
{
	struct state_verdict v;
	struct state_scope sc = scope;
	struct state_failure f = failure(STATE_RATE, 429, RECORD_RATE_LIMITED,
	    1);
	struct ratelimit_limit l = { "rpm", 1e9, 60, 1 };
	double t0, t1, t2, t3, now = wall(), at, until;
	int i, n = 20000, fd;

	sc.model = "cost";
	t0 = wall();
	for (i = 0; i < n; i++) {
		state_check(s, &sc, 1, now, 60, &v);
		state_ok(s, &sc, now, now);
	}
	t1 = wall();
	state_fail(s, &sc, &f, 1, now - 10, 60, &until);
	state_ok(s, &sc, now, now);
	state_fail(s, &sc, &f, 1, now - 10, 60, &until);
	for (i = 0; i < n; i++)
		state_check(s, &sc, 2, now, 60, &v);
	t2 = wall();
	for (i = 0; i < n; i++) {
		ratelimit_reserve(s, "cost key", &l, 1, now, now + 1, &at);
		fd = state_slot_acquire(s, "cost key", 5);
		state_slot_release(fd);
	}
	t3 = wall();
	diag("per request: check + success with no record %.1f us; check "
	    "of a record %.1f us; rate turn + concurrency slot %.1f us",
	    (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6, (t3 - t2) / n * 1e6);
	ok((t1 - t0) / n < 50e-6 && (t2 - t1) / n < 50e-6 &&
	    (t3 - t2) / n < 100e-6, "the state costs microseconds a request");
}

int
main(void)
{
	struct state s;
	char err[ERRBUF_MAX];

	snprintf(dir, sizeof(dir), "%s/llm-state-test.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	ok(state_open(&s, dir, err) == 0 && state_usable(&s),
	    "the state directory opens");
	test_episode(&s);
	test_ladders(&s);
	test_server(&s);
	test_pause(&s);
	test_lease_holder_dies(&s);
	test_slots(&s);
	test_buckets(&s);
	test_list_clear(&s);
	test_bad_state(&s);
	test_cost(&s);
	state_close(&s);
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		(void)!system(cmd);
		free(cmd);
	}
	return done();
}
