/*
 * Unit tests for lib/jsonl.
 *
 * The reader is driven over a regular file (large reads), a pipe fed one
 * byte at a time in lockstep with the reader (every chunk boundary is hit,
 * and the non-blocking read end answers JSONL_AGAIN between chunks), a pipe
 * and a socketpair written byte by byte from a child (blocking reads), and
 * each way must give the same events.  An event string reads
 * "L<n>:<line>|" for a line (control and non-ASCII bytes as \xNN),
 * "T<n>|" for an over-long line, "E" at the end.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "errbuf.h"
#include "jsonl.h"
#include "tap.h"

#define S(s)	s, sizeof(s) - 1

/* Appends one reader result to ev, odd bytes of a line as \xNN. */
static void
event(struct buf *ev, int r, struct jsonl_reader *rd, const char *line,
    size_t len)
{
	size_t i;

	switch (r) {
	case JSONL_LINE:
		buf_printf(ev, "L%lu:", rd->lineno);
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)line[i];

			if (c < 0x20 || c >= 0x7f || c == '\\' || c == '|')
				buf_printf(ev, "\\x%02x", c);
			else
				buf_putc(ev, c);
		}
		buf_putc(ev, '|');
		break;
	case JSONL_TOOLONG:
		buf_printf(ev, "T%lu|", rd->lineno);
		break;
	case JSONL_EOF:
		buf_putc(ev, 'E');
		break;
	case JSONL_AGAIN:
		buf_putc(ev, 'A');
		break;
	default:
		buf_printf(ev, "X%d", errno);
		break;
	}
}

/* Reads fd to the end; returns the events (caller frees). */
static char *
collect(int fd, size_t max, size_t *maxcap)
{
	struct jsonl_reader rd;
	struct buf ev;
	const char *line;
	size_t len;
	int r;

	buf_init(&ev, 0);
	jsonl_reader_init(&rd, fd, max);
	do {
		r = jsonl_reader_next(&rd, &line, &len);
		event(&ev, r, &rd, line, len);
		if (maxcap && rd.cap > *maxcap)
			*maxcap = rd.cap;
	} while (r == JSONL_LINE || r == JSONL_TOOLONG);
	jsonl_reader_release(&rd);
	return buf_detach(&ev, NULL);
}

static int
file_with(const char *data, size_t n)
{
	FILE *f = tmpfile();
	int fd;

	if (f == NULL)
		return -1;
	if (n && fwrite(data, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	fflush(f);
	fd = dup(fileno(f));
	fclose(f);
	if (fd != -1)
		lseek(fd, 0, SEEK_SET);
	return fd;
}

static char *
via_file(const char *data, size_t n, size_t max)
{
	int fd = file_with(data, n);
	char *ev;

	if (fd == -1)
		return strdup("no tmpfile");
	ev = collect(fd, max, NULL);
	close(fd);
	return ev;
}

/*
 * Feeds data into a pipe step bytes at a time and drains the non-blocking
 * reader after each write, so the reader sees exactly those chunks.  The
 * JSONL_AGAIN answers between chunks are expected and not recorded, but
 * one that comes while a whole line is buffered would be a bug: *again
 * counts the calls that answered JSONL_AGAIN.
 */
static char *
via_lockstep(const char *data, size_t n, size_t max, size_t step,
    size_t *maxcap)
{
	struct jsonl_reader rd;
	struct buf ev;
	const char *line;
	size_t off = 0, len;
	ssize_t w;
	int p[2], r;

	if (pipe(p) == -1)
		return strdup("no pipe");
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
	buf_init(&ev, 0);
	jsonl_reader_init(&rd, p[0], max);
	for (;;) {
		if (off < n) {
			w = write(p[1], data + off, n - off < step ? n - off :
			    step);
			if (w > 0)
				off += (size_t)w;
		} else if (p[1] != -1) {
			close(p[1]);
			p[1] = -1;
		}
		while ((r = jsonl_reader_next(&rd, &line, &len)) ==
		    JSONL_LINE || r == JSONL_TOOLONG)
			event(&ev, r, &rd, line, len);
		if (maxcap && rd.cap > *maxcap)
			*maxcap = rd.cap;
		if (r != JSONL_AGAIN) {
			event(&ev, r, &rd, line, len);
			break;
		}
		if (p[1] == -1) {
			/* Closed and still "again": would spin forever. */
			buf_puts(&ev, "A-after-close");
			break;
		}
	}
	jsonl_reader_release(&rd);
	close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	return buf_detach(&ev, NULL);
}

/* A child writes data step bytes per write into fds[1]; we read fds[0]. */
static char *
via_child(int fds[2], const char *data, size_t n, size_t max, size_t step)
{
	char *ev;
	pid_t pid;
	size_t off;
	ssize_t w;
	int status;

	if ((pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		return strdup("no fork");
	}
	if (pid == 0) {
		close(fds[0]);
		signal(SIGPIPE, SIG_DFL);
		for (off = 0; off < n; off += (size_t)w)
			if ((w = write(fds[1], data + off, n - off < step ?
			    n - off : step)) <= 0)
				_exit(1);
		_exit(0);
	}
	close(fds[1]);
	ev = collect(fds[0], max, NULL);
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return ev;
}

static char *
via_pipe_child(const char *data, size_t n, size_t max, size_t step)
{
	int p[2];

	if (pipe(p) == -1)
		return strdup("no pipe");
	return via_child(p, data, n, max, step);
}

static char *
via_socket_child(const char *data, size_t n, size_t max, size_t step)
{
	int p[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) == -1)
		return strdup("no socketpair");
	return via_child(p, data, n, max, step);
}

static const struct {
	const char	*data;
	size_t		 n;
	size_t		 max;
	const char	*want;
	const char	*what;
} read_tests[] = {
	{ S(""), 16, "E", "empty input: no line" },
	{ S("\n"), 16, "L1:|E", "one empty line" },
	{ S("\r\n"), 16, "L1:|E", "one empty CRLF line" },
	{ S("{}"), 16, "L1:{}|E", "no final newline" },
	{ S("{}\n"), 16, "L1:{}|E", "final newline" },
	{ S("a\nb"), 16, "L1:a|L2:b|E", "last line without newline" },
	{ S("a\r\nb\r\n"), 16, "L1:a|L2:b|E", "CRLF line ends" },
	{ S("a\r\nb"), 16, "L1:a|L2:b|E", "CRLF, then no final newline" },
	{ S("a\rb\n"), 16, "L1:a\\x0db|E", "a lone CR inside a line stays" },
	{ S("a\r\r\n"), 16, "L1:a\\x0d|E", "only one CR is a line end" },
	{ S("\n\n  \nx\n\n"), 16, "L1:|L2:|L3:  |L4:x|L5:|E",
	    "blank lines are returned and counted" },
	{ S("a\0b\n\0\n"), 16, "L1:a\\x00b|L2:\\x00|E",
	    "NUL bytes are data" },
	{ S("0123456789abcdef\n"), 16, "L1:0123456789abcdef|E",
	    "a line exactly at the limit" },
	{ S("0123456789abcdef"), 16, "L1:0123456789abcdef|E",
	    "a last line exactly at the limit, no newline" },
	{ S("0123456789abcdefg\nok\n"), 16, "T1|L2:ok|E",
	    "one byte over the limit" },
	{ S("short\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nnext\n"),
	    16, "L1:short|T2|L3:next|E",
	    "over-long line skipped, next line still read" },
	{ S("a\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 16, "L1:a|T2|E",
	    "over-long last line without newline" },
	{ S("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nyyyyyyyyyyyyyyyy"
	    "yyyyyyyyyyyyyyyyyyyyyyyyyyyy\n\nz\n"), 16, "T1|T2|L3:|L4:z|E",
	    "consecutive over-long lines" },
	{ S("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\n\xff\n"), 16, "T1|L2:\\xff|E",
	    "far over the limit, then a binary line" },
};

static void
test_read(void)
{
	size_t i;
	char *ev;

	for (i = 0; i < nitems(read_tests); i++) {
		const char *d = read_tests[i].data, *what = read_tests[i].what;
		const char *want = read_tests[i].want;
		size_t n = read_tests[i].n, max = read_tests[i].max;

		ev = via_file(d, n, max);
		is_str(ev, want, "file: %s", what);
		free(ev);
		ev = via_lockstep(d, n, max, 1, NULL);
		is_str(ev, want, "pipe, 1-byte chunks in lockstep: %s", what);
		free(ev);
		ev = via_lockstep(d, n, max, 3, NULL);
		is_str(ev, want, "pipe, 3-byte chunks in lockstep: %s", what);
		free(ev);
		ev = via_pipe_child(d, n, max, 1);
		is_str(ev, want, "pipe, 1-byte writes from a child: %s", what);
		free(ev);
		ev = via_socket_child(d, n, max, 1);
		is_str(ev, want, "socketpair, 1-byte writes from a child: %s",
		    what);
		free(ev);
	}
}

/* A line far longer than the reader's buffer, and lines near a large max. */
static void
test_long(void)
{
	struct buf d, want;
	size_t maxcap, n = 300 * 1024, max;
	char *ev;
	int fd;

	buf_init(&d, 0);
	buf_init(&want, 0);
	while (d.len < n)
		buf_putc(&d, 'x');
	buf_puts(&d, "\nnext\n");

	maxcap = 0;
	if ((fd = file_with(d.data, d.len)) != -1) {
		ev = collect(fd, 16, &maxcap);
		close(fd);
	} else
		ev = strdup("no tmpfile");
	is_str(ev, "T1|L2:next|E", "file: 300 KiB line over a 16-byte limit");
	ok(maxcap < n, "file: the over-long line is not held in memory "
	    "(buffer %zu bytes)", maxcap);
	free(ev);

	maxcap = 0;
	ev = via_lockstep(d.data, d.len, 16, 4093, &maxcap);
	is_str(ev, "T1|L2:next|E", "pipe: 300 KiB line over a 16-byte limit");
	ok(maxcap < n, "pipe: the over-long line is not held in memory "
	    "(buffer %zu bytes)", maxcap);
	free(ev);

	/* A limit larger than one read: the buffer grows to hold the line. */
	max = 100000;
	buf_reset(&d);
	while (d.len < max)
		buf_putc(&d, 'y');
	buf_puts(&d, "\n");
	while (d.len < 2 * max + 2)
		buf_putc(&d, 'z');
	buf_puts(&d, "\nend");
	buf_puts(&want, "L1:");
	buf_append(&want, d.data, max);
	buf_puts(&want, "|T2|L3:end|E");
	ev = via_file(d.data, d.len, max);
	is_str(ev, buf_cstr(&want), "file: lines at and one over a 100000-byte "
	    "limit");
	free(ev);
	ev = via_lockstep(d.data, d.len, max, 4093, NULL);
	is_str(ev, buf_cstr(&want), "pipe: lines at and one over a "
	    "100000-byte limit");
	free(ev);
	ev = via_pipe_child(d.data, d.len, max, 1000);
	is_str(ev, buf_cstr(&want), "pipe from a child: lines at and one over "
	    "a 100000-byte limit");
	free(ev);
	buf_release(&d);
	buf_release(&want);
}

/* Writes s whole into fd (a pipe with room to spare). */
static void
put(int fd, const char *s)
{
	size_t n = strlen(s);

	if (write(fd, s, n) != (ssize_t)n)
		diag("short write to the pipe");
}

static void
test_nonblock(void)
{
	struct jsonl_reader rd;
	const char *line = NULL;
	size_t len = 0;
	int p[2], r;

	if (!ok(pipe(p) == 0, "pipe"))
		return;
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	jsonl_reader_init(&rd, p[0], 16);
	is_int(jsonl_reader_next(&rd, &line, &len), JSONL_AGAIN,
	    "non-blocking, nothing written: JSONL_AGAIN");
	put(p[1], "{\"a\"");
	is_int(jsonl_reader_next(&rd, &line, &len), JSONL_AGAIN,
	    "half a line: JSONL_AGAIN");
	put(p[1], ":1}\r\n{");
	r = jsonl_reader_next(&rd, &line, &len);
	is_int(r, JSONL_LINE, "rest of the line: JSONL_LINE");
	if (r == JSONL_LINE)
		is_mem(line, len, "{\"a\":1}", 7, "the line, CR dropped");
	else
		ok(0, "the line, CR dropped");
	is_int((long long)rd.lineno, 1, "line 1");
	is_int(jsonl_reader_next(&rd, &line, &len), JSONL_AGAIN,
	    "a partial line buffered: JSONL_AGAIN");
	put(p[1], "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	is_int(jsonl_reader_next(&rd, &line, &len), JSONL_AGAIN,
	    "over the limit but no line end yet: JSONL_AGAIN");
	put(p[1], "xx\nok");
	is_int(jsonl_reader_next(&rd, &line, &len), JSONL_TOOLONG,
	    "line end of the over-long line: JSONL_TOOLONG");
	is_int((long long)rd.lineno, 2, "over-long line is line 2");
	is_int(jsonl_reader_next(&rd, &line, &len), JSONL_AGAIN,
	    "no line end yet after it: JSONL_AGAIN");
	close(p[1]);
	r = jsonl_reader_next(&rd, &line, &len);
	is_int(r, JSONL_LINE, "writer closed: the last line");
	if (r == JSONL_LINE)
		is_mem(line, len, "ok", 2, "the last line");
	else
		ok(0, "the last line");
	is_int((long long)rd.lineno, 3, "line 3");
	is_int(jsonl_reader_next(&rd, &line, &len), JSONL_EOF, "then EOF");
	is_int(jsonl_reader_next(&rd, &line, &len), JSONL_EOF, "EOF again");
	jsonl_reader_release(&rd);
	close(p[0]);
}

static void
test_error(void)
{
	struct jsonl_reader rd;
	const char *line;
	size_t len;
	int fd;

	jsonl_reader_init(&rd, 0, 0);
	is_int(rd.max == JSONL_MAX_DEFAULT, 1, "max 0 means the default");
	jsonl_reader_release(&rd);

	if ((fd = open("/dev/null", O_WRONLY)) == -1) {
		ok(0, "open /dev/null");
		return;
	}
	jsonl_reader_init(&rd, fd, 0);
	errno = 0;
	is_int(jsonl_reader_next(&rd, &line, &len), JSONL_ERROR,
	    "read error: JSONL_ERROR");
	is_int(errno, EBADF, "read error: errno set");
	jsonl_reader_release(&rd);
	jsonl_reader_release(&rd);
	ok(1, "release twice is harmless");
	close(fd);
}

/*
 * jsonl_parse.  A secret-looking marker in each invalid line must not
 * come back in the message.
 */
static const struct {
	const char	*line;
	size_t		 len;
	int		 r;
	const char	*msg;	/* prefix of err when r == -1 */
	const char	*what;
} parse_tests[] = {
	{ S("{\"a\":1}"), 1, NULL, "an object" },
	{ S("  {\"a\":[1,{\"b\":null}]}\t "), 1, NULL,
	    "an object with blanks around" },
	{ S("{}"), 1, NULL, "an empty object" },
	{ S("{\"a\":1}\r"), 1, NULL, "trailing CR" },
	{ S(""), 0, NULL, "empty line" },
	{ S("   "), 0, NULL, "spaces" },
	{ S("\t \r"), 0, NULL, "tab, space, CR" },
	{ S("[1,2]"), -1, "not a JSON object", "an array" },
	{ S("42"), -1, "not a JSON object", "a number" },
	{ S("\"SECRET\""), -1, "not a JSON object", "a string" },
	{ S("null"), -1, "not a JSON object", "null" },
	{ S("true"), -1, "not a JSON object", "true" },
	{ S("{\"key\":\"sk-SECRET\""), -1, "invalid JSON: ",
	    "unterminated object" },
	{ S("{\"key\":\"sk-SECRET"), -1, "invalid JSON: ",
	    "unterminated string" },
	{ S("{\"key\": sk-SECRET}"), -1, "invalid JSON: ", "bare word" },
	{ S("{\"a\":1} {\"SECRET\":2}"), -1, "invalid JSON: ",
	    "two objects on a line" },
	{ S("{\"a\":1} SECRET"), -1, "invalid JSON: ", "trailing garbage" },
	{ S("{\"SECRET\" 1}"), -1, "invalid JSON: ", "missing colon" },
	{ S("{\"a\":\"\\qSECRET\"}"), -1, "invalid JSON: ", "bad escape" },
	{ S("{SECRET:1}"), -1, "invalid JSON: ", "unquoted key" },
	{ S("{\"a\":\"\xff SECRET\"}"), -1, "invalid UTF-8 at byte 7",
	    "invalid UTF-8 in a string" },
	{ S("  \xc3"), -1, "invalid UTF-8 at byte 3",
	    "truncated UTF-8 after blanks" },
	{ S("{\"a\":\"\xed\xa0\x80\"}"), -1, "invalid UTF-8 at byte 7",
	    "an encoded surrogate" },
	{ S("{\"a\":\"\xc0\xaf\"}"), -1, "invalid UTF-8 at byte 7",
	    "an overlong form" },
	{ S("{\"\xc3\xa9\":\"\xe2\x82\xac\",\"b\":\"\xf0\x9f\x98\x80\xff\"}"),
	    -1, "invalid UTF-8 at byte 22",
	    "bad byte after good multi-byte characters" },
	{ S("\xff{}"), -1, "invalid UTF-8 at byte 1",
	    "invalid UTF-8 before the object" },
};

static void
test_parse(void)
{
	char err[ERRBUF_MAX];
	char *p;
	size_t i;
	jv v;
	int r;

	for (i = 0; i < nitems(parse_tests); i++) {
		const char *what = parse_tests[i].what;
		size_t len = parse_tests[i].len;

		/* An exact-size copy: nothing may be read past len. */
		p = malloc(len ? len : 1);
		memcpy(p, parse_tests[i].line, len);
		err[0] = '\0';
		v = jv_invalid();
		r = jsonl_parse(p, len, &v, err);
		is_int(r, parse_tests[i].r, "jsonl_parse: %s", what);
		if (r == 1) {
			is_int(jv_get_kind(v), JV_KIND_OBJECT,
			    "jsonl_parse: %s: an object", what);
			jv_free(v);
		} else if (parse_tests[i].r == -1) {
			const char *m = parse_tests[i].msg;

			ok(strncmp(err, m, strlen(m)) == 0,
			    "jsonl_parse: %s: message \"%s\" starts with "
			    "\"%s\"", what, err, m);
			ok(strstr(err, "SECRET") == NULL &&
			    strstr(err, "while parsing") == NULL,
			    "jsonl_parse: %s: message does not quote the line",
			    what);
		}
		free(p);
	}

	/* Only len bytes count, whatever follows them. */
	v = jv_invalid();
	is_int(jsonl_parse("{\"a\":1}garbage", 7, &v, err), 1,
	    "bytes after len are ignored");
	if (jv_is_valid(v))
		is_int(jv_object_length(jv_copy(v)), 1,
		    "the object has one key");
	else
		ok(0, "the object has one key");
	jv_free(v);
	is_int(jsonl_parse("{\"a\":1}", 6, &v, err), -1,
	    "a line cut by len is incomplete");
	is_int(jsonl_parse("   \xff", 3, &v, err), 0,
	    "blank within len, bad byte after it");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_read();
	test_long();
	test_nonblock();
	test_error();
	test_parse();
	return done();
}
