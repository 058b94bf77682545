#include <math.h>

#include "latency.h"

#define LOW	0.1		/* ms: the first bucket's upper bound */
#define STEP	1.01		/* each bucket 1% above the one before */

void
latency_add(struct latency *l, double ms)
{
	double b = ms > LOW ? ceil(log(ms / LOW) / log(STEP)) : 0;

	if (!(b >= 0))		/* NaN */
		b = 0;
	if (b > LATENCY_BUCKETS - 1)
		b = LATENCY_BUCKETS - 1;
	l->bucket[(int)b]++;
	l->n++;
}

double
latency_quantile(const struct latency *l, double q)
{
	unsigned long rank, seen = 0;
	int i;

	if (l->n == 0)
		return 0;
	rank = (unsigned long)ceil(q * (double)l->n);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < LATENCY_BUCKETS; i++)
		if ((seen += l->bucket[i]) >= rank)
			break;
	if (i == LATENCY_BUCKETS)
		i--;
	/* The bucket's middle, within half a percent of any time in it. */
	return i == 0 ? LOW / 2 : LOW * pow(STEP, i - 0.5);
}
