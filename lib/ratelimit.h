/*
 * ratelimit: requests and tokens per period, enforced across every
 * process of the user (DESIGN.md section 5).
 *
 * Each limit is a GCRA bucket in the state directory (state.h): one
 * timestamp, the theoretical arrival time (TAT), read and advanced under
 * the bucket's flock.  A unit of cost spaces requests by interval =
 * period / n, widened by RATELIMIT_MARGIN so that network jitter between
 * here and the server never makes 61 of "60 a minute" land in one minute;
 * burst is how many units may go at once.  A request does not poll: it
 * reserves its turn, possibly in the future, and sleeps until then, so
 * that waiting processes are served in order and the allowed rate is
 * saturated.  Requests per minute or per --rate go out evenly (burst 1),
 * as providers that count per second expect; tokens per minute and
 * requests per day may be spent at once up to the whole allowance.
 *
 * A tokens-per-minute bucket is charged the request's estimate before it
 * goes (body bytes / 4 plus max_tokens) and corrected with the usage the
 * answer reports.
 *
 * Providers' own headers tighten this: when x-ratelimit-remaining-*,
 * anthropic-ratelimit-*-remaining or ratelimit-remaining say nothing is
 * left, ratelimit_exhausted tells until when (the matching reset header),
 * and the caller pauses the scope for everyone (state_pause).
 */
#ifndef LLM_RATELIMIT_H
#define LLM_RATELIMIT_H

#include <stdint.h>

#include "state.h"

#define RATELIMIT_MARGIN	0.01

struct ratelimit_limit {
	const char	*kind;		/* "rpm", "tpm", "rpd", "rate" */
	double		 n;		/* units per period */
	double		 period;	/* seconds */
	double		 burst;		/* units that may go at once, >= 1 */
};

/*
 * One GCRA step on *tat (microseconds, 0 for a new bucket) at now: a
 * request of cost units (cut to the burst) may go at *at = max(TAT, now)
 * + cost * interval - burst * interval.  When *at <= latest the turn is
 * taken (*tat advanced) and 1 returned; otherwise nothing changes and 0
 * is returned.  A TAT further ahead than a day past what a full bucket
 * allows is a clock jump and starts afresh.  Pure.
 */
int	ratelimit_gcra(int64_t *tat, int64_t now, double interval,
	    double burst, double cost, int64_t latest, int64_t *at);

/* The interval of l, margin included, in seconds. */
double	ratelimit_interval(const struct ratelimit_limit *l);

/*
 * Reserves a turn for a request of cost units in bucket (scope, l) that
 * must go by latest (Unix seconds).  Returns 0 with *at the time to send
 * (at once when <= now), 1 when the turn would come after latest (nothing
 * reserved; *at says when), or -1 when there is no state (send, alone).
 */
int	ratelimit_reserve(struct state *s, const char *scope,
	    const struct ratelimit_limit *l, double cost, double now,
	    double latest, double *at);

/*
 * Gives back cost units (a negative cost charges more), when a request
 * failed or its usage differed from the estimate.  Returns 0 or -1.
 */
int	ratelimit_refund(struct state *s, const char *scope,
	    const struct ratelimit_limit *l, double cost);

/*
 * Reads the rate limit headers of an answer through get (which returns a
 * new string the caller frees, or NULL): 1 when a remaining count is 0,
 * with *until the matching reset as Unix time (now + 1 s when the reset
 * is missing or unreadable; at most an hour on); 0 when nothing is
 * exhausted.
 */
int	ratelimit_exhausted(char *(*get)(void *, const char *), void *arg,
	    double now, double *until);

#endif
