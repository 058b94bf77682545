/*
 * llm-send: send request records, write one response or error record each.
 *
 * The loop is curl's: keep up to -j records under way, poll their transfers
 * together with standard input, and write finished records in input order
 * (a window of slots bounded by -j) or, with -u, as they finish.  Input is
 * read only while the window has room, so memory stays bounded on any
 * input.  Which candidate a record tries next, and when, is the policy's
 * (lib/policy.h): a record waiting out a backoff, a cooldown or a rate
 * limit turn holds its slot with a "not before" time, and the wait in the
 * loop ends at the earliest of those.
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
#include "cache.h"
#include "catalog.h"
#include "config.h"
#include "dialect.h"
#include "errbuf.h"
#include "http.h"
#include "input.h"
#include "json.h"
#include "keyfile.h"
#include "policy.h"
#include "record.h"
#include "request.h"
#include "resolve.h"
#include "retry.h"
#include "send.h"
#include "state.h"
#include "tool.h"
#include "value.h"
#include "xalloc.h"

#define JOBS_DEFAULT	16
#define JOBS_MAX	1024

struct slot {
	jv			 rec;		/* the request */
	jv			 out;		/* the record to write */
	struct policy_record	 pr;		/* candidates, attempts */
	struct send_request	 sr;		/* for target sr_index */
	int			 sr_index;
	const char		*source;	/* the key of the attempt */
	struct http_transfer	*xfer;
	double			 not_before;	/* waiting until then, 0: not */
	int			 active;	/* started and not finished */
	int			 written;	/* -u: out already written */
	char			 key[CACHE_KEY_HEX + 1];	/* --cache */
	char			 key_ref[256];	/* the target the key is for */
};

struct opts {
	const char	*model;
	const char	*system;
	jv		 set;		/* -o KEY=VALUE */
	int		 jobs;
	int		 unordered;
	int		 dry_run;
	int		 cache;
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
static struct cache cache;
static const char *default_model;

static struct policy pol;
static struct state state;

static struct slot *ring;
static size_t ring_cap, ring_head, ring_len;
static int inflight, active;

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
	    "                [-s system] [--cache] [--dry-run] [--rate N/U] "
	    "[--retry n]\n"
	    "                [--retry-base secs] [--retry-cap secs] "
	    "[--retry-max-time secs]\n"
	    "                [--stats] [--timeout secs] [file ...]\n");
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
	/* The key's source (a variable's name, a keyfile entry), never it. */
	if (s->source)
		line = jv_object_set(line, jv_string("key"),
		    jv_string(s->source));
	line = jv_object_set(line, jv_string("attempt"),
	    jv_number(s->pr.attempts));
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

/* The slot is answered: its record is out, its attempts over. */
static void
finish(struct slot *s, jv out, int failed, int retriable)
{
	/* Only the first candidate's complete answer is the key's. */
	if (opt.cache && !failed && s->key[0] && !opt.dry_run) {
		char err[ERRBUF_MAX];

		if (cache_store(&cache, s->key, s->key_ref, out, err) == -1)
			tool_warn("%s; going on uncached", err);
	}
	s->out = out;
	send_request_release(&s->sr);
	s->sr_index = -1;
	s->source = NULL;		/* it was the policy record's */
	policy_record_release(&pol, &s->pr);
	s->not_before = 0;
	if (s->active) {
		s->active = 0;
		active--;
	}
	if (failed) {
		jv ids = jv_dump_string(json_get(out, "id"), 0);

		st.errors++;
		tool_count_error(retriable);
		tool_warn("record %s: %s", jv_string_value(ids),
		    record_error_message(out));
		jv_free(ids);
	} else
		st.ok++;
}

/* Every candidate failed, or none may go in time: the error record. */
static void
fail(struct slot *s)
{
	const struct send_failure *f;
	const char *provider;
	jv out;

	f = policy_failure(&s->pr, &provider);
	out = send_error(jv_copy(s->rec), provider, f);
	if (s->pr.attempts > 0)
		out = jv_object_set(out, jv_string("attempts"),
		    jv_number(s->pr.attempts));
	finish(s, out, 1, f->retriable);
}

/*
 * Makes the attempt the policy asked for: prepares the request for its
 * target (once per target), builds the headers with its key and starts
 * the transfer; echo answers at once.  Returns 0 when the record is under
 * way or answered, -1 when the attempt could not be made (the policy was
 * told, and picks again).
 */
static int
send_one(struct slot *s, const struct policy_step *ps)
{
	struct send_failure f;
	enum record_kind kind;
	char err[ERRBUF_MAX];
	struct curl_slist *hdrs;

	s->source = ps->source;
	if (s->sr_index != ps->index) {
		send_request_release(&s->sr);
		s->sr_index = -1;
		if (send_prepare(s->rec, ps->target, 0, &s->sr, &kind,
		    err) == -1) {
			send_request_release(&s->sr);
			send_fail(&f, kind, 0, 0, "%s", err);
			policy_unsent(&pol, &s->pr, &f);
			return -1;
		}
		s->sr_index = ps->index;
	}
	if (s->sr.dialect == &dialect_echo) {
		jv fields;

		st.requests++;
		dialect_echo_answer(s->sr.canon, &fields);
		log_attempt(s, ps->target, "ok", 0, json_get(fields, "usage"),
		    0);
		policy_succeeded(&pol, &s->pr, jv_invalid(), NULL,
		    http_now());
		finish(s, send_response(jv_copy(s->rec), ps->target, fields,
		    (http_now() - s->pr.started) * 1000, s->pr.attempts), 0,
		    0);
		return 0;
	}
	if ((hdrs = send_auth(&s->sr, &keys, ps->source, &f)) == NULL) {
		log_attempt(s, ps->target, record_kind_name(f.kind), 0,
		    jv_invalid(), 0);
		policy_unsent(&pol, &s->pr, &f);
		return -1;
	}
	st.requests++;
	s->xfer = http_post(&http, s->sr.url, hdrs, 1, s->sr.text, s->sr.len,
	    s, err);
	if (s->xfer == NULL) {
		send_fail(&f, RECORD_NETWORK, 0, 1, "%s", err);
		policy_failed(&pol, &s->pr, &f, NULL, http_now());
		return -1;
	}
	inflight++;
	return 0;
}

/* Asks the policy what the record does next, until it sends or waits. */
static void
step(struct slot *s)
{
	struct policy_step ps;

	s->not_before = 0;
	for (;;) {
		policy_next(&pol, &s->pr, http_now(), &ps);
		switch (ps.action) {
		case POLICY_WAIT:
			s->not_before = ps.at;
			return;
		case POLICY_FAIL:
			fail(s);
			return;
		case POLICY_SEND:
			if (send_one(s, &ps) == 0)
				return;
			break;
		}
	}
}

/*
 * --dry-run: the request for the first target it can be made for; no
 * key, no state, nothing sent.
 */
static void
dry_run(struct slot *s, jv cands)
{
	struct send_failure f;
	enum record_kind kind;
	char err[ERRBUF_MAX];
	int i, n = jv_array_length(jv_copy(cands));

	send_fail(&f, RECORD_CONFIG, 0, 0, "no target");
	for (i = 0; i < n; i++) {
		jv target = jv_array_get(jv_copy(cands), i);

		send_request_release(&s->sr);
		if (send_prepare(s->rec, target, 0, &s->sr, &kind,
		    err) == 0) {
			jv out = jv_object_set(jv_object_set(jv_object(),
			    jv_string("id"), json_get(s->rec, "id")),
			    jv_string("dry_run"), send_dry_run(&s->sr));

			out = jv_object_set(out, jv_string("model"),
			    json_get(target, "ref"));
			jv_free(target);
			jv_free(cands);
			finish(s, out, 0, 0);
			return;
		}
		send_fail(&f, kind, 0, 0, "%s", err);
		jv_free(target);
		if (kind == RECORD_BAD_INPUT)
			break;
	}
	jv_free(cands);
	finish(s, send_error(jv_copy(s->rec), NULL, &f), 1, 0);
}

/*
 * The candidates of a record that carries a resolution: its target's and
 * fallbacks' references resolved again here.  Borrows rec.  Returns the
 * array, or jv_invalid() with err.
 */
static jv
retarget(jv rec, char *err)
{
	jv refs = jv_array(), fb = json_get(rec, "fallbacks"), cands;
	jv t = json_get(rec, "target");
	int i, n;

	refs = jv_array_append(refs, json_get(t, "ref"));
	jv_free(t);
	n = jv_get_kind(fb) == JV_KIND_ARRAY ? jv_array_length(jv_copy(fb)) :
	    0;
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(fb), i);

		refs = jv_array_append(refs, json_get(e, "ref"));
		jv_free(e);
	}
	jv_free(fb);
	cands = jv_array();
	n = jv_array_length(jv_copy(refs));
	for (i = 0; i < n; i++) {
		jv ref = jv_array_get(jv_copy(refs), i);
		jv c = jv_get_kind(ref) == JV_KIND_STRING ?
		    resolve_target(&res, jv_string_value(ref), err) :
		    (errbuf_set(err, "a target without a \"ref\""),
		    jv_invalid());

		jv_free(ref);
		if (!jv_is_valid(c)) {
			jv_free(c);
			jv_free(cands);
			jv_free(refs);
			return jv_invalid();
		}
		cands = jv_array_append(cands, c);
	}
	jv_free(refs);
	return cands;
}

/* A new record: resolve it and start its first attempt. */
static void
start(struct slot *s)
{
	jv rec = s->rec, r, cands;
	int failed;

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
		/*
		 * A record's target is taken as the references it names,
		 * resolved here again: never its URL, keys or headers, which
		 * would let a record run commands or send keys anywhere.
		 */
		char err[ERRBUF_MAX];

		if (!jv_is_valid(cands = retarget(rec, err))) {
			s->rec = jv_null();
			rec = jv_object_delete(jv_object_delete(rec,
			    jv_string("target")), jv_string("fallbacks"));
			finish(s, record_error(rec, RECORD_CONFIG, 0, NULL, 0,
			    err), 1, 0);
			return;
		}
		rec = jv_object_delete(jv_object_delete(rec,
		    jv_string("target")), jv_string("fallbacks"));
		s->rec = rec;
	} else {
		r = resolve_request(&res, rec, default_model, &failed);
		if (failed) {
			s->rec = jv_null();
			finish(s, r, 1, 0);
			return;
		}
		cands = jv_array_append(jv_array(), json_get(r, "target"));
		cands = jv_array_concat(cands, json_get(r, "fallbacks"));
		s->rec = jv_object_delete(jv_object_delete(r,
		    jv_string("target")), jv_string("fallbacks"));
	}
	if (opt.cache && !opt.dry_run) {
		jv t = jv_array_get(jv_copy(cands), 0), hit;
		char err[ERRBUF_MAX];
		int got = cache_fetch(&cache, s->rec, t, s->key, &hit, err);

		snprintf(s->key_ref, sizeof(s->key_ref), "%s",
		    json_peek_string(t, "ref") ? json_peek_string(t, "ref") :
		    "");
		jv_free(t);
		if (got == -1)
			tool_warn("%s; going on uncached", err);
		if (got == CACHE_HIT) {
			s->key[0] = '\0';	/* nothing to store again */
			jv_free(cands);
			finish(s, hit, 0, 0);
			return;
		}
	}
	if (opt.dry_run) {
		dry_run(s, cands);
		return;
	}
	s->active = 1;
	active++;
	policy_record_init(&pol, &s->pr, s->rec, cands, http_now());
	step(s);
}

static void
complete(struct http_transfer *t)
{
	struct slot *s = t->user;
	struct send_failure f;
	jv target = jv_copy(s->sr.target), fields;
	double ms = (http_now() - t->started) * 1000;

	s->xfer = NULL;
	inflight--;
	if (send_result(&s->sr, t, &fields, &f) == 0) {
		jv usage = json_get(fields, "usage"), c;
		double v, usd = 0;

		if (json_peek_number(usage, "input", &v))
			st.in_tokens += v;
		if (json_peek_number(usage, "output", &v))
			st.out_tokens += v;
		note_latency(ms);
		policy_succeeded(&pol, &s->pr, usage, t, http_now());
		s->out = send_response(jv_copy(s->rec), target, fields,
		    (http_now() - s->pr.started) * 1000, s->pr.attempts);
		c = json_get(s->out, "cost");
		json_peek_number(c, "usd", &usd);
		st.usd += usd;
		log_attempt(s, target, "ok", ms, usage, usd);
		jv_free(c);
		finish(s, s->out, 0, 0);
	} else {
		char status[32];

		snprintf(status, sizeof(status), "%d", f.status);
		log_attempt(s, target, f.status ? status :
		    record_kind_name(f.kind), ms, jv_invalid(), 0);
		policy_failed(&pol, &s->pr, &f, t, http_now());
		step(s);
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
slot_init(struct slot *s, jv rec)
{
	memset(s, 0, sizeof(*s));
	s->rec = rec;
	s->out = s->pr.rec = jv_invalid();
	s->sr.target = s->sr.canon = s->sr.body = s->sr.headers =
	    jv_invalid();
	s->sr_index = -1;
}

static void
slot_clear(struct slot *s)
{
	jv_free(s->rec);
	send_request_release(&s->sr);
	policy_record_release(&pol, &s->pr);
	if (s->active)
		active--;
	slot_init(s, jv_invalid());
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

/* Passes on, once, what the shared state had to say. */
static void
state_warnings(void)
{
	const char *w;

	if ((w = state_warning(&state)) != NULL)
		tool_warn("%s", w);
}

/*
 * Starts the records whose wait is over; returns the earliest wait still
 * running (monotonic), or 0.
 */
static double
wake(void)
{
	double now = http_now(), next = 0;
	size_t i;

	for (i = 0; i < ring_len; i++) {
		struct slot *s = slot_at(i);

		if (!s->active || s->xfer || s->not_before == 0)
			continue;
		if (s->not_before <= now) {
			step(s);
			now = http_now();
		}
		if (s->active && !s->xfer && s->not_before > 0 &&
		    (next == 0 || s->not_before < next))
			next = s->not_before;
	}
	return next;
}

static void
run(struct input *in)
{
	char err[ERRBUF_MAX];
	int eof = 0, ready, got, stdin_flags = -1, ms;
	size_t window = (size_t)opt.jobs * 2 + 16;
	struct http_transfer *t;
	double next;
	jv rec;

	ring_cap = window;
	ring = xcalloc(ring_cap, sizeof(*ring));
	if (in->nfiles == 0)
		stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
	/* Pipes and FIFOs must not block the transfers while they wait. */
	input_set_nonblock(in);
	for (;;) {
		/* -j bounds the records under way, waiting ones included. */
		while (!eof && !tool_interrupted && ring_len < window &&
		    active < opt.jobs) {
			struct slot *s;

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
			s = slot_at(ring_len++);
			slot_init(s, rec);
			if (got == INPUT_BAD) {
				/* rec is the error record already. */
				s->rec = jv_null();
				finish(s, rec, 1, 0);
			} else
				start(s);
		}
		next = wake();
		state_warnings();
		drain();
		progress(0);
		if ((eof || tool_interrupted) && active == 0)
			break;
		if (tool_interrupted)
			break;
		/* Sleep no later than the earliest wait's end. */
		ms = inflight ? 1000 : 60000;
		if (next > 0) {
			double d = ceil((next - http_now()) * 1000);

			if (d < ms)
				ms = d < 0 ? 0 : (int)d;
		}
		if (http_wait(&http, eof || ring_len >= window ||
		    active >= opt.jobs || in->fd < 0 ? -1 : in->fd,
		    ms, &ready, err) == -1) {
			tool_warn("%s", err);
			break;
		}
		while ((t = http_done(&http)) != NULL)
			complete(t);
	}
	/* Interrupted: abandon records under way; their answers are lost. */
	while (ring_len > 0) {
		struct slot *s = slot_at(0);

		if (s->xfer) {
			http_abort(&http, s->xfer);
			s->xfer = NULL;
		}
		if (jv_is_valid(s->out))
			jv_free(s->out);
		s->out = jv_invalid();
		slot_clear(s);
		ring_head = (ring_head + 1) % ring_cap;
		ring_len--;
	}
	state_warnings();
	free(ring);
	if (stdin_flags != -1)
		fcntl(STDIN_FILENO, F_SETFL, stdin_flags);
	progress(1);
}

/* --retry-base, --retry-cap, --retry-max-time: seconds, fractions too. */
static int
seconds_arg(int ch, const char *arg)
{
	const char *name = ch == 'B' ? "--retry-base" : ch == 'C' ?
	    "--retry-cap" : "--retry-max-time";
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (*end || end == arg || errno || !(v >= 0) || v > 1e7 ||
	    (ch != 'M' && v == 0)) {
		tool_warn("%s: expected seconds, got '%s'", name, arg);
		return -1;
	}
	if (ch == 'B')
		pol.retry.base = v;
	else if (ch == 'C')
		pol.retry.cap = v;
	else
		pol.retry.max_time = v;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "cache", no_argument, NULL, 'K' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "rate", required_argument, NULL, 'A' },
		{ "retry", required_argument, NULL, 'R' },
		{ "retry-base", required_argument, NULL, 'B' },
		{ "retry-cap", required_argument, NULL, 'C' },
		{ "retry-max-time", required_argument, NULL, 'M' },
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
	policy_init(&pol);
	state.dfd = -1;
	while ((ch = getopt_long(argc, argv, "F:hj:m:o:s:TtuV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'A':
			if (retry_rate_parse(optarg, &pol.rate.n,
			    &pol.rate.period) == -1) {
				tool_warn("--rate: expected N/U (U one of s, "
				    "m, h, d), got '%s'", optarg);
				return tool_finish(TOOL_EXIT_USAGE);
			}
			pol.rate.burst = 1;
			break;
		case 'B':
		case 'C':
		case 'M':
			if (seconds_arg(ch, optarg) == -1)
				return tool_finish(TOOL_EXIT_USAGE);
			break;
		case 'K':
			opt.cache = 1;
			break;
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
		case 'R':
			n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 0 ||
			    n > RETRY_MAX_RETRIES) {
				tool_warn("--retry: expected 0 to %d, got '%s'",
				    RETRY_MAX_RETRIES, optarg);
				return tool_finish(TOOL_EXIT_USAGE);
			}
			pol.retry.retries = (int)n;
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
	if (opt.cache && cache_open(&cache, err) == -1) {
		tool_warn("%s", err);
		goto cleanup;
	}
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
	http_set_wake_fd(&http, tool_signal_fd());
	pol.timeout = (double)opt.timeout;
	pol.keys = &keys;
	/* Cooldowns and rate limits are shared; alone is a warning. */
	if (!opt.dry_run && state_open(&state, NULL, err) == -1)
		tool_warn("%s", err);
	pol.state = &state;
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
	if (opt.cache) {
		if (cache.dir && cache_flush(&cache, err) == -1)
			tool_warn("%s", err);
		cache_close(&cache);
	}
	state_close(&state);
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
