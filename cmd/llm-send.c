/*
 * llm-send: send request records, write one response or error record each.
 *
 * The loop is curl's: keep up to -j transfers in flight, poll them together
 * with standard input, and write finished records in input order (a window
 * of slots bounded by -j) or, with -u, as they finish.  Input is read only
 * while the window has room, so memory stays bounded on any input.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "catalog.h"
#include "config.h"
#include "dialect.h"
#include "errbuf.h"
#include "http.h"
#include "input.h"
#include "json.h"
#include "keyfile.h"
#include "record.h"
#include "request.h"
#include "resolve.h"
#include "send.h"
#include "tool.h"
#include "value.h"
#include "xalloc.h"

#define JOBS_DEFAULT	16
#define JOBS_MAX	1024

struct slot {
	jv			 rec;		/* the request */
	jv			 out;		/* the record to write, when done */
	jv			 cands;		/* target, then fallbacks */
	int			 cand;		/* the candidate being tried */
	int			 attempts;
	int			 transient;	/* every failure was transient */
	double			 started;
	struct send_request	 sr;
	struct http_transfer	*xfer;
	struct send_failure	 last;
	int			 written;	/* -u: out already written */
};

struct opts {
	const char	*model;
	const char	*system;
	jv		 set;		/* -o KEY=VALUE */
	int		 jobs;
	int		 unordered;
	int		 dry_run;
	int		 stats;
	long		 timeout;
	enum input_mode	 mode;
};

struct stats {
	unsigned long	 requests, ok, errors;
	double		 in_tokens, out_tokens, usd;
	double		*lat;
	size_t		 nlat, caplat;
	double		 start;
};

static struct opts opt;
static struct stats st;
static struct resolver res;
static struct http http;
static struct send_keys keys;
static int logfd = -1;
static const char *default_model;

static struct slot *ring;
static size_t ring_cap, ring_head, ring_len;
static int inflight;

/* "config:NAME" key sources read the configuration this process loaded. */
static char *
config_key(const char *name)
{
	return resolver_config_key(&res, name);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: llm-send [-hTtuV] [-F ref,...] [-j jobs] [-m model] "
	    "[-o key=value]\n"
	    "                [-s system] [--dry-run] [--stats] "
	    "[--timeout secs] [file ...]\n");
}

/* Request fields -o sets directly; any other key goes into "params". */
static const char *const top_fields[] = {
	"max_tokens", "temperature", "top_p", "stop", "thinking",
	"tool_choice", "response_format", "system", "tools", NULL
};

static int
parse_set(const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *const *f;
	char *key;
	jv v;
	int top = 0;

	if (eq == NULL || eq == arg)
		return -1;
	key = xstrndup(arg, (size_t)(eq - arg));
	/* The model is -m's job: as a param it would only rename the id. */
	if (strcmp(key, "model") == 0) {
		free(key);
		return -1;
	}
	v = jv_parse(eq + 1);
	if (!jv_is_valid(v)) {
		jv_free(v);
		v = jv_string(eq + 1);	/* not JSON: a string */
	}
	for (f = top_fields; *f; f++)
		top |= strcmp(*f, key) == 0;
	if (top)
		opt.set = jv_object_set(opt.set, jv_string(key), v);
	else {
		jv p = json_get(opt.set, "params");

		if (jv_get_kind(p) != JV_KIND_OBJECT) {
			jv_free(p);
			p = jv_object();
		}
		opt.set = jv_object_set(opt.set, jv_string("params"),
		    jv_object_set(p, jv_string(key), v));
	}
	free(key);
	return 0;
}

/* -s and -o fill what the record leaves out; the record wins. */
static jv
apply_defaults(jv rec)
{
	int it;

	if (opt.system && json_peek_kind(rec, "system") == JV_KIND_INVALID)
		rec = jv_object_set(rec, jv_string("system"),
		    jv_string(opt.system));
	for (it = jv_object_iter(opt.set); jv_object_iter_valid(opt.set, it);
	    it = jv_object_iter_next(opt.set, it)) {
		jv k = jv_object_iter_key(opt.set, it);
		jv v = jv_object_iter_value(opt.set, it);
		jv old = jv_object_get(jv_copy(rec), jv_copy(k));

		if (strcmp(jv_string_value(k), "params") == 0)
			rec = jv_object_set(rec, k, json_merge(v,
			    jv_get_kind(old) == JV_KIND_OBJECT ? old :
			    (jv_free(old), jv_object())));
		else if (!jv_is_valid(old))
			rec = jv_object_set(rec, k, v);
		else {
			jv_free(old);
			jv_free(k);
			jv_free(v);
		}
	}
	return rec;
}

static void
log_attempt(struct slot *s, jv target, const char *status, double ms,
    jv usage, double usd)
{
	struct buf b;
	struct timespec ts;
	jv line;

	if (logfd == -1) {
		jv_free(usage);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	line = jv_object();
	line = jv_object_set(line, jv_string("ts"), jv_number(
	    (double)ts.tv_sec + floor((double)ts.tv_nsec / 1e6) / 1e3));
	line = jv_object_set(line, jv_string("id"), json_get(s->rec, "id"));
	line = jv_object_set(line, jv_string("target"),
	    json_get(target, "ref"));
	line = jv_object_set(line, jv_string("attempt"),
	    jv_number(s->attempts));
	line = jv_object_set(line, jv_string("status"), jv_string(status));
	line = jv_object_set(line, jv_string("latency_ms"),
	    jv_number(round(ms)));
	if (jv_is_valid(usage))
		line = jv_object_set(line, jv_string("usage"), usage);
	line = jv_object_set(line, jv_string("cost_usd"), jv_number(usd));
	buf_init(&b, 0);
	json_write(&b, line);
	buf_putc(&b, '\n');
	/* One write per line: O_APPEND keeps lines of processes apart. */
	(void)!write(logfd, b.data, b.len);
	buf_release(&b);
	jv_free(line);
}

static void
note_latency(double ms)
{
	if (st.nlat == st.caplat) {
		st.caplat = st.caplat ? st.caplat * 2 : 1024;
		st.lat = xrealloc(st.lat, st.caplat * sizeof(*st.lat));
	}
	st.lat[st.nlat++] = ms;
}

/* The slot is answered: its record is out, its transfer state gone. */
static void
finish(struct slot *s, jv out, int failed, int retriable)
{
	s->out = out;
	send_request_release(&s->sr);
	if (failed) {
		st.errors++;
		tool_count_error(retriable);
		{
			jv ids = jv_dump_string(json_get(out, "id"), 0);

			tool_warn("record %s: %s", jv_string_value(ids),
			    record_error_message(out));
			jv_free(ids);
		}
	} else
		st.ok++;
}

static void try_next(struct slot *s);

/* Starts (or, for echo and --dry-run, completes) the current candidate. */
static void
attempt(struct slot *s)
{
	jv target = jv_array_get(jv_copy(s->cands), s->cand);
	enum record_kind kind;
	char err[ERRBUF_MAX];
	struct curl_slist *hdrs;

	send_request_release(&s->sr);
	if (send_prepare(s->rec, target, 0, &s->sr, &kind, err) == -1) {
		send_fail(&s->last, kind, 0, 0, "%s", err);
		s->transient = 0;
		jv_free(target);
		/* A request the record cannot make fails on every target. */
		if (kind == RECORD_BAD_INPUT)
			s->cand = jv_array_length(jv_copy(s->cands));
		try_next(s);
		return;
	}
	if (opt.dry_run) {
		jv out = jv_object_set(jv_object_set(jv_object(),
		    jv_string("id"), json_get(s->rec, "id")),
		    jv_string("dry_run"), send_dry_run(&s->sr));

		out = jv_object_set(out, jv_string("model"),
		    json_get(target, "ref"));
		jv_free(target);
		finish(s, out, 0, 0);
		return;
	}
	if (s->sr.dialect == &dialect_echo) {
		s->attempts++;
		st.requests++;
		jv fields;

		dialect_echo_answer(s->sr.canon, &fields);
		log_attempt(s, target, "ok", 0, json_get(fields, "usage"), 0);
		finish(s, send_response(jv_copy(s->rec), target, fields,
		    (http_now() - s->started) * 1000, s->attempts), 0, 0);
		jv_free(target);
		return;
	}
	hdrs = send_auth(&s->sr, &keys, &s->last);
	if (hdrs == NULL) {
		s->transient = 0;
		log_attempt(s, target, record_kind_name(s->last.kind), 0,
		    jv_invalid(), 0);
		jv_free(target);
		try_next(s);
		return;
	}
	s->attempts++;
	st.requests++;
	s->xfer = http_post(&http, s->sr.url, hdrs, 1, s->sr.text, s->sr.len,
	    s, err);
	if (s->xfer == NULL) {
		send_fail(&s->last, RECORD_NETWORK, 0, 1, "%s", err);
		jv_free(target);
		try_next(s);
		return;
	}
	inflight++;
	jv_free(target);
}

/* After a failure: the next candidate, or the error record. */
static void
try_next(struct slot *s)
{
	int n = jv_array_length(jv_copy(s->cands));

	if (!s->last.retriable)
		s->transient = 0;
	if (++s->cand < n) {
		attempt(s);
		return;
	}
	{
		jv t = jv_array_get(jv_copy(s->cands), s->cand - 1 < 0 ? 0 :
		    (s->cand > n ? n - 1 : s->cand - 1));
		const char *provider = json_peek_string(t, "provider");
		jv out;

		s->last.retriable = s->transient;
		/* Several candidates, all failed: say so, keep the last why. */
		if (n > 1 && s->last.kind != RECORD_BAD_INPUT) {
			struct buf msg;

			buf_init(&msg, sizeof(s->last.message) - 1);
			buf_printf(&msg, "all %d candidates failed; last, %s: ",
			    n, json_peek_string(t, "ref"));
			/* Cut to fit: the record's message has a ceiling. */
			buf_append(&msg, s->last.message, strlen(
			    s->last.message) < msg.max - msg.len ?
			    strlen(s->last.message) : msg.max - msg.len);
			memcpy(s->last.message, buf_cstr(&msg), msg.len + 1);
			buf_release(&msg);
			s->last.kind = RECORD_EXHAUSTED;
		}
		out = send_error(jv_copy(s->rec), provider, &s->last);
		if (s->attempts > 0)
			out = jv_object_set(out, jv_string("attempts"),
			    jv_number(s->attempts));
		jv_free(t);
		finish(s, out, 1, s->transient);
	}
	free(s->last.retry_after);
	s->last.retry_after = NULL;
}

/* A new record: resolve it and start its first attempt. */
static void
start(struct slot *s)
{
	jv rec = s->rec, r;
	int failed;

	s->started = http_now();
	s->transient = 1;
	if (record_is_response(rec)) {
		finish(s, jv_copy(rec), 0, 0);
		return;
	}
	/* An error record is tried afresh: resolved again, error dropped. */
	if (record_is_error(rec)) {
		rec = jv_object_delete(rec, jv_string("error"));
		rec = jv_object_delete(rec, jv_string("target"));
		rec = jv_object_delete(rec, jv_string("fallbacks"));
		rec = jv_object_delete(rec, jv_string("attempts"));
	}
	rec = apply_defaults(rec);
	if (json_peek_kind(rec, "target") == JV_KIND_OBJECT) {
		jv fb = json_get(rec, "fallbacks");

		s->cands = jv_array_append(jv_array(), json_get(rec, "target"));
		if (jv_get_kind(fb) == JV_KIND_ARRAY)
			s->cands = jv_array_concat(s->cands, fb);
		else
			jv_free(fb);
		s->rec = rec;
	} else {
		r = resolve_request(&res, rec, default_model, &failed);
		if (failed) {
			s->rec = jv_null();
			finish(s, r, 1, 0);
			return;
		}
		s->cands = jv_array_append(jv_array(), json_get(r, "target"));
		s->cands = jv_array_concat(s->cands, json_get(r, "fallbacks"));
		s->rec = jv_object_delete(jv_object_delete(r,
		    jv_string("target")), jv_string("fallbacks"));
	}
	attempt(s);
}

static void
complete(struct http_transfer *t)
{
	struct slot *s = t->user;
	jv target = jv_copy(s->sr.target), fields;
	double ms = (http_now() - t->started) * 1000;

	s->xfer = NULL;
	inflight--;
	if (send_result(&s->sr, t, &fields, &s->last) == 0) {
		jv usage = json_get(fields, "usage");
		double v;

		if (json_peek_number(usage, "input", &v))
			st.in_tokens += v;
		if (json_peek_number(usage, "output", &v))
			st.out_tokens += v;
		note_latency(ms);
		s->out = send_response(jv_copy(s->rec), target, fields,
		    (http_now() - s->started) * 1000, s->attempts);
		{
			jv c = json_get(s->out, "cost");
			double usd = 0;

			json_peek_number(c, "usd", &usd);
			st.usd += usd;
			log_attempt(s, target, "ok", ms, usage, usd);
			jv_free(c);
		}
		finish(s, s->out, 0, 0);
	} else {
		char status[32];

		snprintf(status, sizeof(status), "%d", s->last.status);
		log_attempt(s, target, s->last.status ? status :
		    record_kind_name(s->last.kind), ms, jv_invalid(), 0);
		try_next(s);
	}
	jv_free(target);
	http_transfer_free(t);
}

static struct slot *
slot_at(size_t i)
{
	return &ring[(ring_head + i) % ring_cap];
}

static void
slot_clear(struct slot *s)
{
	jv_free(s->rec);
	jv_free(s->cands);
	send_request_release(&s->sr);
	free(s->last.retry_after);
	memset(s, 0, sizeof(*s));
	s->rec = s->out = s->cands = jv_invalid();
}

/*
 * Writes finished records: from the head in input order; with -u, any
 * finished one at once (its slot is freed when it reaches the head).
 */
static void
drain(void)
{
	struct slot *s;
	size_t i;

	if (opt.unordered)
		for (i = 0; i < ring_len; i++) {
			s = slot_at(i);
			if (!s->written && jv_is_valid(s->out)) {
				tool_emit(s->out);
				s->out = jv_invalid();
				s->written = 1;
			}
		}
	while (ring_len > 0 && ((s = slot_at(0))->written ||
	    jv_is_valid(s->out))) {
		if (!s->written)
			tool_emit(s->out);
		s->out = jv_invalid();
		slot_clear(s);
		ring_head = (ring_head + 1) % ring_cap;
		ring_len--;
	}
}

static void
print_stats(void)
{
	double p50 = 0, p95 = 0, secs = http_now() - st.start;
	size_t i, j;

	/* Insertion sort is fine for a summary; n is the number of answers. */
	for (i = 1; i < st.nlat; i++)
		for (j = i; j > 0 && st.lat[j - 1] > st.lat[j]; j--) {
			double t = st.lat[j];

			st.lat[j] = st.lat[j - 1];
			st.lat[j - 1] = t;
		}
	if (st.nlat) {
		p50 = st.lat[(st.nlat - 1) / 2];
		p95 = st.lat[(size_t)ceil(0.95 * (double)st.nlat) - 1];
	}
	fprintf(stderr, "%s: %lu requests, %lu ok, %lu errors, "
	    "%.0f input + %.0f output tokens, $%.6f, "
	    "latency p50 %.0f ms p95 %.0f ms, %.1f s\n", tool_name,
	    st.requests, st.ok, st.errors, st.in_tokens, st.out_tokens,
	    st.usd, p50, p95, secs);
}

static void
progress(int final)
{
	static double last;
	double now = http_now();

	if (!isatty(STDERR_FILENO) || (!final && now - last < 0.2))
		return;
	last = now;
	fprintf(stderr, "\r%s: %lu done, %d in flight, %.1f/s%s",
	    tool_name, st.ok + st.errors, inflight,
	    (double)(st.ok + st.errors) / (now - st.start + 1e-9),
	    final ? "\n" : "   ");
}

static void
run(struct input *in)
{
	char err[ERRBUF_MAX];
	int eof = 0, ready, got, stdin_flags = -1;
	size_t window = (size_t)opt.jobs * 2 + 16;
	struct http_transfer *t;
	jv rec;

	ring_cap = window;
	ring = xcalloc(ring_cap, sizeof(*ring));
	if (in->nfiles == 0)
		stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
	/* Pipes and FIFOs must not block the transfers while they wait. */
	input_set_nonblock(in);
	for (;;) {
		while (!eof && !tool_interrupted && ring_len < window &&
		    inflight < opt.jobs) {
			got = input_next(in, &rec, err);
			if (got == INPUT_AGAIN)
				break;
			if (got == INPUT_EOF) {
				eof = 1;
				break;
			}
			if (got == INPUT_FAIL) {
				tool_warn("%s", err);
				tool_count_error(0);
				continue;
			}
			{
				struct slot *s = slot_at(ring_len++);

				memset(s, 0, sizeof(*s));
				s->out = s->cands = jv_invalid();
				s->sr.target = s->sr.canon = s->sr.body =
				    s->sr.headers = jv_invalid();
				s->rec = rec;
				if (got == INPUT_BAD) {
					s->rec = jv_null();
					send_fail(&s->last, RECORD_BAD_INPUT,
					    0, 0, "%s",
					    record_error_message(rec));
					finish(s, rec, 1, 0);
				} else
					start(s);
			}
		}
		drain();
		progress(0);
		if ((eof || tool_interrupted) && inflight == 0)
			break;
		if (tool_interrupted)
			break;
		if (http_wait(&http, eof || ring_len >= window ||
		    inflight >= opt.jobs || in->fd < 0 ? -1 : in->fd,
		    inflight ? 1000 : 60000, &ready, err) == -1) {
			tool_warn("%s", err);
			break;
		}
		while ((t = http_done(&http)) != NULL)
			complete(t);
	}
	/* Interrupted: abandon transfers still running; their records lost. */
	while (ring_len > 0) {
		struct slot *s = slot_at(0);

		if (s->xfer)
			http_abort(&http, s->xfer);
		if (jv_is_valid(s->out))
			jv_free(s->out);
		slot_clear(s);
		ring_head = (ring_head + 1) % ring_cap;
		ring_len--;
	}
	free(ring);
	if (stdin_flags != -1)
		fcntl(STDIN_FILENO, F_SETFL, stdin_flags);
	progress(1);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'D' },
		{ "stats", no_argument, NULL, 'Z' },
		{ "timeout", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	struct catalog cat;
	struct config cfg;
	struct input in;
	char err[ERRBUF_MAX], *end;
	const char *fallbacks = NULL, *logpath;
	int ch, status = TOOL_EXIT_USAGE;
	long n;

	tool_init("llm-send");
	opt.jobs = JOBS_DEFAULT;
	opt.set = jv_object();
	opt.timeout = 600;
	while ((ch = getopt_long(argc, argv, "F:hj:m:o:s:TtuV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'D':
			opt.dry_run = 1;
			break;
		case 'F':
			fallbacks = optarg;
			break;
		case 'h':
			usage(stdout);
			jv_free(opt.set);
			return tool_finish(0);
		case 'j':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > JOBS_MAX) {
				tool_warn("-j: expected 1 to %d, got '%s'",
				    JOBS_MAX, optarg);
				return tool_finish(TOOL_EXIT_USAGE);
			}
			opt.jobs = (int)n;
			break;
		case 'm':
			opt.model = optarg;
			break;
		case 'o':
			if (parse_set(optarg) == -1) {
				tool_warn("-o: expected key=value (not "
				    "model=, use -m), got '%s'", optarg);
				return tool_finish(TOOL_EXIT_USAGE);
			}
			break;
		case 's':
			opt.system = optarg;
			break;
		case 'T':
			opt.mode = INPUT_WHOLE;
			break;
		case 't':
			opt.mode = INPUT_LINES;
			break;
		case 'u':
			opt.unordered = 1;
			break;
		case 'V':
			printf("llm-send %s\n", VERSION);
			return tool_finish(0);
		case 'W':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1) {
				tool_warn("--timeout: expected seconds, got "
				    "'%s'", optarg);
				return tool_finish(TOOL_EXIT_USAGE);
			}
			opt.timeout = n;
			break;
		case 'Z':
			opt.stats = 1;
			break;
		default:
			usage(stderr);
			return tool_finish(TOOL_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;

	if (catalog_open(&cat, err) == -1)
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	if (config_load(&cfg, err) == -1) {
		catalog_release(&cat);
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	}
	resolver_init(&res, &cat, &cfg);
	value_config_lookup = config_key;
	/* keyfile:NAME sources: opened and unlocked once, on first use. */
	keyfile_install_lookup();
	memset(&http, 0, sizeof(http));
	if (fallbacks && resolver_add_fallbacks(&res, fallbacks, err) == -1) {
		tool_warn("-F: %s", err);
		goto cleanup;
	}
	default_model = opt.model;
	if (default_model == NULL && (default_model = getenv("LLM_MODEL")) &&
	    *default_model == '\0')
		default_model = NULL;
	if (default_model == NULL)
		default_model = json_peek_string(cfg.defaults, "model");
	if (http_init(&http, err) == -1) {
		tool_warn("%s", err);
		goto cleanup;
	}
	http.timeout_ms = opt.timeout * 1000;
	http_set_parallel(&http, opt.jobs);
	if ((logpath = getenv("LLM_LOG")) != NULL && *logpath &&
	    (logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		tool_warn("LLM_LOG: open '%s': %s", logpath, strerror(errno));
	st.start = http_now();
	input_init(&in, argv, argc, opt.mode);
	run(&in);
	input_release(&in);
	if (opt.stats)
		print_stats();
	status = tool_status();
cleanup:
	if (logfd != -1)
		close(logfd);
	send_keys_release(&keys);
	keyfile_uninstall_lookup();
	if (http.multi)
		http_release(&http);
	free(st.lat);
	jv_free(opt.set);
	resolver_release(&res);
	config_release(&cfg);
	catalog_release(&cat);
	return tool_finish(status);
}
