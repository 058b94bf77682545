/*
 * input: the request records a tool reads (DESIGN.md section 3).
 *
 * Records come from the files named as operands, in order ("-" is
 * standard input), or from standard input when there are none.  In the
 * default mode each line is a JSON object; with INPUT_LINES (-t) each
 * non-blank line is a prompt text, and with INPUT_WHOLE (-T) all of the
 * input is one prompt.  Every record gets an "id" (the 1-based line number,
 * counted across files) when it has none.
 *
 * A line that is not a usable record becomes a bad_input error record,
 * returned like any other so the tool can pass it on; reading goes on.
 */
#ifndef LLM_INPUT_H
#define LLM_INPUT_H

#include <jv.h>

#include "buf.h"
#include "jsonl.h"

enum input_mode {
	INPUT_JSONL,
	INPUT_LINES,
	INPUT_WHOLE
};

enum {
	INPUT_RECORD = 1,	/* *rec is a request record */
	INPUT_EOF = 0,		/* all inputs read */
	INPUT_BAD = -1,		/* *rec is a bad_input error record */
	INPUT_FAIL = -2,	/* a file could not be opened or read: err */
	INPUT_AGAIN = -3	/* non-blocking and nothing complete yet */
};

struct input {
	char			**files;
	int			 nfiles;
	int			 next;		/* next operand to open */
	int			 fd;		/* -1 between files */
	const char		*name;		/* current file, for messages */
	enum input_mode		 mode;
	int			 nonblock;
	unsigned long		 base;		/* lines of earlier files */
	struct jsonl_reader	 rd;
	struct buf		 all;		/* -T: the whole input */
	int			 toolong;	/* -T input over the limit */
	int			 done;
};

/* Borrows files (argv), which must outlive in. */
void	input_init(struct input *in, char **files, int nfiles,
	    enum input_mode mode);

/*
 * Makes input_next answer INPUT_AGAIN instead of waiting when nothing
 * can be read at once; the descriptor to poll is in->fd.  (The file's
 * own flags are left alone.)
 */
void	input_set_nonblock(struct input *in);

/* Returns the next record; see the enum.  *rec is a new reference. */
int	input_next(struct input *in, jv *rec, char *err);

void	input_release(struct input *in);

#endif
