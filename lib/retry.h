/*
 * retry: when to try again (DESIGN.md section 5).  Pure functions only:
 * no clock, no files, so that every rule here is unit-tested.
 *
 * Backoff is exponential with full jitter: the nth retry waits a uniform
 * random time in [0, min(cap, base * 2^(n-1))).  What a server says wins
 * over the backoff: Retry-After (delta-seconds or an HTTP date),
 * retry-after-ms, and x-should-retry, which overrides the status's verdict
 * both ways.  The rate limit headers carry durations ("6m0s", "20ms") or
 * RFC 3339 times; retry_duration_parse and retry_time_parse read them.
 *
 * A record has one deadline (--retry-max-time) that covers every retry,
 * key and fallback: a wait that would end past it is not taken, and the
 * record fails over or fails at once instead.
 */
#ifndef LLM_RETRY_H
#define LLM_RETRY_H

#include <stdint.h>

#define RETRY_DEFAULT_RETRIES	4
#define RETRY_DEFAULT_BASE	0.5	/* seconds */
#define RETRY_DEFAULT_CAP	30.0	/* seconds */
#define RETRY_DEFAULT_MAX_TIME	300.0	/* seconds per record */
#define RETRY_MAX_RETRIES	1000

struct retry_policy {
	int	 retries;	/* re-sends after transient failures */
	double	 base;		/* backoff base, seconds */
	double	 cap;		/* backoff ceiling, seconds */
	double	 max_time;	/* deadline per record, seconds; 0: none */
};

/* Fills p with the defaults above. */
void	retry_policy_init(struct retry_policy *p);

/* A generator seed from the clock, the pid and libsodium's randomness. */
uint64_t retry_seed(void);

/* A uniform double in [0, 1) from *rng (xorshift64*; *rng never 0). */
double	retry_random(uint64_t *rng);

/*
 * The wait before the nth retry (n >= 1), full jitter: uniform in
 * [0, min(cap, base * 2^(n-1))).  Returns seconds.
 */
double	retry_backoff(const struct retry_policy *p, int n, uint64_t *rng);

/*
 * A Retry-After value: delta-seconds ("120", fractions allowed) or an HTTP
 * date in any of RFC 9110's three forms, taken relative to now (Unix
 * seconds).  Returns the seconds to wait (0 for a date in the past), or
 * -1 when v (may be NULL) is none of these.
 */
double	retry_after_parse(const char *v, double now);

/* retry-after-ms: milliseconds.  Returns seconds, or -1. */
double	retry_after_ms_parse(const char *v);

/* x-should-retry: 1 for "true", 0 for "false", -1 for anything else. */
int	retry_should_retry_parse(const char *v);

/*
 * A duration as rate limit headers write it: Go's form ("1s", "6m0s",
 * "1h2m3.5s", "150ms") or plain seconds ("20", "0.5").  Returns seconds,
 * or -1.
 */
double	retry_duration_parse(const char *v);

/*
 * An RFC 3339 time ("2026-01-02T03:04:05Z", fractions and offsets
 * allowed), as Anthropic's *-reset headers carry.  Returns Unix seconds,
 * or -1.
 */
double	retry_time_parse(const char *v);

/*
 * curl's --rate syntax: "N/U" with U one of s, m, h, d, optionally with a
 * multiplier ("N/5m"); "N" alone is per hour.  Fills *n (> 0) and *period
 * (seconds).  Returns 0, or -1.
 */
int	retry_rate_parse(const char *s, double *n, double *period);

/* Whether a wait until at fits the deadline (0: no deadline). */
int	retry_fits(double at, double deadline);

#endif
