/*
 * embed_input: the texts llm-embed reads (llm-embed(1), INPUT and CHUNKS).
 *
 * Three sources.  Records, one JSON object per line, and lines of text
 * (-t) come through input.h, from the operands or standard input, non-
 * blocking so that the caller can poll.  Documents (-T, -r) are whole
 * files: the operands, or standard input when there are none, and every
 * regular file under the -r directories, walked in the byte order of
 * their names (names starting with "." skipped, links to directories not
 * followed), kept when they match one of the -g patterns; a document's id
 * is its name and its "meta" {"path": name}.  A file that holds a NUL
 * byte or is not UTF-8 (binary), an empty one, or one over
 * EMBED_INPUT_FILE_MAX is skipped with a warning.
 *
 * Every text comes out as a record {"id", "text", ...} with the input
 * record's other fields ("meta" and unknown ones) kept: a record's
 * "prompt" string stands for a missing "text", and an error record is
 * read again with its "error" and "attempts" dropped.  A record that
 * already holds "embedding" or "embedding_b64" is handed back to pass
 * through.  A text that is empty, or (without chunking) whose estimated
 * tokens pass max_tokens, comes back as an error record.
 *
 * Chunking (chunk > 0) cuts every text into records of at most chunk
 * characters and at most max_tokens estimated tokens, each ending, when it
 * does not reach the end of the text, after the last white space of its
 * last fifth when there is one; the next starts overlap characters before
 * its end.  A chunk's id is "<id>#chunk<N>", N from 1, and its "meta" the
 * text's (when an object, else a new one) with "chunk": N, "bytes":
 * [start, end] and "chars": [start, end] added, offsets within the text.
 */
#ifndef LLM_EMBED_INPUT_H
#define LLM_EMBED_INPUT_H

#include <stddef.h>

#include <jv.h>

#include "buf.h"
#include "input.h"

#define EMBED_INPUT_FILE_MAX	(64u << 20)	/* bytes of one document */

enum {
	EMBED_INPUT_TEXT = 1,	/* *rec: {"id", "text", ...} to embed */
	EMBED_INPUT_EOF = 0,
	EMBED_INPUT_BAD = -1,	/* *rec: an error record to write */
	EMBED_INPUT_FAIL = -2,	/* an input could not be read: err */
	EMBED_INPUT_AGAIN = -3,	/* nothing complete yet; poll fd */
	EMBED_INPUT_PASS = -4,	/* *rec: a record to write unchanged */
	EMBED_INPUT_SKIP = -5	/* a document skipped: err says why */
};

struct embed_input_opts {
	enum input_mode	 mode;		/* INPUT_JSONL or INPUT_LINES */
	int		 docs;		/* -T: whole files */
	char		**files;	/* operands (borrowed) */
	int		 nfiles;
	char		**dirs;		/* -r (borrowed) */
	int		 ndirs;
	char		**globs;	/* -g (borrowed) */
	int		 nglobs;
	long		 chunk;		/* characters, 0: no chunking */
	long		 overlap;	/* characters */
	double		 max_tokens;	/* the model's input limit, 0: none */
};

struct embed_walk;

struct embed_input {
	struct embed_input_opts	 o;
	struct input		 in;		/* records and lines */
	int			 nonblock;
	/* Documents: */
	int			 next_file;	/* next operand */
	int			 next_dir;	/* next -r root */
	struct embed_walk	*walk;		/* directories being read */
	int			 stdin_done;
	/* Chunking: */
	jv			 base;		/* the record being cut */
	size_t			 at;		/* next chunk's byte offset */
	size_t			 at_char;	/* and character offset */
	int			 nchunk;	/* chunks made of base */
};

/* Borrows the arrays in o, which must outlive ei. */
void	embed_input_init(struct embed_input *ei,
	    const struct embed_input_opts *o);

/* Records and lines: standard input non-blocking (see input.h). */
void	embed_input_set_nonblock(struct embed_input *ei);

/* The descriptor to poll after EMBED_INPUT_AGAIN, or -1. */
int	embed_input_fd(struct embed_input *ei);

/* The next record; see the enum.  *rec is new. */
int	embed_input_next(struct embed_input *ei, jv *rec, char *err);

void	embed_input_release(struct embed_input *ei);

/*
 * The estimated tokens of len bytes of UTF-8: a quarter of the ASCII
 * bytes, rounded up, plus one per other character.
 */
double	embed_input_tokens(const char *s, size_t len);

#endif
