#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jscan.h"
#include "utf8.h"

static void
ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
fail(struct jscan *s)
{
	s->error = 1;
	return -1;
}

void
jscan_init(struct jscan *s, const char *p, size_t len)
{
	s->p = p;
	s->end = p + len;
	s->first = 1;
	s->error = 0;
}

int
jscan_peek(struct jscan *s)
{
	char c;

	ws(s);
	if (s->error || s->p == s->end)
		return 0;
	c = *s->p;
	if (c == '{' || c == '[' || c == '"' || c == 't' || c == 'f')
		return c;
	if (c == 'n')
		return 'N';
	if (c == '-' || (c >= '0' && c <= '9'))
		return 'n';
	return 0;
}

int
jscan_enter(struct jscan *s, int open)
{
	ws(s);
	if (s->error || s->p == s->end || *s->p != open)
		return fail(s);
	s->p++;
	s->first = 1;
	return 0;
}

/* The end of the string whose opening quote is at p, past its closing one. */
static const char *
string_end(const char *p, const char *end, int *escaped)
{
	const char *q;

	for (p++;;) {
		q = memchr(p, '"', (size_t)(end - p));
		if (q == NULL)
			return NULL;
		/* Escaped when an odd number of backslashes precede it. */
		{
			const char *b = q;
			size_t n = 0;

			while (b > p && b[-1] == '\\') {
				b--;
				n++;
			}
			if (n > 0 || memchr(p, '\\', (size_t)(q - p)))
				*escaped = 1;
			if (n % 2 == 0)
				return q + 1;
		}
		p = q + 1;
	}
}

int
jscan_string(struct jscan *s, const char **p, size_t *len,
    int *escaped)
{
	const char *q;
	int esc = 0;

	ws(s);
	if (s->error || s->p == s->end || *s->p != '"')
		return fail(s);
	if ((q = string_end(s->p, s->end, &esc)) == NULL)
		return fail(s);
	*p = s->p + 1;
	*len = (size_t)(q - s->p - 2);
	if (escaped)
		*escaped = esc;
	s->p = q;
	return 0;
}

/*
 * Before a member or element: 0 at the container's end (consumed), 1 at
 * the next one (its comma consumed), -1 on anything else.
 */
static int
step(struct jscan *s, char close)
{
	ws(s);
	if (s->error || s->p == s->end)
		return fail(s);
	if (*s->p == close) {
		s->p++;
		s->first = 0;
		return 0;
	}
	if (!s->first) {
		if (*s->p != ',')
			return fail(s);
		s->p++;
	}
	s->first = 0;
	return 1;
}

int
jscan_key(struct jscan *s, const char **key, size_t *len)
{
	int r;

	if ((r = step(s, '}')) != 1)
		return r;
	if (jscan_string(s, key, len, NULL) == -1)
		return -1;
	ws(s);
	if (s->p == s->end || *s->p != ':')
		return fail(s);
	s->p++;
	return 1;
}

int
jscan_next(struct jscan *s)
{
	return step(s, ']');
}

int
jscan_skip(struct jscan *s)
{
	const char *p;
	int depth = 0, esc;
	char c;

	ws(s);
	if (s->error || s->p == s->end)
		return fail(s);
	c = *s->p;
	if (c == '"') {
		if ((p = string_end(s->p, s->end, &esc)) == NULL)
			return fail(s);
		s->p = p;
		return 0;
	}
	if (c != '{' && c != '[') {
		/* A number or literal: up to what ends a value. */
		for (p = s->p; p < s->end && *p != ',' && *p != '}' &&
		    *p != ']' && *p != ':' && *p != ' ' && *p != '\t' &&
		    *p != '\n' && *p != '\r' && *p != '"'; p++)
			;
		if (p == s->p)
			return fail(s);
		s->p = p;
		return 0;
	}
	/* A container: count brackets, stepping over strings whole. */
	for (p = s->p; p < s->end; ) {
		c = *p;
		if (c == '"') {
			if ((p = string_end(p, s->end, &esc)) == NULL)
				return fail(s);
		} else if (c == '{' || c == '[') {
			if (++depth > JSCAN_DEPTH)
				return fail(s);
			p++;
		} else if (c == '}' || c == ']') {
			p++;
			if (--depth == 0)
				break;
		} else
			p++;
	}
	if (depth != 0)
		return fail(s);
	s->p = p;
	return 0;
}

int
jscan_number(struct jscan *s, double *v)
{
	char tmp[64], *e;
	const char *q;
	size_t n;

	if (jscan_peek(s) != 'n')
		return fail(s);
	for (q = s->p; q < s->end && ((*q >= '0' && *q <= '9') || *q == '-' ||
	    *q == '+' || *q == '.' || *q == 'e' || *q == 'E'); q++)
		;
	n = (size_t)(q - s->p);
	if (n >= sizeof(tmp))
		return fail(s);
	memcpy(tmp, s->p, n);
	tmp[n] = '\0';
	*v = strtod(tmp, &e);
	if (e != tmp + n)
		return fail(s);
	s->p = q;
	return 0;
}

int
jscan_is(const char *k, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(k, name, n) == 0;
}

/* The 4 hex digits at p, or -1. */
static long
hex4(const char *p)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int c = (unsigned char)p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

int
jscan_unescape(struct buf *b, const char *p, size_t n)
{
	const char *e = p + n, *q;
	char u[4];
	long c, lo;

	while (p < e) {
		if ((q = memchr(p, '\\', (size_t)(e - p))) == NULL)
			q = e;
		if (buf_append(b, p, (size_t)(q - p)) == -1)
			return -1;
		if ((p = q) == e)
			break;
		if (e - p < 2)
			return -1;
		switch (p[1]) {
		case '"': case '\\': case '/':
			c = p[1];
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (e - p < 6 || (c = hex4(p + 2)) == -1)
				return -1;
			if (c >= 0xd800 && c <= 0xdbff) {
				if (e - p < 12 || p[6] != '\\' || p[7] != 'u' ||
				    (lo = hex4(p + 8)) < 0xdc00 || lo > 0xdfff)
					return -1;
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			} else if (c >= 0xdc00 && c <= 0xdfff)
				return -1;
			p += 6;
			n = utf8_encode((uint32_t)c, u);
			if (buf_append(b, u, n) == -1)
				return -1;
			continue;
		default:
			return -1;
		}
		if (buf_putc(b, (char)c) == -1)
			return -1;
		p += 2;
	}
	return 0;
}
