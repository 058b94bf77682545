#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "errbuf.h"
#include "input.h"
#include "record.h"
#include "tool.h"
#include "utf8.h"

void
input_init(struct input *in, char **files, int nfiles, enum input_mode mode)
{
	memset(in, 0, sizeof(*in));
	in->files = files;
	in->nfiles = nfiles;
	in->fd = -1;
	in->mode = mode;
	buf_init(&in->all, JSONL_MAX_DEFAULT);
}

void
input_set_nonblock(struct input *in)
{
	in->nonblock = 1;
}

/* Returns 0 when fd can be read at once, else -1 with EAGAIN. */
static int
readable_now(int fd)
{
	struct pollfd p;

	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, 1, 0) == 1)
		return 0;
	errno = EAGAIN;
	return -1;
}

static int
open_next(struct input *in, char *err)
{
	const char *f;
	int fd;

	if (in->nfiles == 0 ? in->next > 0 : in->next >= in->nfiles)
		return 0;
	f = in->nfiles ? in->files[in->next] : "-";
	in->next++;
	if (strcmp(f, "-") == 0) {
		fd = STDIN_FILENO;
		in->name = "standard input";
	} else if ((fd = open(f, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == EINTR && tool_interrupted) {
			in->done = 1;	/* a FIFO's open, interrupted */
			return 0;
		}
		return errbuf_errno(err, "open '%s'", f);
	} else
		in->name = f;
	in->fd = fd;
	/* -T takes the whole input as one line, however long it is. */
	jsonl_reader_init(&in->rd, fd, JSONL_MAX_DEFAULT);
	/*
	 * Every read is preceded by a poll: a blocking one waits there,
	 * where a signal always ends it; a non-blocking one only looks.
	 * O_NONBLOCK is never set: it belongs to the open file shared with
	 * other processes (a terminal, the shell's pipe), and a tool killed
	 * before it could put the flag back would leave it set for them.
	 */
	in->rd.wait = in->nonblock ? readable_now : tool_wait_readable;
	return 1;
}

static void
close_current(struct input *in)
{
	in->base += in->rd.lineno;
	if (in->fd != STDIN_FILENO)
		close(in->fd);
	in->fd = -1;
	jsonl_reader_release(&in->rd);
}

static jv
prompt_record(const char *text, size_t len, unsigned long lineno)
{
	return record_with_id(jv_object_set(jv_object(), jv_string("prompt"),
	    jv_string_sized(text, (int)len)), lineno);
}

/*
 * -T: every input, newlines included, is one prompt.  Returns INPUT_EOF
 * when the current file is exhausted (the caller moves on), or the result.
 */
static int
slurp(struct input *in, jv *rec, char *err)
{
	char chunk[65536];
	ssize_t n;

	for (;;) {
		if (in->rd.wait(in->fd) == -1)
			n = -1;
		else
			n = read(in->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR) {
			in->done = 1;	/* interrupted: stop reading */
			return INPUT_EOF;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return INPUT_AGAIN;
		if (n < 0)
			return errbuf_errno(err, "read '%s'", in->name) - 1;
		if (n == 0)
			return INPUT_EOF;
		if (buf_append(&in->all, chunk, (size_t)n) == -1) {
			in->toolong = 1;
			*rec = jv_invalid();
		}
	}
}

static int
whole(struct input *in, jv *rec)
{
	struct buf *b = &in->all;
	size_t len = b->len, bad;
	char msg[64];
	int r;

	while (len > 0 && (b->data[len - 1] == '\n' ||
	    b->data[len - 1] == '\r'))
		len--;
	if (in->toolong) {
		*rec = record_bad_input(1, "input is longer than the limit");
		r = INPUT_BAD;
	} else if (!utf8_valid(buf_cstr(b), len, &bad)) {
		snprintf(msg, sizeof(msg), "invalid UTF-8 at byte %zu",
		    bad + 1);
		*rec = record_bad_input(1, msg);
		r = INPUT_BAD;
	} else if (len == 0) {
		r = INPUT_EOF;
	} else {
		*rec = prompt_record(buf_cstr(b), len, 1);
		r = INPUT_RECORD;
	}
	buf_release(b);
	in->done = 1;
	return r;
}

int
input_next(struct input *in, jv *rec, char *err)
{
	const char *line;
	size_t len, bad;
	int got, r;

	for (;;) {
		if (in->done)
			return INPUT_EOF;
		if (in->fd == -1) {
			if ((r = open_next(in, err)) < 0)
				return INPUT_FAIL;
			if (r == 0 && in->mode == INPUT_WHOLE)
				return whole(in, rec);
			if (r == 0)
				return INPUT_EOF;
		}
		if (in->mode == INPUT_WHOLE) {
			if ((r = slurp(in, rec, err)) == INPUT_AGAIN)
				return r;
			close_current(in);
			if (r != INPUT_EOF)
				return r;
			continue;
		}
		got = jsonl_reader_next(&in->rd, &line, &len);
		switch (got) {
		case JSONL_EOF:
			close_current(in);
			continue;
		case JSONL_AGAIN:
			return INPUT_AGAIN;
		case JSONL_ERROR:
			if (errno == EINTR) {
				in->done = 1;	/* interrupted */
				return INPUT_EOF;
			}
			errbuf_errno(err, "read '%s'", in->name);
			close_current(in);
			return INPUT_FAIL;
		case JSONL_TOOLONG:
			*rec = record_bad_input(in->base + in->rd.lineno,
			    "line is longer than the limit");
			return INPUT_BAD;
		}
		if (in->mode == INPUT_LINES) {
			size_t i;

			for (i = 0; i < len && (line[i] == ' ' ||
			    line[i] == '\t'); i++)
				;
			if (i == len)
				continue;
			if (!utf8_valid(line, len, &bad)) {
				char msg[64];

				snprintf(msg, sizeof(msg), "invalid UTF-8 at "
				    "byte %zu", bad + 1);
				*rec = record_bad_input(in->base +
				    in->rd.lineno, msg);
				return INPUT_BAD;
			}
			*rec = prompt_record(line, len, in->base +
			    in->rd.lineno);
			return INPUT_RECORD;
		}
		r = jsonl_parse(line, len, rec, err);
		if (r == 0)
			continue;
		if (r == -1) {
			*rec = record_bad_input(in->base + in->rd.lineno, err);
			return INPUT_BAD;
		}
		*rec = record_with_id(*rec, in->base + in->rd.lineno);
		return INPUT_RECORD;
	}
}

void
input_release(struct input *in)
{
	if (in->fd != -1)
		close_current(in);
	buf_release(&in->all);
}
