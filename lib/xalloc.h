/*
 * xalloc: allocation that cannot fail.
 *
 * Every function here either returns usable memory or, when the system is
 * out of memory, writes one line to stderr and terminates the process with
 * status 1.  They are the only library functions allowed to exit: a tool
 * cannot do anything sensible without memory, and threading ENOMEM through
 * every caller buys nothing.  All other library code reports failures by
 * return value.
 */
#ifndef LLM_XALLOC_H
#define LLM_XALLOC_H

#include <stddef.h>

/* Returns new memory of n bytes (n may be 0); caller frees. */
void	*xmalloc(size_t n);

/* Returns zeroed memory for nmemb * size bytes, overflow-checked. */
void	*xcalloc(size_t nmemb, size_t size);

/* Resizes p (which may be NULL) to n bytes; returns the new pointer. */
void	*xrealloc(void *p, size_t n);

/* Returns a new copy of the NUL-terminated s; caller frees. */
char	*xstrdup(const char *s);

/* Returns a new NUL-terminated copy of the first n bytes of s. */
char	*xstrndup(const char *s, size_t n);

/* Returns a new string formatted as by printf; caller frees. */
char	*xasprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
