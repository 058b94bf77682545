/*
 * latency: the p50 and p95 of a run's answers, for --stats, in fixed
 * memory however many there are.
 *
 * Times go into logarithmic buckets 1% wide (0.1 ms to 33 hours; a
 * time outside is counted in the first or last), so a quantile is exact
 * to within 1%: plenty for a summary, and the tools no longer keep 8
 * bytes per request.
 */
#ifndef LLM_LATENCY_H
#define LLM_LATENCY_H

#define LATENCY_BUCKETS	2100

struct latency {
	unsigned long	 n;
	unsigned long	 bucket[LATENCY_BUCKETS];
};

/* Counts one time of ms milliseconds. */
void	latency_add(struct latency *l, double ms);

/*
 * The time below which a fraction q (0 < q <= 1) of the counted times
 * lie, as the nearest-rank quantile of the times rounded to their
 * bucket; 0 when none were counted.
 */
double	latency_quantile(const struct latency *l, double q);

#endif
