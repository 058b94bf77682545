/*
 * engine: see engine.h.  The records under way sit in a ring of slots in
 * input order; each slot is a record from its resolution to its last
 * output.  A slot's memory never moves while its record is under way, so
 * a transfer can point at it; slots come from a pool the size of the
 * window.
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

#include "dialect.h"
#include "engine.h"
#include "errbuf.h"
#include "json.h"
#include "keyfile.h"
#include "record.h"
#include "tool.h"
#include "value.h"
#include "xalloc.h"

#define LINGER_SECS	2.0		/* an answered transfer may end */
#define LINGER_BYTES	(64u << 10)	/* ... and send this much more */

/* What engine_open did, for engine_close. */
#define OPEN_CATALOG	0x1
#define OPEN_CONFIG	0x2
#define OPEN_KEYS	0x4

/* What a record's last output is. */
enum output {
	OUT_ANSWER,	/* a response record */
	OUT_ERROR,	/* an error record */
	OUT_ASIS	/* passed through, or a dry run */
};

struct engine_slot {
	struct engine		*e;
	jv			 rec;		/* the request */
	jv			 id;
	jv			 out;		/* whole: the record to write */
	struct policy_record	 pr;		/* candidates, attempts */
	struct send_request	 sr;		/* for target sr_index */
	int			 sr_index;
	const char		*source;	/* the key of the attempt */
	struct http_transfer	*xfer;
	double			 sent;		/* when the attempt went */
	double			 not_before;	/* waiting until then, 0: not */
	int			 active;	/* started and not finished */
	int			 done;		/* its last output is made */
	char			 key[CACHE_KEY_HEX + 1];	/* --cache */
	char			 key_ref[256];	/* the target the key is for */

	/* Streaming: the attempt's body, read as it comes. */
	struct dialect_stream	 ds;
	int			 ds_on;		/* ds holds the attempt's */
	long			 code;		/* HTTP status, 0 before a byte */
	double			 first_byte;	/* monotonic, 0 before */
	double			 last_byte;
	int			 content;	/* a content event went out */
	int			 broken;	/* the stream failed: sf */
	struct send_failure	 sf;
	double			 linger;	/* answered: cut the transfer then */
	size_t			 after;		/* bytes read after the answer */
	jv			 held;		/* events waiting for their turn */
};

/* The engine whose configuration "config:NAME" key sources read. */
static struct engine *current;

static void	step(struct engine_slot *);

static char *
config_key(const char *name)
{
	return resolver_config_key(&current->res, name);
}

static jv
set(jv o, const char *k, jv v)
{
	return jv_object_set(o, jv_string(k), v);
}

/* dst with src's members but "id" (consumed) after its own. */
static jv
put_all(jv dst, jv src)
{
	return json_merge(dst, jv_object_delete(src, jv_string("id")));
}

static struct engine_slot *
slot_at(struct engine *e, size_t i)
{
	return e->ring[(e->ring_head + i) % e->ring_cap];
}

static void
log_attempt(struct engine_slot *s, jv target, const char *status, double ms,
    jv usage, double usd)
{
	struct engine *e = s->e;
	struct buf b;
	struct timespec ts;
	jv line;

	if (e->logfd == -1) {
		jv_free(usage);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	line = set(jv_object(), "ts", jv_number((double)ts.tv_sec +
	    floor((double)ts.tv_nsec / 1e6) / 1e3));
	line = set(line, "id", json_get(s->rec, "id"));
	line = set(line, "target", json_get(target, "ref"));
	/* The key's source (a variable's name, a keyfile entry), never it. */
	if (s->source)
		line = set(line, "key", jv_string(s->source));
	line = set(line, "attempt", jv_number(s->pr.attempts));
	line = set(line, "status", jv_string(status));
	line = set(line, "latency_ms", jv_number(round(ms)));
	if (e->stream && s->first_byte > 0)
		line = set(line, "first_byte_ms", jv_number(round(
		    (s->first_byte - s->sent) * 1000)));
	if (jv_is_valid(usage))
		line = set(line, "usage", usage);
	line = set(line, "cost_usd", jv_number(usd));
	buf_init(&b, 0);
	json_write(&b, line);
	buf_putc(&b, '\n');
	/* One write per line: O_APPEND keeps lines of processes apart. */
	(void)!write(e->logfd, b.data, b.len);
	buf_release(&b);
	jv_free(line);
}


/* Writes the events made so far: before every wait, after a callback. */
static void
flush_out(struct engine *e)
{
	if (e->obuf.len > 0) {
		tool_write(e->obuf.data, e->obuf.len);
		buf_reset(&e->obuf);
	}
	tool_flush();
}

/*
 * Writes event ev of s (consumed, an object without "id") with s's "id"
 * first.  As a JSON line that is ev's text with the id spliced in after
 * its "{": no object is built for it.  A record that passes through (ev
 * with an "id") is written unchanged.
 */
static void
deliver(struct engine_slot *s, jv ev)
{
	struct engine *e = s->e;
	size_t at;

	/* A record passing through holds its "id": it goes out as it is. */
	if (json_peek_kind(ev, "id") != JV_KIND_INVALID) {
		if (e->sink != NULL)
			e->sink(e->sink_arg, ev);
		else {
			json_write(&e->obuf, ev);
			buf_putc(&e->obuf, '\n');
			jv_free(ev);
		}
		return;
	}
	if (e->sink != NULL) {
		e->sink(e->sink_arg, put_all(set(jv_object(), "id",
		    jv_copy(s->id)), ev));
		return;
	}
	buf_puts(&e->obuf, "{\"id\":");
	json_write(&e->obuf, s->id);
	at = e->obuf.len;
	json_write(&e->obuf, ev);
	if (e->obuf.len == at + 2)	/* "{}" */
		e->obuf.len = at;
	else
		e->obuf.data[at] = ',';
	buf_puts(&e->obuf, e->obuf.len == at ? "}\n" : "\n");
	jv_free(ev);
}

/*
 * One event of s (consumed, without "id"); ordered, it waits while s is
 * not the first record under way.
 */
static void
emit(struct engine_slot *s, jv ev)
{
	struct engine *e = s->e;

	if (!e->unordered && slot_at(e, 0) != s) {
		if (!jv_is_valid(s->held))
			s->held = jv_array();
		s->held = jv_array_append(s->held, ev);
	} else
		deliver(s, ev);
}

static void
flush_held(struct engine_slot *s)
{
	int i, n;

	if (!jv_is_valid(s->held))
		return;
	n = jv_array_length(jv_copy(s->held));
	for (i = 0; i < n; i++)
		deliver(s, jv_array_get(jv_copy(s->held), i));
	jv_free(s->held);
	s->held = jv_invalid();
}

/* The record's last event, from the record a whole answer makes. */
static jv
final_event(struct engine_slot *s, jv out, enum output what)
{
	jv ev;

	if (what == OUT_ASIS)
		return out;
	/*
	 * The type is the event's: a request field "type", which the
	 * response carries through, must not make the end something else.
	 */
	if (what == OUT_ANSWER)
		return put_all(set(jv_object(), "type", jv_string("end")),
		    jv_object_delete(out, jv_string("type")));
	ev = set(set(jv_object(), "type", jv_string("error")), "error",
	    json_get(out, "error"));
	ev = set(ev, "partial", jv_bool(s->content));
	if (json_peek_kind(out, "attempts") == JV_KIND_NUMBER)
		ev = set(ev, "attempts", json_get(out, "attempts"));
	jv_free(out);
	return ev;
}

/* The slot is answered: its record is out, its attempts over. */
static void
finish(struct engine_slot *s, jv out, enum output what, int retriable)
{
	struct engine *e = s->e;
	const struct sendopt *o = e->opt;
	char err[ERRBUF_MAX];

	/* Only the first candidate's complete answer is the key's. */
	if (o->cache && what == OUT_ANSWER && s->key[0] && !o->dry_run &&
	    cache_store(&e->cache, s->key, s->key_ref, out, err) == -1)
		tool_warn("%s; going on uncached", err);
	send_request_release(&s->sr);
	s->sr_index = -1;
	s->source = NULL;		/* it was the policy record's */
	policy_record_release(&e->pol, &s->pr);
	s->not_before = 0;
	if (s->active) {
		s->active = 0;
		e->active--;
	}
	if (what == OUT_ERROR) {
		jv ids = jv_dump_string(json_get(out, "id"), 0);

		e->st.errors++;
		tool_count_error(retriable);
		tool_warn("record %s: %s", jv_string_value(ids),
		    record_error_message(out));
		jv_free(ids);
	} else
		e->st.ok++;
	s->done = 1;
	if (!e->stream) {
		s->out = out;
		return;
	}
	if (s->ds_on) {
		dialect_stream_release(&s->ds);
		s->ds_on = 0;
	}
	s->linger = http_now() + LINGER_SECS;
	emit(s, final_event(s, out, what));
}

/* Every candidate failed, or none may go in time: the error record. */
static void
fail(struct engine_slot *s)
{
	const struct send_failure *f;
	const char *provider;
	jv out;

	f = policy_failure(&s->pr, &provider);
	out = send_error(jv_copy(s->rec), provider, f);
	if (s->pr.attempts > 0)
		out = set(out, "attempts", jv_number(s->pr.attempts));
	finish(s, out, OUT_ERROR, f->retriable);
}

/*
 * The attempt answered with fields (consumed); t is its transfer, NULL for
 * the echo provider, which sends nothing.
 */
static void
answered(struct engine_slot *s, jv fields, struct http_transfer *t)
{
	struct engine *e = s->e;
	jv target = jv_copy(s->sr.target), usage = json_get(fields, "usage");
	jv out, c;
	double ms = t ? (http_now() - t->started) * 1000 : 0, v, usd = 0;

	if (t != NULL) {
		if (json_peek_number(usage, "input", &v))
			e->st.in_tokens += v;
		if (json_peek_number(usage, "output", &v))
			e->st.out_tokens += v;
		latency_add(&e->st.lat, ms);
	}
	policy_succeeded(&e->pol, &s->pr, t ? usage : jv_invalid(), t,
	    http_now());
	out = send_response(jv_copy(s->rec), target, fields,
	    (http_now() - s->pr.started) * 1000, s->pr.attempts);
	c = json_get(out, "cost");
	json_peek_number(c, "usd", &usd);
	jv_free(c);
	e->st.usd += usd;
	log_attempt(s, target, "ok", ms, usage, usd);
	jv_free(target);
	finish(s, out, OUT_ANSWER, 0);
}

/*
 * The attempt failed with f; t is its transfer when there is one.  Before
 * any of the answer went out the policy picks what comes next; after, the
 * record ends with the failure: no retry would take back what was written.
 */
static void
attempt_failed(struct engine_slot *s, const struct send_failure *f,
    struct http_transfer *t)
{
	struct engine *e = s->e;
	jv target = jv_copy(s->sr.target), out;
	char status[32];

	snprintf(status, sizeof(status), "%d", f->status);
	log_attempt(s, target, f->status ? status : record_kind_name(f->kind),
	    (http_now() - s->sent) * 1000, jv_invalid(), 0);
	policy_failed(&e->pol, &s->pr, f, t, http_now());
	if (s->content) {
		out = send_error(jv_copy(s->rec),
		    json_peek_string(target, "provider"), f);
		out = set(out, "attempts", jv_number(s->pr.attempts));
		finish(s, out, OUT_ERROR, f->retriable);
	} else
		step(s);
	jv_free(target);
}

/* The kind named name, server when none is. */
static enum record_kind
kind_named(const char *name)
{
	int k;

	for (k = RECORD_BAD_INPUT; name != NULL && k <= RECORD_EXHAUSTED; k++)
		if (strcmp(record_kind_name(k), name) == 0)
			return k;
	return RECORD_SERVER;
}

/*
 * Passes on the events the stream adapter made (consumed): content goes
 * out; an end answers the record.  Returns 1 after an end, -1 after an
 * error (s->sf holds it, for the caller to act on), else 0.
 */
static int
take(struct engine_slot *s, jv evs, struct http_transfer *t)
{
	int i, n = jv_array_length(jv_copy(evs)), r = 0, retriable = 0;

	for (i = 0; i < n; i++) {
		jv ev = jv_array_get(jv_copy(evs), i), err;
		const char *type = json_peek_string(ev, "type"), *m;

		if (type != NULL && strcmp(type, "end") == 0) {
			answered(s, jv_object_delete(ev, jv_string("type")),
			    t);
			r = 1;
		} else if (type != NULL && strcmp(type, "error") == 0) {
			err = json_get(ev, "error");
			m = json_peek_string(err, "message");
			json_peek_bool(err, "retriable", &retriable);
			send_fail(&s->sf, kind_named(json_peek_string(err,
			    "kind")), 0, retriable, "%s", m ? m : "");
			jv_free(err);
			jv_free(ev);
			s->broken = 1;
			r = -1;
		} else {
			s->content = 1;
			emit(s, ev);
		}
	}
	jv_free(evs);
	return r;
}

static int
feed(struct engine_slot *s, const char *p, size_t n, struct http_transfer *t)
{
	jv evs = jv_array();

	(void)dialect_stream_feed(&s->ds, p, n, &evs);
	return take(s, evs, t);
}

/* The body is over: what the stream read comes to. */
static void
stream_over(struct engine_slot *s, struct http_transfer *t)
{
	jv evs = jv_array();

	(void)dialect_stream_finish(&s->ds, &evs);
	if (take(s, evs, t) == -1)
		attempt_failed(s, &s->sf, t);
}

/*
 * The body callback of a streamed attempt: the bytes go through the
 * stream adapter at once and the events they make are written before it
 * returns.  Nothing here may add or remove a transfer: a failure that
 * calls for another attempt stops this one, and complete() goes on.
 */
static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_transfer *t = arg;
	struct engine_slot *s = t->user;
	size_t n = size * nmemb;
	int r;

	s->last_byte = http_now();
	if (s->first_byte == 0) {
		s->first_byte = t->first_byte = s->last_byte;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &s->code);
	}
	if (s->done) {
		/* Answered: what comes after the terminal event is dropped. */
		s->after += n;
		return s->after > LINGER_BYTES ? 0 : n;
	}
	if (s->code < 200 || s->code > 299)
		return buf_append(&t->resp, p, n) == -1 ? 0 : n;
	if (s->broken)
		return 0;
	r = feed(s, p, n, t);
	if (r == -1 && s->content)
		attempt_failed(s, &s->sf, t);
	flush_out(s->e);
	return r == -1 ? 0 : n;
}

/* A new attempt's stream state. */
static void
stream_begin(struct engine_slot *s)
{
	if (s->ds_on)
		dialect_stream_release(&s->ds);
	dialect_stream_init(&s->ds, s->sr.dialect, s->sr.target, 0, 0);
	s->ds_on = 1;
	s->code = 0;
	s->first_byte = s->last_byte = 0;
	s->broken = 0;
	s->after = 0;
}

/* The echo provider answers at once, streamed through its adapter. */
static void
answer_echo(struct engine_slot *s)
{
	struct buf b;
	jv fields;

	s->e->st.requests++;
	s->sent = http_now();
	if (!s->e->stream) {
		dialect_echo_answer(s->sr.canon, &fields);
		answered(s, fields, NULL);
		return;
	}
	stream_begin(s);
	buf_init(&b, 0);
	(void)dialect_echo_stream(s->sr.canon, &b);
	if (feed(s, b.data, b.len, NULL) == 0)
		stream_over(s, NULL);
	else if (s->broken)
		attempt_failed(s, &s->sf, NULL);
	buf_release(&b);
}

/*
 * Makes the attempt the policy asked for: prepares the request for its
 * target (once per target), builds the headers with its key and starts
 * the transfer; echo answers at once.  Returns 0 when the record is under
 * way or answered, -1 when the attempt could not be made (the policy was
 * told, and picks again).
 */
static int
send_one(struct engine_slot *s, const struct policy_step *ps)
{
	struct engine *e = s->e;
	struct send_failure f;
	enum record_kind kind;
	char err[ERRBUF_MAX];
	struct curl_slist *hdrs;
	struct http_transfer *t;

	s->source = ps->source;
	if (s->sr_index != ps->index) {
		send_request_release(&s->sr);
		s->sr_index = -1;
		if (send_prepare(s->rec, ps->target, e->stream, &s->sr, &kind,
		    err) == -1) {
			send_request_release(&s->sr);
			send_fail(&f, kind, 0, 0, "%s", err);
			policy_unsent(&e->pol, &s->pr, &f);
			return -1;
		}
		s->sr_index = ps->index;
	}
	if (s->sr.dialect == &dialect_echo) {
		answer_echo(s);
		return 0;
	}
	if ((hdrs = send_auth(&s->sr, &e->keys, ps->source, &f)) == NULL) {
		log_attempt(s, ps->target, record_kind_name(f.kind), 0,
		    jv_invalid(), 0);
		policy_unsent(&e->pol, &s->pr, &f);
		return -1;
	}
	e->st.requests++;
	t = http_post(&e->http, s->sr.url, hdrs, 1, s->sr.text, s->sr.len,
	    s, err);
	if (t == NULL) {
		send_fail(&f, RECORD_NETWORK, 0, 1, "%s", err);
		policy_failed(&e->pol, &s->pr, &f, NULL, http_now());
		return -1;
	}
	if (e->stream) {
		/*
		 * The transfer has not started (http_post only adds it), so
		 * its body may still go elsewhere: to the stream adapter.
		 */
		curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
		stream_begin(s);
	}
	s->xfer = t;
	s->sent = t->started;
	e->inflight++;
	return 0;
}

/* Asks the policy what the record does next, until it sends or waits. */
static void
step(struct engine_slot *s)
{
	struct policy_step ps;

	s->not_before = 0;
	for (;;) {
		policy_next(&s->e->pol, &s->pr, http_now(), &ps);
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
dry_run(struct engine_slot *s, jv cands)
{
	struct send_failure f;
	enum record_kind kind;
	char err[ERRBUF_MAX];
	int i, n = jv_array_length(jv_copy(cands));

	send_fail(&f, RECORD_CONFIG, 0, 0, "no target");
	for (i = 0; i < n; i++) {
		jv target = jv_array_get(jv_copy(cands), i);

		send_request_release(&s->sr);
		if (send_prepare(s->rec, target, s->e->stream, &s->sr, &kind,
		    err) == 0) {
			jv out = set(set(jv_object(), "id",
			    json_get(s->rec, "id")), "dry_run",
			    send_dry_run(&s->sr));

			out = set(out, "model", json_get(target, "ref"));
			jv_free(target);
			jv_free(cands);
			finish(s, out, OUT_ASIS, 0);
			return;
		}
		send_fail(&f, kind, 0, 0, "%s", err);
		jv_free(target);
		if (kind == RECORD_BAD_INPUT)
			break;
	}
	jv_free(cands);
	finish(s, send_error(jv_copy(s->rec), NULL, &f), OUT_ERROR, 0);
}

/*
 * The candidates of a record that carries a resolution: its target's and
 * fallbacks' references resolved again here.  Borrows rec.  Returns the
 * array, or jv_invalid() with err.
 */
static jv
retarget(struct engine *e, jv rec, char *err)
{
	jv refs = jv_array(), fb = json_get(rec, "fallbacks"), cands;
	jv t = json_get(rec, "target");
	int i, n;

	refs = jv_array_append(refs, json_get(t, "ref"));
	jv_free(t);
	n = jv_get_kind(fb) == JV_KIND_ARRAY ? jv_array_length(jv_copy(fb)) :
	    0;
	for (i = 0; i < n; i++) {
		jv x = jv_array_get(jv_copy(fb), i);

		refs = jv_array_append(refs, json_get(x, "ref"));
		jv_free(x);
	}
	jv_free(fb);
	cands = jv_array();
	n = jv_array_length(jv_copy(refs));
	for (i = 0; i < n; i++) {
		jv ref = jv_array_get(jv_copy(refs), i);
		jv c = jv_get_kind(ref) == JV_KIND_STRING ?
		    resolve_target(&e->res, jv_string_value(ref), err) :
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

static void
start_event(struct engine_slot *s, jv model)
{
	emit(s, set(set(jv_object(), "type", jv_string("start")), "model",
	    model));
}

/*
 * A stored answer (consumed) as a stream of it: start, its reasoning and
 * text as one delta each, a tool_call event per call with its arguments as
 * JSON text, and the end, which holds the hit.
 */
static void
replay(struct engine_slot *s, jv hit)
{
	static const char *const deltas[] = { "reasoning", "text" };
	jv calls = json_get(hit, "tool_calls");
	const char *v;
	struct buf b;
	size_t k;
	int i, n;

	start_event(s, json_get(hit, "model"));
	for (k = 0; k < sizeof(deltas) / sizeof(deltas[0]); k++)
		if ((v = json_peek_string(hit, deltas[k])) != NULL &&
		    *v != '\0') {
			emit(s, dialect_event_delta(deltas[k],
			    json_get(hit, deltas[k])));
			s->content = 1;
		}
	n = jv_get_kind(calls) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(calls)) : 0;
	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		jv call = jv_array_get(jv_copy(calls), i), args;

		buf_reset(&b);
		if ((v = json_peek_string(call, "arguments_raw")) != NULL)
			buf_puts(&b, v);
		else {
			args = json_get(call, "arguments");
			json_write(&b, args);
			jv_free(args);
		}
		emit(s, dialect_event_call(i, json_peek_string(call, "id"),
		    json_peek_string(call, "name"), b.data ? b.data : "",
		    b.len));
		s->content = 1;
		jv_free(call);
	}
	buf_release(&b);
	jv_free(calls);
	finish(s, hit, OUT_ANSWER, 0);
}

/* A new record: resolve it and start its first attempt. */
static void
start(struct engine_slot *s)
{
	struct engine *e = s->e;
	const struct sendopt *o = e->opt;
	jv rec = s->rec, r, cands;
	int failed;

	if (record_is_response(rec)) {
		finish(s, jv_copy(rec), OUT_ASIS, 0);
		return;
	}
	/* An error record is tried afresh: resolved again, error dropped. */
	if (record_is_error(rec)) {
		rec = jv_object_delete(rec, jv_string("error"));
		rec = jv_object_delete(rec, jv_string("target"));
		rec = jv_object_delete(rec, jv_string("fallbacks"));
		rec = jv_object_delete(rec, jv_string("attempts"));
	}
	rec = sendopt_apply(o, rec);
	if (json_peek_kind(rec, "target") == JV_KIND_OBJECT) {
		/*
		 * A record's target is taken as the references it names,
		 * resolved here again: never its URL, keys or headers, which
		 * would let a record run commands or send keys anywhere.
		 */
		char err[ERRBUF_MAX];

		if (!jv_is_valid(cands = retarget(e, rec, err))) {
			s->rec = jv_null();
			rec = jv_object_delete(jv_object_delete(rec,
			    jv_string("target")), jv_string("fallbacks"));
			finish(s, record_error(rec, RECORD_CONFIG, 0, NULL, 0,
			    err), OUT_ERROR, 0);
			return;
		}
		rec = jv_object_delete(jv_object_delete(rec,
		    jv_string("target")), jv_string("fallbacks"));
		s->rec = rec;
	} else {
		r = resolve_request(&e->res, rec, e->default_model, &failed);
		if (failed) {
			s->rec = jv_null();
			finish(s, r, OUT_ERROR, 0);
			return;
		}
		cands = jv_array_append(jv_array(), json_get(r, "target"));
		cands = jv_array_concat(cands, json_get(r, "fallbacks"));
		s->rec = jv_object_delete(jv_object_delete(r,
		    jv_string("target")), jv_string("fallbacks"));
	}
	if (o->cache && !o->dry_run) {
		jv t = jv_array_get(jv_copy(cands), 0), hit;
		char err[ERRBUF_MAX];
		int got = cache_fetch(&e->cache, s->rec, t, s->key, &hit, err);

		snprintf(s->key_ref, sizeof(s->key_ref), "%s",
		    json_peek_string(t, "ref") ? json_peek_string(t, "ref") :
		    "");
		jv_free(t);
		if (got == -1)
			tool_warn("%s; going on uncached", err);
		if (got == CACHE_HIT) {
			s->key[0] = '\0';	/* nothing to store again */
			jv_free(cands);
			if (e->stream)
				replay(s, hit);
			else
				finish(s, hit, OUT_ANSWER, 0);
			return;
		}
	}
	if (o->dry_run) {
		dry_run(s, cands);
		return;
	}
	if (e->stream) {
		jv t = jv_array_get(jv_copy(cands), 0);

		start_event(s, json_get(t, "ref"));
		jv_free(t);
	}
	s->active = 1;
	e->active++;
	policy_record_init(&e->pol, &s->pr, s->rec, cands, http_now());
	step(s);
}

/* A transfer is over: its record's attempt ends here, if not before. */
static void
complete(struct engine *e, struct http_transfer *t)
{
	struct engine_slot *s = t->user;
	struct send_failure f;
	jv fields;

	s->xfer = NULL;
	e->inflight--;
	if (s->done)
		;	/* answered at its terminal event */
	else if (s->broken)
		attempt_failed(s, &s->sf, t);
	else if (e->stream && t->result == CURLE_OK && t->status >= 200 &&
	    t->status <= 299)
		stream_over(s, t);
	else if (send_result(&s->sr, t, &fields, &f) == 0)
		answered(s, fields, t);
	else
		attempt_failed(s, &f, t);
	http_transfer_free(t);
}

/*
 * When a streamed attempt under way is overdue: the end of its linger
 * once answered, the first byte's deadline, or the next byte's; 0 for
 * never.
 */
static double
deadline(struct engine_slot *s)
{
	const struct sendopt *o = s->e->opt;

	if (s->done)
		return s->linger;
	if (s->first_byte == 0)
		return o->timeout_first > 0 ? s->sent + o->timeout_first : 0;
	return o->timeout_idle > 0 ? s->last_byte + o->timeout_idle : 0;
}

/* The streamed attempt of s is overdue: cut it. */
static void
overdue(struct engine_slot *s)
{
	struct engine *e = s->e;
	const struct sendopt *o = e->opt;
	struct send_failure f;

	http_abort(&e->http, s->xfer);
	s->xfer = NULL;
	e->inflight--;
	if (s->done)
		return;
	if (s->first_byte == 0)
		send_fail(&f, RECORD_TIMEOUT, 0, 1, "no first byte in %g s",
		    o->timeout_first);
	else
		send_fail(&f, RECORD_TIMEOUT, 0, 1, "stream stalled: no byte "
		    "for %g s", o->timeout_idle);
	attempt_failed(s, &f, NULL);
}

/* Removes the slot at ring position i, which is over, and frees it. */
static void
slot_drop(struct engine *e, size_t i)
{
	struct engine_slot *s = slot_at(e, i);
	size_t j;

	jv_free(s->rec);
	jv_free(s->id);
	jv_free(s->out);
	jv_free(s->held);
	send_request_release(&s->sr);
	policy_record_release(&e->pol, &s->pr);
	if (s->ds_on)
		dialect_stream_release(&s->ds);
	if (s->active)
		e->active--;
	if (i == 0)
		e->ring_head = (e->ring_head + 1) % e->ring_cap;
	else
		for (j = i; j + 1 < e->ring_len; j++)
			e->ring[(e->ring_head + j) % e->ring_cap] =
			    e->ring[(e->ring_head + j + 1) % e->ring_cap];
	e->ring_len--;
	e->spare[e->nspare++] = s;
}

/* A slot for rec (consumed), last in the ring. */
static struct engine_slot *
slot_new(struct engine *e, jv rec)
{
	struct engine_slot *s = e->spare[--e->nspare];

	memset(s, 0, sizeof(*s));
	s->e = e;
	s->rec = rec;
	s->id = json_get(rec, "id");
	s->out = s->pr.rec = s->held = jv_invalid();
	s->sr.target = s->sr.canon = s->sr.body = s->sr.headers =
	    jv_invalid();
	s->sr_index = -1;
	e->ring[(e->ring_head + e->ring_len++) % e->ring_cap] = s;
	return s;
}

/*
 * Writes finished records and frees their slots: from the head in input
 * order; unordered, any finished one at once.  Ordered streams write the
 * held events of the record that comes to the head.
 */
static void
drain(struct engine *e)
{
	struct engine_slot *s;
	size_t i;

	for (i = 0; e->unordered && i < e->ring_len;) {
		s = slot_at(e, i);
		if (!s->done || s->xfer != NULL) {
			i++;
			continue;
		}
		if (!e->stream)
			tool_emit(s->out);
		s->out = jv_invalid();
		slot_drop(e, i);
	}
	while (!e->unordered && e->ring_len > 0) {
		s = slot_at(e, 0);
		flush_held(s);
		if (!s->done || s->xfer != NULL)
			break;
		if (!e->stream)
			tool_emit(s->out);
		s->out = jv_invalid();
		slot_drop(e, 0);
	}
}

void
engine_print_stats(struct engine *e)
{
	struct engine_stats *st = &e->st;
	double secs = http_now() - st->start;
	fprintf(stderr, "%s: %lu requests, %lu ok, %lu errors, "
	    "%.0f input + %.0f output tokens, $%.6f, "
	    "latency p50 %.0f ms p95 %.0f ms, %.1f s\n", tool_name,
	    st->requests, st->ok, st->errors, st->in_tokens, st->out_tokens,
	    st->usd, latency_quantile(&st->lat, 0.5),
	    latency_quantile(&st->lat, 0.95), secs);
}

static void
progress(struct engine *e, int final)
{
	static double last;
	double now = http_now(), done = (double)(e->st.ok + e->st.errors);

	if (!e->progress || !isatty(STDERR_FILENO) ||
	    (!final && now - last < 0.2))
		return;
	last = now;
	fprintf(stderr, "\r%s: %lu done, %d in flight, %.1f/s%s",
	    tool_name, e->st.ok + e->st.errors, e->inflight,
	    done / (now - e->st.start + 1e-9), final ? "\n" : "   ");
}

/* Passes on, once, what the shared state had to say. */
static void
state_warnings(struct engine *e)
{
	const char *w;

	if ((w = state_warning(&e->state)) != NULL)
		tool_warn("%s", w);
}

/*
 * Starts the records whose wait is over and cuts the streams that are
 * overdue; returns the earliest wait or deadline still running
 * (monotonic), or 0.
 */
static double
wake(struct engine *e)
{
	double now = http_now(), next = 0, at;
	size_t i;

	for (i = 0; i < e->ring_len; i++) {
		struct engine_slot *s = slot_at(e, i);

		if (s->xfer && e->stream && (at = deadline(s)) > 0 &&
		    at <= now) {
			overdue(s);
			now = http_now();
		}
		if (s->xfer) {
			if (e->stream && (at = deadline(s)) > 0 &&
			    (next == 0 || at < next))
				next = at;
			continue;
		}
		if (!s->active || s->not_before == 0)
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

void
engine_run(struct engine *e, struct input *in)
{
	char err[ERRBUF_MAX];
	int eof = 0, ready, got, stdin_flags = -1, ms;
	size_t window = (size_t)e->opt->jobs * 2 + 16, i;
	struct http_transfer *t;
	double next;
	jv rec;

	e->ring_cap = window;
	e->ring = xcalloc(window, sizeof(*e->ring));
	e->pool = xcalloc(window, sizeof(*e->pool));
	e->spare = xcalloc(window, sizeof(*e->spare));
	for (i = 0; i < window; i++)
		e->spare[i] = &e->pool[window - 1 - i];
	e->nspare = window;
	if (in->nfiles == 0)
		stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
	/* Pipes and FIFOs must not block the transfers while they wait. */
	input_set_nonblock(in);
	for (;;) {
		/* -j bounds the records under way, waiting ones included. */
		while (!eof && !tool_interrupted && e->ring_len < window &&
		    e->active < e->opt->jobs) {
			struct engine_slot *s;

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
			s = slot_new(e, rec);
			if (got == INPUT_BAD) {
				/* rec is the error record already. */
				s->rec = jv_null();
				finish(s, rec, OUT_ERROR, 0);
			} else
				start(s);
		}
		next = wake(e);
		state_warnings(e);
		drain(e);
		if (e->stream)
			flush_out(e);
		progress(e, 0);
		if ((eof || tool_interrupted) && e->active == 0 &&
		    e->ring_len == 0)
			break;
		if (tool_interrupted)
			break;
		/* Sleep no later than the earliest wait's end. */
		ms = e->inflight ? 1000 : 60000;
		if (next > 0) {
			double d = ceil((next - http_now()) * 1000);

			if (d < ms)
				ms = d < 0 ? 0 : (int)d;
		}
		if (http_wait(&e->http, eof || e->ring_len >= window ||
		    e->active >= e->opt->jobs || in->fd < 0 ? -1 : in->fd,
		    ms, &ready, err) == -1) {
			tool_warn("%s", err);
			break;
		}
		while ((t = http_done(&e->http)) != NULL)
			complete(e, t);
	}
	/* Interrupted: abandon records under way; their answers are lost. */
	while (e->ring_len > 0) {
		struct engine_slot *s = slot_at(e, 0);

		if (s->xfer) {
			http_abort(&e->http, s->xfer);
			s->xfer = NULL;
			e->inflight--;
		}
		slot_drop(e, 0);
	}
	state_warnings(e);
	if (stdin_flags != -1)
		fcntl(STDIN_FILENO, F_SETFL, stdin_flags);
	progress(e, 1);
}

int
engine_open(struct engine *e, const struct sendopt *o, char *err)
{
	const char *logpath;

	e->opt = o;
	e->logfd = -1;
	e->state.dfd = -1;
	buf_init(&e->obuf, 0);
	policy_init(&e->pol);
	e->pol.retry = o->retry;
	e->pol.rate = o->rate;
	current = e;
	if (catalog_open(&e->cat, err) == -1)
		return -1;
	e->opened |= OPEN_CATALOG;
	if (config_load(&e->cfg, err) == -1)
		return -1;
	e->opened |= OPEN_CONFIG;
	resolver_init(&e->res, &e->cat, &e->cfg);
	if (o->cache && cache_open(&e->cache, err) == -1)
		return -1;
	value_config_lookup = config_key;
	/* keyfile:NAME sources: opened and unlocked once, on first use. */
	keyfile_install_lookup();
	e->opened |= OPEN_KEYS;
	if (o->fallbacks && resolver_add_fallbacks(&e->res, o->fallbacks,
	    err) == -1)
		return errbuf_prefix(err, "-F");
	e->default_model = o->model;
	if (e->default_model == NULL &&
	    (e->default_model = getenv("LLM_MODEL")) &&
	    *e->default_model == '\0')
		e->default_model = NULL;
	if (e->default_model == NULL)
		e->default_model = json_peek_string(e->cfg.defaults, "model");
	if (http_init(&e->http, err) == -1)
		return -1;
	e->http.timeout_ms = o->timeout * 1000;
	http_set_parallel(&e->http, o->jobs);
	/* A signal between a look at tool_interrupted and a wait ends it. */
	http_set_wake_fd(&e->http, tool_signal_fd());
	e->pol.timeout = (double)o->timeout;
	e->pol.keys = &e->keys;
	/* Cooldowns and rate limits are shared; alone is a warning. */
	if (!o->dry_run && state_open(&e->state, NULL, err) == -1)
		tool_warn("%s", err);
	e->pol.state = &e->state;
	if ((logpath = getenv("LLM_LOG")) != NULL && *logpath &&
	    (e->logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600)) == -1)
		tool_warn("LLM_LOG: open '%s': %s", logpath, strerror(errno));
	e->st.start = http_now();
	return 0;
}

void
engine_close(struct engine *e)
{
	char err[ERRBUF_MAX];

	if (e->opt != NULL && e->opt->cache) {
		if (e->cache.dir && cache_flush(&e->cache, err) == -1)
			tool_warn("%s", err);
		cache_close(&e->cache);
	}
	state_close(&e->state);
	if (e->logfd != -1)
		close(e->logfd);
	e->logfd = -1;
	send_keys_release(&e->keys);
	if (e->opened & OPEN_KEYS)
		keyfile_uninstall_lookup();
	if (e->http.multi)
		http_release(&e->http);
	free(e->ring);
	free(e->pool);
	free(e->spare);
	e->ring = e->spare = NULL;
	e->pool = NULL;
	if (e->opened & OPEN_CONFIG) {
		resolver_release(&e->res);
		config_release(&e->cfg);
	}
	if (e->opened & OPEN_CATALOG)
		catalog_release(&e->cat);
	buf_release(&e->obuf);
	e->opened = 0;
	if (current == e)
		current = NULL;
}

int
engine_main(struct engine *e, const struct engine_tool *tool, int argc,
    char *argv[])
{
	struct sendopt o;
	struct input in;
	char err[ERRBUF_MAX];
	int ch, r, status = TOOL_EXIT_USAGE;

	sendopt_init(&o);
	while ((ch = getopt_long(argc, argv, tool->shorts, tool->longs,
	    NULL)) != -1) {
		if (ch == 'h' || ch == 'V') {
			if (ch == 'h')
				tool->usage(stdout);
			else
				printf("%s %s\n", tool_name, VERSION);
			sendopt_release(&o);
			return TOOL_EXIT_OK;
		}
		if ((r = sendopt_parse(&o, ch, optarg, err)) == 0 &&
		    tool->option != NULL && tool->option(e, ch, optarg) == 0)
			r = 1;
		if (r != 1) {
			if (r == -1)
				tool_warn("%s", err);
			else
				tool->usage(stderr);
			sendopt_release(&o);
			return TOOL_EXIT_USAGE;
		}
	}
	if (tool->ready != NULL)
		tool->ready(e, &o);
	if (engine_open(e, &o, err) == -1)
		tool_warn("%s", err);
	else {
		input_init(&in, argv + optind, argc - optind, o.mode);
		engine_run(e, &in);
		input_release(&in);
		if (o.stats)
			engine_print_stats(e);
		status = tool_status();
	}
	engine_close(e);
	sendopt_release(&o);
	return status;
}
