/*
 * jscan: a cursor over JSON text that reads what it holds without
 * building it.
 *
 * libjq parses at some 25 MB/s (STYLE.md) and allocates for every value.
 * Where that is the bulk of the work this cursor is used instead: a batch
 * of 128 embeddings of 1536 floats is a megabyte of base64, and at 20,000
 * texts a second the responses alone come to 160 MB/s (embed_api.h, the
 * cache entries and the search index); a streamed chat answer is mostly
 * small chunks that each carry a few bytes of text (the chat adapter's
 * fast path).  The cursor it steps over values, walks the members of objects and the
 * elements of arrays, and hands out the raw span of a string, which the
 * caller decodes (base64 straight into floats) in place.
 *
 * It is a reader for text from a peer, not a validator: it never reads
 * outside [p, end), never allocates, never recurses (nesting is counted
 * up to JSCAN_DEPTH), and any text that is not JSON as far as it
 * reads stops it with an error.  It does not check UTF-8 or the grammar
 * of numbers inside values it skips.
 *
 * Usage:
 *
 *	struct jscan s;  const char *k;  size_t kn;
 *
 *	jscan_init(&s, body, len);
 *	if (jscan_enter(&s, '{') == -1) -> not an object
 *	while ((r = jscan_key(&s, &k, &kn)) == 1) {
 *		if (kn == 4 && memcmp(k, "data", 4) == 0) ... read the value
 *		else jscan_skip(&s);
 *	}
 *	r == -1: malformed; r == 0: the object ended
 */
#ifndef LLM_JSCAN_H
#define LLM_JSCAN_H

#include <stddef.h>

#define JSCAN_DEPTH	64

struct jscan {
	const char	*p;		/* next byte */
	const char	*end;
	int		 first;		/* no member or element read yet */
	int		 error;		/* set once anything failed */
};

void	jscan_init(struct jscan *s, const char *p, size_t len);

/*
 * Expects the start of an object ('{') or array ('[') and steps into it.
 * Returns 0, or -1 when the next value is something else.
 */
int	jscan_enter(struct jscan *s, int open);

/*
 * In an object: reads the next member's name (the raw bytes between its
 * quotes, escapes left as they are) and the ':' after it, leaving the
 * cursor at the value.  Returns 1, 0 at the closing '}' (consumed), or -1.
 */
int	jscan_key(struct jscan *s, const char **key, size_t *len);

/*
 * In an array: moves to the next element.  Returns 1 at an element, 0 at
 * the closing ']' (consumed), or -1.
 */
int	jscan_next(struct jscan *s);

/* Steps over one value of any kind.  Returns 0, or -1. */
int	jscan_skip(struct jscan *s);

/*
 * Reads a string value: its raw bytes between the quotes in *p and *len,
 * *escaped set when it holds a backslash.  Returns 0, or -1 when the
 * value is not a string.
 */
int	jscan_string(struct jscan *s, const char **p, size_t *len,
	    int *escaped);

/*
 * Reads a number value into *v.  Returns 0, or -1 when the value is not
 * a number.
 */
int	jscan_number(struct jscan *s, double *v);

/* The kind of the next value: one of '{' '[' '"' 'n' (number) 't' 'f'
 * 'N' (null), or 0 at the end or on an error.  Skips white space. */
int	jscan_peek(struct jscan *s);

/*
 * Appends the n raw bytes of a string (as jscan_string gives them) to b
 * with their escapes undone.  Returns 0, or -1 (b may hold part of it)
 * for a bad escape, a lone surrogate, whose reading libjq would change,
 * or b's ceiling.
 */
struct buf;
int	jscan_unescape(struct buf *b, const char *p, size_t n);

/* Whether the n bytes at k are the string name (a member name test). */
int	jscan_is(const char *k, size_t n, const char *name);

#endif
