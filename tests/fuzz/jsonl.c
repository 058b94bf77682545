/*
 * Fuzz target over the JSON Lines reader and jsonl_parse.
 *
 * The input is read twice with a 64-byte line limit, so over-long lines
 * are common: once from a memory file (large reads) and once through a
 * non-blocking pipe fed in chunks whose sizes derive from the input bytes
 * (every kind of chunk boundary, and JSONL_AGAIN between chunks).  Both
 * must give exactly the events an independent split of the input on '\n'
 * predicts: (result, line, line number).  Every line, and the whole input
 * as one line, then goes through jsonl_parse, whose answer must agree
 * with the line: 0 only for blanks, UTF-8 errors at the right byte, no
 * jq quotation in messages, and an object that json_write writes back
 * faithfully.  A broken invariant aborts.
 */
#ifdef __linux__
#define _GNU_SOURCE	/* memfd_create */
#include <sys/mman.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay.h"

#include "buf.h"
#include "errbuf.h"
#include "json.h"
#include "jsonl.h"
#include "utf8.h"

#define MAXLINE		64
#define MAXINPUT	(1u << 20)
#define WHOLE_MAX	8192	/* longest input also parsed as one line */

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/* What the reader should say, line by line. */
struct want {
	int		 r;
	unsigned long	 lineno;
	size_t		 off, len;
};

struct oracle {
	struct want	*w;
	size_t		 n;
};

/* Splits data on '\n' the way jsonl.h describes. */
static void
oracle_init(struct oracle *o, const uint8_t *data, size_t size)
{
	size_t start = 0, i, len;

	o->w = calloc(size + 1, sizeof(*o->w));
	CHECK(o->w != NULL);
	o->n = 0;
	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		if (i == size && start == size)
			break;		/* nothing after the last newline */
		len = i - start;
		o->w[o->n].lineno = o->n + 1;
		o->w[o->n].off = start;
		/* The limit is on the line without its CR. */
		if (len > 0 && data[i - 1] == '\r')
			len--;
		if (len > MAXLINE)
			o->w[o->n].r = JSONL_TOOLONG;
		else {
			o->w[o->n].r = JSONL_LINE;
			o->w[o->n].len = len;
		}
		o->n++;
		start = i + 1;
	}
}

/* Checks one reader result against the k-th predicted one. */
static void
expect(const struct oracle *o, size_t k, const uint8_t *data, int r,
    const struct jsonl_reader *rd, const char *line, size_t len)
{
	CHECK(k < o->n);
	CHECK(r == o->w[k].r);
	CHECK(rd->lineno == o->w[k].lineno);
	if (r == JSONL_LINE) {
		CHECK(len == o->w[k].len);
		CHECK(len == 0 || memcmp(line, data + o->w[k].off, len) == 0);
	}
}

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* json_write must read back as what jq itself would print. */
static void
check_write(jv v)
{
	struct buf b;
	jv mine, theirs, d;
	int eq;

	buf_init(&b, 0);
	CHECK(json_write(&b, v) == 0);
	CHECK(utf8_valid(buf_cstr(&b), b.len, NULL));
	mine = jv_parse_sized(buf_cstr(&b), (int)b.len);
	CHECK(jv_is_valid(mine));
	d = jv_dump_string(jv_copy(v), 0);
	theirs = jv_parse(jv_string_value(d));
	jv_free(d);
	CHECK(jv_is_valid(theirs));
	eq = jv_equal(mine, theirs);
	CHECK(eq == 1);
	buf_release(&b);
}

/* Parses line from an exact-size copy and checks the answer. */
static void
parse(const char *line, size_t len)
{
	char err[ERRBUF_MAX], *copy, want[64];
	size_t bad;
	jv v = jv_invalid();
	int r;

	copy = malloc(len ? len : 1);
	CHECK(copy != NULL);
	if (len)
		memcpy(copy, line, len);
	err[0] = '\0';
	r = jsonl_parse(copy, len, &v, err);
	CHECK(r == 1 || r == 0 || r == -1);
	CHECK((r == 0) == blank(copy, len));
	if (r == 1) {
		CHECK(jv_get_kind(v) == JV_KIND_OBJECT);
		check_write(v);
		jv_free(v);
	} else if (r == -1) {
		CHECK(err[0] != '\0');
		CHECK(strstr(err, "while parsing") == NULL);
		if (!utf8_valid(copy, len, &bad)) {
			snprintf(want, sizeof(want),
			    "invalid UTF-8 at byte %zu", bad + 1);
			CHECK(strcmp(err, want) == 0);
		} else
			CHECK(strncmp(err, "invalid JSON: ", 14) == 0 ||
			    strcmp(err, "not a JSON object") == 0);
	}
	free(copy);
}

/* A memory file holding the input; made once, rewritten per input. */
static int
memfile(const uint8_t *data, size_t size)
{
	static int fd = -1;
	size_t off = 0;
	ssize_t w;

	if (fd == -1) {
#ifdef __linux__
		fd = memfd_create("jsonl-fuzz", MFD_CLOEXEC);
#endif
		if (fd == -1) {
			FILE *f = tmpfile();

			CHECK(f != NULL);
			fd = dup(fileno(f));
			fclose(f);
		}
		CHECK(fd != -1);
	}
	CHECK(ftruncate(fd, 0) == 0);
	while (off < size) {
		w = pwrite(fd, data + off, size - off, (off_t)off);
		CHECK(w > 0);
		off += (size_t)w;
	}
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

static void
read_file(const struct oracle *o, const uint8_t *data, size_t size)
{
	struct jsonl_reader rd;
	const char *line = NULL;
	size_t k = 0, len = 0;
	int r;

	jsonl_reader_init(&rd, memfile(data, size), MAXLINE);
	while ((r = jsonl_reader_next(&rd, &line, &len)) == JSONL_LINE ||
	    r == JSONL_TOOLONG) {
		expect(o, k++, data, r, &rd, line, len);
		if (r == JSONL_LINE)
			parse(line, len);
	}
	CHECK(r == JSONL_EOF);
	CHECK(k == o->n);
	CHECK(jsonl_reader_next(&rd, &line, &len) == JSONL_EOF);
	jsonl_reader_release(&rd);
}

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

static void
read_chunked(const struct oracle *o, const uint8_t *data, size_t size)
{
	static const size_t spans[] = { 1, 2, 3, 7, 16, 65, 200 };
	struct jsonl_reader rd;
	const char *line = NULL;
	size_t k = 0, len = 0, off = 0, span, chunk;
	uint64_t s = seed(data, size);
	ssize_t w;
	int p[2], r;

	span = spans[next_rand(&s) % (sizeof(spans) / sizeof(spans[0]))];
	CHECK(pipe(p) == 0);
	CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
	CHECK(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
	jsonl_reader_init(&rd, p[0], MAXLINE);
	for (;;) {
		if (off < size) {
			chunk = 1 + next_rand(&s) % span;
			if (chunk > size - off)
				chunk = size - off;
			w = write(p[1], data + off, chunk);
			CHECK(w > 0 || (w == -1 && errno == EAGAIN));
			if (w > 0)
				off += (size_t)w;
		} else if (p[1] != -1) {
			close(p[1]);
			p[1] = -1;
		}
		while ((r = jsonl_reader_next(&rd, &line, &len)) ==
		    JSONL_LINE || r == JSONL_TOOLONG)
			expect(o, k++, data, r, &rd, line, len);
		if (r == JSONL_EOF)
			break;
		CHECK(r == JSONL_AGAIN);
		CHECK(p[1] != -1);	/* "again" after EOF would spin */
	}
	CHECK(k == o->n);
	jsonl_reader_release(&rd);
	close(p[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct oracle o;

	if (!once) {
		signal(SIGPIPE, SIG_IGN);
		once = 1;
	}
	if (size > MAXINPUT)
		return 0;
	oracle_init(&o, data, size);
	read_file(&o, data, size);
	read_chunked(&o, data, size);
	if (size <= WHOLE_MAX)
		parse((const char *)data, size);
	free(o.w);
	return 0;
}
