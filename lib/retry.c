#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "retry.h"

void
retry_policy_init(struct retry_policy *p)
{
	p->retries = RETRY_DEFAULT_RETRIES;
	p->base = RETRY_DEFAULT_BASE;
	p->cap = RETRY_DEFAULT_CAP;
	p->max_time = RETRY_DEFAULT_MAX_TIME;
}

uint64_t
retry_seed(void)
{
	struct timespec ts;
	uint64_t s;

	clock_gettime(CLOCK_REALTIME, &ts);
	s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
	    ((uint64_t)getpid() << 40);
	if (sodium_init() >= 0)
		s ^= (uint64_t)randombytes_random() << 32 ^
		    randombytes_random();
	return s ? s : 0x9e3779b97f4a7c15ULL;
}

double
retry_random(uint64_t *rng)
{
	uint64_t x = *rng ? *rng : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*rng = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

double
retry_backoff(const struct retry_policy *p, int n, uint64_t *rng)
{
	double ceiling = p->base;

	if (n < 1)
		n = 1;
	/* Doubling stops at the cap: no overflow however large n is. */
	while (--n > 0 && ceiling < p->cap)
		ceiling *= 2;
	if (ceiling > p->cap)
		ceiling = p->cap;
	return ceiling * retry_random(rng);
}

/* Non-negative decimal seconds, fraction allowed, the whole of s. */
static double
seconds(const char *s, const char **end)
{
	double v = 0, scale = 0.1;
	int digits = 0;

	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (*s++ - '0');
		digits++;
	}
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			v += (*s++ - '0') * scale;
			scale /= 10;
			digits++;
		}
	}
	*end = s;
	return digits ? v : -1;
}

static const char *
skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Whether only blanks are left. */
static int
trimmed_end(const char *s)
{
	s = skip_space(s);
	return *s == '\0';
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long
days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
month_of(const char *s)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	char m[3];
	int i;

	for (i = 0; i < 3; i++) {
		if (!isalpha((unsigned char)s[i]))
			return -1;
		m[i] = (char)tolower((unsigned char)s[i]);
	}
	for (i = 0; i < 12; i++)
		if (memcmp(months + 3 * i, m, 3) == 0)
			return i + 1;
	return -1;
}

/* Up to max digits into *v; returns the count. */
static int
number(const char **sp, int max, long *v)
{
	const char *s = *sp;
	int n = 0;

	*v = 0;
	while (n < max && isdigit((unsigned char)*s)) {
		*v = *v * 10 + (*s++ - '0');
		n++;
	}
	*sp = s;
	return n;
}

/* "HH:MM:SS" into seconds of the day, or -1. */
static long
clock_of(const char **sp)
{
	long h, m, sec;
	const char *s = *sp;

	if (number(&s, 2, &h) != 2 || *s++ != ':' ||
	    number(&s, 2, &m) != 2 || *s++ != ':' ||
	    number(&s, 2, &sec) != 2 || h > 23 || m > 59 || sec > 60)
		return -1;
	*sp = s;
	return h * 3600 + m * 60 + sec;
}

/* An HTTP date in IMF-fixdate, RFC 850 or asctime form; -1 if not. */
static double
http_date(const char *s)
{
	long day, year, tod;
	int mon, n;

	s = skip_space(s);
	while (isalpha((unsigned char)*s))		/* the weekday */
		s++;
	if (*s == ',')
		s++;
	s = skip_space(s);
	if (isdigit((unsigned char)*s)) {
		/* "06 Nov 1994 08:49:37 GMT" or "06-Nov-94 08:49:37 GMT" */
		if (number(&s, 2, &day) < 1 || (*s != ' ' && *s != '-'))
			return -1;
		s++;
		if ((mon = month_of(s)) == -1)
			return -1;
		s += 3;
		if (*s != ' ' && *s != '-')
			return -1;
		s++;
		n = number(&s, 4, &year);
		if (n == 2)
			year += year < 70 ? 2000 : 1900;
		else if (n != 4)
			return -1;
		s = skip_space(s);
		if ((tod = clock_of(&s)) == -1)
			return -1;
		s = skip_space(s);
		if (strncmp(s, "GMT", 3) == 0 || strncmp(s, "UTC", 3) == 0)
			s += 3;
	} else {
		/* asctime: "Nov  6 08:49:37 1994" */
		if ((mon = month_of(s)) == -1)
			return -1;
		s = skip_space(s + 3);
		if (number(&s, 2, &day) < 1)
			return -1;
		s = skip_space(s);
		if ((tod = clock_of(&s)) == -1)
			return -1;
		s = skip_space(s);
		if (number(&s, 4, &year) != 4)
			return -1;
	}
	if (!trimmed_end(s) || day < 1 || day > 31)
		return -1;
	return (double)days_from_civil(year, mon, (int)day) * 86400 + tod;
}

double
retry_after_parse(const char *v, double now)
{
	const char *end;
	double d;

	if (v == NULL)
		return -1;
	v = skip_space(v);
	if (isdigit((unsigned char)*v)) {
		d = seconds(v, &end);
		if (d >= 0 && trimmed_end(end))
			return d;
	}
	if ((d = http_date(v)) < 0)
		return -1;
	return d > now ? d - now : 0;
}

double
retry_after_ms_parse(const char *v)
{
	const char *end;
	double d;

	if (v == NULL)
		return -1;
	d = seconds(skip_space(v), &end);
	return d >= 0 && trimmed_end(end) ? d / 1000 : -1;
}

int
retry_should_retry_parse(const char *v)
{
	size_t n;

	if (v == NULL)
		return -1;
	v = skip_space(v);
	for (n = strlen(v); n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t');
	    n--)
		;
	if (n == 4 && strncasecmp(v, "true", 4) == 0)
		return 1;
	if (n == 5 && strncasecmp(v, "false", 5) == 0)
		return 0;
	return -1;
}

double
retry_duration_parse(const char *v)
{
	const char *end;
	double total = 0, d;
	int parts = 0;

	if (v == NULL)
		return -1;
	v = skip_space(v);
	for (;;) {
		d = seconds(v, &end);
		if (d < 0)
			break;
		v = end;
		if (strncmp(v, "ms", 2) == 0) {
			d /= 1000;
			v += 2;
		} else if (*v == 'h') {
			d *= 3600;
			v++;
		} else if (*v == 'm') {
			d *= 60;
			v++;
		} else if (*v == 's')
			v++;
		else if (parts == 0 && trimmed_end(v))
			return d;		/* plain seconds */
		else
			return -1;
		total += d;
		parts++;
	}
	return parts && trimmed_end(v) ? total : -1;
}

double
retry_time_parse(const char *v)
{
	long y, mo, d, h, mi, sec, oh, om;
	double frac = 0, scale = 0.1, t;
	int sign;

	if (v == NULL)
		return -1;
	v = skip_space(v);
	if (number(&v, 4, &y) != 4 || *v++ != '-' ||
	    number(&v, 2, &mo) != 2 || *v++ != '-' ||
	    number(&v, 2, &d) != 2 || (*v != 'T' && *v != 't' && *v != ' '))
		return -1;
	v++;
	if (number(&v, 2, &h) != 2 || *v++ != ':' ||
	    number(&v, 2, &mi) != 2 || *v++ != ':' ||
	    number(&v, 2, &sec) != 2)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	if (*v == '.') {
		v++;
		if (!isdigit((unsigned char)*v))
			return -1;
		while (isdigit((unsigned char)*v)) {
			frac += (*v++ - '0') * scale;
			scale /= 10;
		}
	}
	t = (double)days_from_civil(y, (int)mo, (int)d) * 86400 +
	    (double)(h * 3600 + mi * 60 + sec) + frac;
	if (*v == 'Z' || *v == 'z')
		v++;
	else if (*v == '+' || *v == '-') {
		sign = *v++ == '+' ? 1 : -1;
		if (number(&v, 2, &oh) != 2 || *v++ != ':' ||
		    number(&v, 2, &om) != 2 || oh > 23 || om > 59)
			return -1;
		t -= sign * (double)(oh * 3600 + om * 60);
	} else
		return -1;
	return trimmed_end(v) ? t : -1;
}

int
retry_rate_parse(const char *s, double *n, double *period)
{
	const char *end;
	double count, mult = 1;

	if (s == NULL)
		return -1;
	count = seconds(s, &end);
	if (count <= 0 || end == s || strchr(s, '.') != NULL)
		return -1;
	if (*end == '\0') {
		*n = count;
		*period = 3600;		/* curl: per hour by default */
		return 0;
	}
	if (*end++ != '/')
		return -1;
	if (isdigit((unsigned char)*end)) {
		mult = seconds(end, &end);
		if (mult <= 0)
			return -1;
	}
	switch (*end) {
	case 's':
		*period = 1;
		break;
	case 'm':
		*period = 60;
		break;
	case 'h':
		*period = 3600;
		break;
	case 'd':
		*period = 86400;
		break;
	default:
		return -1;
	}
	if (end[1] != '\0')
		return -1;
	*n = count;
	*period *= mult;
	return 0;
}

int
retry_fits(double at, double deadline)
{
	return deadline <= 0 || at <= deadline;
}
