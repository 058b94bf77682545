#include <ctype.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "errbuf.h"
#include "http.h"
#include "xalloc.h"

#define HEADERS_MAX	(64u << 10)

double
http_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
http_init(struct http *h, char *err)
{
	memset(h, 0, sizeof(*h));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return errbuf_set(err, "curl_global_init failed");
	if ((h->multi = curl_multi_init()) == NULL)
		return errbuf_set(err, "curl_multi_init failed");
	/* Multiplex on HTTP/2 rather than opening a connection per request. */
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	h->connect_timeout_ms = 30000;
	h->wake_fd = -1;
	return 0;
}

void
http_set_wake_fd(struct http *h, int fd)
{
	h->wake_fd = fd;
}

void
http_set_parallel(struct http *h, int n)
{
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
	    (long)(n < 8 ? 16 : n * 2));
}

void
http_release(struct http *h)
{
	if (h->multi)
		curl_multi_cleanup(h->multi);
	h->multi = NULL;
	curl_global_cleanup();
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_transfer *t = arg;
	size_t n = size * nmemb;

	if (t->first_byte == 0)
		t->first_byte = http_now();
	/* Past the ceiling: a short count makes curl abort the transfer. */
	if (buf_append(&t->resp, p, n) == -1)
		return 0;
	return n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_transfer *t = arg;
	size_t n = size * nmemb, i, colon;

	/* A new status line (after a 100 Continue or a redirect): reset. */
	if (n > 5 && memcmp(p, "HTTP/", 5) == 0) {
		buf_reset(&t->resp_headers);
		return n;
	}
	for (colon = 0; colon < n && p[colon] != ':'; colon++)
		;
	if (colon == n)
		return n;
	for (i = 0; i < colon; i++)
		buf_putc(&t->resp_headers, tolower((unsigned char)p[i]));
	buf_putc(&t->resp_headers, ':');
	for (i = colon + 1; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	while (n > i && (p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	buf_append(&t->resp_headers, p + i, n - i);
	buf_putc(&t->resp_headers, '\n');
	return size * nmemb;
}

static void
wipe_headers(struct curl_slist *l)
{
	for (; l; l = l->next)
		sodium_memzero(l->data, strlen(l->data));
}

void
http_transfer_free(struct http_transfer *t)
{
	if (t == NULL)
		return;
	if (t->easy)
		curl_easy_cleanup(t->easy);
	if (t->secret_headers)
		wipe_headers(t->headers);
	curl_slist_free_all(t->headers);
	free(t->body);
	buf_release(&t->resp);
	buf_release(&t->resp_headers);
	free(t);
}

struct http_transfer *
http_post(struct http *h, const char *url, struct curl_slist *headers,
    int secret, const char *body, size_t len, void *user, char *err)
{
	struct http_transfer *t = xcalloc(1, sizeof(*t));
	CURL *e;

	t->headers = headers;
	t->secret_headers = secret;
	t->body = xmalloc(len + 1);
	memcpy(t->body, body, len);
	t->body[len] = '\0';
	t->body_len = len;
	t->user = user;
	buf_init(&t->resp, HTTP_BODY_MAX);
	buf_init(&t->resp_headers, HEADERS_MAX);
	if ((t->easy = e = curl_easy_init()) == NULL) {
		http_transfer_free(t);
		errbuf_set(err, "curl_easy_init failed");
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errmsg);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/*
	 * Wait for a connection that may multiplex only where HTTP/2 is
	 * possible (TLS); on plain HTTP it would hold every request back
	 * until the first answer.
	 */
	if (strncmp(url, "https:", 6) == 0)
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	/* Auth headers must never follow a redirect to another host. */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* A target from a record must not read files (file://) or worse. */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	if (h->timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "llm-tools/" VERSION);
	t->started = http_now();
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		http_transfer_free(t);
		errbuf_set(err, "curl_multi_add_handle failed");
		return NULL;
	}
	h->running++;
	return t;
}

int
http_wait(struct http *h, int extra_fd, int timeout_ms, int *fd_ready,
    char *err)
{
	struct curl_waitfd wfd;
	struct pollfd p[2];
	CURLMcode mc;
	int still, n = 0, np = 0;

	*fd_ready = 0;
	if ((mc = curl_multi_perform(h->multi, &still)) != CURLM_OK)
		return errbuf_set(err, "curl: %s", curl_multi_strerror(mc));
	/*
	 * Nothing running: a plain poll, on the wake descriptor too, so
	 * that a signal ends even a long pause at once.
	 */
	if (h->running == 0) {
		if (extra_fd >= 0) {
			p[np].fd = extra_fd;
			p[np++].events = POLLIN;
		}
		if (h->wake_fd >= 0) {
			p[np].fd = h->wake_fd;
			p[np++].events = POLLIN;
		}
		p[0].revents = 0;
		if (poll(p, (nfds_t)np, timeout_ms) > 0 && extra_fd >= 0)
			*fd_ready = p[0].revents != 0;
		return 0;
	}
	/*
	 * curl_multi_wait, not curl_multi_poll: with Debian 12's libcurl
	 * 7.88, curl_multi_poll was seen sleeping its whole timeout while
	 * reused connections had answers waiting (whole seconds lost in a
	 * run of 20,000 requests); curl_multi_wait does not, but only when
	 * it has no descriptor of ours to watch, since it returns at once
	 * when there is nothing to wait on.  So the wake descriptor is not
	 * given here: a signal interrupts the wait with EINTR, and curl's
	 * timers bound it otherwise.
	 */
	wfd.fd = extra_fd;
	wfd.events = CURL_WAIT_POLLIN;
	wfd.revents = 0;
	mc = curl_multi_wait(h->multi, extra_fd >= 0 ? &wfd : NULL,
	    extra_fd >= 0 ? 1 : 0, timeout_ms, &n);
	if (mc != CURLM_OK)
		return errbuf_set(err, "curl: %s", curl_multi_strerror(mc));
	*fd_ready = extra_fd >= 0 && wfd.revents != 0;
	if ((mc = curl_multi_perform(h->multi, &still)) != CURLM_OK)
		return errbuf_set(err, "curl: %s", curl_multi_strerror(mc));
	return 0;
}

struct http_transfer *
http_done(struct http *h)
{
	struct http_transfer *t;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		/* Copy what we need before the handle goes. */
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		t->result = m->data.result;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
		curl_multi_remove_handle(h->multi, t->easy);
		h->running--;
		return t;
	}
	return NULL;
}

void
http_abort(struct http *h, struct http_transfer *t)
{
	curl_multi_remove_handle(h->multi, t->easy);
	h->running--;
	http_transfer_free(t);
}

char *
http_header(const struct http_transfer *t, const char *name)
{
	const char *p = t->resp_headers.data, *end, *nl;
	size_t n = strlen(name);

	if (p == NULL)
		return NULL;
	end = p + t->resp_headers.len;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((size_t)(nl - p) > n && p[n] == ':' &&
		    memcmp(p, name, n) == 0)
			return xstrndup(p + n + 1, (size_t)(nl - p - n - 1));
	}
	return NULL;
}
