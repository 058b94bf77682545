/*
 * mockprov: a local mock LLM provider for the llm-tools tests.
 *
 * usage: mockprov [-dhv] [-c bytes] [-f fixture] [-l logdir] [-p portfile]
 *                 [-S seed] [-s script] [-t seconds] [-w ms]
 *
 * It listens on 127.0.0.1 on an ephemeral port and, once listening, writes
 * the port number and a newline to PORTFILE (temporary file + rename, so a
 * test can poll for the file).  One process, one poll(2) loop, no threads;
 * HTTP/1.1 with keep-alive and pipelining, Content-Length or chunked request
 * bodies, "Expect: 100-continue".  A request head over 64 KiB or a body over
 * 16 MiB gets 413 and the connection is closed.
 *
 * Every complete request is recorded in LOGDIR (-l) as NNNNNN.json, one
 * compact object {"seq","method","path","headers","body","json"}: header
 * names lower-cased, repeated headers joined with ", ", "body" the raw body as
 * a string, "json" the parsed body or null.  The file is written under a
 * temporary name and renamed into place, then "seq method path" is appended
 * to LOGDIR/requests.log.
 *
 * What it answers, first rule that applies:
 *  1. GET or HEAD /health: 200 "ok".
 *  2. -s SCRIPT.json: the first route whose "match" is a substring of the
 *     request target (and, when it has "header": "name: text", whose
 *     request header name holds text); its i-th hit gets responses[i],
 *     then "then" decides ("repeat-last", "cycle" or "default").
 *  3. -f FIXTURE: the i-th POST gets the fixture's responses[i] (a
 *     .meta.json file), repeating the last; a plain .sse or .json file is the
 *     200 body of every POST.  -c N writes fixture bodies in N-byte chunks,
 *     -w MS waits between them.
 *  4. A POST whose path (before any "?") ends in one of the dialects'
 *     endpoints gets that dialect's answer echoing the last user message
 *     ("mock: " + its text parts joined with "\n"):
 *       .../chat/completions  a chat completion, streamed as SSE chunks,
 *                             one per word, when the request has
 *                             "stream": true;
 *       .../v1/messages and   an Anthropic message: one text block,
 *       ...:rawPredict        stop_reason "end_turn", the request's model;
 *       .../responses         a Responses object: one message item with
 *                             one output_text part, status "completed";
 *       ...:generateContent   a Gemini response: one candidate, one text
 *                             part, finishReason "STOP", modelVersion the
 *                             model id of the path.
 *       .../embeddings and    vectors made from a hash of each text, in
 *       ...:batchEmbedContents OpenAI's or Gemini's form (see
 *                             embed_reply), with a few faults for tests.
 *     Usage counts bytes / 4, rounded up: input the system text and the
 *     text of every message, output the answer.  Every dialect streams,
 *     one word a delta: chat completions and the others on "stream":
 *     true, Gemini on ...:streamGenerateContent.  Anthropic: message_start,
 *     a text block's deltas, message_delta, message_stop; Responses:
 *     response.created, output_text deltas, response.completed with the
 *     whole response; Gemini: one chunk a word, the last one with
 *     finishReason and usageMetadata.
 *  5. Anything else: 404 with an OpenAI-style error body.
 *
 * A scripted response is an object with "status", "headers", "content_type",
 * "body" (a string is sent as is, any other JSON value compact),
 * "body_file" (relative to the script's directory), "echo" (rule 4, in
 * the dialect of the path, a chat completion for any other path),
 * "delay_ms", "chunk" and "chunk_delay_ms" (chunked transfer coding, one
 * write per chunk), "truncate_at" (promise the full Content-Length, send N
 * body bytes, close), "reset" (RST instead of a reply) and "hang" (never
 * answer).  User headers named content-length, transfer-encoding or
 * connection are dropped: the framing is the mock's.  "delay_ms": [min, max]
 * at the top level delays every answer by a uniform random amount, seeded
 * with -S or the pid.  "rate_limit": {"limit": N, "window_ms": W, "match":
 * S} at the top level answers 429 (rate_limit_error) to any request (whose
 * target holds S, when given) past N in the last W milliseconds, as a
 * provider enforcing its limit would.
 *
 * Each request record also carries "time_ms", the wall clock in
 * milliseconds when the request was complete, and "limited": true when
 * the rate limit refused it.
 *
 * It exits 0 on SIGINT or SIGTERM and after -t seconds (300) without network
 * activity, so a crashed test never leaves it behind.  It prints nothing but
 * fatal startup errors, unless -v: then one line per request.  -d (stay in
 * the foreground) is the only mode and is accepted for compatibility.
 */

#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jv.h>

#define MAX_HEAD	(64 * 1024)
#define MAX_BODY	(16 * 1024 * 1024)
#define MAX_LINE	4096		/* a chunk-size or trailer line */
#define READ_SIZE	(64 * 1024)
#define LINGER_MS	2000		/* reading after a closing reply */
#define ACCEPT_BURST	64

/* The dialects of rule 4, told apart by the end of the path. */
enum dialect { D_NONE, D_CHAT, D_MESSAGES, D_RESPONSES, D_GEMINI,
    D_EMBED, D_GEMBED };

static const struct {
	const char	*suffix;
	enum dialect	 dialect;
} endpoints[] = {
	{ "/chat/completions", D_CHAT },
	{ "/v1/messages", D_MESSAGES },
	{ ":rawPredict", D_MESSAGES },		/* Claude on Vertex AI */
	{ "/responses", D_RESPONSES },
	{ ":generateContent", D_GEMINI },
	{ "/embeddings", D_EMBED },
	{ ":batchEmbedContents", D_GEMBED },
	{ ":streamGenerateContent", D_GEMINI },	/* streams, ?alt=sse */
};

enum state {
	S_HEAD,		/* reading a request head */
	S_BODY,		/* reading its body */
	S_WAIT,		/* delay before the reply or between chunks */
	S_WRITE,	/* writing the reply */
	S_HANG,		/* never answering */
	S_DRAIN,	/* write side shut, reading until EOF */
	S_DEAD
};

enum chunkstate { CH_SIZE, CH_DATA, CH_CRLF, CH_TRAILER, CH_DONE };
enum closing { CL_KEEP, CL_CLOSE, CL_RESET };
enum then { THEN_REPEAT, THEN_CYCLE, THEN_DEFAULT };

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

struct reply {
	int	 status;	/* 0: unset */
	char	*ctype;
	jv	 headers;	/* object or null */
	char	*body;
	size_t	 blen;
	int	 echo;
	long	 delay_ms;
	long	 chunk;
	long	 chunk_delay_ms;
	long	 truncate_at;	/* -1: send everything */
	int	 reset;
	int	 hang;
};

struct route {
	char		*match;
	char		*header;	/* "name: text", or NULL */
	struct reply	*replies;
	size_t		 nreplies;
	size_t		 hits;
	enum then	 then;
};

struct conn {
	int		 fd;
	enum state	 state;
	int64_t		 deadline;	/* S_WAIT, S_DRAIN */
	struct buf	 in;
	size_t		 scan;		/* head search resumes here */

	/* The request being read. */
	char		*method;
	char		*target;
	int		 minor;		/* HTTP/1.minor */
	jv		 headers;
	int		 keepalive;
	int		 chunked;
	enum chunkstate	 ch;
	size_t		 need;		/* body bytes due */
	struct buf	 body;

	/* The reply being written, as separate writes. */
	struct buf	 out;
	size_t		*segs;		/* end of each write */
	size_t		 nsegs;
	size_t		 segcap;
	size_t		 seg;
	size_t		 opos;
	long		 pause_ms;	/* between body chunks */
	enum closing	 closing;
};

static struct {
	struct route	 *routes;
	size_t		  nroutes;
	long		  delay_min;
	long		  delay_max;
	struct reply	 *fixture;
	size_t		  nfixture;
	size_t		  fixture_hits;
	long		  chunk;
	long		  chunk_delay;
	char		 *logdir;
	FILE		 *reqlog;
	int		  verbose;
	unsigned long	  seq;
	uint64_t	  rng;
	struct conn	**conns;
	size_t		  nconns;
	size_t		  conncap;
	int64_t		  last_activity;
	long		  rl_limit;	/* "rate_limit", 0: none */
	long		  rl_window;
	char		 *rl_match;
	int64_t		 *rl_times;	/* ring of answer times, ms */
	size_t		  rl_head;
} g;

static int sigpipe_fds[2] = { -1, -1 };
static volatile sig_atomic_t got_signal;

static void
usage(int status)
{
	fprintf(status ? stderr : stdout, "usage: mockprov [-dhv] [-c bytes] "
	    "[-f fixture] [-l logdir] [-p portfile]\n"
	    "                [-S seed] [-s script] [-t seconds] [-w ms]\n");
	exit(status);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		err(1, "realloc");
	return p;
}

static char *
xstrdup(const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		err(1, "strdup");
	return d;
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
rng_next(void)
{
	/* xorshift64*: reproducible with -S, unlike rand(3) across libcs. */
	g.rng ^= g.rng >> 12;
	g.rng ^= g.rng << 25;
	g.rng ^= g.rng >> 27;
	return g.rng * 2685821657736338717ULL;
}

static void
buf_reserve(struct buf *b, size_t n)
{
	size_t	cap;

	if (b->cap - b->len >= n)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n + 1);
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		errx(1, "vsnprintf failed");
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Appends the string x, which it consumes. */
static void
buf_addjv(struct buf *b, jv x)
{
	buf_add(b, jv_string_value(x),
	    (size_t)jv_string_length_bytes(jv_copy(x)));
	jv_free(x);
}

static void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static char *
read_whole(const char *path, size_t *lenp)
{
	struct buf	 b = { NULL, 0, 0 };
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		err(1, "open '%s'", path);
	for (;;) {
		buf_reserve(&b, 65536);
		n = read(fd, b.p + b.len, b.cap - b.len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			err(1, "read '%s'", path);
		if (n == 0)
			break;
		b.len += (size_t)n;
	}
	close(fd);
	b.p[b.len] = '\0';
	*lenp = b.len;
	return b.p;
}

/* Returns a new string: rel resolved against dir, dir NULL for ".". */
static char *
path_join(const char *dir, const char *rel)
{
	struct buf	b = { NULL, 0, 0 };

	if (rel[0] == '/' || dir == NULL)
		return xstrdup(rel);
	buf_printf(&b, "%s/%s", dir, rel);
	return b.p;
}

/* Returns the directory part of path as a new string, NULL for none. */
static char *
dir_of(const char *path)
{
	const char	*slash;
	char		*d;

	if ((slash = strrchr(path, '/')) == NULL)
		return NULL;
	if (slash == path)
		return xstrdup("/");
	d = xstrdup(path);
	d[slash - path] = '\0';
	return d;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t	n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Borrowed lookups: obj is not consumed. */
static jv
peek(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(obj), jv_string(key));
}

static long
peek_long(jv obj, const char *key, long def, const char *what)
{
	jv	v = peek(obj, key);
	double	d;

	if (jv_get_kind(v) == JV_KIND_INVALID ||
	    jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return def;
	}
	if (jv_get_kind(v) != JV_KIND_NUMBER)
		errx(1, "%s: \"%s\" is not a number", what, key);
	d = jv_number_value(v);
	jv_free(v);
	if (d < 0 || d > LONG_MAX / 2)
		errx(1, "%s: \"%s\" out of range", what, key);
	return (long)d;
}

static int
peek_true(jv obj, const char *key)
{
	jv	v = peek(obj, key);
	int	t = jv_get_kind(v) == JV_KIND_TRUE;

	jv_free(v);
	return t;
}

/* Returns a new C string, or NULL when key is missing or not a string. */
static char *
peek_str(jv obj, const char *key)
{
	jv	 v = peek(obj, key);
	char	*s = NULL;

	if (jv_get_kind(v) == JV_KIND_STRING)
		s = xstrdup(jv_string_value(v));
	jv_free(v);
	return s;
}

static const char *
ctype_for(const char *path)
{
	if (has_suffix(path, ".sse"))
		return "text/event-stream";
	if (has_suffix(path, ".json"))
		return "application/json";
	return "application/octet-stream";
}

/*
 * Fills out from the response object r (borrowed).  In a fixture meta file
 * "body" names a file; in a script it is the body itself.
 */
static void
reply_load(jv r, const char *dir, int meta, struct reply *out,
    const char *what)
{
	jv	 v;
	char	*s, *file = NULL;

	memset(out, 0, sizeof(*out));
	out->truncate_at = -1;
	out->headers = jv_null();
	if (jv_get_kind(r) != JV_KIND_OBJECT)
		errx(1, "%s: a response is not an object", what);

	out->status = (int)peek_long(r, "status", 0, what);
	if (out->status != 0 && (out->status < 100 || out->status > 999))
		errx(1, "%s: bad status %d", what, out->status);
	out->ctype = peek_str(r, "content_type");
	v = peek(r, "headers");
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		out->headers = v;
	else
		jv_free(v);

	v = peek(r, "body");
	if (meta && jv_get_kind(v) == JV_KIND_STRING) {
		file = path_join(dir, jv_string_value(v));
	} else if (jv_get_kind(v) == JV_KIND_STRING) {
		out->blen = (size_t)jv_string_length_bytes(jv_copy(v));
		out->body = xrealloc(NULL, out->blen + 1);
		memcpy(out->body, jv_string_value(v), out->blen + 1);
	} else if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL) {
		v = jv_dump_string(v, 0);
		out->blen = (size_t)jv_string_length_bytes(jv_copy(v));
		out->body = xstrdup(jv_string_value(v));
	}
	jv_free(v);
	if (file == NULL && (s = peek_str(r, "body_file")) != NULL) {
		file = path_join(dir, s);
		free(s);
	}
	if (file != NULL) {
		free(out->body);
		out->body = read_whole(file, &out->blen);
		if (out->ctype == NULL)
			out->ctype = xstrdup(ctype_for(file));
		free(file);
	}
	if (out->body != NULL && out->ctype == NULL)
		out->ctype = xstrdup("application/json");

	out->echo = peek_true(r, "echo");
	out->delay_ms = peek_long(r, "delay_ms", 0, what);
	out->chunk = peek_long(r, "chunk", 0, what);
	out->chunk_delay_ms = peek_long(r, "chunk_delay_ms", 0, what);
	out->truncate_at = peek_long(r, "truncate_at", -1, what);
	out->reset = peek_true(r, "reset");
	out->hang = peek_true(r, "hang");
}

static void
reply_free(struct reply *r)
{
	free(r->ctype);
	free(r->body);
	jv_free(r->headers);
}

static jv
parse_file(const char *path)
{
	char	*text;
	size_t	 len;
	jv	 v, msg;

	text = read_whole(path, &len);
	if (len > INT_MAX)
		errx(1, "%s: too large", path);
	v = jv_parse_sized(text, (int)len);
	free(text);
	if (!jv_is_valid(v)) {
		msg = jv_invalid_get_msg(v);
		errx(1, "%s: %s", path, jv_get_kind(msg) == JV_KIND_STRING ?
		    jv_string_value(msg) : "invalid JSON");
	}
	return v;
}

static void
load_script(const char *path)
{
	jv		 s, routes, route, rs, v;
	char		*dir, *then;
	struct route	*rt;
	int		 i, j, n, m;

	s = parse_file(path);
	if (jv_get_kind(s) != JV_KIND_OBJECT)
		errx(1, "%s: not a JSON object", path);
	dir = dir_of(path);

	routes = peek(s, "routes");
	if (jv_get_kind(routes) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(routes));
		g.routes = xrealloc(NULL, (size_t)n * sizeof(*g.routes));
		for (i = 0; i < n; i++) {
			route = jv_array_get(jv_copy(routes), i);
			if (jv_get_kind(route) != JV_KIND_OBJECT)
				errx(1, "%s: route %d is not an object",
				    path, i);
			rt = &g.routes[g.nroutes++];
			memset(rt, 0, sizeof(*rt));
			if ((rt->match = peek_str(route, "match")) == NULL)
				rt->match = xstrdup("");
			rt->header = peek_str(route, "header");
			if (rt->header != NULL &&
			    strchr(rt->header, ':') == NULL)
				errx(1, "%s: route %d: \"header\" is not "
				    "\"name: text\"", path, i);
			rt->then = THEN_REPEAT;
			if ((then = peek_str(route, "then")) != NULL) {
				if (strcmp(then, "cycle") == 0)
					rt->then = THEN_CYCLE;
				else if (strcmp(then, "default") == 0)
					rt->then = THEN_DEFAULT;
				else if (strcmp(then, "repeat-last") != 0)
					errx(1, "%s: bad \"then\": %s",
					    path, then);
				free(then);
			}
			rs = peek(route, "responses");
			if (jv_get_kind(rs) == JV_KIND_ARRAY) {
				m = jv_array_length(jv_copy(rs));
				rt->replies = xrealloc(NULL,
				    (size_t)m * sizeof(*rt->replies));
				for (j = 0; j < m; j++) {
					v = jv_array_get(jv_copy(rs), j);
					reply_load(v, dir, 0,
					    &rt->replies[j], path);
					jv_free(v);
				}
				rt->nreplies = (size_t)m;
			} else if (jv_is_valid(rs) &&
			    jv_get_kind(rs) != JV_KIND_NULL)
				errx(1, "%s: \"responses\" is not an array",
				    path);
			jv_free(rs);
			jv_free(route);
		}
	} else if (jv_is_valid(routes))
		errx(1, "%s: \"routes\" is not an array", path);
	jv_free(routes);

	v = peek(s, "rate_limit");
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		g.rl_limit = peek_long(v, "limit", 0, path);
		g.rl_window = peek_long(v, "window_ms", 60000, path);
		g.rl_match = peek_str(v, "match");
		if (g.rl_limit < 1 || g.rl_limit > 1000000 || g.rl_window < 1)
			errx(1, "%s: bad \"rate_limit\"", path);
		g.rl_times = calloc((size_t)g.rl_limit, sizeof(*g.rl_times));
		if (g.rl_times == NULL)
			err(1, "calloc");
	} else if (jv_is_valid(v))
		errx(1, "%s: bad \"rate_limit\"", path);
	jv_free(v);

	v = peek(s, "delay_ms");
	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		g.delay_min = g.delay_max = (long)jv_number_value(v);
	} else if (jv_get_kind(v) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(v)) == 2) {
		jv a = jv_array_get(jv_copy(v), 0);
		jv b = jv_array_get(jv_copy(v), 1);

		if (jv_get_kind(a) != JV_KIND_NUMBER ||
		    jv_get_kind(b) != JV_KIND_NUMBER)
			errx(1, "%s: bad \"delay_ms\"", path);
		g.delay_min = (long)jv_number_value(a);
		g.delay_max = (long)jv_number_value(b);
		jv_free(a);
		jv_free(b);
	} else if (jv_is_valid(v))
		errx(1, "%s: bad \"delay_ms\"", path);
	jv_free(v);
	if (g.delay_min < 0 || g.delay_max < g.delay_min ||
	    g.delay_max > 3600000)
		errx(1, "%s: bad \"delay_ms\"", path);
	free(dir);
	jv_free(s);
}

static void
load_fixture(const char *path)
{
	jv		 meta, rs, v;
	char		*dir;
	struct reply	*r;
	int		 i, n;
	size_t		 k;

	if (has_suffix(path, ".meta.json")) {
		meta = parse_file(path);
		rs = peek(meta, "responses");
		if (jv_get_kind(rs) != JV_KIND_ARRAY ||
		    (n = jv_array_length(jv_copy(rs))) == 0)
			errx(1, "%s: no \"responses\" array", path);
		dir = dir_of(path);
		g.fixture = xrealloc(NULL, (size_t)n * sizeof(*g.fixture));
		for (i = 0; i < n; i++) {
			v = jv_array_get(jv_copy(rs), i);
			reply_load(v, dir, 1, &g.fixture[i], path);
			jv_free(v);
		}
		g.nfixture = (size_t)n;
		free(dir);
		jv_free(rs);
		jv_free(meta);
	} else {
		g.fixture = xrealloc(NULL, sizeof(*g.fixture));
		r = &g.fixture[0];
		memset(r, 0, sizeof(*r));
		r->headers = jv_null();
		r->truncate_at = -1;
		r->status = 200;
		r->ctype = xstrdup(ctype_for(path));
		r->body = read_whole(path, &r->blen);
		g.nfixture = 1;
	}
	for (k = 0; k < g.nfixture; k++) {
		if (g.fixture[k].chunk == 0) {
			g.fixture[k].chunk = g.chunk;
			g.fixture[k].chunk_delay_ms = g.chunk_delay;
		}
	}
}

static const char *
reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 529: return "Overloaded";
	default: return "Status";
	}
}

/* An OpenAI-style error object. */
static void
error_body(struct buf *out, const char *msg, const char *type,
    const char *code)
{
	jv	e;

	e = jv_object();
	e = jv_object_set(e, jv_string("message"), jv_string(msg));
	e = jv_object_set(e, jv_string("type"), jv_string(type));
	e = jv_object_set(e, jv_string("param"), jv_null());
	e = jv_object_set(e, jv_string("code"),
	    code ? jv_string(code) : jv_null());
	e = jv_object_set(jv_object(), jv_string("error"), e);
	buf_addjv(out, jv_dump_string(e, 0));
}

static void
conn_seg(struct conn *c)
{
	if (c->nsegs == c->segcap) {
		c->segcap = c->segcap ? c->segcap * 2 : 8;
		c->segs = xrealloc(c->segs, c->segcap * sizeof(*c->segs));
	}
	c->segs[c->nsegs++] = c->out.len;
}

static void
conn_header(struct conn *c, const char *name, const char *value)
{
	buf_printf(&c->out, "%s: %s\r\n", name, value);
}

/*
 * Queues a reply: the head, then body (borrowed) framed as asked.  With
 * chunk > 0 each chunk is a separate write, pause_ms apart; truncate_at >= 0
 * promises the whole body in Content-Length but sends only that many bytes.
 */
static void
conn_emit(struct conn *c, int status, const char *ctype, jv headers,
    const char *body, size_t blen, long chunk, long pause_ms,
    long truncate_at, enum closing closing)
{
	enum { F_LENGTH, F_HEAD, F_CHUNKED, F_CLOSE } framing = F_LENGTH;
	const char	*k;
	size_t		 off, n, full = blen;
	int		 i, own_ctype = 0;
	jv		 key, val;

	if (closing == CL_KEEP && !c->keepalive)
		closing = CL_CLOSE;
	if (c->method != NULL && strcmp(c->method, "HEAD") == 0) {
		framing = F_HEAD;
	} else if (truncate_at >= 0) {
		if ((size_t)truncate_at < blen)
			blen = (size_t)truncate_at;
		if (closing == CL_KEEP)
			closing = CL_CLOSE;
	} else if (chunk > 0 && c->minor >= 1) {
		framing = F_CHUNKED;
	} else if (chunk > 0) {
		/* HTTP/1.0 has no chunked coding: delimit by closing. */
		framing = F_CLOSE;
		if (closing == CL_KEEP)
			closing = CL_CLOSE;
	}

	buf_printf(&c->out, "HTTP/1.1 %d %s\r\n", status, reason(status));
	if (jv_get_kind(headers) == JV_KIND_OBJECT) {
		for (i = jv_object_iter(headers);
		    jv_object_iter_valid(headers, i);
		    i = jv_object_iter_next(headers, i)) {
			key = jv_object_iter_key(headers, i);
			val = jv_object_iter_value(headers, i);
			k = jv_string_value(key);
			if (strcasecmp(k, "content-type") == 0)
				own_ctype = 1;
			if (strcasecmp(k, "content-length") != 0 &&
			    strcasecmp(k, "transfer-encoding") != 0 &&
			    strcasecmp(k, "connection") != 0) {
				if (jv_get_kind(val) != JV_KIND_STRING)
					val = jv_dump_string(val, 0);
				conn_header(c, k, jv_string_value(val));
			}
			jv_free(key);
			jv_free(val);
		}
	}
	if (ctype != NULL && !own_ctype)
		conn_header(c, "Content-Type", ctype);
	if (framing == F_CHUNKED)
		conn_header(c, "Transfer-Encoding", "chunked");
	else if (framing != F_CLOSE)
		buf_printf(&c->out, "Content-Length: %zu\r\n", full);
	conn_header(c, "Connection",
	    closing == CL_KEEP ? "keep-alive" : "close");
	buf_adds(&c->out, "\r\n");

	if (framing == F_HEAD || chunk <= 0) {
		if (framing != F_HEAD)
			buf_add(&c->out, body, blen);
		conn_seg(c);
	} else {
		conn_seg(c);
		for (off = 0; off < blen; off += n) {
			n = blen - off < (size_t)chunk ?
			    blen - off : (size_t)chunk;
			if (framing == F_CHUNKED)
				buf_printf(&c->out, "%zx\r\n", n);
			buf_add(&c->out, body + off, n);
			if (framing == F_CHUNKED)
				buf_adds(&c->out, "\r\n");
			conn_seg(c);
		}
		if (framing == F_CHUNKED) {
			buf_adds(&c->out, "0\r\n\r\n");
			conn_seg(c);
		}
	}
	c->pause_ms = pause_ms;
	c->closing = closing;
	c->seg = 0;
	c->opos = 0;
}

/* A closing error reply for a request that could not be read. */
static void
conn_fail(struct conn *c, int status, const char *msg)
{
	struct buf	b = { NULL, 0, 0 };

	error_body(&b, msg, "invalid_request_error", NULL);
	c->keepalive = 0;
	conn_emit(c, status, "application/json", jv_null(), b.p, b.len,
	    0, 0, -1, CL_CLOSE);
	buf_free(&b);
	c->state = S_WRITE;
}

/* Appends the text of a message content (consumed) to t. */
static void
content_text(jv content, struct buf *t)
{
	jv	part, text;
	int	i, n, first = 1;

	if (jv_get_kind(content) == JV_KIND_STRING) {
		buf_add(t, jv_string_value(content),
		    (size_t)jv_string_length_bytes(jv_copy(content)));
	} else if (jv_get_kind(content) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(content));
		for (i = 0; i < n; i++) {
			part = jv_array_get(jv_copy(content), i);
			if (jv_get_kind(part) == JV_KIND_STRING)
				text = jv_copy(part);
			else
				text = peek(part, "text");
			if (jv_get_kind(text) == JV_KIND_STRING) {
				if (!first)
					buf_adds(t, "\n");
				first = 0;
				buf_add(t, jv_string_value(text), (size_t)
				    jv_string_length_bytes(jv_copy(text)));
			}
			jv_free(text);
			jv_free(part);
		}
	}
	jv_free(content);
}

/* One SSE event of a streamed completion; consumes model, choices, usage. */
static void
chunk_event(struct buf *out, unsigned long seq, jv model, jv choices,
    jv usage)
{
	jv	o;

	o = jv_object();
	o = jv_object_set(o, jv_string("id"),
	    jv_string_fmt("chatcmpl-mock-%lu", seq));
	o = jv_object_set(o, jv_string("object"),
	    jv_string("chat.completion.chunk"));
	o = jv_object_set(o, jv_string("created"), jv_number(0));
	o = jv_object_set(o, jv_string("model"), model);
	o = jv_object_set(o, jv_string("choices"), choices);
	if (jv_is_valid(usage))
		o = jv_object_set(o, jv_string("usage"), usage);
	else
		jv_free(usage);
	buf_adds(out, "data: ");
	buf_addjv(out, jv_dump_string(o, 0));
	buf_adds(out, "\n\n");
}

static jv
one_choice(jv delta, jv finish)
{
	jv	ch;

	ch = jv_object();
	ch = jv_object_set(ch, jv_string("index"), jv_number(0));
	ch = jv_object_set(ch, jv_string("delta"), delta);
	ch = jv_object_set(ch, jv_string("finish_reason"), finish);
	return jv_array_append(jv_array(), ch);
}

/*
 * The default answer to a chat completion request req (borrowed): fills out
 * and returns the status; *ctype is set.
 */
static int
completion(unsigned long seq, jv req, struct buf *out, const char **ctype)
{
	struct buf	 last = { NULL, 0, 0 }, t, text = { NULL, 0, 0 };
	jv		 msgs, m, role, model, so, usage, o, ch, msg;
	size_t		 total = 0, i, j, len;
	const char	*s;
	int		 k, n, user, stream, incl = 0;

	*ctype = "application/json";
	msgs = peek(req, "messages");
	if (jv_get_kind(msgs) != JV_KIND_ARRAY) {
		jv_free(msgs);
		error_body(out, jv_get_kind(req) == JV_KIND_OBJECT ?
		    "mockprov: \"messages\" is not an array" :
		    "mockprov: the body is not a JSON object",
		    "invalid_request_error", NULL);
		return 400;
	}
	n = jv_array_length(jv_copy(msgs));
	for (k = 0; k < n; k++) {
		m = jv_array_get(jv_copy(msgs), k);
		memset(&t, 0, sizeof(t));
		content_text(peek(m, "content"), &t);
		role = peek(m, "role");
		user = jv_get_kind(role) == JV_KIND_STRING &&
		    strcmp(jv_string_value(role), "user") == 0;
		jv_free(role);
		total += t.len;
		if (user) {
			buf_free(&last);
			last = t;
		} else
			buf_free(&t);
		jv_free(m);
	}
	jv_free(msgs);

	buf_adds(&text, "mock: ");
	buf_add(&text, last.p, last.len);
	buf_free(&last);

	model = peek(req, "model");
	if (!jv_is_valid(model))
		model = jv_string("mock");
	stream = peek_true(req, "stream");
	so = peek(req, "stream_options");
	incl = peek_true(so, "include_usage");
	jv_free(so);

	usage = jv_object();
	usage = jv_object_set(usage, jv_string("prompt_tokens"),
	    jv_number((double)((total + 3) / 4)));
	usage = jv_object_set(usage, jv_string("completion_tokens"),
	    jv_number((double)((text.len + 3) / 4)));
	usage = jv_object_set(usage, jv_string("total_tokens"),
	    jv_number((double)((total + 3) / 4 + (text.len + 3) / 4)));

	if (!stream) {
		msg = jv_object();
		msg = jv_object_set(msg, jv_string("role"),
		    jv_string("assistant"));
		msg = jv_object_set(msg, jv_string("content"),
		    jv_string_sized(text.p, (int)text.len));
		ch = jv_object();
		ch = jv_object_set(ch, jv_string("index"), jv_number(0));
		ch = jv_object_set(ch, jv_string("message"), msg);
		ch = jv_object_set(ch, jv_string("finish_reason"),
		    jv_string("stop"));
		o = jv_object();
		o = jv_object_set(o, jv_string("id"),
		    jv_string_fmt("chatcmpl-mock-%lu", seq));
		o = jv_object_set(o, jv_string("object"),
		    jv_string("chat.completion"));
		o = jv_object_set(o, jv_string("created"), jv_number(0));
		o = jv_object_set(o, jv_string("model"), model);
		o = jv_object_set(o, jv_string("choices"),
		    jv_array_append(jv_array(), ch));
		o = jv_object_set(o, jv_string("usage"), usage);
		buf_addjv(out, jv_dump_string(o, 0));
		buf_free(&text);
		return 200;
	}

	*ctype = "text/event-stream";
	o = jv_object();
	o = jv_object_set(o, jv_string("role"), jv_string("assistant"));
	o = jv_object_set(o, jv_string("content"), jv_string(""));
	chunk_event(out, seq, jv_copy(model), one_choice(o, jv_null()),
	    jv_invalid());
	/* One chunk per word, each with the whitespace before it. */
	s = text.p;
	len = text.len;
	for (i = 0; i < len; i = j) {
		for (j = i; j < len && isspace((unsigned char)s[j]); j++)
			;
		for (; j < len && !isspace((unsigned char)s[j]); j++)
			;
		o = jv_object_set(jv_object(), jv_string("content"),
		    jv_string_sized(s + i, (int)(j - i)));
		chunk_event(out, seq, jv_copy(model),
		    one_choice(o, jv_null()), jv_invalid());
	}
	chunk_event(out, seq, jv_copy(model),
	    one_choice(jv_object(), jv_string("stop")), jv_invalid());
	if (incl)
		chunk_event(out, seq, jv_copy(model), jv_array(), usage);
	else
		jv_free(usage);
	buf_adds(out, "data: [DONE]\n\n");
	jv_free(model);
	buf_free(&text);
	return 200;
}

/*
 * Reads the text of a list of messages (borrowed): *total gets the bytes
 * of every message's text, last the text of the last one whose role is
 * "user".  content_key names a message's content ("content", or "parts"
 * for Gemini); a plain string list stands for one user message.
 */
static void
message_texts(jv list, const char *content_key, struct buf *last,
    size_t *total)
{
	struct buf	 t;
	jv		 m, role;
	int		 k, n, user;

	if (jv_get_kind(list) == JV_KIND_STRING) {
		buf_free(last);
		content_text(jv_copy(list), last);
		*total += last->len;
		return;
	}
	if (jv_get_kind(list) != JV_KIND_ARRAY)
		return;
	n = jv_array_length(jv_copy(list));
	for (k = 0; k < n; k++) {
		m = jv_array_get(jv_copy(list), k);
		memset(&t, 0, sizeof(t));
		content_text(peek(m, content_key), &t);
		role = peek(m, "role");
		user = jv_get_kind(role) == JV_KIND_STRING &&
		    strcmp(jv_string_value(role), "user") == 0;
		jv_free(role);
		*total += t.len;
		if (user) {
			buf_free(last);
			*last = t;
		} else
			buf_free(&t);
		jv_free(m);
	}
}

/* The model id in a Gemini path: .../models/ID:generateContent. */
static jv
path_model(const char *target)
{
	const char	*p, *e;
	size_t		 plen = strcspn(target, "?");
	char		*t;
	jv		 v;

	t = xrealloc(NULL, plen + 1);
	memcpy(t, target, plen);
	t[plen] = '\0';
	e = strrchr(t, ':');
	for (p = e; p != NULL && p > t && p[-1] != '/'; p--)
		;
	if (e == NULL || p == NULL || p == e) {
		free(t);
		return jv_string("mock");
	}
	v = jv_string_sized(p, (int)(e - p));
	free(t);
	return v;
}

/* One SSE event, "event: type" when type is not NULL; consumes data. */
static void
sse_event(struct buf *out, const char *type, jv data)
{
	if (type != NULL)
		buf_printf(out, "event: %s\n", type);
	buf_adds(out, "data: ");
	buf_addjv(out, jv_dump_string(data, 0));
	buf_adds(out, "\n\n");
}

/* The end of the word of s (len bytes) at i, white space before it in. */
static size_t
word_end(const char *s, size_t len, size_t i)
{
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	while (i < len && !isspace((unsigned char)s[i]))
		i++;
	return i;
}

/*
 * The answer o (consumed) of dialect d, whose text is text, as the event
 * stream of that dialect, one word a delta.  See rule 4 at the top.
 */
static void
stream_reply(enum dialect d, jv o, const struct buf *text, struct buf *out)
{
	jv	 ev, x, msg, u;
	size_t	 i, j;
	int	 last;

	if (d == D_MESSAGES) {
		u = peek(o, "usage");
		msg = jv_object_set(jv_copy(o), jv_string("content"),
		    jv_array());
		msg = jv_object_set(msg, jv_string("stop_reason"), jv_null());
		msg = jv_object_set(msg, jv_string("usage"), jv_object_set(
		    peek(o, "usage"), jv_string("output_tokens"),
		    jv_number(0)));
		sse_event(out, "message_start", jv_object_set(jv_object_set(
		    jv_object(), jv_string("type"), jv_string("message_start")),
		    jv_string("message"), msg));
		sse_event(out, "content_block_start", jv_parse(
		    "{\"type\":\"content_block_start\",\"index\":0,"
		    "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"));
	} else if (d == D_RESPONSES) {
		x = jv_object_set(jv_copy(o), jv_string("status"),
		    jv_string("in_progress"));
		x = jv_object_set(x, jv_string("output"), jv_array());
		x = jv_object_delete(x, jv_string("usage"));
		sse_event(out, "response.created", jv_object_set(jv_object_set(
		    jv_object(), jv_string("type"),
		    jv_string("response.created")), jv_string("response"), x));
	}
	for (i = 0; i < text->len; i = j) {
		j = word_end(text->p, text->len, i);
		last = j == text->len;
		x = jv_string_sized(text->p + i, (int)(j - i));
		if (d == D_MESSAGES) {
			ev = jv_parse("{\"type\":\"content_block_delta\","
			    "\"index\":0,\"delta\":{\"type\":\"text_delta\"}}");
			ev = jv_setpath(ev, jv_parse("[\"delta\",\"text\"]"), x);
			sse_event(out, "content_block_delta", ev);
		} else if (d == D_RESPONSES) {
			ev = jv_object_set(jv_object(), jv_string("type"),
			    jv_string("response.output_text.delta"));
			ev = jv_object_set(ev, jv_string("item_id"),
			    jv_getpath(jv_copy(o), jv_parse("[\"output\",0,"
			    "\"id\"]")));
			ev = jv_object_set(ev, jv_string("output_index"),
			    jv_number(0));
			ev = jv_object_set(ev, jv_string("content_index"),
			    jv_number(0));
			ev = jv_object_set(ev, jv_string("delta"), x);
			sse_event(out, "response.output_text.delta", ev);
		} else {
			/* The last chunk ends the answer: finish and usage. */
			ev = last ? jv_copy(o) : jv_object_delete(jv_object_delete(
			    jv_copy(o), jv_string("usageMetadata")),
			    jv_string("candidates"));
			ev = jv_setpath(ev, jv_parse("[\"candidates\",0,\"content\","
			    "\"parts\"]"), jv_array_append(jv_array(),
			    jv_object_set(jv_object(), jv_string("text"), x)));
			if (!last)
				ev = jv_setpath(ev, jv_parse("[\"candidates\",0,"
				    "\"content\",\"role\"]"), jv_string("model"));
			sse_event(out, NULL, ev);
		}
	}
	if (d == D_MESSAGES) {
		ev = jv_parse("{\"type\":\"message_delta\",\"delta\":"
		    "{\"stop_reason\":\"end_turn\",\"stop_sequence\":null}}");
		ev = jv_object_set(ev, jv_string("usage"), jv_object_set(
		    jv_object(), jv_string("output_tokens"),
		    peek(u, "output_tokens")));
		sse_event(out, "content_block_stop", jv_parse(
		    "{\"type\":\"content_block_stop\",\"index\":0}"));
		sse_event(out, "message_delta", ev);
		sse_event(out, "message_stop",
		    jv_parse("{\"type\":\"message_stop\"}"));
		jv_free(u);
	} else if (d == D_RESPONSES)
		sse_event(out, "response.completed", jv_object_set(
		    jv_object_set(jv_object(), jv_string("type"),
		    jv_string("response.completed")), jv_string("response"),
		    jv_copy(o)));
	jv_free(o);
}

/*
 * The default answer of an Anthropic, Responses or Gemini endpoint to the
 * request req (borrowed), target the request's path: fills out and
 * *ctype and returns the status.  See rule 4 at the top.
 */
static int
dialect_reply(enum dialect d, unsigned long seq, const char *target, jv req,
    struct buf *out, const char **ctype)
{
	struct buf	 last = { NULL, 0, 0 }, sys = { NULL, 0, 0 };
	struct buf	 text = { NULL, 0, 0 };
	jv		 list, model, o, u, part, si;
	size_t		 total = 0;
	double		 in, outn;

	if (jv_get_kind(req) != JV_KIND_OBJECT) {
		error_body(out, "mockprov: the body is not a JSON object",
		    "invalid_request_error", NULL);
		return 400;
	}
	switch (d) {
	case D_MESSAGES:
		list = peek(req, "messages");
		content_text(peek(req, "system"), &sys);
		message_texts(list, "content", &last, &total);
		break;
	case D_RESPONSES:
		list = peek(req, "input");
		content_text(peek(req, "instructions"), &sys);
		message_texts(list, "content", &last, &total);
		break;
	default:
		list = peek(req, "contents");
		si = peek(req, "systemInstruction");
		content_text(peek(si, "parts"), &sys);
		jv_free(si);
		message_texts(list, "parts", &last, &total);
		break;
	}
	if (jv_get_kind(list) != JV_KIND_ARRAY &&
	    !(d == D_RESPONSES && jv_get_kind(list) == JV_KIND_STRING)) {
		jv_free(list);
		buf_free(&sys);
		buf_free(&last);
		error_body(out, d == D_GEMINI ?
		    "mockprov: \"contents\" is not an array" : d == D_MESSAGES ?
		    "mockprov: \"messages\" is not an array" :
		    "mockprov: \"input\" is not a string or an array",
		    "invalid_request_error", NULL);
		return 400;
	}
	jv_free(list);
	total += sys.len;
	buf_free(&sys);
	buf_adds(&text, "mock: ");
	buf_add(&text, last.p, last.len);
	buf_free(&last);
	in = (double)((total + 3) / 4);
	outn = (double)((text.len + 3) / 4);

	if (d == D_GEMINI)
		model = path_model(target);
	else if (jv_get_kind(model = peek(req, "model")) != JV_KIND_STRING) {
		jv_free(model);
		model = jv_string("mock");
	}
	part = jv_object();
	if (d == D_MESSAGES) {
		part = jv_object_set(part, jv_string("type"), jv_string("text"));
		part = jv_object_set(part, jv_string("text"),
		    jv_string_sized(text.p, (int)text.len));
		u = jv_object();
		u = jv_object_set(u, jv_string("input_tokens"), jv_number(in));
		u = jv_object_set(u, jv_string("output_tokens"),
		    jv_number(outn));
		o = jv_object();
		o = jv_object_set(o, jv_string("id"),
		    jv_string_fmt("msg_mock_%lu", seq));
		o = jv_object_set(o, jv_string("type"), jv_string("message"));
		o = jv_object_set(o, jv_string("role"),
		    jv_string("assistant"));
		o = jv_object_set(o, jv_string("model"), model);
		o = jv_object_set(o, jv_string("content"),
		    jv_array_append(jv_array(), part));
		o = jv_object_set(o, jv_string("stop_reason"),
		    jv_string("end_turn"));
		o = jv_object_set(o, jv_string("stop_sequence"), jv_null());
		o = jv_object_set(o, jv_string("usage"), u);
	} else if (d == D_RESPONSES) {
		jv item;

		part = jv_object_set(part, jv_string("type"),
		    jv_string("output_text"));
		part = jv_object_set(part, jv_string("text"),
		    jv_string_sized(text.p, (int)text.len));
		part = jv_object_set(part, jv_string("annotations"),
		    jv_array());
		item = jv_object();
		item = jv_object_set(item, jv_string("type"),
		    jv_string("message"));
		item = jv_object_set(item, jv_string("id"),
		    jv_string_fmt("msg_mock_%lu", seq));
		item = jv_object_set(item, jv_string("status"),
		    jv_string("completed"));
		item = jv_object_set(item, jv_string("role"),
		    jv_string("assistant"));
		item = jv_object_set(item, jv_string("content"),
		    jv_array_append(jv_array(), part));
		u = jv_object();
		u = jv_object_set(u, jv_string("input_tokens"), jv_number(in));
		u = jv_object_set(u, jv_string("output_tokens"),
		    jv_number(outn));
		u = jv_object_set(u, jv_string("total_tokens"),
		    jv_number(in + outn));
		o = jv_object();
		o = jv_object_set(o, jv_string("id"),
		    jv_string_fmt("resp_mock_%lu", seq));
		o = jv_object_set(o, jv_string("object"),
		    jv_string("response"));
		o = jv_object_set(o, jv_string("created_at"), jv_number(0));
		o = jv_object_set(o, jv_string("status"),
		    jv_string("completed"));
		o = jv_object_set(o, jv_string("model"), model);
		o = jv_object_set(o, jv_string("output"),
		    jv_array_append(jv_array(), item));
		o = jv_object_set(o, jv_string("usage"), u);
	} else {
		jv cand, content;

		part = jv_object_set(part, jv_string("text"),
		    jv_string_sized(text.p, (int)text.len));
		content = jv_object();
		content = jv_object_set(content, jv_string("role"),
		    jv_string("model"));
		content = jv_object_set(content, jv_string("parts"),
		    jv_array_append(jv_array(), part));
		cand = jv_object();
		cand = jv_object_set(cand, jv_string("content"), content);
		cand = jv_object_set(cand, jv_string("finishReason"),
		    jv_string("STOP"));
		cand = jv_object_set(cand, jv_string("index"), jv_number(0));
		u = jv_object();
		u = jv_object_set(u, jv_string("promptTokenCount"),
		    jv_number(in));
		u = jv_object_set(u, jv_string("candidatesTokenCount"),
		    jv_number(outn));
		u = jv_object_set(u, jv_string("totalTokenCount"),
		    jv_number(in + outn));
		o = jv_object();
		o = jv_object_set(o, jv_string("candidates"),
		    jv_array_append(jv_array(), cand));
		o = jv_object_set(o, jv_string("usageMetadata"), u);
		o = jv_object_set(o, jv_string("modelVersion"), model);
		o = jv_object_set(o, jv_string("responseId"),
		    jv_string_fmt("mock-%lu", seq));
	}
	if (peek_true(req, "stream") ||
	    strstr(target, ":streamGenerateContent") != NULL) {
		*ctype = "text/event-stream";
		stream_reply(d, o, &text, out);
	} else
		buf_addjv(out, jv_dump_string(o, 0));
	buf_free(&text);
	return 200;
}

/* The text of one batchEmbedContents request, which it consumes. */
static jv
gembed_text(jv item)
{
	jv	c = peek(item, "content"), parts = peek(c, "parts"), p0, t;

	jv_free(item);
	jv_free(c);
	if (jv_get_kind(parts) != JV_KIND_ARRAY) {
		jv_free(parts);
		return jv_invalid();
	}
	p0 = jv_array_get(parts, 0);
	t = peek(p0, "text");
	jv_free(p0);
	return t;
}

/*
 * Embeddings (rule 4): OpenAI's .../embeddings and Gemini's
 * ...:batchEmbedContents.  Each text's vector is made from a hash of the
 * text: dims numbers (the request's "dimensions" or
 * "outputDimensionality", else 8), each k / 2^20 for a whole k in
 * [-2^20, 2^20), so exact in float32.  OpenAI answers in base64 when
 * "encoding_format" is "base64", else as numbers; usage counts bytes / 4
 * per text.  Faults, for tests: a text starting "@fewer" makes the answer
 * leave out the batch's last vector, "@dims" gives its own vector one
 * number too many, "@noindex" drops every "index".
 */
static int
embed_reply(enum dialect d, jv req, struct buf *out)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	jv	 in, item, t;
	long	 dims;
	int	 n, i, k, fewer = 0, noindex = 0, base64, extra;
	double	 tokens = 0;

	if (jv_get_kind(req) != JV_KIND_OBJECT) {
		error_body(out, "mockprov: the body is not a JSON object",
		    "invalid_request_error", NULL);
		return 400;
	}
	in = peek(req, d == D_EMBED ? "input" : "requests");
	if (jv_get_kind(in) == JV_KIND_STRING)
		in = jv_array_append(jv_array(), in);
	if (jv_get_kind(in) != JV_KIND_ARRAY) {
		jv_free(in);
		error_body(out, "mockprov: no input array",
		    "invalid_request_error", NULL);
		return 400;
	}
	n = jv_array_length(jv_copy(in));
	dims = 8;
	if (d == D_EMBED)
		dims = peek_long(req, "dimensions", 8, "dimensions");
	else if (n > 0) {
		item = jv_array_get(jv_copy(in), 0);
		dims = peek_long(item, "outputDimensionality", 8,
		    "outputDimensionality");
		jv_free(item);
	}
	if (dims < 1 || dims > 65536)
		dims = 8;
	t = peek(req, "encoding_format");
	base64 = d == D_EMBED && jv_get_kind(t) == JV_KIND_STRING &&
	    strcmp(jv_string_value(t), "base64") == 0;
	jv_free(t);
	for (i = 0; i < n; i++) {
		item = jv_array_get(jv_copy(in), i);
		if (d == D_GEMBED)
			item = gembed_text(item);
		if (jv_get_kind(item) == JV_KIND_STRING) {
			fewer |= strncmp(jv_string_value(item), "@fewer", 6) ==
			    0;
			noindex |= strncmp(jv_string_value(item), "@noindex",
			    8) == 0;
		}
		jv_free(item);
	}
	buf_adds(out, d == D_EMBED ? "{\"object\":\"list\",\"data\":[" :
	    "{\"embeddings\":[");
	for (i = 0; i < n - fewer; i++) {
		const char	*s = "";
		uint64_t	 h = 1469598103934665603ULL, x;
		size_t		 len, j;
		unsigned char	 bytes[4 * 65537];

		item = jv_array_get(jv_copy(in), i);
		if (d == D_GEMBED)
			item = gembed_text(item);
		if (jv_get_kind(item) == JV_KIND_STRING)
			s = jv_string_value(item);
		len = strlen(s);
		tokens += (double)((len + 3) / 4);
		for (j = 0; j < len; j++)
			h = (h ^ (unsigned char)s[j]) * 1099511628211ULL;
		extra = strncmp(s, "@dims", 5) == 0;
		if (i)
			buf_adds(out, ",");
		if (d == D_EMBED) {
			buf_adds(out, "{\"object\":\"embedding\",");
			if (!noindex)
				buf_printf(out, "\"index\":%d,", i);
			buf_adds(out, "\"embedding\":");
		} else
			buf_adds(out, "{\"values\":");
		buf_adds(out, base64 ? "\"" : "[");
		for (k = 0; k < dims + extra; k++) {
			float	 f;
			uint32_t u;

			x = h + (uint64_t)k * 0x9e3779b97f4a7c15ULL;
			x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
			x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
			x ^= x >> 31;
			f = (float)((double)((int64_t)(x >> 43) - (1 << 20)) /
			    (double)(1 << 20));
			if (base64) {
				memcpy(&u, &f, 4);
				bytes[4 * k] = (unsigned char)u;
				bytes[4 * k + 1] = (unsigned char)(u >> 8);
				bytes[4 * k + 2] = (unsigned char)(u >> 16);
				bytes[4 * k + 3] = (unsigned char)(u >> 24);
			} else
				buf_printf(out, "%s%.9g", k ? "," : "",
				    (double)f);
		}
		if (base64) {
			size_t nb = 4 * (size_t)(dims + extra), m;

			for (m = 0; m < nb; m += 3) {
				uint32_t w = (uint32_t)bytes[m] << 16 |
				    (m + 1 < nb ? (uint32_t)bytes[m + 1] << 8 :
				    0) | (m + 2 < nb ? bytes[m + 2] : 0);
				char q[4];

				q[0] = b64[w >> 18];
				q[1] = b64[(w >> 12) & 63];
				q[2] = m + 1 < nb ? b64[(w >> 6) & 63] : '=';
				q[3] = m + 2 < nb ? b64[w & 63] : '=';
				buf_add(out, q, 4);
			}
			buf_adds(out, "\"}");
		} else
			buf_adds(out, "]}");
		jv_free(item);
	}
	jv_free(in);
	if (d == D_EMBED) {
		t = peek(req, "model");
		buf_adds(out, "],\"model\":");
		buf_addjv(out, jv_dump_string(jv_get_kind(t) ==
		    JV_KIND_STRING ? t : (jv_free(t), jv_string("mock")), 0));
		buf_printf(out, ",\"usage\":{\"prompt_tokens\":%.0f,"
		    "\"total_tokens\":%.0f}}", tokens, tokens);
	} else
		buf_adds(out, "]}");
	return 200;
}

/* The dialect whose endpoint c's path ends in, for a POST. */
static enum dialect
path_dialect(struct conn *c)
{
	size_t	plen = strcspn(c->target, "?"), i, n;

	if (strcmp(c->method, "POST") != 0)
		return D_NONE;
	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		n = strlen(endpoints[i].suffix);
		if (plen >= n && strncmp(c->target + plen - n,
		    endpoints[i].suffix, n) == 0)
			return endpoints[i].dialect;
	}
	return D_NONE;
}

/* Writes LOGDIR/NNNNNN.json and a requests.log line; consumes parsed. */
static void
record(struct conn *c, unsigned long seq, jv parsed, int limited)
{
	struct timespec	 ts;
	char		 path[PATH_MAX], tmp[PATH_MAX];
	const char	*p;
	jv		 o, s;
	size_t		 len, off;
	ssize_t		 n;
	int		 fd;

	if (g.logdir == NULL) {
		jv_free(parsed);
		return;
	}
	o = jv_object();
	o = jv_object_set(o, jv_string("seq"), jv_number((double)seq));
	o = jv_object_set(o, jv_string("method"), jv_string(c->method));
	o = jv_object_set(o, jv_string("path"), jv_string(c->target));
	o = jv_object_set(o, jv_string("headers"), jv_copy(c->headers));
	o = jv_object_set(o, jv_string("body"),
	    jv_string_sized(c->body.p ? c->body.p : "", (int)c->body.len));
	o = jv_object_set(o, jv_string("json"), parsed);
	clock_gettime(CLOCK_REALTIME, &ts);
	o = jv_object_set(o, jv_string("time_ms"), jv_number(
	    (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000)));
	if (limited)
		o = jv_object_set(o, jv_string("limited"), jv_true());
	s = jv_dump_string(o, 0);
	s = jv_string_append_str(s, "\n");

	snprintf(path, sizeof(path), "%s/%06lu.json", g.logdir, seq);
	snprintf(tmp, sizeof(tmp), "%s/.%06lu.json.tmp", g.logdir, seq);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		if (g.verbose)
			warn("open '%s'", tmp);
		jv_free(s);
		return;
	}
	p = jv_string_value(s);
	len = (size_t)jv_string_length_bytes(jv_copy(s));
	for (off = 0; off < len; off += (size_t)n) {
		n = write(fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			n = 0;
		else if (n == -1)
			break;
	}
	if (close(fd) == -1 || off < len || rename(tmp, path) == -1) {
		if (g.verbose)
			warn("write '%s'", path);
		unlink(tmp);
	}
	jv_free(s);
	if (g.reqlog != NULL) {
		fprintf(g.reqlog, "%lu %s %s\n", seq, c->method, c->target);
		fflush(g.reqlog);
	}
}

/* Whether c has the header "name: text" asks for (NULL: any request). */
static int
header_matches(struct conn *c, const char *want)
{
	const char	*colon, *text;
	char		*name;
	size_t		 i;
	jv		 v;
	int		 hit;

	if (want == NULL)
		return 1;
	colon = strchr(want, ':');
	name = xstrdup(want);
	name[colon - want] = '\0';
	for (i = 0; name[i]; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	for (text = colon + 1; *text == ' '; text++)
		;
	v = jv_object_get(jv_copy(c->headers), jv_string(name));
	hit = jv_get_kind(v) == JV_KIND_STRING &&
	    strstr(jv_string_value(v), text) != NULL;
	jv_free(v);
	free(name);
	return hit;
}

/*
 * Whether the rate limit refuses a request now: more than rl_limit in the
 * last rl_window ms.  Refused requests do not count.
 */
static int
rate_limited(struct conn *c)
{
	int64_t	 now = now_ms(), oldest;

	if (g.rl_limit == 0 ||
	    (g.rl_match && strstr(c->target, g.rl_match) == NULL))
		return 0;
	oldest = g.rl_times[g.rl_head];
	if (oldest != 0 && now - oldest < g.rl_window)
		return 1;
	g.rl_times[g.rl_head] = now;
	g.rl_head = (g.rl_head + 1) % (size_t)g.rl_limit;
	return 0;
}

/* Returns the scripted or fixture reply for c, NULL for the default. */
static struct reply *
pick(struct conn *c, int health)
{
	struct route	*rt;
	size_t		 i, k;

	if (health)
		return NULL;
	for (i = 0; i < g.nroutes; i++) {
		rt = &g.routes[i];
		if (strstr(c->target, rt->match) == NULL ||
		    !header_matches(c, rt->header))
			continue;
		if (rt->nreplies == 0)
			return NULL;
		k = rt->hits++;
		if (k < rt->nreplies)
			return &rt->replies[k];
		switch (rt->then) {
		case THEN_CYCLE:
			return &rt->replies[k % rt->nreplies];
		case THEN_DEFAULT:
			return NULL;
		default:
			return &rt->replies[rt->nreplies - 1];
		}
	}
	if (g.nfixture > 0 && strcmp(c->method, "POST") == 0) {
		k = g.fixture_hits++;
		if (k >= g.nfixture)
			k = g.nfixture - 1;
		return &g.fixture[k];
	}
	return NULL;
}

/* A complete request is in c: record it and queue the reply. */
static void
handle_request(struct conn *c)
{
	struct reply	*r;
	struct buf	 b = { NULL, 0, 0 }, msg = { NULL, 0, 0 };
	const char	*ctype = NULL;
	unsigned long	 seq;
	size_t		 plen;
	long		 delay = 0;
	int		 status, health, limited;
	enum dialect	 dial;
	jv		 parsed;

	seq = ++g.seq;
	parsed = jv_parse_sized(c->body.p ? c->body.p : "", (int)c->body.len);
	if (!jv_is_valid(parsed)) {
		jv_free(parsed);
		parsed = jv_null();
	}
	plen = strcspn(c->target, "?");
	health = (strcmp(c->method, "GET") == 0 ||
	    strcmp(c->method, "HEAD") == 0) && plen == 7 &&
	    strncmp(c->target, "/health", 7) == 0;
	limited = !health && rate_limited(c);
	record(c, seq, jv_copy(parsed), limited);
	dial = path_dialect(c);
	r = limited ? NULL : pick(c, health);

	if (g.delay_max > 0)
		delay = g.delay_min + (long)(rng_next() %
		    (uint64_t)(g.delay_max - g.delay_min + 1));
	if (r != NULL)
		delay += r->delay_ms;

	if (limited) {
		status = 429;
		error_body(&b, "mockprov: rate limit exceeded",
		    "rate_limit_error", "rate_limit_exceeded");
		conn_emit(c, status, "application/json", jv_null(), b.p,
		    b.len, 0, 0, -1, CL_KEEP);
	} else if (r != NULL && r->hang) {
		status = 0;
		c->state = S_HANG;
	} else if (r != NULL && r->reset) {
		status = 0;
		c->closing = CL_RESET;
		c->nsegs = 0;
	} else if (r != NULL && !r->echo) {
		status = r->status ? r->status : 200;
		conn_emit(c, status, r->ctype, r->headers, r->body, r->blen,
		    r->chunk, r->chunk_delay_ms, r->truncate_at, CL_KEEP);
	} else if (health) {
		status = 200;
		conn_emit(c, status, "text/plain", jv_null(), "ok", 2,
		    0, 0, -1, CL_KEEP);
	} else if (r != NULL || dial != D_NONE) {
		if (dial == D_NONE || dial == D_CHAT)
			status = completion(seq, parsed, &b, &ctype);
		else if (dial == D_EMBED || dial == D_GEMBED) {
			ctype = "application/json";
			status = embed_reply(dial, parsed, &b);
		} else {
			ctype = "application/json";
			status = dialect_reply(dial, seq, c->target, parsed,
			    &b, &ctype);
		}
		if (r != NULL) {
			if (r->status)
				status = r->status;
			if (r->ctype)
				ctype = r->ctype;
		}
		conn_emit(c, status, ctype, r ? r->headers : jv_null(),
		    b.p, b.len, r ? r->chunk : 0, r ? r->chunk_delay_ms : 0,
		    r ? r->truncate_at : -1, CL_KEEP);
	} else {
		status = 404;
		buf_printf(&msg, "mockprov: no mock for %s %s", c->method,
		    c->target);
		error_body(&b, msg.p, "invalid_request_error",
		    "unknown_url");
		buf_free(&msg);
		conn_emit(c, status, "application/json", jv_null(), b.p,
		    b.len, 0, 0, -1, CL_KEEP);
	}
	buf_free(&b);
	jv_free(parsed);
	if (g.verbose && status != 0)
		fprintf(stderr, "mockprov: %lu %s %s -> %d\n", seq,
		    c->method, c->target, status);
	else if (g.verbose)
		fprintf(stderr, "mockprov: %lu %s %s -> %s\n", seq,
		    c->method, c->target,
		    c->state == S_HANG ? "hang" : "reset");

	if (c->state == S_HANG)
		return;
	if (delay > 0) {
		c->state = S_WAIT;
		c->deadline = now_ms() + delay;
	} else
		c->state = S_WRITE;
}

static void
conn_consume(struct conn *c, size_t n)
{
	memmove(c->in.p, c->in.p + n, c->in.len - n);
	c->in.len -= n;
}

/* Is tok one of the comma-separated tokens of the header value v? */
static int
has_token(jv headers, const char *name, const char *tok)
{
	jv		 v = peek(headers, name);
	const char	*p, *e;
	size_t		 n = strlen(tok);
	int		 found = 0;

	if (jv_get_kind(v) == JV_KIND_STRING) {
		for (p = jv_string_value(v); *p != '\0'; p = e) {
			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			e = p + strcspn(p, ",");
			if ((size_t)(e - p) >= n &&
			    strncasecmp(p, tok, n) == 0 &&
			    strspn(p + n, " \t") == (size_t)(e - p) - n)
				found = 1;
		}
	}
	jv_free(v);
	return found;
}

/*
 * Parses a Content-Length value; repeated headers arrive joined with ", "
 * and must agree.  Returns -1 when malformed.
 */
static long long
content_length(const char *s)
{
	long long	v = -1, cur;
	const char	*p = s;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (cur = 0; isdigit((unsigned char)*p); p++) {
			cur = cur * 10 + (*p - '0');
			if (cur > (long long)MAX_BODY * 16)
				cur = (long long)MAX_BODY * 16;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (v != -1 && cur != v)
			return -1;
		v = cur;
		if (*p == '\0')
			return v;
		if (*p++ != ',')
			return -1;
	}
}

/* Returns 1 when a head was parsed, 0 when more input is due, -1 failed. */
static int
parse_head(struct conn *c)
{
	char		*h, *line, *nl, *sp1, *sp2, *colon, *q, *v, *e;
	size_t		 i, k, end = 0;
	long long	 cl;
	jv		 name, old;

	for (k = 0; k < c->in.len && (c->in.p[k] == '\r' ||
	    c->in.p[k] == '\n'); k++)
		;
	if (k > 0) {
		conn_consume(c, k);
		c->scan = 0;
	}
	for (i = c->scan; i < c->in.len; i++) {
		if (c->in.p[i] != '\n')
			continue;
		if (i + 1 < c->in.len && c->in.p[i + 1] == '\n') {
			end = i + 2;
			break;
		}
		if (i + 2 < c->in.len && c->in.p[i + 1] == '\r' &&
		    c->in.p[i + 2] == '\n') {
			end = i + 3;
			break;
		}
	}
	if (end == 0) {
		c->scan = c->in.len >= 2 ? c->in.len - 2 : 0;
		if (c->in.len > MAX_HEAD) {
			conn_fail(c, 413, "mockprov: request head too large");
			return -1;
		}
		return 0;
	}
	c->scan = 0;
	if (end > MAX_HEAD) {
		conn_fail(c, 413, "mockprov: request head too large");
		return -1;
	}
	if (memchr(c->in.p, '\0', end) != NULL) {
		conn_fail(c, 400, "mockprov: NUL in request head");
		return -1;
	}
	h = xrealloc(NULL, end + 1);
	memcpy(h, c->in.p, end);
	h[end] = '\0';
	conn_consume(c, end);

	c->headers = jv_object();
	for (line = h; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (line == h) {
			if ((sp1 = strchr(line, ' ')) == NULL ||
			    (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
			    sp1 == line || sp2 == sp1 + 1 ||
			    strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
			    !isdigit((unsigned char)sp2[8]) ||
			    sp2[9] != '\0')
				goto bad;
			*sp1 = *sp2 = '\0';
			c->method = xstrdup(line);
			c->target = xstrdup(sp1 + 1);
			c->minor = sp2[8] - '0';
			continue;
		}
		if (*line == '\0')
			break;
		if ((colon = strchr(line, ':')) == NULL || colon == line ||
		    strcspn(line, " \t") < (size_t)(colon - line))
			goto bad;
		*colon = '\0';
		for (q = line; *q != '\0'; q++)
			*q = (char)tolower((unsigned char)*q);
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' ||
		    e[-1] == '\t'); e--)
			;
		*e = '\0';
		name = jv_string(line);
		old = jv_object_get(jv_copy(c->headers), jv_copy(name));
		if (jv_get_kind(old) == JV_KIND_STRING) {
			old = jv_string_append_str(old, ", ");
			old = jv_string_append_str(old, v);
			c->headers = jv_object_set(c->headers, name, old);
		} else {
			jv_free(old);
			c->headers = jv_object_set(c->headers, name,
			    jv_string(v));
		}
	}
	free(h);
	h = NULL;

	c->keepalive = c->minor >= 1 ?
	    !has_token(c->headers, "connection", "close") :
	    has_token(c->headers, "connection", "keep-alive");
	c->need = 0;
	c->chunked = 0;
	v = peek_str(c->headers, "transfer-encoding");
	if (v != NULL) {
		e = strrchr(v, ',');
		e = e ? e + 1 : v;
		e += strspn(e, " \t");
		c->chunked = strcasecmp(e, "chunked") == 0;
		free(v);
		if (!c->chunked)
			goto bad;
		c->ch = CH_SIZE;
	} else if ((v = peek_str(c->headers, "content-length")) != NULL) {
		cl = content_length(v);
		free(v);
		if (cl < 0)
			goto bad;
		if (cl > MAX_BODY) {
			conn_fail(c, 413, "mockprov: request body too large");
			return -1;
		}
		c->need = (size_t)cl;
	}
	if (c->minor >= 1 && has_token(c->headers, "expect", "100-continue") &&
	    (c->chunked || c->need > c->in.len))
		(void)send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25,
		    MSG_NOSIGNAL);
	c->state = S_BODY;
	return 1;
bad:
	free(h);
	conn_fail(c, 400, "mockprov: malformed request");
	return -1;
}

static size_t
hexval(char ch)
{
	if (isdigit((unsigned char)ch))
		return (size_t)(ch - '0');
	return (size_t)(tolower((unsigned char)ch) - 'a' + 10);
}

/* Returns 1 when the body is complete, 0 when more input is due, -1 failed. */
static int
parse_body(struct conn *c)
{
	char		*nl, *p;
	size_t		 n, v;
	int		 digits;

	if (!c->chunked) {
		n = c->in.len < c->need ? c->in.len : c->need;
		buf_add(&c->body, c->in.p, n);
		conn_consume(c, n);
		c->need -= n;
		return c->need == 0;
	}
	for (;;) {
		switch (c->ch) {
		case CH_SIZE:
		case CH_TRAILER:
			nl = memchr(c->in.p, '\n', c->in.len);
			if (nl == NULL) {
				if (c->in.len > MAX_LINE)
					goto bad;
				return 0;
			}
			n = (size_t)(nl - c->in.p) + 1;
			if (c->ch == CH_TRAILER) {
				/* Skip trailer fields to the empty line. */
				if (n == 1 || (n == 2 && c->in.p[0] == '\r'))
					c->ch = CH_DONE;
				conn_consume(c, n);
				break;
			}
			for (p = c->in.p, v = 0, digits = 0;
			    isxdigit((unsigned char)*p); p++, digits++) {
				v = v * 16 + hexval(*p);
				if (v > MAX_BODY) {
					conn_fail(c, 413, "mockprov: request "
					    "body too large");
					return -1;
				}
			}
			if (digits == 0 || (*p != ';' && *p != ' ' &&
			    *p != '\t' && *p != '\r' && *p != '\n'))
				goto bad;
			conn_consume(c, n);
			c->need = v;
			c->ch = v == 0 ? CH_TRAILER : CH_DATA;
			break;
		case CH_DATA:
			if (c->in.len == 0)
				return 0;
			n = c->in.len < c->need ? c->in.len : c->need;
			if (c->body.len + n > MAX_BODY) {
				conn_fail(c, 413,
				    "mockprov: request body too large");
				return -1;
			}
			buf_add(&c->body, c->in.p, n);
			conn_consume(c, n);
			c->need -= n;
			if (c->need == 0)
				c->ch = CH_CRLF;
			break;
		case CH_CRLF:
			if (c->in.len == 0)
				return 0;
			if (c->in.p[0] == '\n') {
				conn_consume(c, 1);
			} else if (c->in.p[0] == '\r') {
				if (c->in.len < 2)
					return 0;
				if (c->in.p[1] != '\n')
					goto bad;
				conn_consume(c, 2);
			} else
				goto bad;
			c->ch = CH_SIZE;
			break;
		case CH_DONE:
			return 1;
		}
	}
bad:
	conn_fail(c, 400, "mockprov: malformed chunked body");
	return -1;
}

/* Forgets the request and reply, keeping pipelined input. */
static void
conn_next(struct conn *c)
{
	free(c->method);
	free(c->target);
	c->method = c->target = NULL;
	jv_free(c->headers);
	c->headers = jv_null();
	buf_free(&c->body);
	buf_free(&c->out);
	free(c->segs);
	c->segs = NULL;
	c->nsegs = c->segcap = c->seg = c->opos = 0;
	c->closing = CL_KEEP;
	c->keepalive = 0;
	c->state = S_HEAD;
}

static void
conn_close(struct conn *c, int reset)
{
	struct linger	l = { 1, 0 };

	if (c->state == S_DEAD)
		return;
	if (reset)
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(c->fd);
	c->fd = -1;
	c->state = S_DEAD;
}

/* Returns 1 when the reply is out, 0 to wait for POLLOUT or a pause. */
static int
conn_write(struct conn *c)
{
	ssize_t	n;

	while (c->seg < c->nsegs) {
		if (c->opos == c->segs[c->seg]) {
			c->seg++;
			if (c->seg < c->nsegs && c->seg >= 2 &&
			    c->pause_ms > 0) {
				c->state = S_WAIT;
				c->deadline = now_ms() + c->pause_ms;
				return 0;
			}
			continue;
		}
		n = send(c->fd, c->out.p + c->opos, c->segs[c->seg] - c->opos,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1) {
			conn_close(c, 0);
			return 0;
		}
		c->opos += (size_t)n;
		g.last_activity = now_ms();
	}
	return 1;
}

/* Runs c as far as its input and the clock allow. */
static void
conn_advance(struct conn *c)
{
	for (;;) {
		switch (c->state) {
		case S_HEAD:
			if (c->in.len == 0 || parse_head(c) == 0)
				return;
			break;
		case S_BODY:
			if (parse_body(c) == 1)
				handle_request(c);
			else if (c->state == S_BODY)
				return;
			break;
		case S_WAIT:
			if (now_ms() < c->deadline)
				return;
			c->state = S_WRITE;
			break;
		case S_WRITE:
			if (!conn_write(c))
				return;
			if (c->closing == CL_RESET) {
				conn_close(c, 1);
				return;
			}
			if (c->closing == CL_CLOSE) {
				/*
				 * Shut the write side and read until EOF, so
				 * unread request bytes don't turn our FIN
				 * into a RST that could eat the reply.
				 */
				(void)shutdown(c->fd, SHUT_WR);
				c->state = S_DRAIN;
				c->deadline = now_ms() + LINGER_MS;
				return;
			}
			conn_next(c);
			break;
		default:
			return;
		}
	}
}

static void
conn_read(struct conn *c)
{
	char	scratch[4096];
	ssize_t	n;

	if (c->state == S_HANG || c->state == S_DRAIN) {
		n = recv(c->fd, scratch, sizeof(scratch), 0);
	} else {
		buf_reserve(&c->in, READ_SIZE + 1);
		n = recv(c->fd, c->in.p + c->in.len, READ_SIZE, 0);
		if (n > 0)
			c->in.len += (size_t)n;
	}
	if (n == -1 && (errno == EINTR || errno == EAGAIN ||
	    errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		conn_close(c, 0);
		return;
	}
	g.last_activity = now_ms();
}

static void
conn_free(struct conn *c)
{
	conn_close(c, 0);
	conn_next(c);
	jv_free(c->headers);
	buf_free(&c->in);
	free(c);
}

static void
set_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Returns 0, or -1 when out of descriptors. */
static int
accept_some(int lfd)
{
	struct conn	*c;
	int		 fd, i, one = 1;

	for (i = 0; i < ACCEPT_BURST; i++) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				return -1;
			return 0;
		}
		set_nonblock(fd);
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		c = xrealloc(NULL, sizeof(*c));
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->state = S_HEAD;
		c->headers = jv_null();
		if (g.nconns == g.conncap) {
			g.conncap = g.conncap ? g.conncap * 2 : 64;
			g.conns = xrealloc(g.conns,
			    g.conncap * sizeof(*g.conns));
		}
		g.conns[g.nconns++] = c;
		g.last_activity = now_ms();
	}
	return 0;
}

static void
on_signal(int sig)
{
	int	saved = errno;

	(void)sig;
	got_signal = 1;
	(void)write(sigpipe_fds[1], "x", 1);
	errno = saved;
}

static void
write_portfile(const char *path, int port)
{
	char	 tmp[PATH_MAX];
	FILE	*fp;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path,
	    (long)getpid()) >= sizeof(tmp))
		errx(1, "%s: path too long", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		err(1, "open '%s'", tmp);
	fprintf(fp, "%d\n", port);
	if (fflush(fp) == EOF || ferror(fp) || fclose(fp) == EOF)
		err(1, "write '%s'", tmp);
	if (rename(tmp, path) == -1)
		err(1, "rename '%s'", tmp);
}

static void
cleanup(void)
{
	size_t	i, j;

	for (i = 0; i < g.nconns; i++)
		conn_free(g.conns[i]);
	free(g.conns);
	for (i = 0; i < g.nroutes; i++) {
		for (j = 0; j < g.routes[i].nreplies; j++)
			reply_free(&g.routes[i].replies[j]);
		free(g.routes[i].replies);
		free(g.routes[i].match);
		free(g.routes[i].header);
	}
	free(g.rl_times);
	free(g.rl_match);
	free(g.routes);
	for (i = 0; i < g.nfixture; i++)
		reply_free(&g.fixture[i]);
	free(g.fixture);
	if (g.reqlog != NULL)
		fclose(g.reqlog);
}

static long
number(const char *s, long max, const char *what)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > max)
		errx(1, "bad %s: %s", what, s);
	return v;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct sigaction	 sa;
	struct rlimit		 rl;
	struct pollfd		*pfd = NULL;
	struct conn		*c;
	socklen_t		 slen;
	const char		*portfile = NULL, *script = NULL;
	const char		*fixture = NULL;
	char			 path[PATH_MAX], drain[64];
	int64_t			 now, idle_ms = 300 * 1000, t;
	size_t			 i, k, n, pfdcap = 0;
	int			 ch, lfd, one = 1, paused = 0, timeout;
	int			 seeded = 0;

	while ((ch = getopt(argc, argv, "c:df:hl:p:S:s:t:vw:")) != -1) {
		switch (ch) {
		case 'c':
			g.chunk = number(optarg, MAX_BODY, "chunk size");
			break;
		case 'd':
			/* Always in the foreground; see the top comment. */
			break;
		case 'f':
			fixture = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'l':
			g.logdir = optarg;
			break;
		case 'p':
			portfile = optarg;
			break;
		case 'S':
			g.rng = (uint64_t)number(optarg, LONG_MAX, "seed");
			seeded = 1;
			break;
		case 's':
			script = optarg;
			break;
		case 't':
			idle_ms = (int64_t)number(optarg, 86400 * 365,
			    "idle timeout") * 1000;
			break;
		case 'v':
			g.verbose = 1;
			break;
		case 'w':
			g.chunk_delay = number(optarg, 3600000, "chunk delay");
			break;
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);
	if (!seeded)
		g.rng = (uint64_t)getpid();
	g.rng = g.rng * 0x9E3779B97F4A7C15ULL + 1;	/* never zero */
	if (g.rng == 0)
		g.rng = 1;

	if (script != NULL)
		load_script(script);
	if (fixture != NULL)
		load_fixture(fixture);
	if (g.logdir != NULL) {
		if (mkdir(g.logdir, 0755) == -1 && errno != EEXIST)
			err(1, "mkdir '%s'", g.logdir);
		if ((size_t)snprintf(path, sizeof(path), "%s/requests.log",
		    g.logdir) >= sizeof(path))
			errx(1, "%s: path too long", g.logdir);
		if ((g.reqlog = fopen(path, "a")) == NULL)
			err(1, "open '%s'", path);
	}

	/* Many concurrent connections: raise the descriptor limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 &&
	    rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}

	if (pipe(sigpipe_fds) == -1)
		err(1, "pipe");
	set_nonblock(sigpipe_fds[0]);
	set_nonblock(sigpipe_fds[1]);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		err(1, "sigaction");
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "bind");
	if (listen(lfd, 1024) == -1)
		err(1, "listen");
	set_nonblock(lfd);
	slen = sizeof(sin);
	if (getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1)
		err(1, "getsockname");
	if (portfile != NULL)
		write_portfile(portfile, ntohs(sin.sin_port));

	g.last_activity = now_ms();
	while (!got_signal) {
		now = now_ms();
		t = g.last_activity + idle_ms;
		if (t <= now)
			break;
		if (pfdcap < g.nconns + 2) {
			pfdcap = g.nconns + 64;
			pfd = xrealloc(pfd, pfdcap * sizeof(*pfd));
		}
		pfd[0].fd = sigpipe_fds[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = paused ? -1 : lfd;
		pfd[1].events = POLLIN;
		n = g.nconns;
		for (i = 0; i < n; i++) {
			c = g.conns[i];
			pfd[i + 2].fd = c->fd;
			switch (c->state) {
			case S_WRITE:
				pfd[i + 2].events = POLLOUT;
				break;
			case S_WAIT:
				pfd[i + 2].events = 0;
				break;
			default:
				pfd[i + 2].events = POLLIN;
				break;
			}
			if ((c->state == S_WAIT || c->state == S_DRAIN) &&
			    c->deadline < t)
				t = c->deadline;
		}
		timeout = t - now > INT_MAX ? INT_MAX : (int)(t - now);
		if (timeout < 0)
			timeout = 0;
		if (poll(pfd, (nfds_t)(n + 2), timeout) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if (pfd[0].revents != 0)
			break;
		if (!paused && (pfd[1].revents & POLLIN))
			paused = accept_some(lfd) == -1;

		for (i = 0; i < n; i++) {
			c = g.conns[i];
			if (pfd[i + 2].revents == 0 || c->state == S_DEAD)
				continue;
			switch (c->state) {
			case S_HEAD:
			case S_BODY:
				conn_read(c);
				conn_advance(c);
				break;
			case S_HANG:
				conn_read(c);
				break;
			case S_DRAIN:
				conn_read(c);
				break;
			case S_WRITE:
				conn_advance(c);
				break;
			default:
				if (pfd[i + 2].revents &
				    (POLLERR | POLLHUP | POLLNVAL))
					conn_close(c, 0);
				break;
			}
		}

		now = now_ms();
		for (i = 0, k = 0; i < g.nconns; i++) {
			c = g.conns[i];
			if (c->state == S_WAIT && c->deadline <= now)
				conn_advance(c);
			else if (c->state == S_DRAIN && c->deadline <= now)
				conn_close(c, 0);
			if (c->state == S_DEAD) {
				conn_free(c);
				paused = 0;
			} else
				g.conns[k++] = c;
		}
		g.nconns = k;
	}
	while (read(sigpipe_fds[0], drain, sizeof(drain)) > 0)
		;

	free(pfd);
	close(lfd);
	close(sigpipe_fds[0]);
	close(sigpipe_fds[1]);
	cleanup();
	return 0;
}
