/*
 * tap.h: a tiny TAP producer for the C unit tests.
 *
 *	plan(n)			announce n points up front; optional
 *	ok(cond, fmt, ...)	one point; returns cond, so a test can stop
 *				early when a precondition fails
 *	is_str(got, want, fmt, ...)	strings (NULL allowed) compared
 *	is_mem(got, glen, want, wlen, fmt, ...)	byte strings compared
 *	is_int(got, want, fmt, ...)	integers compared
 *	diag(fmt, ...)		a "# " comment line
 *	done()			prints the plan when plan() was not called;
 *				returns the exit status for main
 *
 * A test that never calls plan() prints its plan last, so a crash midway
 * leaves no plan and tests/run counts it as a failure.  Output goes to
 * stdout, unbuffered, so points printed before a crash are not lost.
 */
#ifndef LLM_TAP_H
#define LLM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TAP_UNUSED	__attribute__((unused))
#define TAP_FMT(a, b)	__attribute__((format(printf, a, b)))
#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

static int tap_run, tap_failed, tap_planned = -1, tap_started;

/* Unbuffered stdout, set once before the first line goes out. */
static void
tap_start(void)
{
	if (!tap_started) {
		setvbuf(stdout, NULL, _IONBF, 0);
		tap_started = 1;
	}
}

static TAP_FMT(2, 0) void
tap_vpoint(int cond, const char *fmt, va_list ap)
{
	tap_start();
	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	putchar('\n');
}

static TAP_UNUSED void
plan(int n)
{
	tap_start();
	tap_planned = n;
	printf("1..%d\n", n);
}

static TAP_UNUSED TAP_FMT(1, 2) void
diag(const char *fmt, ...)
{
	va_list ap;

	tap_start();
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static TAP_UNUSED TAP_FMT(2, 3) int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vpoint(cond, fmt, ap);
	va_end(ap);
	return cond;
}

/* Prints a byte string as a C literal body, for diagnostics. */
static void
tap_quote(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 200; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' || c == '"')
			printf("\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	if (i < n)
		printf("...");
}

static TAP_UNUSED TAP_FMT(5, 6) int
is_mem(const char *got, size_t glen, const char *want, size_t wlen,
    const char *fmt, ...)
{
	va_list ap;
	int cond;

	if (got == NULL || want == NULL)
		cond = got == want;
	else
		cond = glen == wlen && memcmp(got, want, glen) == 0;
	va_start(ap, fmt);
	tap_vpoint(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		fputs("#   got:  ", stdout);
		if (got) {
			putchar('"');
			tap_quote(got, glen);
			putchar('"');
		} else
			fputs("NULL", stdout);
		fputs("\n#   want: ", stdout);
		if (want) {
			putchar('"');
			tap_quote(want, wlen);
			putchar('"');
		} else
			fputs("NULL", stdout);
		putchar('\n');
	}
	return cond;
}

static TAP_UNUSED TAP_FMT(3, 4) int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int cond;

	cond = got == NULL || want == NULL ? got == want :
	    strcmp(got, want) == 0;
	va_start(ap, fmt);
	tap_vpoint(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		fputs("#   got:  ", stdout);
		if (got) {
			putchar('"');
			tap_quote(got, strlen(got));
			putchar('"');
		} else
			fputs("NULL", stdout);
		fputs("\n#   want: ", stdout);
		if (want) {
			putchar('"');
			tap_quote(want, strlen(want));
			putchar('"');
		} else
			fputs("NULL", stdout);
		putchar('\n');
	}
	return cond;
}

static TAP_UNUSED TAP_FMT(3, 4) int
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int cond = got == want;

	va_start(ap, fmt);
	tap_vpoint(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		printf("#   got:  %lld\n#   want: %lld\n", got, want);
	return cond;
}

static TAP_UNUSED int
done(void)
{
	tap_start();
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_planned != tap_run)
		printf("# planned %d points, ran %d\n", tap_planned, tap_run);
	fflush(stdout);
	return tap_failed || (tap_planned >= 0 && tap_planned != tap_run);
}

#endif
