/*
 * jsonl: reading JSON Lines input.
 *
 * A reader cuts an input descriptor into lines of bounded length.  It
 * tolerates CRLF line ends and a last line without a newline; a line longer
 * than the ceiling is skipped whole (its bytes are never held in memory) and
 * reported, so one bad line costs one error record, not the run.  The reader
 * works on blocking and non-blocking descriptors alike: on the latter it
 * answers JSONL_AGAIN instead of waiting, so a tool can poll stdin together
 * with its network transfers.
 *
 * jsonl_parse turns one line into a jv object, checking UTF-8 first (jv
 * would otherwise replace bad bytes silently) and keeping the input text out
 * of its error messages (the line may hold a secret).
 */
#ifndef LLM_JSONL_H
#define LLM_JSONL_H

#include <stddef.h>

#include <jv.h>

#define JSONL_MAX_DEFAULT	(16u << 20)	/* 16 MiB per line */

enum {
	JSONL_LINE = 1,		/* a line is available */
	JSONL_EOF = 0,		/* no more input */
	JSONL_ERROR = -1,	/* read error; errno is set (EINTR: a signal
				   handler without SA_RESTART interrupted
				   the read, which tools take as "stop") */
	JSONL_AGAIN = -2,	/* non-blocking descriptor has no full line yet */
	JSONL_TOOLONG = -3	/* a line over the ceiling was skipped */
};

struct jsonl_reader {
	int		 fd;
	char		*buf;
	size_t		 cap;
	size_t		 start;		/* first unread byte */
	size_t		 end;		/* end of data read */
	size_t		 max;		/* longest line accepted */
	unsigned long	 lineno;	/* number of the line last returned */
	int		 eof;
	int		 skipping;	/* discarding an over-long line */
	/*
	 * Called before each read when set: returns 0 when fd may be read,
	 * or -1 with errno EAGAIN (nothing to read now: JSONL_AGAIN) or
	 * another (JSONL_ERROR; EINTR: interrupted while waiting).
	 */
	int		(*wait)(int fd);
};

/* Prepares r to read fd (borrowed, not closed) with lines up to max bytes. */
void	jsonl_reader_init(struct jsonl_reader *r, int fd, size_t max);

/*
 * Returns the next line through *line and *len, without its line end; the
 * bytes stay valid until the next call.  r->lineno is the line's 1-based
 * number (also for JSONL_TOOLONG).  See the enum for other results.
 */
int	jsonl_reader_next(struct jsonl_reader *r, const char **line,
	    size_t *len);

/* Frees r's buffer; the descriptor is left alone. */
void	jsonl_reader_release(struct jsonl_reader *r);

/*
 * Parses one line into a JSON object.  Returns 1 and sets *out (a new
 * reference, caller frees) for an object; 0 for a blank line (nothing to
 * do); -1 with a message in err for invalid UTF-8, invalid JSON or a
 * value that is not an object.  The message never quotes the input.
 */
int	jsonl_parse(const char *line, size_t len, jv *out, char *err);

#endif
