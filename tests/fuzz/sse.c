/*
 * Fuzz target over the SSE parser and the stream adapters.
 *
 * The input is parsed by sse_feed whole and split at points drawn from a
 * generator seeded by the input (chunks of 1 to a few hundred bytes), with
 * the default ceiling and with a 64-byte one (so that too long events are
 * common): the events, in order, and sse_finish's answer must be the same
 * every way.  With the default ceiling they must also be what a plain
 * reading of the standard gives (oracle below: whole input, line by line).
 *
 * Then the input goes, whole and split, through dialect_stream with each
 * dialect's adapter: the events must be the same both ways, end with
 * exactly one "end" or "error", and hold only the kinds an adapter may
 * make; where the end's fields are built from the deltas, the text and
 * reasoning deltas must join into them.  A broken invariant aborts.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#include "buf.h"
#include "dialect.h"
#include "json.h"
#include "sse.h"

#define MAXINPUT	(1u << 20)
#define SMALL		64		/* the small ceiling */

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/* A deterministic generator seeded from the input (FNV-1a, xorshift). */
static uint64_t
seed(const uint8_t *data, size_t size)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	return h ? h : 1;
}

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One event as bytes: type, id, retry, data, each length-prefixed. */
static void
put(struct buf *b, const char *s, size_t n)
{
	CHECK(buf_printf(b, "%zu:", n) == 0);
	CHECK(buf_append(b, s, n) == 0);
}

static int
record(void *arg, const struct sse_event *ev)
{
	struct buf *b = arg;

	if (ev->toolong) {
		CHECK(ev->len == 0 && *ev->type == '\0');
		CHECK(buf_puts(b, "!\n") == 0);
		return 0;
	}
	CHECK(ev->data[ev->len] == '\0');
	CHECK(*ev->type != '\0');
	put(b, ev->type, strlen(ev->type));
	put(b, ev->id, strlen(ev->id));
	CHECK(buf_printf(b, "%ld:", ev->retry) == 0);
	put(b, ev->data, ev->len);
	CHECK(buf_putc(b, '\n') == 0);
	return 0;
}

static int
parse(const uint8_t *data, size_t size, size_t max, uint64_t *rng,
    size_t span, struct buf *out)
{
	struct sse p;
	size_t off = 0, n;
	int cut;

	sse_init(&p, max);
	while (off < size) {
		n = rng == NULL ? size : 1 + next_rand(rng) % span;
		if (n > size - off)
			n = size - off;
		CHECK(sse_feed(&p, (const char *)data + off, n, record, out) ==
		    0);
		CHECK(p.size <= p.max && p.data.len <= p.max);
		off += n;
	}
	cut = sse_finish(&p);
	sse_release(&p);
	return cut;
}

/*
 * The oracle: the standard's steps over the whole input.  Returns what
 * sse_finish should: whether an unfinished event was cut.
 */
static int
oracle(const uint8_t *in, size_t size, struct buf *out)
{
	struct buf data, type, id;
	const char *s = (const char *)in, *e = s + size, *l, *c, *v;
	size_t n, vn, nn, i;
	long retry = -1, r;
	int fields = 0;

	buf_init(&data, 0);
	buf_init(&type, 0);
	buf_init(&id, 0);
	if (size >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	for (;;) {
		for (l = s; l < e && *l != '\n' && *l != '\r'; l++)
			;
		if (l == e)
			break;		/* no line end: discarded */
		n = (size_t)(l - s);
		if (n == 0) {
			fields = 0;
			if (data.len > 0) {
				struct sse_event ev;

				data.data[--data.len] = '\0';
				ev.type = type.len && type.data[0] ?
				    buf_cstr(&type) : "message";
				ev.data = buf_cstr(&data);
				ev.len = data.len;
				ev.id = buf_cstr(&id);
				ev.retry = retry;
				ev.toolong = 0;
				record(out, &ev);
			}
			buf_reset(&data);
			buf_reset(&type);
		} else if (*s != ':') {
			fields = 1;
			if ((c = memchr(s, ':', n)) != NULL) {
				nn = (size_t)(c - s);
				v = c + 1;
				vn = n - nn - 1;
				if (vn > 0 && *v == ' ')
					v++, vn--;
			} else {
				nn = n;
				v = s + n;
				vn = 0;
			}
			if (nn == 4 && memcmp(s, "data", 4) == 0) {
				buf_append(&data, v, vn);
				buf_putc(&data, '\n');
			} else if (nn == 5 && memcmp(s, "event", 5) == 0) {
				buf_reset(&type);
				buf_append(&type, v, vn);
			} else if (nn == 2 && memcmp(s, "id", 2) == 0) {
				if (memchr(v, '\0', vn) == NULL) {
					buf_reset(&id);
					buf_append(&id, v, vn);
				}
			} else if (nn == 5 && memcmp(s, "retry", 5) == 0 &&
			    vn > 0) {
				for (i = 0, r = 0; i < vn && v[i] >= '0' &&
				    v[i] <= '9'; i++)
					r = r > (LONG_MAX - 9) / 10 ?
					    LONG_MAX : r * 10 + (v[i] - '0');
				if (i == vn)
					retry = r;
			}
		}
		s = l + 1;
		if (*l == '\r' && s < e && *s == '\n')
			s++;
	}
	buf_release(&data);
	buf_release(&type);
	buf_release(&id);
	return fields || (s < e && *s != ':');
}

static void
check_sse(const uint8_t *data, size_t size)
{
	static const size_t spans[] = { 1, 2, 3, 7, 16, 65, 300 };
	struct buf whole, split, want;
	uint64_t rng = seed(data, size);
	size_t k;
	int c1, c2, c3;

	buf_init(&whole, 0);
	buf_init(&split, 0);
	buf_init(&want, 0);
	c1 = parse(data, size, 0, NULL, 0, &whole);
	c3 = oracle(data, size, &want);
	CHECK(whole.len == want.len && memcmp(buf_cstr(&whole),
	    buf_cstr(&want), whole.len) == 0);
	CHECK(c1 == c3);
	for (k = 0; k < 3; k++) {
		buf_reset(&split);
		c2 = parse(data, size, 0, &rng, spans[next_rand(&rng) %
		    (sizeof(spans) / sizeof(spans[0]))], &split);
		CHECK(c1 == c2);
		CHECK(whole.len == split.len && memcmp(buf_cstr(&whole),
		    buf_cstr(&split), whole.len) == 0);
	}
	buf_reset(&whole);
	c1 = parse(data, size, SMALL, NULL, 0, &whole);
	for (k = 0; k < 3; k++) {
		buf_reset(&split);
		c2 = parse(data, size, SMALL, &rng, spans[next_rand(&rng) %
		    (sizeof(spans) / sizeof(spans[0]))], &split);
		CHECK(c1 == c2);
		CHECK(whole.len == split.len && memcmp(buf_cstr(&whole),
		    buf_cstr(&split), whole.len) == 0);
	}
	buf_release(&whole);
	buf_release(&split);
	buf_release(&want);
}

/*
 * Where the end's fields come from the deltas themselves (not from a
 * summary the server sends at the end, as Responses and echo do), the
 * text and reasoning deltas must join into the end's "text" and
 * "reasoning" (a refusal's words are no text in Chat).
 */
static void
check_joined(const struct dialect *d, jv events, jv end)
{
	struct buf text, reasoning;
	const char *t, *sr;
	int i, k = jv_array_length(jv_copy(events));

	if (d == &dialect_openai_responses || d == &dialect_echo)
		return;
	buf_init(&text, 0);
	buf_init(&reasoning, 0);
	for (i = 0; i < k; i++) {
		jv ev = jv_array_get(jv_copy(events), i);

		t = json_peek_string(ev, "type");
		if (strcmp(t, "text") == 0)
			buf_puts(&text, json_peek_string(ev, "delta"));
		else if (strcmp(t, "reasoning") == 0)
			buf_puts(&reasoning, json_peek_string(ev, "delta"));
		jv_free(ev);
	}
	sr = json_peek_string(end, "stop_reason");
	t = json_peek_string(end, "text");
	if (sr == NULL || strcmp(sr, "refusal") != 0)
		CHECK(strcmp(buf_cstr(&text), t ? t : "") == 0);
	t = json_peek_string(end, "reasoning");
	CHECK(strcmp(buf_cstr(&reasoning), t ? t : "") == 0);
	buf_release(&text);
	buf_release(&reasoning);
}

/* The events of dialect d over the input, as JSON lines in out. */
static void
stream(const struct dialect *d, const uint8_t *data, size_t size,
    uint64_t *rng, struct buf *out)
{
	struct dialect_stream ds;
	jv target, events = jv_array(), ev;
	size_t off = 0, n;
	int i, k, done = 0, ended, last;

	target = jv_object_set(jv_object(), jv_string("provider"),
	    jv_string("fuzz"));
	dialect_stream_init(&ds, d, target, 4096, 1u << 19);
	while (off < size && !done) {
		n = rng == NULL ? size : 1 + next_rand(rng) % 97;
		if (n > size - off)
			n = size - off;
		done = dialect_stream_feed(&ds, (const char *)data + off, n,
		    &events);
		off += n;
	}
	ended = dialect_stream_finish(&ds, &events);
	k = jv_array_length(jv_copy(events));
	CHECK(k >= 1);
	for (i = 0; i < k; i++) {
		const char *t;

		ev = jv_array_get(jv_copy(events), i);
		CHECK(jv_get_kind(ev) == JV_KIND_OBJECT);
		t = json_peek_string(ev, "type");
		CHECK(t != NULL);
		last = strcmp(t, "end") == 0 || strcmp(t, "error") == 0;
		CHECK(last == (i == k - 1));
		if (strcmp(t, "text") == 0 || strcmp(t, "reasoning") == 0)
			CHECK(json_peek_kind(ev, "delta") == JV_KIND_STRING);
		else if (strcmp(t, "tool_call") == 0)
			CHECK(json_peek_kind(ev, "index") == JV_KIND_NUMBER &&
			    json_peek_kind(ev, "arguments_delta") ==
			    JV_KIND_STRING);
		else if (strcmp(t, "end") == 0) {
			CHECK(ended == 1 && json_peek_kind(ev, "usage") ==
			    JV_KIND_OBJECT);
			check_joined(d, events, ev);
		}
		else
			CHECK(strcmp(t, "error") == 0 && ended == 0 &&
			    json_peek_kind(ev, "error") == JV_KIND_OBJECT);
		CHECK(json_write(out, ev) == 0);
		CHECK(buf_putc(out, '\n') == 0);
		jv_free(ev);
	}
	jv_free(events);
	jv_free(target);
	dialect_stream_release(&ds);
}

static void
check_dialects(const uint8_t *data, size_t size)
{
	static const struct dialect *const ds[] = {
		&dialect_openai_completions, &dialect_openai_responses,
		&dialect_anthropic_messages, &dialect_google_generative_ai,
		&dialect_echo,
	};
	struct buf whole, split;
	uint64_t rng = seed(data, size) ^ 0x5555;
	size_t i;

	for (i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
		buf_init(&whole, 0);
		buf_init(&split, 0);
		stream(ds[i], data, size, NULL, &whole);
		stream(ds[i], data, size, &rng, &split);
		CHECK(whole.len == split.len && memcmp(buf_cstr(&whole),
		    buf_cstr(&split), whole.len) == 0);
		buf_release(&whole);
		buf_release(&split);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAXINPUT)
		return 0;
	check_sse(data, size);
	check_dialects(data, size);
	json_release();
	return 0;
}
