/*
 * Unit tests for lib/sse: each case is an input and the events it must
 * give, written one per line as
 *
 *	type(id,retry)=data
 *
 * with LF, CR, NUL and bytes outside ASCII in data written \n, \r, \0 and
 * \xNN, and "!" for a too long event.  Every case is parsed whole, split
 * in two at every offset, split in three at every pair of offsets (short
 * inputs), and byte by byte; all must give the events expected, and
 * sse_finish what the case says.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sse.h"
#include "tap.h"

/* String literal with its length: inputs may hold NUL bytes. */
#define S(s)	s, sizeof(s) - 1

struct tcase {
	const char	*name;
	const char	*in;
	size_t		 len;
	size_t		 max;		/* 0: default */
	const char	*want;
	int		 cut;		/* sse_finish's answer */
};

static const struct tcase cases[] = {
	{ "empty input", S(""), 0, "", 0 },
	{ "one event", S("data: a\n\n"), 0, "message(,-1)=a\n", 0 },
	{ "no space after the colon", S("data:a\n\n"), 0,
	  "message(,-1)=a\n", 0 },
	{ "only one space stripped", S("data:  a\n\n"), 0,
	  "message(,-1)= a\n", 0 },
	{ "a tab is not stripped", S("data:\ta\n\n"), 0,
	  "message(,-1)=\\x09a\n", 0 },
	{ "field without colon: empty data", S("data\n\n"), 0,
	  "message(,-1)=\n", 0 },
	{ "empty data value", S("data:\n\n"), 0, "message(,-1)=\n", 0 },
	{ "data lines joined with LF", S("data: a\ndata: b\n\n"), 0,
	  "message(,-1)=a\\nb\n", 0 },
	{ "empty data line in the middle", S("data: a\ndata:\ndata: b\n\n"),
	  0, "message(,-1)=a\\n\\nb\n", 0 },
	{ "CRLF line ends", S("data: a\r\ndata: b\r\n\r\n"), 0,
	  "message(,-1)=a\\nb\n", 0 },
	{ "CR line ends", S("data: a\r\rdata: b\r\r"), 0,
	  "message(,-1)=a\nmessage(,-1)=b\n", 0 },
	{ "mixed line ends", S("data: a\r\ndata: b\rdata: c\n\n"), 0,
	  "message(,-1)=a\\nb\\nc\n", 0 },
	{ "LF then CR is two line ends", S("data: a\n\rdata: b\n\n"), 0,
	  "message(,-1)=a\nmessage(,-1)=b\n", 0 },
	{ "comment skipped", S(": hello\ndata: a\n\n"), 0,
	  "message(,-1)=a\n", 0 },
	{ "comment without space", S(":x\ndata: a\n:y\n\n"), 0,
	  "message(,-1)=a\n", 0 },
	{ "comments only", S(": ping\n\n: ping\n\n"), 0, "", 0 },
	{ "event type", S("event: foo\ndata: a\n\n"), 0, "foo(,-1)=a\n", 0 },
	{ "event after data", S("data: a\nevent: t\n\n"), 0,
	  "t(,-1)=a\n", 0 },
	{ "event without data is not dispatched",
	  S("event: foo\n\ndata: b\n\n"), 0, "message(,-1)=b\n", 0 },
	{ "type reset after each event",
	  S("event: x\ndata: 1\n\ndata: 2\n\n"), 0,
	  "x(,-1)=1\nmessage(,-1)=2\n", 0 },
	{ "empty event value is message", S("event:\ndata: a\n\n"), 0,
	  "message(,-1)=a\n", 0 },
	{ "a NUL byte ends the type",
	  S("event: a\0b\ndata: x\n\nevent: \0b\ndata: y\n\n"), 0,
	  "a(,-1)=x\nmessage(,-1)=y\n", 0 },
	{ "the last event field wins",
	  S("event: a\nevent: b\ndata: x\n\n"), 0, "b(,-1)=x\n", 0 },
	{ "id sticks to later events", S("id: 7\ndata: a\n\ndata: b\n\n"),
	  0, "message(7,-1)=a\nmessage(7,-1)=b\n", 0 },
	{ "empty id clears it", S("id: 7\ndata: a\n\nid\ndata: b\n\n"), 0,
	  "message(7,-1)=a\nmessage(,-1)=b\n", 0 },
	{ "id with a NUL is ignored",
	  S("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"), 0,
	  "message(1,-1)=a\nmessage(1,-1)=b\n", 0 },
	{ "id without an event still sets it",
	  S("id: 9\n\ndata: a\n\n"), 0, "message(9,-1)=a\n", 0 },
	{ "retry", S("retry: 1500\ndata: a\n\n"), 0,
	  "message(,1500)=a\n", 0 },
	{ "retry not all digits ignored",
	  S("retry: 15x\ndata: a\n\nretry: -1\ndata: b\n\n"), 0,
	  "message(,-1)=a\nmessage(,-1)=b\n", 0 },
	{ "retry empty ignored", S("retry:\ndata: a\n\n"), 0,
	  "message(,-1)=a\n", 0 },
	{ "retry sticks, a later one replaces",
	  S("retry: 5\ndata: a\n\ndata: b\n\nretry: 6\ndata: c\n\n"), 0,
	  "message(,5)=a\nmessage(,5)=b\nmessage(,6)=c\n", 0 },
	{ "retry too large is clamped",
	  S("retry: 99999999999999999999999999\ndata: a\n\n"), 0,
	  "message(,MAX)=a\n", 0 },
	{ "unknown field ignored", S("foo: bar\ndata: a\n\n"), 0,
	  "message(,-1)=a\n", 0 },
	{ "field names are case-sensitive", S("Data: a\n\n"), 0, "", 0 },
	{ "space before the colon is in the name", S("data : a\n\n"), 0,
	  "", 0 },
	{ "colons in the value", S("data: a:b: c\n\n"), 0,
	  "message(,-1)=a:b: c\n", 0 },
	{ "leading BOM dropped", S("\xef\xbb\xbf" "data: a\n\n"), 0,
	  "message(,-1)=a\n", 0 },
	{ "only one BOM dropped",
	  S("\xef\xbb\xbf\xef\xbb\xbf" "data: a\n\ndata: b\n\n"), 0,
	  "message(,-1)=b\n", 0 },
	{ "half a BOM is text", S("\xef\xbb" "data: a\n\ndata: b\n\n"), 0,
	  "message(,-1)=b\n", 0 },
	{ "BOM later is data", S("data: \xef\xbb\xbf" "a\n\n"), 0,
	  "message(,-1)=\\xef\\xbb\\xbfa\n", 0 },
	{ "BOM bytes and a line end", S("\xef\xbb\n" "data: a\n\n"), 0,
	  "message(,-1)=a\n", 0 },
	{ "UTF-8 kept as bytes",
	  S("data: h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e\n\n"), 0,
	  "message(,-1)=h\\xc3\\xa9llo \\xe2\\x82\\xac "
	  "\\xf0\\x9d\\x84\\x9e\n", 0 },
	{ "NUL bytes in data", S("data: a\0b\n\n"), 0,
	  "message(,-1)=a\\0b\n", 0 },
	{ "leading empty lines", S("\n\n\ndata: a\n\n"), 0,
	  "message(,-1)=a\n", 0 },
	{ "empty CRLF lines", S("\r\n\r\ndata: a\r\n\r\n"), 0,
	  "message(,-1)=a\n", 0 },
	{ "no empty line at the end", S("data: a\n"), 0, "", 1 },
	{ "no line end at the end", S("data: a"), 0, "", 1 },
	{ "event then a cut one", S("data: a\n\ndata: b\n"), 0,
	  "message(,-1)=a\n", 1 },
	{ "comment left at the end is no event", S("data: a\n\n: x"), 0,
	  "message(,-1)=a\n", 0 },
	{ "CR ends the last event", S("data: a\r\r"), 0,
	  "message(,-1)=a\n", 0 },
	{ "keep-alive comments between events",
	  S(": ping\n\ndata: a\n\n: ping\n\ndata: b\n\n"), 0,
	  "message(,-1)=a\nmessage(,-1)=b\n", 0 },
	{ "Anthropic-shaped events",
	  S("event: message_start\r\ndata: {\"type\":\"message_start\"}"
	  "\r\n\r\nevent: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n"), 0,
	  "message_start(,-1)={\"type\":\"message_start\"}\n"
	  "ping(,-1)={\"type\": \"ping\"}\n", 0 },
	{ "OpenAI-shaped events",
	  S("data: {\"a\":1}\n\ndata: [DONE]\n\n"), 0,
	  "message(,-1)={\"a\":1}\nmessage(,-1)=[DONE]\n", 0 },
	{ "event at the ceiling passes", S("data: 0123456789\n\n"), 16,
	  "message(,-1)=0123456789\n", 0 },
	{ "one byte over the ceiling", S("data: 0123456789a\n\ndata: ok\n\n"),
	  16, "!\nmessage(,-1)=ok\n", 0 },
	{ "over the ceiling across lines",
	  S("data: 0123456\ndata: 0123456\n\ndata: b\n\n"), 16,
	  "!\nmessage(,-1)=b\n", 0 },
	{ "comments count toward the ceiling",
	  S(": 0123456789\ndata: 012345\n\ndata: b\n\n"), 16,
	  "!\nmessage(,-1)=b\n", 0 },
	{ "the rest of a long event is skipped",
	  S("data: 0123456789abcdef\ndata: x\nevent: e\n\ndata: b\n\n"), 16,
	  "!\nmessage(,-1)=b\n", 0 },
	{ "a long line without end", S("data: 0123456789abcdefghij"), 16,
	  "!\n", 1 },
	{ "skipping ends at an empty CR line",
	  S("data: 0123456789abcdef\r\rdata: b\r\r"), 16,
	  "!\nmessage(,-1)=b\n", 0 },
	{ "two long events, each reported",
	  S("data: 0123456789abcdef\n\ndata: 0123456789abcdef\n\n"), 16,
	  "!\n!\n", 0 },
	{ "id kept over a long event",
	  S("id: 5\n\ndata: 0123456789abcdef\n\ndata: b\n\n"), 16,
	  "!\nmessage(5,-1)=b\n", 0 },
};

static void
escape(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			buf_puts(b, "\\n");
		else if (c == '\r')
			buf_puts(b, "\\r");
		else if (c == '\0')
			buf_puts(b, "\\0");
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, c);
	}
}

static int
record(void *arg, const struct sse_event *ev)
{
	struct buf *b = arg;

	if (ev->toolong) {
		buf_puts(b, "!\n");
		return 0;
	}
	buf_puts(b, ev->type);
	buf_putc(b, '(');
	escape(b, ev->id, strlen(ev->id));
	if (ev->retry == LONG_MAX)
		buf_puts(b, ",MAX)=");
	else
		buf_printf(b, ",%ld)=", ev->retry);
	escape(b, ev->data, ev->len);
	if (ev->data[ev->len] != '\0')
		buf_puts(b, "<no NUL>");
	buf_putc(b, '\n');
	return 0;
}

/* Parses c's input cut at a and b (0 < a <= b < len, or 0: no cut). */
static int
parse(const struct tcase *c, size_t a, size_t b, struct buf *out)
{
	struct sse p;
	int cut;

	buf_reset(out);
	sse_init(&p, c->max);
	if (a > 0) {
		sse_feed(&p, c->in, a, record, out);
		if (b > a) {
			sse_feed(&p, c->in + a, b - a, record, out);
			a = b;
		}
	}
	sse_feed(&p, c->in + a, c->len - a, record, out);
	cut = sse_finish(&p);
	sse_release(&p);
	return cut;
}

static int
bytes(const struct tcase *c, struct buf *out)
{
	struct sse p;
	size_t i;
	int cut;

	buf_reset(out);
	sse_init(&p, c->max);
	for (i = 0; i < c->len; i++)
		sse_feed(&p, c->in + i, 1, record, out);
	cut = sse_finish(&p);
	sse_release(&p);
	return cut;
}

static void
run(const struct tcase *c)
{
	struct buf out;
	size_t a, b;
	int cut, bad = 0;

	buf_init(&out, 0);
	cut = parse(c, 0, 0, &out);
	if (!is_str(buf_cstr(&out), c->want, "%s", c->name))
		bad = 1;
	is_int(cut, c->cut, "%s: sse_finish", c->name);
	for (a = 1; a < c->len && !bad; a++) {
		parse(c, a, a, &out);
		if (strcmp(buf_cstr(&out), c->want) != 0) {
			diag("split at %zu: %s", a, buf_cstr(&out));
			bad = 1;
		}
		for (b = a + 1; c->len <= 64 && b < c->len && !bad; b++) {
			parse(c, a, b, &out);
			if (strcmp(buf_cstr(&out), c->want) != 0) {
				diag("split at %zu, %zu: %s", a, b,
				    buf_cstr(&out));
				bad = 1;
			}
		}
	}
	ok(!bad, "%s: split anywhere", c->name);
	cut = bytes(c, &out);
	ok(strcmp(buf_cstr(&out), c->want) == 0 && cut == c->cut,
	    "%s: byte by byte", c->name);
	buf_release(&out);
}

struct stopper {
	struct buf	*b;
	int		 stop;
};

static int
stop_at(void *arg, const struct sse_event *ev)
{
	struct stopper *s = arg;

	record(s->b, ev);
	return s->stop;
}

/* A callback that stops the parser, and reuse after sse_finish. */
static void
api(void)
{
	static const char in[] = "data: a\n\ndata: b\n\ndata: c\n\n";
	struct stopper s;
	struct sse p;
	struct buf out;
	int r;

	buf_init(&out, 0);
	s.b = &out;
	s.stop = 7;
	sse_init(&p, 0);
	r = sse_feed(&p, in, sizeof(in) - 1, stop_at, &s);
	is_int(r, 7, "a callback's non-zero stops sse_feed");
	is_str(buf_cstr(&out), "message(,-1)=a\n", "no event after it");
	is_int((long long)p.nevents, 1, "nevents counts it");
	s.stop = 0;
	r = sse_feed(&p, in + 9, sizeof(in) - 1 - 9, stop_at, &s);
	is_int(r, 0, "feeding the rest reads it all");
	is_str(buf_cstr(&out), "message(,-1)=a\nmessage(,-1)=b\n"
	    "message(,-1)=c\n", "the rest gives the rest");
	is_int((long long)p.nknown, 3, "nknown counts known lines");
	is_int(sse_finish(&p), 0, "finish: nothing pending");
	is_int((long long)p.nevents + (long long)p.nknown, 0,
	    "finish resets the counters");

	/* After finish: a new stream, BOM and id anew. */
	buf_reset(&out);
	r = sse_feed(&p, "id: 3\ndata: x\n\n", 15, record, &out);
	sse_finish(&p);
	r |= sse_feed(&p, "\xef\xbb\xbf" "data: y\n\n", 12, record, &out);
	is_str(buf_cstr(&out), "message(3,-1)=x\nmessage(,-1)=y\n",
	    "a finished parser starts a new stream");
	sse_finish(&p);

	/* Unknown fields are not SSE lines; comments are. */
	sse_feed(&p, "{\"error\": {}}\n", 14, record, &out);
	is_int((long long)p.nknown, 0, "a JSON line is no SSE line");
	sse_feed(&p, ":\n", 2, record, &out);
	is_int((long long)p.nknown, 1, "a comment is");
	sse_finish(&p);
	sse_release(&p);
	buf_release(&out);
}

/* A 10 MiB line with the default ceiling: reported once, memory bounded. */
static void
huge(void)
{
	struct sse p;
	struct buf out;
	char *chunk;
	size_t i, n = 64 * 1024;

	chunk = malloc(n);
	memset(chunk, 'a', n);
	buf_init(&out, 0);
	sse_init(&p, 0);
	sse_feed(&p, "data: ", 6, record, &out);
	for (i = 0; i < (10u << 20) / n; i++)
		sse_feed(&p, chunk, n, record, &out);
	is_str(buf_cstr(&out), "!\n", "10 MiB line: one report");
	ok(p.line.cap <= SSE_EVENT_MAX + 1 && p.data.cap <= SSE_EVENT_MAX,
	    "10 MiB line: buffers stay under the ceiling");
	sse_feed(&p, "\n\ndata: ok\n\n", 12, record, &out);
	is_str(buf_cstr(&out), "!\nmessage(,-1)=ok\n",
	    "10 MiB line: the next event is read");
	sse_release(&p);
	buf_release(&out);
	free(chunk);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < nitems(cases); i++)
		run(&cases[i]);
	api();
	huge();
	return done();
}
