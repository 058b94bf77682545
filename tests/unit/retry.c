/*
 * Unit tests for lib/retry: full-jitter backoff, Retry-After in its three
 * date forms and as seconds, retry-after-ms, x-should-retry, durations
 * and RFC 3339 times of rate limit headers, curl's --rate syntax, and the
 * deadline; and lib/ratelimit's pure parts: the GCRA step and the reading
 * of rate limit headers.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "retry.h"
#include "tap.h"

/* Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example. */
#define EXAMPLE	784111777.0

static void
test_backoff(void)
{
	struct retry_policy p;
	uint64_t rng = 42;
	double v, max[6] = { 0 }, sum = 0;
	int i, n, ok_range = 1;

	retry_policy_init(&p);
	is_int(p.retries, 4, "default: 4 retries");
	ok(p.base == 0.5 && p.cap == 30 && p.max_time == 300,
	    "default: base 0.5 s, cap 30 s, 300 s per record");
	for (n = 1; n <= 5; n++)
		for (i = 0; i < 2000; i++) {
			v = retry_backoff(&p, n, &rng);
			if (v < 0 || v >= 0.5 * (1 << (n - 1)))
				ok_range = 0;
			if (v > max[n])
				max[n] = v;
			if (n == 1)
				sum += v;
		}
	ok(ok_range, "backoff n in [0, base * 2^(n-1))");
	ok(max[5] > 6 && max[5] < 8, "backoff 5 reaches near 8 s (%g)",
	    max[5]);
	ok(fabs(sum / 2000 - 0.25) < 0.02, "full jitter: mean of n=1 near "
	    "base/2 (%g)", sum / 2000);
	p.cap = 3;
	for (ok_range = 1, i = 0; i < 2000; i++)
		if (retry_backoff(&p, 40, &rng) >= 3)
			ok_range = 0;
	ok(ok_range, "backoff is capped, even at n = 40");
	v = retry_backoff(&p, 1000000, &rng);
	ok(v >= 0 && v < 3, "a huge n does not overflow");
	rng = 0;
	v = retry_random(&rng);
	ok(v >= 0 && v < 1 && rng != 0, "a zero generator state recovers");
}

static void
test_retry_after(void)
{
	static const struct {
		const char	*v;
		double		 now;
		double		 want;
	} t[] = {
		{ "120", 0, 120 },
		{ " 7 ", 0, 7 },
		{ "1.5", 0, 1.5 },
		{ "0", 0, 0 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE - 30, 30 },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", EXAMPLE - 30, 30 },
		{ "Sun Nov  6 08:49:37 1994", EXAMPLE - 30, 30 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE + 30, 0 },
		{ "Tue, 29 Feb 2028 23:59:59 GMT", 1835481599.0 - 1, 1 },
		{ "", 0, -1 },
		{ "soon", 0, -1 },
		{ "-5", 0, -1 },
		{ "12abc", 0, -1 },
		{ "Sun, 32 Nov 1994 08:49:37 GMT", 0, -1 },
		{ "Sun, 06 Nox 1994 08:49:37 GMT", 0, -1 },
		{ "Sun, 06 Nov 1994 25:49:37 GMT", 0, -1 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT trailing", 0, -1 },
	};
	size_t i;

	for (i = 0; i < nitems(t); i++) {
		double got = retry_after_parse(t[i].v, t[i].now);

		ok(fabs(got - t[i].want) < 1e-6, "Retry-After '%s': %g (got "
		    "%g)", t[i].v, t[i].want, got);
	}
	ok(retry_after_parse(NULL, 0) == -1, "Retry-After absent: -1");
	ok(retry_after_ms_parse("1500") == 1.5, "retry-after-ms 1500: 1.5 s");
	ok(retry_after_ms_parse("20.5") == 0.0205, "retry-after-ms 20.5");
	ok(retry_after_ms_parse("x") == -1 && retry_after_ms_parse(NULL) == -1,
	    "retry-after-ms garbage or absent: -1");
	is_int(retry_should_retry_parse("true"), 1, "x-should-retry true");
	is_int(retry_should_retry_parse(" FALSE "), 0, "x-should-retry FALSE");
	is_int(retry_should_retry_parse("maybe"), -1, "x-should-retry maybe");
	is_int(retry_should_retry_parse(NULL), -1, "x-should-retry absent");
}

static void
test_durations(void)
{
	static const struct {
		const char	*v;
		double		 want;
	} t[] = {
		{ "1s", 1 }, { "6m0s", 360 }, { "1h2m3.5s", 3723.5 },
		{ "150ms", 0.15 }, { "2m59.56s", 179.56 }, { "20", 20 },
		{ "0.5", 0.5 }, { "", -1 }, { "s", -1 }, { "5x", -1 },
		{ "1s2", -1 },
	};
	size_t i;

	for (i = 0; i < nitems(t); i++) {
		double got = retry_duration_parse(t[i].v);

		ok(fabs(got - t[i].want) < 1e-9, "duration '%s': %g (got %g)",
		    t[i].v, t[i].want, got);
	}
	ok(retry_time_parse("1994-11-06T08:49:37Z") == EXAMPLE,
	    "RFC 3339 Z");
	ok(fabs(retry_time_parse("1994-11-06T10:49:37.25+02:00") -
	    (EXAMPLE + 0.25)) < 1e-6, "RFC 3339 with fraction and offset");
	ok(retry_time_parse("1994-11-06 08:49:37") == -1,
	    "RFC 3339 without zone: -1");
	ok(retry_time_parse("1994-13-06T08:49:37Z") == -1,
	    "RFC 3339 month 13: -1");
}

static void
test_rate(void)
{
	static const struct {
		const char	*v;
		int		 r;
		double		 n, period;
	} t[] = {
		{ "40/m", 0, 40, 60 }, { "5/s", 0, 5, 1 }, { "100/h", 0, 100,
		3600 }, { "1000/d", 0, 1000, 86400 }, { "120", 0, 120, 3600 },
		{ "10/5m", 0, 10, 300 }, { "0/m", -1, 0, 0 },
		{ "40/x", -1, 0, 0 }, { "40/", -1, 0, 0 }, { "/m", -1, 0, 0 },
		{ "4.5/m", -1, 0, 0 }, { "40/ms", -1, 0, 0 },
	};
	size_t i;

	for (i = 0; i < nitems(t); i++) {
		double n = 0, period = 0;
		int r = retry_rate_parse(t[i].v, &n, &period);

		ok(r == t[i].r && (r == -1 || (n == t[i].n &&
		    period == t[i].period)), "--rate '%s'", t[i].v);
	}
	ok(retry_fits(10, 0) && retry_fits(10, 10) && !retry_fits(10.5, 10),
	    "deadline: none, on it, past it");
}

static void
test_gcra(void)
{
	int64_t tat = 0, now = 1000000000000LL, at = 0, sec = 1000000;
	int i, granted = 0;

	/* 60 a minute, burst 1: one a second, the first at once. */
	for (i = 0; i < 5; i++)
		if (ratelimit_gcra(&tat, now, 1.0, 1, 1, now + 10 * sec,
		    &at) && at == now + i * sec)
			granted++;
	is_int(granted, 5, "rpm: five turns a second apart, the first now");
	ok(ratelimit_gcra(&tat, now, 1.0, 1, 1, now + 4 * sec, &at) == 0 &&
	    at == now + 5 * sec, "rpm: a turn past the latest is not taken");
	ok(tat == now + 5 * sec, "rpm: ... and the bucket is unchanged");
	/* A later caller, after a pause, goes at once. */
	ok(ratelimit_gcra(&tat, now + 100 * sec, 1.0, 1, 1, now + 200 * sec,
	    &at) == 1 && at == now + 100 * sec, "rpm: after a pause, now");
	/* tpm: 1000 tokens a minute, all at once, then paced. */
	tat = 0;
	ok(ratelimit_gcra(&tat, now, 0.06, 1000, 800, now, &at) == 1 &&
	    at == now, "tpm: 800 of 1000 at once");
	ok(ratelimit_gcra(&tat, now, 0.06, 1000, 400, now + 60 * sec,
	    &at) == 1 && at == now + 12 * sec, "tpm: 400 more: 12 s later");
	tat = 0;
	ok(ratelimit_gcra(&tat, now, 0.06, 1000, 5000, now, &at) == 1,
	    "tpm: a request over the whole bucket still goes, when empty");
	/* A clock that went back a day and more. */
	tat = now + 3 * 86400 * sec;
	ok(ratelimit_gcra(&tat, now, 1.0, 1, 1, now, &at) == 1 && at == now,
	    "a TAT days ahead is a clock jump: start afresh");
}

struct hdr {
	const char	*name;
	const char	*value;
};

static char *
get(void *arg, const char *name)
{
	const struct hdr *h;

	for (h = arg; h->name; h++)
		if (strcmp(h->name, name) == 0)
			return strdup(h->value);
	return NULL;
}

static void
test_headers(void)
{
	struct hdr openai[] = {
		{ "x-ratelimit-remaining-requests", "0" },
		{ "x-ratelimit-reset-requests", "6m0s" },
		{ "x-ratelimit-remaining-tokens", "1500" },
		{ NULL, NULL }
	}, anthropic[] = {
		{ "anthropic-ratelimit-tokens-remaining", "0" },
		{ "anthropic-ratelimit-tokens-reset", "1994-11-06T08:50:07Z" },
		{ NULL, NULL }
	}, plenty[] = {
		{ "x-ratelimit-remaining-requests", "12" },
		{ "x-ratelimit-reset-requests", "1s" },
		{ NULL, NULL }
	}, noreset[] = {
		{ "ratelimit-remaining", "0" },
		{ NULL, NULL }
	};
	double until = 0;

	ok(ratelimit_exhausted(get, openai, EXAMPLE, &until) == 1 &&
	    until == EXAMPLE + 360, "x-ratelimit: none left, reset in 6m0s");
	ok(ratelimit_exhausted(get, anthropic, EXAMPLE, &until) == 1 &&
	    until == EXAMPLE + 30, "anthropic-ratelimit: reset at a time");
	ok(ratelimit_exhausted(get, plenty, EXAMPLE, &until) == 0,
	    "some left: nothing to do");
	ok(ratelimit_exhausted(get, noreset, EXAMPLE, &until) == 1 &&
	    until == EXAMPLE + 1, "none left and no reset: a second");
}

int
main(void)
{
	test_backoff();
	test_retry_after();
	test_durations();
	test_rate();
	test_gcra();
	test_headers();
	return done();
}
