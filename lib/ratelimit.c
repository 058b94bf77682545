#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "retry.h"

#define US	1000000.0

double
ratelimit_interval(const struct ratelimit_limit *l)
{
	return l->period / l->n * (1 + RATELIMIT_MARGIN);
}

int
ratelimit_gcra(int64_t *tat, int64_t now, double interval, double burst,
    double cost, int64_t latest, int64_t *at)
{
	int64_t t = *tat, step, tau;

	if (burst < 1)
		burst = 1;
	if (cost > burst)
		cost = burst;		/* a request larger than the bucket */
	if (cost < 0)
		cost = 0;
	step = (int64_t)llround(cost * interval * US);
	tau = (int64_t)llround(burst * interval * US);
	/* Further ahead than anything lawful: the clock went back. */
	if (t > now + tau + (int64_t)(86400 * US))
		t = now;
	if (t < now)
		t = now;
	*at = t + step - tau;
	if (*at < now)
		*at = now;
	if (*at > latest)
		return 0;
	*tat = t + step;
	return 1;
}

struct reserve_arg {
	double		 interval;
	double		 burst;
	double		 cost;
	int64_t		 now;
	int64_t		 latest;
	int64_t		 at;
	int		 granted;
};

static int
reserve(int64_t *tat, void *arg)
{
	struct reserve_arg *a = arg;

	a->granted = ratelimit_gcra(tat, a->now, a->interval, a->burst,
	    a->cost, a->latest, &a->at);
	return a->granted;
}

int
ratelimit_reserve(struct state *s, const char *scope,
    const struct ratelimit_limit *l, double cost, double now, double latest,
    double *at)
{
	struct reserve_arg a;

	*at = now;
	if (l->n <= 0 || l->period <= 0)
		return -1;
	a.interval = ratelimit_interval(l);
	a.burst = l->burst;
	a.cost = cost;
	a.now = (int64_t)llround(now * US);
	a.latest = (int64_t)llround(latest * US);
	a.at = a.now;
	a.granted = 0;
	if (state_bucket(s, scope, l->kind, a.interval, a.interval * l->burst,
	    reserve, &a) == -1)
		return -1;
	*at = (double)a.at / US;
	return a.granted ? 0 : 1;
}

static int
refund(int64_t *tat, void *arg)
{
	int64_t d = *(int64_t *)arg;

	if (*tat == 0 || d == 0)
		return 0;
	*tat -= d;
	return 1;
}

int
ratelimit_refund(struct state *s, const char *scope,
    const struct ratelimit_limit *l, double cost)
{
	double interval;
	int64_t d;

	if (l->n <= 0 || l->period <= 0)
		return -1;
	interval = ratelimit_interval(l);
	d = (int64_t)llround(cost * interval * US);
	return state_bucket(s, scope, l->kind, interval, interval * l->burst,
	    refund, &d) == -1 ? -1 : 0;
}

/* A reset header: a duration, an RFC 3339 time or a Unix time. */
static double
reset_at(const char *v, double now)
{
	double d;

	if (v == NULL)
		return -1;
	if ((d = retry_time_parse(v)) >= 0)
		return d;
	if ((d = retry_duration_parse(v)) < 0)
		return -1;
	/* Some send the Unix time of the reset rather than a delay. */
	return d > 1e9 ? d : now + d;
}

/* Whether the value is a count of zero (or less). */
static int
none_left(const char *v)
{
	char *end;
	double d;

	if (v == NULL)
		return 0;
	while (isspace((unsigned char)*v))
		v++;
	d = strtod(v, &end);
	if (end == v)
		return 0;
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0' && d <= 0;
}

int
ratelimit_exhausted(char *(*get)(void *, const char *), void *arg,
    double now, double *until)
{
	static const char *const pairs[][2] = {
		{ "x-ratelimit-remaining-requests",
		    "x-ratelimit-reset-requests" },
		{ "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens" },
		{ "anthropic-ratelimit-requests-remaining",
		    "anthropic-ratelimit-requests-reset" },
		{ "anthropic-ratelimit-tokens-remaining",
		    "anthropic-ratelimit-tokens-reset" },
		{ "anthropic-ratelimit-input-tokens-remaining",
		    "anthropic-ratelimit-input-tokens-reset" },
		{ "anthropic-ratelimit-output-tokens-remaining",
		    "anthropic-ratelimit-output-tokens-reset" },
		{ "ratelimit-remaining", "ratelimit-reset" },
		{ "x-ratelimit-remaining", "x-ratelimit-reset" },
	};
	size_t i;
	int hit = 0;

	*until = 0;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char *rem = get(arg, pairs[i][0]), *rs;
		double t;

		if (!none_left(rem)) {
			free(rem);
			continue;
		}
		free(rem);
		rs = get(arg, pairs[i][1]);
		t = reset_at(rs, now);
		free(rs);
		if (t <= now)
			t = now + 1;
		if (t > now + 3600)
			t = now + 3600;
		if (t > *until)
			*until = t;
		hit = 1;
	}
	return hit;
}
