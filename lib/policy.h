/*
 * policy: the attempts of one record (DESIGN.md section 5) -- which
 * candidate goes next, when, and what a failure means for the record and
 * for every other process.  The sending tools drive it; it never sends,
 * prints or sleeps itself.
 *
 * Candidates.  A record's targets are its target and then its fallbacks;
 * each target brings one candidate per key source of "auth.keys", in
 * order (one keyless candidate when it has none).  The default source
 * "keyfile:<provider>" stands for the whole rotation of the keyfile,
 * <provider>, <provider>#2, ... (keyfile_rotation).  A key is resolved
 * when its candidate is first considered; one that does not resolve, or
 * that repeats an earlier key of the target, is passed over.  Targets are
 * listed lazily, so a fallback that is never needed opens nothing.
 *
 * Order of escape.  policy_next picks the first candidate that may send
 * now: not failed for good, not waiting out its backoff or Retry-After,
 * not cooling down in the shared state (state.h) unless this record holds
 * the probe.  A candidate that is only paced (a concurrency slot or a
 * rate limit turn, ratelimit.h) is waited for rather than passed over.
 * So after a 401, 403, 429 or quota error on one key the next key goes
 * at once, then the next fallback; after a server error, a timeout or a
 * network failure the next target goes at once (another key of the same
 * endpoint would not help).  When nothing may go now, the record waits
 * for the earliest candidate, or fails when that is past its deadline.
 *
 * Retries.  The first attempt of each candidate is free; each later one
 * is a retry, at most retry.retries per record, after a full-jitter
 * backoff or what the server asked (Retry-After, retry-after-ms), and
 * x-should-retry overrides the verdict of the status.  A Retry-After past
 * the deadline fails the candidate over at once.  One deadline per record,
 * retry.max_time from its start, bounds every wait; an attempt under way
 * is not cut short by it.
 *
 * Shared state.  Every failure is recorded for its scope (endpoint, key
 * fingerprint, model) and may start a cooldown there; every success ends
 * the episodes that began before it was sent; rate limit headers that say
 * nothing is left pause the scope until their reset.  Limits come from the
 * target: those in "provider_limits" (set for the provider) apply per
 * key across its models, any other value of "limits" per key and model;
 * --rate (policy.rate) applies per key.
 *
 * Times given to and returned by this module are monotonic seconds
 * (http_now); the wall clock is read only for the shared state.
 */
#ifndef LLM_POLICY_H
#define LLM_POLICY_H

#include <stdint.h>

#include <jv.h>

#include "http.h"
#include "keyfile.h"
#include "ratelimit.h"
#include "retry.h"
#include "send.h"
#include "state.h"

#define POLICY_SLOT_POLL	0.025	/* seconds between concurrency looks */
#define POLICY_LIMITS_MAX	8

struct policy {
	struct retry_policy	 retry;
	struct state		*state;		/* borrowed; NULL: alone */
	struct send_keys	*keys;		/* borrowed */
	double			 timeout;	/* per transfer, seconds */
	struct ratelimit_limit	 rate;		/* --rate; n 0: none */
	uint64_t		 rng;
	uint32_t		 serial;
};

struct policy_limit {
	struct ratelimit_limit	 l;
	int			 per_model;	/* else per key */
	int			 concurrency;	/* l.n slots, no bucket */
};

struct policy_cand {
	char		*source;	/* key source; NULL: keyless */
	char		 fp[KEYFILE_FP_LEN + 1];
	int		 resolved;	/* the key was looked up */
	int		 tries;
	int		 dead;		/* no more attempts in this record */
	int		 lease;		/* may hold a probe lease */
	double		 not_before;
};

struct policy_target {
	jv			 target;
	int			 listed;	/* candidates made */
	struct policy_cand	*c;
	int			 n;
	char			*endpoint;	/* url without its query */
	char			*origin;	/* scheme://host:port */
	const char		*provider;	/* in target */
	const char		*model;		/* in target */
	struct policy_limit	 lim[POLICY_LIMITS_MAX];
	int			 nlim;
	char			 why[768];	/* keys that did not resolve */
};

struct policy_record {
	jv			 rec;		/* for the token estimate */
	struct policy_target	*t;
	int			 nt;
	uint32_t		 tok;
	double			 started;
	double			 deadline;	/* 0: none */
	int			 attempts;	/* requests sent */
	int			 retries;	/* of them, retries */
	int			 transient;	/* every failure transient */
	int			 final;		/* fail at once */
	struct send_failure	 last;
	int			 have_last;
	int			 last_t;	/* target of the last failure */
	struct state_verdict	 cool;		/* why one was passed over */
	int			 have_cool;
	int			 last_cool_t;
	int			 paced_out;	/* a turn past the deadline */
	double			 est_cached;	/* the token estimate */
	/* The candidate sending or about to: */
	int			 cur_t, cur_c;
	int			 counted_retry;	/* its attempt is a retry */
	int			 slots[POLICY_LIMITS_MAX];
	int			 nslots;
	double			 charged[POLICY_LIMITS_MAX];	/* per limit */
	double			 turn;		/* its rate turn, monotonic */
	int			 reserved;	/* cur_t/cur_c wait for turn */
	double			 sent_wall;	/* wall clock at sending */
};

enum policy_action {
	POLICY_SEND,		/* send step.target with step.source */
	POLICY_WAIT,		/* call policy_next again at step.at */
	POLICY_FAIL		/* the record failed: policy_failure */
};

struct policy_step {
	enum policy_action	 action;
	jv			 target;	/* SEND: borrowed from r */
	int			 index;		/* SEND: of target, 0 first */
	const char		*source;	/* SEND: key source or NULL */
	double			 at;		/* WAIT: monotonic seconds */
};

/* Sets p to the defaults; state and keys are the caller's to set. */
void	policy_init(struct policy *p);

/*
 * Starts the record rec (borrowed, a reference kept) with its targets
 * (consumed: an array, the target first) at monotonic time now.
 */
void	policy_record_init(struct policy *p, struct policy_record *r, jv rec,
	    jv targets, double now);

/*
 * Gives back everything r holds (concurrency slots, probe leases) and
 * frees it.  Leaves r empty and safe to release again.
 */
void	policy_record_release(struct policy *p, struct policy_record *r);

/* What to do next for r at now; fills step. */
void	policy_next(struct policy *p, struct policy_record *r, double now,
	    struct policy_step *step);

/*
 * The attempt policy_next asked for could not be made (the request could
 * not be prepared for that target, or its headers not built): f says why
 * (bad_input fails the record; anything else the target).  Nothing was
 * sent, so nothing is counted.
 */
void	policy_unsent(struct policy *p, struct policy_record *r,
	    const struct send_failure *f);

/*
 * The attempt failed with f (send_result's); t, the finished transfer, is
 * read for rate limit headers and may be NULL.
 */
void	policy_failed(struct policy *p, struct policy_record *r,
	    const struct send_failure *f, const struct http_transfer *t,
	    double now);

/*
 * The attempt succeeded; usage (borrowed, may be invalid) corrects the
 * token estimate; t as for policy_failed.
 */
void	policy_succeeded(struct policy *p, struct policy_record *r, jv usage,
	    const struct http_transfer *t, double now);

/*
 * After POLICY_FAIL: the failure for the error record (with several
 * targets, kind "exhausted" and a message naming the last one tried),
 * "retriable" true when every failure was transient; and in *provider the
 * provider to name (borrowed from r, may be NULL).
 */
const struct send_failure *policy_failure(struct policy_record *r,
	    const char **provider);

#endif
