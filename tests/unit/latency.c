/*
 * Unit tests for lib/latency: quantiles within 1% of the exact
 * nearest-rank ones, over spreads from microseconds to hours, in fixed
 * memory.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "tap.h"

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Whether got is within 1% of want (or both tiny). */
static int
near(double got, double want)
{
	return want < 0.1 ? got <= 0.1 : fabs(got - want) <= 0.01 * want;
}

static void
check(const char *what, const double *v, size_t n)
{
	static const double qs[] = { 0.5, 0.95, 1 };
	struct latency *l = calloc(1, sizeof(*l));
	double *s = malloc(n * sizeof(*s));
	size_t i, k;

	for (i = 0; i < n; i++)
		latency_add(l, v[i]);
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp);
	for (k = 0; k < nitems(qs); k++) {
		double want = s[(size_t)ceil(qs[k] * (double)n) - 1];
		double got = latency_quantile(l, qs[k]);

		if (!ok(near(got, want), "%s: q%.2f within 1%%", what, qs[k]))
			diag("got %g, want %g", got, want);
	}
	free(s);
	free(l);
}

int
main(void)
{
	static const double few[] = { 812, 2410, 95 };
	struct latency l;
	double *v;
	size_t i, n = 100000;
	unsigned seed = 7;

	memset(&l, 0, sizeof(l));
	is_int(latency_quantile(&l, 0.5) == 0, 1, "no times: 0");
	latency_add(&l, 212);
	ok(near(latency_quantile(&l, 0.5), 212) &&
	    near(latency_quantile(&l, 0.95), 212), "one time: itself");
	latency_add(&l, NAN);
	latency_add(&l, -5);
	latency_add(&l, 1e12);
	is_int((long long)l.n, 4, "NaN, negative and huge times counted");
	ok(latency_quantile(&l, 1) > 1e7, "a huge time lands in the last");
	check("three times", few, nitems(few));
	v = malloc(n * sizeof(*v));
	for (i = 0; i < n; i++)		/* 1 ms to 100 s, log-uniform */
		v[i] = pow(10, 5.0 * rand_r(&seed) / RAND_MAX);
	check("100,000 log-uniform times", v, n);
	for (i = 0; i < n; i++)		/* a narrow band */
		v[i] = 800 + 20.0 * rand_r(&seed) / RAND_MAX;
	check("100,000 times of 800-820 ms", v, n);
	free(v);
	return done();
}
