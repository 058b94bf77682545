/*
 * errbuf: how library functions report what went wrong.
 *
 * Library code never prints.  A function that can fail takes a caller's
 * buffer `char *err` of ERRBUF_MAX bytes, fills it with one lowercase line
 * without a trailing period (`open 'x': No such file or directory`) and
 * returns -1.  The caller decides whether the line becomes a warning, an
 * error record or an exit.  Messages never contain a secret: callers pass
 * names and paths, never values read from a keyfile or a key variable.
 */
#ifndef LLM_ERRBUF_H
#define LLM_ERRBUF_H

#define ERRBUF_MAX 512

/*
 * Formats into err (ERRBUF_MAX bytes, truncating) and returns -1, so that
 * `return errbuf_set(err, "...")` reads naturally.  err may be NULL.
 */
int	errbuf_set(char *err, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Like errbuf_set, then appends ": " and strerror(errno). */
int	errbuf_errno(char *err, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Prefixes the message already in err with the formatted text and ": ",
 * for adding context on the way up.  Returns -1.
 */
int	errbuf_prefix(char *err, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
