/*
 * embed_scan: a cursor over JSON text that reads what an embeddings
 * response holds without building it.
 *
 * libjq parses at some 25 MB/s (STYLE.md); a batch of 128 vectors of 1536
 * floats is a megabyte of base64, and at 20,000 texts a second the
 * responses alone come to 160 MB/s.  So the wire formats (embed_api.h),
 * the cache entries and the search index are read with this cursor
 * instead: it steps over values, walks the members of objects and the
 * elements of arrays, and hands out the raw span of a string, which the
 * caller decodes (base64 straight into floats) in place.
 *
 * It is a reader for text from a peer, not a validator: it never reads
 * outside [p, end), never allocates, never recurses (nesting is counted
 * up to EMBED_SCAN_DEPTH), and any text that is not JSON as far as it
 * reads stops it with an error.  It does not check UTF-8 or the grammar
 * of numbers inside values it skips.
 *
 * Usage:
 *
 *	struct embed_scan s;  const char *k;  size_t kn;
 *
 *	embed_scan_init(&s, body, len);
 *	if (embed_scan_enter(&s, '{') == -1) -> not an object
 *	while ((r = embed_scan_key(&s, &k, &kn)) == 1) {
 *		if (kn == 4 && memcmp(k, "data", 4) == 0) ... read the value
 *		else embed_scan_skip(&s);
 *	}
 *	r == -1: malformed; r == 0: the object ended
 */
#ifndef LLM_EMBED_SCAN_H
#define LLM_EMBED_SCAN_H

#include <stddef.h>

#define EMBED_SCAN_DEPTH	64

struct embed_scan {
	const char	*p;		/* next byte */
	const char	*end;
	int		 first;		/* no member or element read yet */
	int		 error;		/* set once anything failed */
};

void	embed_scan_init(struct embed_scan *s, const char *p, size_t len);

/*
 * Expects the start of an object ('{') or array ('[') and steps into it.
 * Returns 0, or -1 when the next value is something else.
 */
int	embed_scan_enter(struct embed_scan *s, int open);

/*
 * In an object: reads the next member's name (the raw bytes between its
 * quotes, escapes left as they are) and the ':' after it, leaving the
 * cursor at the value.  Returns 1, 0 at the closing '}' (consumed), or -1.
 */
int	embed_scan_key(struct embed_scan *s, const char **key, size_t *len);

/*
 * In an array: moves to the next element.  Returns 1 at an element, 0 at
 * the closing ']' (consumed), or -1.
 */
int	embed_scan_next(struct embed_scan *s);

/* Steps over one value of any kind.  Returns 0, or -1. */
int	embed_scan_skip(struct embed_scan *s);

/*
 * Reads a string value: its raw bytes between the quotes in *p and *len,
 * *escaped set when it holds a backslash.  Returns 0, or -1 when the
 * value is not a string.
 */
int	embed_scan_string(struct embed_scan *s, const char **p, size_t *len,
	    int *escaped);

/*
 * Reads a number value into *v.  Returns 0, or -1 when the value is not
 * a number.
 */
int	embed_scan_number(struct embed_scan *s, double *v);

/* The kind of the next value: one of '{' '[' '"' 'n' (number) 't' 'f'
 * 'N' (null), or 0 at the end or on an error.  Skips white space. */
int	embed_scan_peek(struct embed_scan *s);

/* Whether the n bytes at k are the string name (a member name test). */
int	embed_scan_is(const char *k, size_t n, const char *name);

#endif
