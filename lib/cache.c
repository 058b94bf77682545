#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "cache.h"
#include "errbuf.h"
#include "json.h"
#include "paths.h"
#include "request.h"
#include "xalloc.h"

#define MAGIC		"LLMC1 "
#define VERSION_TEXT	"1"	/* CACHE_VERSION as text */
#define MAGIC_LEN	6
#define HEADER_MAX	200	/* magic, key, two numbers, sum, newline */
#define STATS_NAME	"stats"
#define LOCK_NAME	"lock"
#define TMP_PREFIX	".tmp-"
#define STATS_FMT	"llm-cache-stats 1 hits %020llu misses %020llu " \
			"corrupt %020llu stores %020llu bytes %020lld\n"

/* Failure classes, each reported once per struct cache. */
#define FAIL_READ	0x1
#define FAIL_WRITE	0x2
#define FAIL_STATS	0x4

/* The response fields an entry keeps, in no particular order. */
static const char *const stored_fields[] = {
	"model", "text", "reasoning", "reasoning_signature", "tool_calls",
	"stop_reason", "usage", "provider_model", "cost", "latency_ms",
	"attempts", NULL
};

/*
 * Fields of a request that a response does not carry (send.c's list),
 * plus the cache's own annotations: a hit takes every other field of the
 * request it answers, as send_response does.
 */
static const char *const request_fields[] = {
	"id", "model", "prompt", "messages", "system", "tools", "tool_choice",
	"max_tokens", "temperature", "top_p", "stop", "response_format",
	"thinking", "params", "target", "fallbacks", "explain", "error",
	"attempts", "cached", "cache_key", "cache_ref", NULL
};

/* What a top-level field of a record is to a hit. */
enum field_class {
	FIELD_OTHER,	/* carried from the request (meta, unknown) */
	FIELD_REQUEST,	/* a request field: dropped */
	FIELD_STORED	/* a stored response field */
};

static enum field_class
field_class(const char *k)
{
	const char *const *f;

	for (f = request_fields; *f; f++)
		if (**f == *k && strcmp(*f, k) == 0)
			return FIELD_REQUEST;
	for (f = stored_fields; *f; f++)
		if (**f == *k && strcmp(*f, k) == 0)
			return FIELD_STORED;
	return FIELD_OTHER;
}

static int
in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/*
 * Returns -1 for the first failure on c, 0 after (the caller then
 * degrades quietly): one warning says the store is unusable, whatever
 * comes of it next.  err already holds the message.  cls says what kind
 * of failure it was, for the record.
 */
static int
report(struct cache *c, unsigned cls)
{
	if (c->reported)
		return 0;
	c->reported = cls;
	return -1;
}

static void
crypto_once(void)
{
	static int done;

	/* Picks the fastest BLAKE2b; failure leaves the portable one. */
	if (!done) {
		done = 1;
		(void)!sodium_init();
	}
}

static void
to_hex(char *hex, const unsigned char *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[b[i] >> 4];
		hex[2 * i + 1] = digits[b[i] & 15];
	}
	hex[2 * n] = '\0';
}

int
cache_is_key(const char *s)
{
	int i;

	for (i = 0; i < CACHE_KEY_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

/* -- parsing options and the environment ----------------------------- */

int
cache_mode_parse(const char *s, enum cache_mode *mode, char *err)
{
	static const char *const on[] = { "on", "rw", "yes", "1", "true",
	    NULL };
	static const char *const off[] = { "off", "no", "0", "false", NULL };

	if (s == NULL || *s == '\0' || in_list(on, s))
		*mode = CACHE_RW;
	else if (in_list(off, s))
		*mode = CACHE_OFF;
	else if (strcmp(s, "ro") == 0)
		*mode = CACHE_RO;
	else
		return errbuf_set(err, "LLM_CACHE: expected on, ro or off, "
		    "got '%s'", s);
	return 0;
}

int
cache_parse_size(const char *s, unsigned long long *out, char *err)
{
	char *end;
	double d, m = 1;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || errno || !(d >= 0) || *s == '-' || *s == '+')
		return errbuf_set(err, "bad size '%s'", s);
	switch (*end) {
	case 'k': case 'K':
		m = 1024.0, end++;
		break;
	case 'm': case 'M':
		m = 1024.0 * 1024, end++;
		break;
	case 'g': case 'G':
		m = 1024.0 * 1024 * 1024, end++;
		break;
	case 't': case 'T':
		m = 1024.0 * 1024 * 1024 * 1024, end++;
		break;
	}
	if (m > 1 && *end == 'i')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || d * m >= 1.8e19)
		return errbuf_set(err, "bad size '%s'", s);
	*out = (unsigned long long)(d * m);
	return 0;
}

int
cache_parse_age(const char *s, double *secs, char *err)
{
	char *end;
	double d, m = 1;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || errno || !(d >= 0) || *s == '-' || *s == '+' ||
	    isinf(d))
		return errbuf_set(err, "bad age '%s'", s);
	switch (*end) {
	case 's':
		end++;
		break;
	case 'm':
		m = 60, end++;
		break;
	case 'h':
		m = 3600, end++;
		break;
	case 'd':
		m = 86400, end++;
		break;
	case 'w':
		m = 7 * 86400, end++;
		break;
	}
	if (*end != '\0')
		return errbuf_set(err, "bad age '%s'", s);
	*secs = d * m;
	return 0;
}

int
cache_open(struct cache *c, char *err)
{
	const char *v;

	memset(c, 0, sizeof(*c));
	c->dfd = -1;
	buf_init(&c->key, 0);
	buf_init(&c->entry, CACHE_ENTRY_MAX + 1);
	buf_init(&c->path, 0);
	crypto_once();
	if (cache_mode_parse(getenv("LLM_CACHE"), &c->mode, err) == -1)
		goto fail;
	if ((v = getenv("LLM_CACHE_MAX_AGE")) != NULL && *v &&
	    cache_parse_age(v, &c->max_age, err) == -1) {
		errbuf_prefix(err, "LLM_CACHE_MAX_AGE");
		goto fail;
	}
	if ((v = getenv("LLM_CACHE_MAX_SIZE")) != NULL && *v &&
	    cache_parse_size(v, &c->max_size, err) == -1) {
		errbuf_prefix(err, "LLM_CACHE_MAX_SIZE");
		goto fail;
	}
	c->root = paths_cache_dir();
	c->dir = xasprintf("%s/v%d", c->root, CACHE_VERSION);
	return 0;
fail:
	cache_close(c);
	return -1;
}

void
cache_close(struct cache *c)
{
	char err[ERRBUF_MAX];

	/* Safe on a zeroed struct and after a failed cache_open too. */
	if (c->dir != NULL) {
		(void)cache_flush(c, err);
		if (c->dfd != -1)
			close(c->dfd);
	}
	c->dfd = -1;
	free(c->root);
	free(c->dir);
	buf_release(&c->key);
	buf_release(&c->entry);
	buf_release(&c->path);
	c->root = c->dir = NULL;
}

/* -- canonical JSON and the key --------------------------------------- */

int
cache_canonical(struct buf *b, jv v)
{
	return json_write_canonical(b, v);
}

int
cache_key_canon(jv canon, jv target, char *hex, char *err)
{
	static const char *const ident[] = { "api", "model", "provider",
	    "url" };
	unsigned char sum[CACHE_KEY_BYTES];
	const char *val[4];
	struct buf b;
	jv params;
	int i, r = 0;

	hex[0] = '\0';
	for (i = 0; i < 4; i++)
		if ((val[i] = json_peek_string(target, ident[i])) == NULL)
			return errbuf_set(err, "target has no \"%s\"",
			    ident[i]);
	crypto_once();
	buf_init(&b, 0);
	/* Members written in their sorted order: request, target, version. */
	buf_puts(&b, "{\"request\":");
	params = json_get(canon, "params");
	if (jv_get_kind(params) == JV_KIND_OBJECT &&
	    jv_object_length(jv_copy(params)) == 0) {
		jv c = jv_object_delete(jv_copy(canon), jv_string("params"));

		r = cache_canonical(&b, c);
		jv_free(c);
	} else
		r = cache_canonical(&b, canon);
	jv_free(params);
	buf_puts(&b, ",\"target\":{");
	for (i = 0; i < 4 && r == 0; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_putc(&b, '"');
		buf_puts(&b, ident[i]);
		buf_puts(&b, "\":");
		r = json_write_string(&b, val[i], strlen(val[i]));
	}
	buf_puts(&b, "},\"version\":" VERSION_TEXT "}");
	crypto_generichash(sum, sizeof(sum), (const unsigned char *)b.data,
	    b.len, NULL, 0);
	buf_release(&b);
	if (r == -1)
		return errbuf_set(err, "request too large to key");
	to_hex(hex, sum, sizeof(sum));
	return 0;
}

int
cache_key(jv rec, jv target, char *hex, char *err)
{
	jv canon;
	int r;

	hex[0] = '\0';
	if (json_peek_string(target, "model") == NULL)
		return errbuf_set(err, "target has no \"model\"");
	if (request_normalize(rec, target, &canon, err) == -1)
		return -1;
	r = cache_key_canon(canon, target, hex, err);
	jv_free(canon);
	return r;
}

int
cache_embed_key(const char *provider, const char *model, long dims,
    const char *text, size_t len, char *hex, char *err)
{
	unsigned char sum[CACHE_KEY_BYTES];
	struct buf b;
	int r;

	hex[0] = '\0';
	crypto_once();
	buf_init(&b, 0);
	/* Members in their sorted order: dims, model, provider, text. */
	r = buf_puts(&b, "{\"embedding\":{\"dims\":") == -1 ||
	    (dims > 0 ? buf_printf(&b, "%ld", dims) : buf_puts(&b,
	    "null")) == -1 ||
	    buf_puts(&b, ",\"model\":") == -1 ||
	    json_write_string(&b, model, strlen(model)) == -1 ||
	    buf_puts(&b, ",\"provider\":") == -1 ||
	    json_write_string(&b, provider, strlen(provider)) == -1 ||
	    buf_puts(&b, ",\"text\":") == -1 ||
	    json_write_string(&b, text, len) == -1 ||
	    buf_puts(&b, "},\"version\":" VERSION_TEXT "}") == -1;
	if (!r)
		crypto_generichash(sum, sizeof(sum),
		    (const unsigned char *)b.data, b.len, NULL, 0);
	buf_release(&b);
	if (r)
		return errbuf_set(err, "text too large to key");
	to_hex(hex, sum, sizeof(sum));
	return 0;
}

/* -- entries ---------------------------------------------------------- */

/* Sets c->path to the entry of key (or its directory when file is 0). */
static const char *
entry_path(struct cache *c, const char *key, int file)
{
	char sub[7];

	sub[0] = '/', sub[1] = key[0], sub[2] = key[1];
	sub[3] = '/', sub[4] = key[2], sub[5] = key[3], sub[6] = '\0';
	buf_reset(&c->path);
	buf_puts(&c->path, c->dir);
	buf_puts(&c->path, sub);
	if (file) {
		buf_putc(&c->path, '/');
		buf_append(&c->path, key, CACHE_KEY_HEX);
	}
	return buf_cstr(&c->path);
}

static int
parse_ull(const char **pp, const char *end, unsigned long long *out)
{
	const char *p = *pp;
	unsigned long long v = 0;

	if (p >= end || *p < '0' || *p > '9' || (*p == '0' && p + 1 < end &&
	    p[1] >= '0' && p[1] <= '9'))
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	*pp = p;
	*out = v;
	return 0;
}

/*
 * Checks the header of the n bytes at p (a whole entry, or only its
 * first bytes when whole is 0): magic, key (when key is not NULL),
 * created, length, and with whole set the size, trailing newline and
 * sum.  Fills created, *body and *len.  Returns 0 or -1.
 */
static int
entry_check(const char *p, size_t n, const char *key, int whole,
    long long *created, const char **body, size_t *len, size_t *total)
{
	const char *q = p + MAGIC_LEN, *end = p + (n < HEADER_MAX ? n :
	    HEADER_MAX), *sum;
	unsigned long long cr = 0, ln = 0;
	unsigned char want[CACHE_KEY_BYTES];
	char hex[CACHE_KEY_HEX + 1];
	crypto_generichash_state st;
	size_t hlen;

	if (n < MAGIC_LEN || memcmp(p, MAGIC, MAGIC_LEN) != 0)
		return -1;
	if (end - q < CACHE_KEY_HEX + 1 || q[CACHE_KEY_HEX] != ' ')
		return -1;
	memcpy(hex, q, CACHE_KEY_HEX);
	hex[CACHE_KEY_HEX] = '\0';
	if (!cache_is_key(hex) || (key && memcmp(hex, key, CACHE_KEY_HEX)))
		return -1;
	q += CACHE_KEY_HEX + 1;
	if (parse_ull(&q, end, &cr) == -1 || q >= end || *q++ != ' ' ||
	    parse_ull(&q, end, &ln) == -1 || q >= end || *q++ != ' ' ||
	    cr > LLONG_MAX || ln > CACHE_ENTRY_MAX)
		return -1;
	sum = q;
	if (end - q < CACHE_KEY_HEX + 1 || q[CACHE_KEY_HEX] != '\n')
		return -1;
	hlen = (size_t)(q - p) + CACHE_KEY_HEX + 1;
	*created = (long long)cr;
	*len = (size_t)ln;
	*body = p + hlen;
	*total = hlen + (size_t)ln + 1;
	if (!whole)
		return 0;
	if (n != *total || p[n - 1] != '\n')
		return -1;
	crypto_generichash_init(&st, NULL, 0, sizeof(want));
	crypto_generichash_update(&st, (const unsigned char *)p,
	    (size_t)(sum - p));
	crypto_generichash_update(&st, (const unsigned char *)*body, *len);
	crypto_generichash_final(&st, want, sizeof(want));
	to_hex(hex, want, sizeof(want));
	return memcmp(hex, sum, CACHE_KEY_HEX) == 0 ? 0 : -1;
}

/* Counts one event and flushes the counts now and then (quietly). */
static void
counted(struct cache *c)
{
	struct cache_counts *p = &c->pending;
	char err[ERRBUF_MAX];

	if (p->hits + p->misses + p->corrupt + p->stores >= CACHE_STATS_EVERY) {
		unsigned saved = c->reported;

		/* The explicit flush at the end reports a failure. */
		(void)cache_flush(c, err);
		c->reported = saved;
	}
}

/* Removes a bad entry, unless another process replaced it meanwhile. */
static void
drop_corrupt(struct cache *c, const char *path, const struct stat *had)
{
	struct stat now;

	c->pending.corrupt++;
	if (c->mode != CACHE_RW)
		return;
	if (lstat(path, &now) == 0 && now.st_dev == had->st_dev &&
	    now.st_ino == had->st_ino && unlink(path) == 0)
		c->pending_bytes -= (long long)had->st_size;
}

int
cache_get(struct cache *c, const char *key, struct cache_entry *e,
    int flags, char *err)
{
	const char *path, *body;
	char rel[8 + CACHE_KEY_HEX];
	struct stat st;
	long long created;
	size_t len, total, off = 0;
	ssize_t n;
	int fd = -1, peek = flags & CACHE_PEEK, r = CACHE_MISS;

	memset(e, 0, sizeof(*e));
	if (c->mode == CACHE_OFF && !peek)
		return CACHE_MISS;
	if (!cache_is_key(key))
		return errbuf_set(err, "'%s' is not a cache key", key);
	path = entry_path(c, key, 1);
	/*
	 * Relative to the store's directory, held open: half the path
	 * lookup of every hit and miss.  Until the store exists, a miss.
	 */
	if (c->dfd == -1 && (c->dfd = open(c->dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		if (errno != ENOENT && errno != ENOTDIR) {
			errbuf_errno(err, "cache: open '%s'", c->dir);
			r = peek ? -1 : report(c, FAIL_READ);
		} else if (errno == ENOTDIR) {
			errbuf_set(err, "cache: '%s' is not a directory",
			    c->dir);
			r = peek ? -1 : report(c, FAIL_READ);
		}
		goto miss;
	}
	memcpy(rel, path + strlen(c->dir) + 1, 6 + CACHE_KEY_HEX);
	rel[6 + CACHE_KEY_HEX] = '\0';
	fd = openat(c->dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd == -1) {
		if (errno != ENOENT) {
			errbuf_errno(err, "cache: open '%s'", path);
			r = peek ? -1 : report(c, FAIL_READ);
		}
		goto miss;
	}
	if (fstat(fd, &st) == -1) {
		errbuf_errno(err, "cache: stat '%s'", path);
		r = peek ? -1 : report(c, FAIL_READ);
		goto miss;
	}
	if (!S_ISREG(st.st_mode)) {
		errbuf_set(err, "cache: '%s' is not a cache entry", path);
		r = peek ? -1 : report(c, FAIL_READ);
		goto miss;
	}
	if (st.st_size > (off_t)CACHE_ENTRY_MAX)
		goto corrupt;
	buf_reset(&c->entry);
	if (buf_reserve(&c->entry, (size_t)st.st_size + 1) == -1)
		goto corrupt;
	/* Entries are never changed in place, only replaced: st_size holds. */
	while (off < (size_t)st.st_size) {
		n = read(fd, c->entry.data + off, (size_t)st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errbuf_errno(err, "cache: read '%s'", path);
			r = peek ? -1 : report(c, FAIL_READ);
			goto miss;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (entry_check(c->entry.data, off, key, 1, &created, &body, &len,
	    &total) == -1)
		goto corrupt;
	if (!peek && c->max_age > 0 &&
	    (double)(time(NULL) - created) > c->max_age)
		goto miss;
	if (!peek && c->mode == CACHE_RW &&
	    time(NULL) - st.st_mtime >= CACHE_TOUCH_SECS)
		(void)futimens(fd, NULL);
	close(fd);
	memcpy(e->key, key, CACHE_KEY_HEX + 1);
	e->created = created;
	e->used = (long long)st.st_mtime;
	e->size = (unsigned long long)st.st_size;
	e->body = body;
	e->len = len;
	if (!peek) {
		c->pending.hits++;
		counted(c);
	}
	return CACHE_HIT;
corrupt:
	if (peek)
		r = errbuf_set(err, "cache: entry '%s' is corrupt", key);
	else
		drop_corrupt(c, path, &st);
miss:
	if (fd != -1)
		close(fd);
	if (!peek) {
		c->pending.misses++;
		counted(c);
	}
	return r;
}

int
cache_storable(jv resp)
{
	static const char *const ok[] = { "stop", "length", "tool_use",
	    "refusal", NULL };
	/* Stream events other than the end; any other "type" is the
	 * request's own field, carried through. */
	static const char *const events[] = { "start", "text", "reasoning",
	    "tool_call", "error", NULL };
	const char *stop = json_peek_string(resp, "stop_reason");
	const char *type = json_peek_string(resp, "type");
	int b;

	if (jv_get_kind(resp) != JV_KIND_OBJECT || stop == NULL ||
	    !in_list(ok, stop))
		return 0;
	if (json_peek_kind(resp, "error") != JV_KIND_INVALID)
		return 0;
	if (json_peek_bool(resp, "cached", &b) && b)
		return 0;
	if (json_peek_bool(resp, "partial", &b) && b)
		return 0;
	return type == NULL || !in_list(events, type);
}

/* Writes the n bytes of each of the iov to fd, whatever the short writes. */
static int
write_all(int fd, struct iovec *iov, int cnt)
{
	ssize_t w;

	while (cnt > 0) {
		if ((w = writev(fd, iov, cnt)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (cnt > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int put_entry(struct cache *, const char *, char *);

int
cache_put(struct cache *c, const char *key, jv resp, char *err)
{
	int it, first = 1, r = 0;

	if (c->mode != CACHE_RW || !cache_storable(resp))
		return 0;
	if (!cache_is_key(key))
		return errbuf_set(err, "'%s' is not a cache key", key);
	buf_reset(&c->entry);
	buf_putc(&c->entry, '{');
	for (it = jv_object_iter(resp); jv_object_iter_valid(resp, it);
	    it = jv_object_iter_next(resp, it)) {
		jv k = jv_object_iter_key(resp, it);

		if (in_list(stored_fields, jv_string_value(k))) {
			jv v = jv_object_iter_value(resp, it);

			if ((!first && buf_putc(&c->entry, ',') == -1) ||
			    json_write(&c->entry, k) == -1 ||
			    buf_putc(&c->entry, ':') == -1 ||
			    json_write(&c->entry, v) == -1)
				r = -1;
			first = 0;
			jv_free(v);
		}
		jv_free(k);
		if (r == -1)
			return 0;	/* too large to keep */
	}
	if (buf_putc(&c->entry, '}') == -1 ||
	    c->entry.len + HEADER_MAX + 1 > CACHE_ENTRY_MAX)
		return 0;
	return put_entry(c, key, err);
}

int
cache_put_body(struct cache *c, const char *key, const char *body,
    size_t len, char *err)
{
	if (c->mode != CACHE_RW)
		return 0;
	if (!cache_is_key(key))
		return errbuf_set(err, "'%s' is not a cache key", key);
	if (len + HEADER_MAX + 1 > CACHE_ENTRY_MAX)
		return 0;
	buf_reset(&c->entry);
	if (buf_append(&c->entry, body, len) == -1)
		return 0;
	return put_entry(c, key, err);
}

/* Writes c->entry as the body of key's entry: temporary file, rename. */
/*
 * Makes an entry's directory, v1/ab/cd: most often only the last one or
 * two parts are missing, so those are tried before the whole path.
 */
static int
make_dir(const char *dir, char *err)
{
	char *parent, *slash;
	int r;

	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	if (errno == ENOENT && (slash = strrchr(dir, '/')) != NULL) {
		parent = xstrndup(dir, (size_t)(slash - dir));
		r = (mkdir(parent, 0700) == 0 || errno == EEXIST) &&
		    (mkdir(dir, 0700) == 0 || errno == EEXIST);
		free(parent);
		if (r)
			return 0;
	}
	return paths_mkdir(dir, 0700, err);
}

static int
put_entry(struct cache *c, const char *key, char *err)
{
	unsigned char sum[CACHE_KEY_BYTES];
	crypto_generichash_state hs;
	char hdr[HEADER_MAX], tmp[64], *dirpath = NULL, *final = NULL;
	struct iovec iov[3];
	struct stat old;
	long long delta;
	size_t hlen;
	int fd = -1, tries, r = 0;

	hlen = (size_t)snprintf(hdr, sizeof(hdr), MAGIC "%s %lld %zu ", key,
	    (long long)time(NULL), c->entry.len);
	crypto_generichash_init(&hs, NULL, 0, sizeof(sum));
	crypto_generichash_update(&hs, (unsigned char *)hdr, hlen);
	crypto_generichash_update(&hs, (unsigned char *)c->entry.data,
	    c->entry.len);
	crypto_generichash_final(&hs, sum, sizeof(sum));
	to_hex(hdr + hlen, sum, sizeof(sum));
	hlen += CACHE_KEY_HEX;
	hdr[hlen++] = '\n';

	dirpath = xstrdup(entry_path(c, key, 0));
	final = xstrdup(entry_path(c, key, 1));
	/*
	 * Read once: both are system calls, and a run stores thousands.
	 * (No tool forks with a cache open; the name's sequence number and
	 * O_EXCL would tell apart even a child that did.)
	 */
	if (c->nonce == 0) {
		c->pid = (long)getpid();
		c->nonce = randombytes_random() | 1;
	}
	for (tries = 0; ; tries++) {
		buf_reset(&c->path);
		snprintf(tmp, sizeof(tmp), TMP_PREFIX "%ld-%lu-%08x",
		    c->pid, c->seq++, c->nonce);
		buf_printf(&c->path, "%s/%s", dirpath, tmp);
		fd = open(c->path.data, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1)
			break;
		if (errno == EEXIST && tries < 4)
			continue;
		/* The directory is made on first use (again after clear). */
		if (errno == ENOENT && tries < 2) {
			if (make_dir(dirpath, err) == -1) {
				errbuf_prefix(err, "cache");
				r = report(c, FAIL_WRITE);
				goto done;
			}
			continue;
		}
		errbuf_errno(err, "cache: create '%s'", c->path.data);
		r = report(c, FAIL_WRITE);
		goto done;
	}
	iov[0].iov_base = hdr;
	iov[0].iov_len = hlen;
	iov[1].iov_base = c->entry.data;
	iov[1].iov_len = c->entry.len;
	iov[2].iov_base = (void *)"\n";
	iov[2].iov_len = 1;
	if (write_all(fd, iov, 3) == -1) {
		errbuf_errno(err, "cache: write '%s'", c->path.data);
		close(fd);
		unlink(c->path.data);
		r = report(c, FAIL_WRITE);
		goto done;
	}
	if (close(fd) == -1) {
		errbuf_errno(err, "cache: write '%s'", c->path.data);
		unlink(c->path.data);
		r = report(c, FAIL_WRITE);
		goto done;
	}
	delta = (long long)(hlen + c->entry.len + 1);
	if (lstat(final, &old) == 0 && S_ISREG(old.st_mode))
		delta -= (long long)old.st_size;
	if (rename(c->path.data, final) == -1) {
		errbuf_errno(err, "cache: rename to '%s'", final);
		unlink(c->path.data);
		r = report(c, FAIL_WRITE);
		goto done;
	}
	c->pending.stores++;
	c->pending_bytes += delta;
	counted(c);
	r = 1;
done:
	free(dirpath);
	free(final);
	return r;
}

/* -- what hits look like ---------------------------------------------- */

/*
 * The hit record as jv: the stored text parsed with rec's id spliced in
 * front (one parse; building a fresh object member by member costs
 * twice that), then "cached", rec's other fields (one that names a
 * stored field replaces it in place, as in send_response) and the key.
 */
static jv
hit_record_jv(jv rec, const struct cache_entry *e)
{
	struct buf b;
	jv out, id;
	int it;

	if (e->len < 2 || e->body[0] != '{')
		return jv_invalid();
	buf_init(&b, 0);
	id = json_get(rec, "id");
	buf_puts(&b, "{\"id\":");
	json_write(&b, jv_is_valid(id) ? id : jv_null());
	jv_free(id);
	if (e->len > 2)
		buf_putc(&b, ',');
	buf_append(&b, e->body + 1, e->len - 1);
	out = jv_parse_sized(b.data, (int)b.len);
	buf_release(&b);
	if (jv_get_kind(out) != JV_KIND_OBJECT) {
		jv_free(out);
		return jv_invalid();
	}
	out = jv_object_set(out, jv_string("cached"), jv_true());
	for (it = jv_object_iter(rec); jv_object_iter_valid(rec, it);
	    it = jv_object_iter_next(rec, it)) {
		jv k = jv_object_iter_key(rec, it);

		if (field_class(jv_string_value(k)) != FIELD_REQUEST)
			out = jv_object_set(out, k,
			    jv_object_iter_value(rec, it));
		else
			jv_free(k);
	}
	return jv_object_set(out, jv_string("cache_key"),
	    jv_string_sized(e->key, CACHE_KEY_HEX));
}

/*
 * Appends the hit record's text to out by splicing the stored members
 * between rec's id and rec's other fields.  Returns 0, -1 at out's
 * ceiling, or 1 (out unchanged) when a field of rec would replace a
 * stored one, which only jv does right.
 */
static int
splice(struct buf *out, jv rec, const struct cache_entry *e)
{
	size_t mark = out->len;
	jv id;
	int it, r;

	if (e->len < 2)
		return 1;
	id = json_get(rec, "id");
	r = buf_puts(out, "{\"id\":");
	r |= json_write(out, jv_is_valid(id) ? id : jv_null());
	jv_free(id);
	/* The stored object's members, without its braces. */
	if (e->len > 2) {
		r |= buf_putc(out, ',');
		r |= buf_append(out, e->body + 1, e->len - 2);
	}
	r |= buf_puts(out, ",\"cached\":true");
	for (it = jv_object_iter(rec); jv_object_iter_valid(rec, it);
	    it = jv_object_iter_next(rec, it)) {
		jv k = jv_object_iter_key(rec, it), v;

		switch (field_class(jv_string_value(k))) {
		case FIELD_REQUEST:
			break;
		case FIELD_STORED:
			jv_free(k);
			out->len = mark;
			if (out->data)
				out->data[mark] = '\0';
			return 1;
		case FIELD_OTHER:
			v = jv_object_iter_value(rec, it);
			r |= buf_putc(out, ',');
			r |= json_write(out, k);
			r |= buf_putc(out, ':');
			r |= json_write(out, v);
			jv_free(v);
			break;
		}
		jv_free(k);
	}
	r |= buf_puts(out, ",\"cache_key\":\"");
	r |= buf_append(out, e->key, CACHE_KEY_HEX);
	r |= buf_puts(out, "\"}");
	return r ? -1 : 0;
}

jv
cache_hit_record(jv rec, const struct cache_entry *e)
{
	return hit_record_jv(rec, e);
}

int
cache_hit_line(struct buf *out, jv rec, const struct cache_entry *e)
{
	jv hit;
	int r;

	if ((r = splice(out, rec, e)) == 0)
		return buf_putc(out, '\n');
	if (r == -1)
		return -1;
	hit = hit_record_jv(rec, e);
	r = jv_is_valid(hit) ? json_write(out, hit) : -1;
	jv_free(hit);
	return r == -1 ? -1 : buf_putc(out, '\n');
}

/* -- for senders -------------------------------------------------------- */

int
cache_fetch(struct cache *c, jv rec, jv target, char *key, jv *out,
    char *err)
{
	struct cache_entry e;
	char kerr[ERRBUF_MAX];
	int r;

	key[0] = '\0';
	*out = jv_invalid();
	if (c->mode == CACHE_OFF)
		return CACHE_MISS;
	/* A request without a key is the sender's to fail, not ours. */
	if (cache_key(rec, target, key, kerr) == -1) {
		key[0] = '\0';
		return CACHE_MISS;
	}
	if ((r = cache_get(c, key, &e, 0, err)) != CACHE_HIT)
		return r;
	*out = cache_hit_record(rec, &e);
	if (!jv_is_valid(*out))
		return CACHE_MISS;
	return CACHE_HIT;
}

int
cache_store(struct cache *c, const char *key, const char *ref, jv resp,
    char *err)
{
	const char *model = json_peek_string(resp, "model");

	if (key == NULL || key[0] == '\0')
		return 0;
	if (ref != NULL && (model == NULL || strcmp(model, ref) != 0))
		return 0;
	return cache_put(c, key, resp, err);
}

/* -- statistics --------------------------------------------------------- */

struct stats_line {
	struct cache_counts	 n;
	long long		 bytes;
};

static void
stats_parse(const char *p, struct stats_line *s)
{
	memset(s, 0, sizeof(*s));
	if (sscanf(p, "llm-cache-stats 1 hits %llu misses %llu corrupt %llu "
	    "stores %llu bytes %lld", &s->n.hits, &s->n.misses, &s->n.corrupt,
	    &s->n.stores, &s->bytes) != 5)
		memset(s, 0, sizeof(*s));
}

/*
 * Opens v1/stats (creating v1 when create is set), locks it with op and
 * reads it.  Returns the descriptor, or -1 with err (errno ENOENT when
 * it does not exist and create is 0).
 */
static int
stats_open(struct cache *c, int create, int op, struct stats_line *s,
    char *err)
{
	char *path = xasprintf("%s/" STATS_NAME, c->dir), tmp[256];
	ssize_t n;
	int fd, flags = (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC |
	    O_NOFOLLOW;

	memset(s, 0, sizeof(*s));
	fd = open(path, flags, 0600);
	if (fd == -1 && errno == ENOENT && create) {
		if (paths_mkdir(c->dir, 0700, err) == -1) {
			free(path);
			return errbuf_prefix(err, "cache");
		}
		fd = open(path, flags, 0600);
	}
	if (fd == -1) {
		int e = errno;

		errbuf_errno(err, "cache: open '%s'", path);
		free(path);
		errno = e;
		return -1;
	}
	while (flock(fd, op) == -1) {
		if (errno != EINTR) {
			errbuf_errno(err, "cache: lock '%s'", path);
			close(fd);
			free(path);
			return -1;
		}
	}
	n = pread(fd, tmp, sizeof(tmp) - 1, 0);
	tmp[n > 0 ? n : 0] = '\0';
	stats_parse(tmp, s);
	free(path);
	return fd;
}

static int
stats_write(int fd, const struct stats_line *s, char *err)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), STATS_FMT, s->n.hits, s->n.misses,
	    s->n.corrupt, s->n.stores, s->bytes < 0 ? 0 : s->bytes);
	if (pwrite(fd, line, (size_t)n, 0) != n)
		return errbuf_errno(err, "cache: write stats");
	return 0;
}

/*
 * Adds the pending counts to the stats file; when set_bytes is set, the
 * byte count becomes bytes instead of growing by the pending change.
 * Returns 0 with the store's byte count in *total, or -1 with err.
 */
static int
stats_add(struct cache *c, int set_bytes, long long bytes, long long *total,
    char *err)
{
	struct stats_line s;
	int fd, r;

	if ((fd = stats_open(c, 1, LOCK_EX, &s, err)) == -1)
		return -1;
	s.n.hits += c->pending.hits;
	s.n.misses += c->pending.misses;
	s.n.corrupt += c->pending.corrupt;
	s.n.stores += c->pending.stores;
	s.bytes = set_bytes ? bytes : s.bytes + c->pending_bytes;
	if (s.bytes < 0)
		s.bytes = 0;
	r = stats_write(fd, &s, err);
	close(fd);
	if (r == 0) {
		memset(&c->pending, 0, sizeof(c->pending));
		c->pending_bytes = 0;
		if (total)
			*total = s.bytes;
	}
	return r;
}

int
cache_flush(struct cache *c, char *err)
{
	struct cache_counts *p = &c->pending;
	struct cache_totals t;
	long long total = 0;

	if (c->mode != CACHE_RW) {
		memset(p, 0, sizeof(*p));
		c->pending_bytes = 0;
		return 0;
	}
	if (p->hits + p->misses + p->corrupt + p->stores == 0 &&
	    c->pending_bytes == 0)
		return 0;
	if (stats_add(c, 0, 0, &total, err) == -1) {
		/* Counts that cannot be written are dropped, not hoarded. */
		memset(p, 0, sizeof(*p));
		c->pending_bytes = 0;
		return report(c, FAIL_STATS);
	}
	if (c->max_size > 0 && (unsigned long long)total > c->max_size &&
	    cache_prune(c, c->max_size / 10 * 9, c->max_age, 1, &t,
	    err) == -1)
		return report(c, FAIL_WRITE);
	return 0;
}

/* -- walking the store -------------------------------------------------- */

static int
is_hexdigit(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static int
is_hex2(const char *s)
{
	return is_hexdigit(s[0]) && is_hexdigit(s[1]) && s[2] == '\0';
}

struct item {
	char			 key[CACHE_KEY_HEX + 1];
	long long		 used;
	unsigned long long	 size;
};

enum walk_what {
	WALK_COUNT,	/* stats: count entries */
	WALK_PRUNE,	/* check, expire, collect for LRU */
	WALK_CLEAR	/* remove everything of ours */
};

struct walk {
	struct cache		*c;
	enum walk_what		 what;
	double			 max_age;
	time_t			 now;
	struct cache_totals	*t;
	struct item		*items;
	size_t			 nitems, capitems;
};

static void
foreign(struct walk *w, const char *dir, const char *name)
{
	if (w->t->foreign++ == 0)
		snprintf(w->t->first_foreign, sizeof(w->t->first_foreign),
		    "%s%s%s", dir, *name ? "/" : "", name);
}

/* A temporary file is stale when old or when its writer is gone. */
static int
tmp_stale(const char *name, const struct stat *st, time_t now)
{
	long pid;
	char *end;

	if (now - st->st_mtime >= CACHE_TMP_STALE_SECS)
		return 1;
	pid = strtol(name + strlen(TMP_PREFIX), &end, 10);
	return *end == '-' && pid > 0 && kill((pid_t)pid, 0) == -1 &&
	    errno == ESRCH;
}

/* Whether the entry file at fd (dir dfd, name) looks whole. */
static int
entry_header_ok(int dfd, const char *name, const struct stat *st,
    long long *created)
{
	char head[HEADER_MAX];
	const char *body;
	size_t len, total;
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);

	if (fd == -1)
		return errno == ENOENT ? -1 : 1;	/* gone; or leave it */
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n <= 0 || entry_check(head, (size_t)n, name, 0, created, &body,
	    &len, &total) == -1)
		return 0;
	return total == (size_t)st->st_size;
}

static void
walk_leaf(struct walk *w, const char *path, const char *ab, const char *cd)
{
	struct dirent *d;
	struct stat st;
	long long created;
	DIR *dp;
	int dfd, ok;

	if ((dp = opendir(path)) == NULL)
		return;
	dfd = dirfd(dp);
	while ((d = readdir(dp)) != NULL) {
		const char *name = d->d_name;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		created = (long long)w->now;
		if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 &&
		    S_ISREG(st.st_mode)) {
			if (w->what == WALK_CLEAR || (w->what == WALK_PRUNE &&
			    tmp_stale(name, &st, w->now)))
				if (unlinkat(dfd, name, 0) == 0)
					w->t->temps++;
			continue;
		}
		if (!cache_is_key(name) || !S_ISREG(st.st_mode)) {
			foreign(w, path, name);
			continue;
		}
		if (w->what == WALK_CLEAR) {
			if (unlinkat(dfd, name, 0) == 0) {
				w->t->removed++;
				w->t->freed += (unsigned long long)st.st_size;
			}
			continue;
		}
		if (w->what == WALK_PRUNE) {
			/* A misfiled entry is never read: it goes too. */
			ok = memcmp(name, ab, 2) == 0 &&
			    memcmp(name + 2, cd, 2) == 0 ?
			    entry_header_ok(dfd, name, &st, &created) : 0;
			if (ok == -1)
				continue;
			if (!ok || (ok == 1 && w->max_age > 0 &&
			    (double)(w->now - created) > w->max_age)) {
				if (unlinkat(dfd, name, 0) == 0) {
					if (!ok)
						w->c->pending.corrupt++;
					w->t->removed++;
					w->t->freed +=
					    (unsigned long long)st.st_size;
				}
				continue;
			}
			if (w->nitems == w->capitems) {
				w->capitems = w->capitems ? w->capitems * 2 :
				    1024;
				w->items = xrealloc(w->items, w->capitems *
				    sizeof(*w->items));
			}
			memcpy(w->items[w->nitems].key, name,
			    CACHE_KEY_HEX + 1);
			w->items[w->nitems].used = (long long)st.st_mtime;
			w->items[w->nitems].size =
			    (unsigned long long)st.st_size;
			w->nitems++;
		}
		w->t->entries++;
		w->t->bytes += (unsigned long long)st.st_size;
	}
	closedir(dp);
}

/* Walks v1/ab/cd/.  Returns 0, or -1 with err when v1 cannot be read. */
static int
walk(struct walk *w, char *err)
{
	struct dirent *d, *e;
	struct buf p;
	DIR *top, *mid;

	if ((top = opendir(w->c->dir)) == NULL) {
		if (errno == ENOENT)
			return 0;	/* an empty store */
		return errbuf_errno(err, "cache: open '%s'", w->c->dir);
	}
	buf_init(&p, 0);
	w->now = time(NULL);
	while ((d = readdir(top)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 ||
		    strcmp(d->d_name, "..") == 0 ||
		    strcmp(d->d_name, STATS_NAME) == 0 ||
		    strcmp(d->d_name, LOCK_NAME) == 0)
			continue;
		buf_reset(&p);
		buf_printf(&p, "%s/%s", w->c->dir, d->d_name);
		if (!is_hex2(d->d_name) || (mid = opendir(p.data)) == NULL) {
			foreign(w, w->c->dir, d->d_name);
			continue;
		}
		while ((e = readdir(mid)) != NULL) {
			size_t mark = p.len;

			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			buf_printf(&p, "/%s", e->d_name);
			if (!is_hex2(e->d_name))
				foreign(w, p.data, "");
			else {
				struct stat st;

				if (lstat(p.data, &st) == 0 &&
				    S_ISDIR(st.st_mode))
					walk_leaf(w, p.data, d->d_name,
					    e->d_name);
				else
					foreign(w, p.data, "");
			}
			p.len = mark;
			p.data[mark] = '\0';
		}
		closedir(mid);
	}
	closedir(top);
	buf_release(&p);
	return 0;
}

int
cache_stats(struct cache *c, struct cache_totals *t, char *err)
{
	struct stats_line s;
	struct walk w;
	int fd;

	memset(t, 0, sizeof(*t));
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.what = WALK_COUNT;
	w.t = t;
	if ((fd = stats_open(c, 0, LOCK_SH, &s, err)) != -1)
		close(fd);
	else if (errno != ENOENT)
		return -1;
	t->counts = s.n;
	t->counts.hits += c->pending.hits;
	t->counts.misses += c->pending.misses;
	t->counts.corrupt += c->pending.corrupt;
	t->counts.stores += c->pending.stores;
	return walk(&w, err);
}

static int
lru_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->used != y->used)
		return x->used < y->used ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Takes v1/lock.  Returns the descriptor, -2 when busy, or -1 with err. */
static int
take_lock(struct cache *c, int nowait, char *err)
{
	char *path;
	int fd;

	if (paths_mkdir(c->dir, 0700, err) == -1)
		return errbuf_prefix(err, "cache");
	path = xasprintf("%s/" LOCK_NAME, c->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		errbuf_errno(err, "cache: open '%s'", path);
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX | (nowait ? LOCK_NB : 0)) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			close(fd);
			free(path);
			return -2;
		}
		errbuf_errno(err, "cache: lock '%s'", path);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return fd;
}

int
cache_prune(struct cache *c, unsigned long long max_size, double max_age,
    int nowait, struct cache_totals *t, char *err)
{
	struct walk w;
	size_t i;
	int lock;

	memset(t, 0, sizeof(*t));
	if (c->mode == CACHE_RO)
		return errbuf_set(err, "cache: the cache is read-only "
		    "(LLM_CACHE)");
	if ((lock = take_lock(c, nowait, err)) < 0)
		return lock == -2 ? 0 : -1;
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.what = WALK_PRUNE;
	w.max_age = max_age;
	w.t = t;
	if (walk(&w, err) == -1) {
		close(lock);
		return -1;
	}
	if (max_size > 0 && t->bytes > max_size) {
		qsort(w.items, w.nitems, sizeof(*w.items), lru_cmp);
		for (i = 0; i < w.nitems && t->bytes > max_size; i++) {
			const char *path = entry_path(c, w.items[i].key, 1);

			if (unlink(path) == 0 || errno == ENOENT) {
				t->entries--;
				t->bytes -= w.items[i].size;
				t->removed++;
				t->freed += w.items[i].size;
			}
		}
	}
	free(w.items);
	c->pending_bytes = 0;
	if (stats_add(c, 1, (long long)t->bytes, NULL, err) == -1) {
		close(lock);
		return -1;
	}
	close(lock);
	return 0;
}

int
cache_clear(struct cache *c, struct cache_totals *t, char *err)
{
	struct stats_line s;
	struct walk w;
	int lock, fd;

	memset(t, 0, sizeof(*t));
	if (c->mode == CACHE_RO)
		return errbuf_set(err, "cache: the cache is read-only "
		    "(LLM_CACHE)");
	if ((lock = take_lock(c, 0, err)) < 0)
		return -1;
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.what = WALK_CLEAR;
	w.t = t;
	if (walk(&w, err) == -1) {
		close(lock);
		return -1;
	}
	memset(&c->pending, 0, sizeof(c->pending));
	c->pending_bytes = 0;
	if ((fd = stats_open(c, 1, LOCK_EX, &s, err)) == -1) {
		close(lock);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	if (stats_write(fd, &s, err) == -1) {
		close(fd);
		close(lock);
		return -1;
	}
	close(fd);
	close(lock);
	return 0;
}
