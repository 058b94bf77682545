/*
 * state: cooldowns and rate buckets shared by every process of the user
 * (DESIGN.md sections 3 and 5), in the state directory (paths.h).
 *
 * Layout.  One small fixed-size file per scope, named by a BLAKE2b-128
 * hash of the scope, so that a lookup is one open(2) and a scope with no
 * history costs a failed open and nothing else:
 *
 *	cd-<hash>	cooldowns of one (endpoint, key fingerprint, model),
 *			one entry per reason (rate_limited, server, quota,
 *			auth): the end of the cooldown, its level on the
 *			escalation ladder, the failure that caused it (status,
 *			kind, provider message), and the probe lease
 *	rl-<hash>	one GCRA rate bucket (ratelimit.h): a theoretical
 *			arrival time, and the limit it was last used with
 *	cc-<hash>.<i>	concurrency slot i of a scope, held by flock(2) for
 *			as long as a request is in flight
 *
 * Key fingerprints are keyfile_fingerprint's: a short hash of the key, so
 * neither names nor contents reveal a key.  Files are created 0600 with
 * O_NOFOLLOW in a directory that must belong to the user and be writable
 * by no one else (it is created 0700); each carries a magic, a type, its
 * size and a checksum.  Read-modify-write happens under an exclusive
 * flock, reads under a shared one; locks are taken without blocking and
 * retried for at most 100 ms, and the kernel drops them when a process
 * dies, so neither a crash nor a stopped process wedges the others.
 *
 * Cooldowns.  A failure starts an episode: the entry's level goes up one
 * step of its reason's ladder (rate_limited and server 1 min, 5 min,
 * 25 min, 1 h; quota 5 h, 10 h, 20 h, 24 h; auth 1 h, 5 h, 24 h) unless the
 * server said Retry-After, which is then the length.  Server errors,
 * timeouts and network failures cool a scope only once they persist: 5
 * failures in a row over at least 10 s with no success between.  While an
 * entry cools, only the holder of its probe lease (the record whose
 * failure started the episode, identified by pid and a token) may send to
 * the scope; everyone else waits or fails over.  When the cooldown ends,
 * the first process to look takes the lease and probes, exactly one: its
 * success, or any success of a request sent after the episode began,
 * clears the entry; its failure escalates.  A lease ends with its time or
 * with its holder's process.
 *
 * Bad state never stops a tool: a corrupt or foreign file is ignored
 * (and overwritten on the next update), an entry further in the future
 * than any cooldown can be is a clock jump and is reset, and a directory
 * that cannot be created, read or written means no sharing.  Each such
 * problem queues one warning per process (state_warning); the operation
 * then reports "no state" and the caller carries on as if alone.
 *
 * Times are Unix seconds (doubles) in this interface, microseconds in the
 * files.
 */
#ifndef LLM_STATE_H
#define LLM_STATE_H

#include <stdint.h>

#include <jv.h>

#include "errbuf.h"

#define STATE_MESSAGE_MAX	240	/* bytes of a provider message kept */
#define STATE_POLL		0.25	/* seconds between looks at a lease */

enum state_reason {
	STATE_RATE,		/* 429 and the like */
	STATE_SERVER,		/* 5xx, timeouts, network, truncation */
	STATE_QUOTA,		/* quota and billing */
	STATE_AUTH,		/* 401, 403 */
	STATE_NREASONS
};

struct state {
	char		*dir;
	int		 dfd;		/* the directory; -1: no sharing */
	unsigned	 warned;	/* problems already reported */
	char		 warning[ERRBUF_MAX];	/* pending, "" for none */
};

/* What a cooldown is kept for. */
struct state_scope {
	const char	*endpoint;	/* the URL, without its query */
	const char	*key;		/* key fingerprint, "" for none */
	const char	*model;
};

enum state_go {
	STATE_GO,		/* nothing in the way */
	STATE_PROBE,		/* a cooldown ended; this caller probes */
	STATE_COOLING		/* wait, or use another candidate */
};

struct state_verdict {
	enum state_go	 go;
	double		 until;		/* STATE_COOLING: look again then */
	double		 ends;		/* STATE_COOLING: the cooldown's end */
	enum state_reason reason;	/* STATE_COOLING: which entry */
	int		 status;	/* of the failure behind it */
	int		 kind;		/* enum record_kind of that failure */
	char		 message[STATE_MESSAGE_MAX];
};

/* A failure to record. */
struct state_failure {
	enum state_reason reason;
	int		 status;
	int		 kind;		/* enum record_kind */
	const char	*message;	/* redacted; cut to STATE_MESSAGE_MAX */
	double		 retry_after;	/* seconds the server asked, < 0 none */
};

/*
 * Opens the state directory dir (borrowed; NULL for paths_state_dir()),
 * creating it 0700.  Returns 0, or -1 with err when it cannot be used:
 * s is then a valid state that shares nothing, and the caller warns once
 * and carries on.  Never fails otherwise.
 */
int	state_open(struct state *s, const char *dir, char *err);

void	state_close(struct state *s);

/* Whether s shares anything (the directory is usable). */
int	state_usable(const struct state *s);

/*
 * The warning queued by the last operations (one per kind of problem per
 * process), or NULL.  The string is s's and stays valid until the next
 * operation; taking it clears it.
 */
const char *state_warning(struct state *s);

const char *state_reason_name(enum state_reason r);

/*
 * Whether a request to scope may go now, for the record identified by
 * tok (any non-zero number unique within the process).  Fills v.  When a
 * cooldown has ended and no one holds its lease, the caller takes the
 * lease for lease seconds and gets STATE_PROBE.  Returns 0, or -1 when
 * the state could not be read (v says STATE_GO: carry on).
 */
int	state_check(struct state *s, const struct state_scope *scope,
	    uint32_t tok, double now, double lease, struct state_verdict *v);

/*
 * Records a failure of a request to scope, sent for tok.  Starts or
 * escalates a cooldown as described above and gives tok the probe lease
 * (for lease seconds) when no one else holds it.  *until is the end of
 * the cooldown now in force, 0 for none.  Returns 0 or -1 (no state).
 */
int	state_fail(struct state *s, const struct state_scope *scope,
	    const struct state_failure *f, uint32_t tok, double now,
	    double lease, double *until);

/*
 * A success of a request to scope sent at time sent: ends the episodes
 * that began before it was sent and resets the count of server failures.
 * Costs one failed open(2) when the scope has no record.  Returns 0 or -1.
 */
int	state_ok(struct state *s, const struct state_scope *scope,
	    double sent, double now);

/*
 * Stops nothing from sending to scope until until, without a failure:
 * the server's rate limit headers said nothing is left until then.
 * Returns 0 or -1.
 */
int	state_pause(struct state *s, const struct state_scope *scope,
	    double until, double now);

/* Gives up tok's probe leases on scope (the record moved on or ended). */
void	state_release(struct state *s, const struct state_scope *scope,
	    uint32_t tok);

/*
 * Updates rate bucket (scope, kind) under its lock: fn gets the stored
 * theoretical arrival time (microseconds, 0 for a new bucket) and returns
 * 1 when it changed it.  interval and burst (seconds) are stored for
 * state_list.  Returns fn's result, or -1 (no state: fn was not called).
 */
int	state_bucket(struct state *s, const char *scope, const char *kind,
	    double interval, double burst, int (*fn)(int64_t *, void *),
	    void *arg);

/*
 * Takes one of the limit concurrency slots of scope.  Returns the
 * descriptor that holds it (state_slot_release gives it back), -1 when
 * all are taken, or -2 when there is no state (go on without).
 */
int	state_slot_acquire(struct state *s, const char *scope, int limit);

void	state_slot_release(int fd);

/*
 * Everything the directory holds that is in force or remembered, as an
 * array of objects: {"type":"cooldown","endpoint","key","model","reason",
 * "active","until","remaining_s","level","fails","status","kind",
 * "message","probe"}, {"type":"rate","scope","kind","interval_s",
 * "burst_s","next","wait_s"} and {"type":"concurrency","scope","limit",
 * "in_use"}.  Returns a new array.
 */
jv	state_list(struct state *s, double now);

/*
 * Removes every state file.  Returns the number removed, or -1 with err.
 */
int	state_clear(struct state *s, char *err);

#endif
