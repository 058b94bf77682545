/*
 * Unit tests for lib/input: JSON Lines records, -t lines mode and -T whole
 * mode over several files and standard input, ids counted across files,
 * bad lines turned into bad_input records while reading goes on, and the
 * non-blocking standard input.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "errbuf.h"
#include "input.h"
#include "json.h"
#include "record.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/llm-input.XXXXXX";
static char *made[32];
static size_t nmade;

/* Writes a file in tmpdir; returns its path, freed by cleanup. */
static char *
mkfile(const char *name, const char *data, size_t n)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f;

	if (nmade < nitems(made))
		made[nmade++] = path;
	if ((f = fopen(path, "w")) == NULL ||
	    (n && fwrite(data, 1, n, f) != n) || fclose(f) == EOF)
		diag("cannot write %s", path);
	return path;
}

static void
cleanup(void)
{
	size_t i;

	for (i = 0; i < nmade; i++) {
		unlink(made[i]);
		free(made[i]);
	}
	if (rmdir(tmpdir) == -1)
		diag("rmdir %s: %s", tmpdir, strerror(errno));
}

static char *
mkstr(const char *name, const char *s)
{
	return mkfile(name, s, strlen(s));
}

/*
 * One input_next result as text: "R<json>" for a record (keys sorted),
 * "B<id>:<message>" for a bad_input record, "E", "F:<err>" or "A".
 */
static char *
next(struct input *in)
{
	char err[ERRBUF_MAX], *s;
	const char *id, *msg, *kind;
	jv rec = jv_invalid(), e, d;
	int r, retriable = -1;

	err[0] = '\0';
	r = input_next(in, &rec, err);
	switch (r) {
	case INPUT_RECORD:
		d = jv_dump_string(jv_copy(rec), JV_PRINT_SORTED);
		s = xasprintf("R%s", jv_string_value(d));
		jv_free(d);
		break;
	case INPUT_BAD:
		e = json_get(rec, "error");
		id = json_peek_string(rec, "id");
		kind = json_peek_string(e, "kind");
		msg = json_peek_string(e, "message");
		json_peek_bool(e, "retriable", &retriable);
		if (kind == NULL || strcmp(kind, "bad_input") != 0 ||
		    retriable != 0 || !record_is_error(rec))
			s = strdup("B-malformed");
		else
			s = xasprintf("B%s:%s", id ? id : "-",
			    msg ? msg : "-");
		jv_free(e);
		break;
	case INPUT_EOF:
		s = strdup("E");
		break;
	case INPUT_AGAIN:
		s = strdup("A");
		break;
	case INPUT_FAIL:
		s = xasprintf("F:%s", err);
		break;
	default:
		s = xasprintf("?%d", r);
		break;
	}
	jv_free(rec);
	return s;
}

/* Checks that the next result is want (or starts with it when prefix). */
static void
expect(struct input *in, const char *want, int prefix, const char *what)
{
	char *got = next(in);

	if (prefix && strncmp(got, want, strlen(want)) == 0)
		ok(1, "%s", what);
	else if (prefix) {
		ok(0, "%s", what);
		diag("got:  %s", got);
		diag("want: %s...", want);
	} else
		is_str(got, want, "%s", what);
	free(got);
}

static void
test_jsonl(void)
{
	char *f[3];
	struct input in;

	f[0] = mkstr("j1", "{\"p\":1}\n{\"id\":\"x\",\"p\":2}\n");
	f[1] = mkstr("j2", "\n{\"p\":3}\n");
	f[2] = mkstr("j3", "{\"p\":4}\n{\"id\":7}");
	input_init(&in, f, 3, INPUT_JSONL);
	expect(&in, "R{\"id\":\"1\",\"p\":1}", 0, "jsonl: id from line 1");
	expect(&in, "R{\"id\":\"x\",\"p\":2}", 0, "jsonl: an id is kept");
	expect(&in, "R{\"id\":\"4\",\"p\":3}", 0,
	    "jsonl: second file, after a blank line: id 4");
	expect(&in, "R{\"id\":\"5\",\"p\":4}", 0,
	    "jsonl: third file: ids still counted across files");
	expect(&in, "R{\"id\":7}", 0,
	    "jsonl: a number id is kept, no final newline");
	expect(&in, "E", 0, "jsonl: then EOF");
	expect(&in, "E", 0, "jsonl: EOF again");
	input_release(&in);
}

static void
test_bad(void)
{
	struct input in;
	char *f[2];

	f[0] = mkstr("b1", "{\"a\":1}\nnot json SECRET\n[1]\n"
	    "{\"b\":\"\xff\"}\n\n{\"c\":3}\n");
	f[1] = mkstr("b2", "{\"d\":\n{\"e\":5}\n");
	input_init(&in, f, 2, INPUT_JSONL);
	expect(&in, "R{\"a\":1,\"id\":\"1\"}", 0, "bad: a good line first");
	expect(&in, "B2:line 2: invalid JSON", 1,
	    "bad: invalid JSON is a bad_input record for line 2");
	expect(&in, "B3:line 3: not a JSON object", 0,
	    "bad: an array is a bad_input record for line 3");
	expect(&in, "B4:line 4: invalid UTF-8 at byte 7", 0,
	    "bad: invalid UTF-8 is a bad_input record for line 4");
	expect(&in, "R{\"c\":3,\"id\":\"6\"}", 0,
	    "bad: reading goes on after bad lines");
	expect(&in, "B7:line 7: invalid JSON", 1,
	    "bad: second file, numbered across files");
	expect(&in, "R{\"e\":5,\"id\":\"8\"}", 0, "bad: then a good line");
	expect(&in, "E", 0, "bad: EOF");
	input_release(&in);
}

/* A line over the 16 MiB default limit is reported and skipped. */
static void
test_toolong(void)
{
	struct input in;
	struct buf b;
	char *f[1];

	buf_init(&b, 0);
	buf_puts(&b, "{\"a\":1}\n{\"big\":\"");
	while (b.len < JSONL_MAX_DEFAULT + 100)
		buf_append(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 32);
	buf_puts(&b, "\"}\n{\"b\":2}\n");
	f[0] = mkfile("long", b.data, b.len);
	buf_release(&b);
	input_init(&in, f, 1, INPUT_JSONL);
	expect(&in, "R{\"a\":1,\"id\":\"1\"}", 0, "toolong: line 1");
	expect(&in, "B2:line 2: line is longer than the limit", 0,
	    "toolong: an over-long line is a bad_input record");
	expect(&in, "R{\"b\":2,\"id\":\"3\"}", 0, "toolong: the next line");
	expect(&in, "E", 0, "toolong: EOF");
	input_release(&in);
}

static void
test_lines(void)
{
	struct input in;
	char *f[2];

	f[0] = mkstr("t1", "hello\n\n  \n\tworld \r\n{\"a\":1}\n");
	f[1] = mkstr("t2", "x\xffy\nlast");
	input_init(&in, f, 2, INPUT_LINES);
	expect(&in, "R{\"id\":\"1\",\"prompt\":\"hello\"}", 0,
	    "-t: a line is a prompt");
	expect(&in, "R{\"id\":\"4\",\"prompt\":\"\\tworld \"}", 0,
	    "-t: blank lines skipped but counted, CRLF dropped");
	expect(&in, "R{\"id\":\"5\",\"prompt\":\"{\\\"a\\\":1}\"}", 0,
	    "-t: JSON is just text");
	expect(&in, "B6:line 6: invalid UTF-8 at byte 2", 0,
	    "-t: invalid UTF-8 is a bad_input record");
	expect(&in, "R{\"id\":\"7\",\"prompt\":\"last\"}", 0,
	    "-t: last line of the second file");
	expect(&in, "E", 0, "-t: EOF");
	input_release(&in);
}

static void
test_whole(void)
{
	struct input in;
	char *f[3];

	f[0] = mkstr("w1", "line one\r\nline two\n");
	f[1] = mkstr("w2", "");
	f[2] = mkstr("w3", "\nthree {\"x\":1}");
	input_init(&in, f, 3, INPUT_WHOLE);
	expect(&in, "R{\"id\":\"1\",\"prompt\":\"line one\\r\\nline two\\n"
	    "\\nthree {\\\"x\\\":1}\"}", 0,
	    "-T: all files are one prompt, newlines kept");
	expect(&in, "E", 0, "-T: then EOF");
	input_release(&in);

	input_init(&in, f + 2, 1, INPUT_WHOLE);
	expect(&in, "R{\"id\":\"1\",\"prompt\":\"\\nthree {\\\"x\\\":1}\"}", 0,
	    "-T: one file");
	expect(&in, "E", 0, "-T: one file, then EOF");
	input_release(&in);

	f[0] = mkstr("w4", "ok\n");
	f[1] = mkstr("w5", "bad \xc3\x28\n");
	input_init(&in, f, 2, INPUT_WHOLE);
	expect(&in, "B1:line 1: invalid UTF-8 at byte 8", 0,
	    "-T: invalid UTF-8 anywhere is a bad_input record");
	expect(&in, "E", 0, "-T: bad input, then EOF");
	input_release(&in);
}

static void
test_fail(void)
{
	char *f[1] = { "/nonexistent/llm-test-input" };
	struct input in;

	input_init(&in, f, 1, INPUT_JSONL);
	expect(&in, "F:open '/nonexistent/llm-test-input': No such file or "
	    "directory", 0, "a missing file: INPUT_FAIL with a message");
	input_release(&in);
	input_init(&in, f, 1, INPUT_WHOLE);
	expect(&in, "F:open '/nonexistent/llm-test-input': ", 1,
	    "-T, a missing file: INPUT_FAIL");
	input_release(&in);
}

/* Replaces standard input with fd; returns the saved descriptor. */
static int
set_stdin(int fd)
{
	int saved = dup(STDIN_FILENO);

	dup2(fd, STDIN_FILENO);
	close(fd);
	return saved;
}

static void
restore_stdin(int saved)
{
	dup2(saved, STDIN_FILENO);
	close(saved);
}

static void
test_stdin(void)
{
	struct input in;
	char *p, *f[3];
	int saved, fd;

	p = mkstr("s0", "{\"s\":1}\n{\"s\":2}\n");
	f[0] = mkstr("s1", "{\"f\":1}\n");
	f[1] = "-";
	f[2] = mkstr("s3", "{\"f\":3}\n");

	if ((fd = open(p, O_RDONLY)) == -1) {
		ok(0, "open %s", p);
		return;
	}
	saved = set_stdin(fd);
	input_init(&in, NULL, 0, INPUT_JSONL);
	expect(&in, "R{\"id\":\"1\",\"s\":1}", 0,
	    "no operands: standard input");
	expect(&in, "R{\"id\":\"2\",\"s\":2}", 0, "standard input, line 2");
	expect(&in, "E", 0, "standard input: EOF");
	input_release(&in);
	restore_stdin(saved);

	if ((fd = open(p, O_RDONLY)) == -1) {
		ok(0, "open %s", p);
		return;
	}
	saved = set_stdin(fd);
	input_init(&in, f, 3, INPUT_JSONL);
	expect(&in, "R{\"f\":1,\"id\":\"1\"}", 0, "\"-\" among files: first");
	expect(&in, "R{\"id\":\"2\",\"s\":1}", 0, "\"-\" reads standard input");
	expect(&in, "R{\"id\":\"3\",\"s\":2}", 0, "\"-\": line 2 of it");
	expect(&in, "R{\"f\":3,\"id\":\"4\"}", 0,
	    "the file after \"-\": ids counted across");
	expect(&in, "E", 0, "\"-\" among files: EOF");
	input_release(&in);
	restore_stdin(saved);
}

static void
test_nonblock(void)
{
	struct input in;
	int p[2], saved;

	if (!ok(pipe(p) == 0, "pipe"))
		return;
	saved = set_stdin(p[0]);
	input_init(&in, NULL, 0, INPUT_JSONL);
	input_set_nonblock(&in);
	expect(&in, "A", 0, "non-blocking: nothing yet: INPUT_AGAIN");
	ok(in.fd == STDIN_FILENO, "non-blocking: in->fd is the one to poll");
	if (write(p[1], "{\"a\":1}\n{\"b\"", 12) != 12)
		diag("short write");
	expect(&in, "R{\"a\":1,\"id\":\"1\"}", 0, "non-blocking: a record");
	expect(&in, "A", 0, "non-blocking: half a line: INPUT_AGAIN");
	if (write(p[1], ":2}\n", 4) != 4)
		diag("short write");
	expect(&in, "R{\"b\":2,\"id\":\"2\"}", 0, "non-blocking: the rest");
	close(p[1]);
	expect(&in, "E", 0, "non-blocking: writer closed: EOF");
	input_release(&in);
	restore_stdin(saved);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_jsonl();
	test_bad();
	test_toolong();
	test_lines();
	test_whole();
	test_fail();
	test_stdin();
	test_nonblock();
	cleanup();
	return done();
}
