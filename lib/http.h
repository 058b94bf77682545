/*
 * http: HTTP transfers on one curl multi handle.
 *
 * One struct http per process drives every transfer: connections are
 * reused and, over TLS, multiplexed with HTTP/2 (PIPEWAIT), so -j 64
 * requests to one provider cost a handful of connections.  The caller's
 * loop is curl's own: start transfers up to its limit, http_wait on the
 * transfers and one extra descriptor (standard input), then collect the
 * finished ones with http_done.
 *
 * A transfer owns copies of everything it sends (URL, headers, body) and
 * collects the response body (up to a ceiling) and the response headers a
 * caller may need (Retry-After and rate limit headers).  Header lines that
 * carry a secret are wiped before they are freed.
 */
#ifndef LLM_HTTP_H
#define LLM_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"

#define HTTP_BODY_MAX	(64u << 20)	/* response bytes kept */

struct http {
	CURLM		*multi;
	int		 running;
	long		 timeout_ms;		/* per transfer, 0: none */
	long		 connect_timeout_ms;
	int		 wake_fd;		/* ends a wait; -1: none */
};

struct http_transfer {
	CURL		*easy;
	struct curl_slist *headers;
	char		*body;
	size_t		 body_len;
	struct buf	 resp;		/* response body */
	struct buf	 resp_headers;	/* "name: value\n" lines, lower case */
	long		 status;	/* HTTP status, 0 before a response */
	CURLcode	 result;	/* transport result when done */
	char		 errmsg[CURL_ERROR_SIZE];
	double		 started;	/* monotonic seconds */
	double		 first_byte;	/* monotonic seconds, 0 before */
	void		*user;
	int		 secret_headers;	/* wipe header strings on free */
};

/* Sets up the multi handle.  Returns 0, or -1 with err. */
int	http_init(struct http *h, char *err);

/*
 * Tells the engine how many transfers run at once, so that it keeps as
 * many connections open between them (curl's default cache follows the
 * number of transfers of the moment and would close and reopen
 * connections as that number moves).
 */
void	http_set_parallel(struct http *h, int n);

/*
 * A descriptor whose becoming readable ends an http_wait with no
 * transfer running (a tool's signal pipe, tool_signal_fd), so that an
 * interrupt ends a backoff or rate limit pause at once; -1 for none, the
 * default.  (With transfers running, a signal interrupts the wait.)
 */
void	http_set_wake_fd(struct http *h, int fd);

void	http_release(struct http *h);

/*
 * Starts a POST of body (copied) to url with headers (the list is taken
 * over; it is wiped when secret is set, then freed).  user is returned
 * with the finished transfer.  Returns the transfer, or NULL with err.
 */
struct http_transfer *http_post(struct http *h, const char *url,
	    struct curl_slist *headers, int secret, const char *body,
	    size_t len, void *user, char *err);

/*
 * Runs transfers until something happens: a transfer finished, extra_fd
 * (when >= 0) or, with nothing running, the wake descriptor became
 * readable, or timeout_ms passed.  *fd_ready tells
 * whether extra_fd is readable.  Returns 0, or -1 with err.
 */
int	http_wait(struct http *h, int extra_fd, int timeout_ms, int *fd_ready,
	    char *err);

/* Returns a finished transfer, removed from the multi handle, or NULL. */
struct http_transfer *http_done(struct http *h);

/*
 * The value of response header name (lower case), or NULL.  Returns a new
 * string the caller frees.
 */
char	*http_header(const struct http_transfer *t, const char *name);

/* Stops a transfer early (it was abandoned) and frees it. */
void	http_abort(struct http *h, struct http_transfer *t);

/* Frees a finished transfer. */
void	http_transfer_free(struct http_transfer *t);

/* Seconds on the monotonic clock. */
double	http_now(void);

#endif
