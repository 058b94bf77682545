#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "json.h"
#include "jsonl.h"
#include "utf8.h"
#include "xalloc.h"

#define READ_CHUNK	(64u << 10)

void
jsonl_reader_init(struct jsonl_reader *r, int fd, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->max = max ? max : JSONL_MAX_DEFAULT;
}

void
jsonl_reader_release(struct jsonl_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->start = r->end = 0;
}

/* Hands out buf[start, start+n) as a line, consuming it and its end. */
static int
take(struct jsonl_reader *r, size_t n, size_t skip, const char **line,
    size_t *len)
{
	char *p = r->buf + r->start;

	r->start += n + skip;
	r->lineno++;
	if (r->skipping) {
		r->skipping = 0;
		return JSONL_TOOLONG;
	}
	/* The limit is on the line, not on its line end. */
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > r->max)
		return JSONL_TOOLONG;
	*line = p;
	*len = n;
	return JSONL_LINE;
}

int
jsonl_reader_next(struct jsonl_reader *r, const char **line, size_t *len)
{
	char *nl;
	ssize_t got;

	for (;;) {
		if (r->start < r->end &&
		    (nl = memchr(r->buf + r->start, '\n',
		    r->end - r->start)) != NULL)
			return take(r, (size_t)(nl - (r->buf + r->start)), 1,
			    line, len);
		if (r->eof) {
			if (r->start < r->end || r->skipping)
				return take(r, r->end - r->start, 0, line,
				    len);
			return JSONL_EOF;
		}
		/*
		 * No complete line buffered.  Past the ceiling, drop what we
		 * hold and remember to report the line when its end comes.
		 */
		if (r->end - r->start > r->max + 1) {	/* +1: a CR */
			r->skipping = 1;
			r->start = r->end = 0;
		}
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->cap - r->end < READ_CHUNK / 2) {
			size_t cap = r->cap ? r->cap * 2 : READ_CHUNK;

			if (cap > r->max + READ_CHUNK)
				cap = r->max + READ_CHUNK;
			if (cap > r->cap) {
				r->buf = xrealloc(r->buf, cap);
				r->cap = cap;
			}
		}
		if (r->wait != NULL && r->wait(r->fd) == -1)
			return errno == EAGAIN ? JSONL_AGAIN : JSONL_ERROR;
		got = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (got > 0)
			r->end += (size_t)got;
		else if (got == 0)
			r->eof = 1;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return JSONL_AGAIN;
		else
			return JSONL_ERROR;
	}
}

int
jsonl_parse(const char *line, size_t len, jv *out, char *err)
{
	size_t i;
	jv v;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return 0;
	if (json_parse_checked(line, len, &v, err) == -1)
		return -1;
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		errbuf_set(err, "not a JSON object");
		jv_free(v);
		return -1;
	}
	*out = v;
	return 1;
}
