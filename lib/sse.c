#include <limits.h>
#include <string.h>

#include "sse.h"

static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

static void
reset(struct sse *p)
{
	buf_reset(&p->line);
	buf_reset(&p->data);
	buf_reset(&p->type);
	buf_reset(&p->id);
	p->retry = -1;
	p->size = 0;
	p->col = 0;
	p->bom = 0;
	p->cr = 0;
	p->skip = 0;
	p->fields = 0;
	p->nevents = 0;
	p->nknown = 0;
}

void
sse_init(struct sse *p, size_t max)
{
	if (max == 0)
		max = SSE_EVENT_MAX;
	p->max = max;
	/*
	 * The ceiling on the event bounds every buffer: a line, the data
	 * (one value plus a LF per line of at least four bytes), the type
	 * and the id are each at most the bytes of the event's lines.
	 */
	buf_init(&p->line, max);
	buf_init(&p->data, max);
	buf_init(&p->type, max);
	buf_init(&p->id, max);
	reset(p);
}

void
sse_release(struct sse *p)
{
	buf_release(&p->line);
	buf_release(&p->data);
	buf_release(&p->type);
	buf_release(&p->id);
}

int
sse_finish(struct sse *p)
{
	int cut;

	cut = p->skip || p->fields || (p->bom > 0 && p->bom < 3) ||
	    (p->line.len > 0 && p->line.data[0] != ':');
	reset(p);
	return cut;
}

static int
dispatch(struct sse *p, int (*cb)(void *, const struct sse_event *),
    void *arg)
{
	struct sse_event ev;
	int r;

	p->size = 0;
	p->fields = 0;
	if (p->data.len == 0) {
		buf_reset(&p->type);
		return 0;
	}
	/* The last LF goes; buf keeps its NUL after len by hand here. */
	p->data.data[--p->data.len] = '\0';
	/* The type is a C string: a NUL byte ends it. */
	ev.type = p->type.len > 0 && p->type.data[0] != '\0' ?
	    buf_cstr(&p->type) : "message";
	ev.data = buf_cstr(&p->data);
	ev.len = p->data.len;
	ev.id = buf_cstr(&p->id);
	ev.retry = p->retry;
	ev.toolong = 0;
	p->nevents++;
	r = cb(arg, &ev);
	buf_reset(&p->data);
	buf_reset(&p->type);
	return r;
}

static int
is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(name, want, n) == 0;
}

/* One complete line, without its end.  Returns what a dispatch returns. */
static int
line(struct sse *p, const char *s, size_t n,
    int (*cb)(void *, const struct sse_event *), void *arg)
{
	const char *colon, *v;
	size_t nn, vn, i;
	long r;

	if (n == 0)
		return dispatch(p, cb, arg);
	if (s[0] == ':') {
		p->nknown++;
		return 0;
	}
	p->fields = 1;
	if ((colon = memchr(s, ':', n)) != NULL) {
		nn = (size_t)(colon - s);
		v = colon + 1;
		vn = n - nn - 1;
		if (vn > 0 && *v == ' ') {
			v++;
			vn--;
		}
	} else {
		nn = n;
		v = s + n;
		vn = 0;
	}
	/* The buffers cannot pass their ceilings: see sse_init. */
	if (is(s, nn, "data")) {
		(void)buf_append(&p->data, v, vn);
		(void)buf_putc(&p->data, '\n');
	} else if (is(s, nn, "event")) {
		buf_reset(&p->type);
		(void)buf_append(&p->type, v, vn);
	} else if (is(s, nn, "id")) {
		if (memchr(v, '\0', vn) == NULL) {
			buf_reset(&p->id);
			(void)buf_append(&p->id, v, vn);
		}
	} else if (is(s, nn, "retry")) {
		for (i = 0; i < vn && v[i] >= '0' && v[i] <= '9'; i++)
			;
		if (vn == 0 || i < vn)
			return 0;
		for (r = 0, i = 0; i < vn; i++)
			r = r > (LONG_MAX - 9) / 10 ? LONG_MAX :
			    r * 10 + (v[i] - '0');
		p->retry = r;
	} else
		return 0;
	p->nknown++;
	return 0;
}

/* The event passed the ceiling: drop it and say so once. */
static int
toolong(struct sse *p, int (*cb)(void *, const struct sse_event *),
    void *arg)
{
	struct sse_event ev;

	buf_reset(&p->line);
	buf_reset(&p->data);
	buf_reset(&p->type);
	p->skip = 1;
	ev.type = "";
	ev.data = "";
	ev.len = 0;
	ev.id = buf_cstr(&p->id);
	ev.retry = p->retry;
	ev.toolong = 1;
	return cb(arg, &ev);
}

static int
scan(struct sse *p, const char *s, size_t n,
    int (*cb)(void *, const struct sse_event *), void *arg)
{
	const char *nl = NULL, *cr, *ln;
	size_t i = 0, lim, ll;
	int eol, r, looked = 0;

	while (i < n) {
		if (p->cr) {
			p->cr = 0;
			if (s[i] == '\n') {
				i++;
				continue;
			}
		}
		/*
		 * The line content runs to the first CR or LF.  The next LF
		 * is looked for again only once passed: with CR line ends a
		 * search to the end of the chunk per line would be quadratic.
		 */
		if (!looked || (nl != NULL && nl < s + i)) {
			nl = memchr(s + i, '\n', n - i);
			looked = 1;
		}
		lim = nl != NULL ? (size_t)(nl - (s + i)) : n - i;
		if ((cr = memchr(s + i, '\r', lim)) != NULL) {
			lim = (size_t)(cr - (s + i));
			eol = '\r';
		} else
			eol = nl != NULL ? '\n' : 0;

		if (!p->skip && p->size + lim > p->max) {
			/* Not 0, so this line does not end the skip. */
			p->col = p->line.len + lim;
			if ((r = toolong(p, cb, arg)) != 0)
				return r;
		}
		if (p->skip) {
			p->col += lim;
			i += lim;
			if (!eol)
				break;
			i++;
			p->cr = eol == '\r';
			if (p->col == 0) {	/* the empty line */
				p->skip = 0;
				p->size = 0;
				p->fields = 0;
			}
			p->col = 0;
			continue;
		}

		p->size += lim;
		if (!eol) {
			(void)buf_append(&p->line, s + i, lim);
			break;
		}
		if (p->line.len > 0) {
			(void)buf_append(&p->line, s + i, lim);
			ln = p->line.data;
			ll = p->line.len;
		} else {
			ln = s + i;	/* whole in the chunk: no copy */
			ll = lim;
		}
		i += lim + 1;
		p->cr = eol == '\r';
		r = line(p, ln, ll, cb, arg);
		buf_reset(&p->line);
		if (r != 0)
			return r;
	}
	return 0;
}

int
sse_feed(struct sse *p, const char *chunk, size_t n,
    int (*cb)(void *, const struct sse_event *), void *arg)
{
	size_t i = 0, k;
	int r;

	while (p->bom < 3 && i < n) {
		if ((unsigned char)chunk[i] == bom[p->bom]) {
			p->bom++;
			i++;
			continue;
		}
		/* No BOM after all: what matched is text of the line. */
		k = (size_t)p->bom;
		p->bom = 3;
		if (k > 0 && (r = scan(p, (const char *)bom, k, cb, arg)) != 0)
			return r;
	}
	return scan(p, chunk + i, n - i, cb, arg);
}
