/*
 * buf: a growable byte buffer with a ceiling.
 *
 * Every buffer that holds untrusted input (a JSON line, an HTTP body, an SSE
 * event) has a maximum set at init, so no peer can make the process grow
 * without bound.  The contents are always followed by a NUL byte that is not
 * counted in len, so data can be used as a C string when it holds no NUL.
 *
 * Lifecycle: buf_init, any number of appends and buf_reset, then buf_release
 * (or buf_detach to take the memory).  A zero-initialised struct buf after
 * buf_init is empty; data is NULL until the first append.
 */
#ifndef LLM_BUF_H
#define LLM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* ceiling for len */
};

/* Empties b and sets its ceiling; max 0 means SIZE_MAX - 1. */
void	buf_init(struct buf *b, size_t max);

/*
 * Appends n bytes.  Returns 0, or -1 with errno EMSGSIZE when len would pass
 * the ceiling; b is then unchanged.
 */
int	buf_append(struct buf *b, const void *p, size_t n);
int	buf_puts(struct buf *b, const char *s);
int	buf_putc(struct buf *b, int c);
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Makes room for n more bytes without changing len; -1 past the ceiling. */
int	buf_reserve(struct buf *b, size_t n);

/* Returns the contents as a C string ("" when empty); borrowed. */
const char *buf_cstr(struct buf *b);

/* Drops the first n bytes (n <= len), keeping the rest. */
void	buf_consume(struct buf *b, size_t n);

/* Sets len to 0, keeping the memory. */
void	buf_reset(struct buf *b);

/* Frees the memory; b is empty again with the same ceiling. */
void	buf_release(struct buf *b);

/*
 * Returns the NUL-terminated contents, which the caller now owns and frees,
 * and empties b.  *lenp (if not NULL) receives the length.
 */
char	*buf_detach(struct buf *b, size_t *lenp);

#endif
