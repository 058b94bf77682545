#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "errbuf.h"
#include "json.h"
#include "policy.h"
#include "xalloc.h"

#define LEASE_SLACK	10.0	/* seconds a probe lease outlives its use */
#define FAR		(7 * 86400.0)	/* "no deadline", for rate turns */

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	retry_policy_init(&p->retry);
	p->timeout = 600;
	p->rng = retry_seed();
}

static int
usable(const struct policy *p)
{
	return p->state != NULL && state_usable(p->state);
}

void
policy_record_init(struct policy *p, struct policy_record *r, jv rec,
    jv targets, double now)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->rec = jv_copy(rec);
	r->nt = jv_get_kind(targets) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(targets)) : 0;
	r->t = xcalloc(r->nt ? (size_t)r->nt : 1, sizeof(*r->t));
	for (i = 0; i < r->nt; i++)
		r->t[i].target = jv_array_get(jv_copy(targets), i);
	jv_free(targets);
	if (++p->serial == 0)
		p->serial = 1;
	r->tok = p->serial;
	r->started = now;
	r->deadline = p->retry.max_time > 0 ? now + p->retry.max_time : 0;
	r->transient = 1;
	r->cur_t = r->cur_c = -1;
	r->last_t = -1;
}

/* -- candidates ----------------------------------------------------------- */

static void
add_cand(struct policy_target *t, const char *source)
{
	t->c = xrealloc(t->c, (size_t)(t->n + 1) * sizeof(*t->c));
	memset(&t->c[t->n], 0, sizeof(t->c[t->n]));
	t->c[t->n].source = source ? xstrdup(source) : NULL;
	t->n++;
}

static void
add_limit(struct policy_target *t, const char *kind, double n, int per_model)
{
	struct policy_limit *l;

	if (t->nlim == POLICY_LIMITS_MAX || !(n > 0))
		return;
	l = &t->lim[t->nlim++];
	memset(l, 0, sizeof(*l));
	l->per_model = per_model;
	l->l.kind = kind;
	l->l.n = n;
	l->l.burst = 1;
	if (strcmp(kind, "concurrency") == 0) {
		l->concurrency = 1;
		return;
	}
	/* Requests go evenly; tokens and daily requests may go at once. */
	l->l.period = strcmp(kind, "rpd") == 0 ? 86400 : 60;
	if (strcmp(kind, "rpm") != 0)
		l->l.burst = n;
}

/*
 * Limits set for the provider apply per key across its models; any other
 * value of "limits" (the model's own, or a config limits[provider/id])
 * per key and model.
 */
static void
list_limits(struct policy *p, struct policy_target *t)
{
	static const char *const kinds[] = {
		"rpm", "tpm", "rpd", "concurrency"
	};
	jv lim = json_get(t->target, "limits");
	jv plim = json_get(t->target, "provider_limits");
	int has_p = jv_get_kind(plim) == JV_KIND_OBJECT;
	size_t i;
	double v, pv;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int hv = json_peek_number(lim, kinds[i], &v);
		int hp = has_p && json_peek_number(plim, kinds[i], &pv);

		if (hp)
			add_limit(t, kinds[i], pv, 0);
		if (hv && (!hp || v != pv))
			add_limit(t, kinds[i], v, 1);
	}
	if (p->rate.n > 0 && t->nlim < POLICY_LIMITS_MAX) {
		struct policy_limit *l = &t->lim[t->nlim++];

		memset(l, 0, sizeof(*l));
		l->l = p->rate;
		l->l.kind = "rate";
		l->l.burst = 1;
	}
	jv_free(lim);
	jv_free(plim);
}

static void
list_target(struct policy *p, struct policy_target *t)
{
	jv auth = json_get(t->target, "auth"), ks;
	const char *url = json_peek_string(t->target, "url");
	const char *scheme = json_peek_string(auth, "scheme");
	const char *s, *q;
	char kf[256], err[ERRBUF_MAX];
	int i, n;

	t->listed = 1;
	t->provider = json_peek_string(t->target, "provider");
	if ((t->model = json_peek_string(t->target, "model")) == NULL &&
	    (t->model = json_peek_string(t->target, "ref")) == NULL)
		t->model = "";
	if (url == NULL)
		url = "";
	t->endpoint = xstrndup(url, strcspn(url, "?#"));
	q = strstr(t->endpoint, "://");
	q = q ? q + 3 : t->endpoint;
	t->origin = xstrndup(t->endpoint, (size_t)(q - t->endpoint) +
	    strcspn(q, "/"));
	list_limits(p, t);

	ks = json_get(auth, "keys");
	n = jv_get_kind(ks) == JV_KIND_ARRAY && scheme &&
	    strcmp(scheme, "none") != 0 ? jv_array_length(jv_copy(ks)) : 0;
	snprintf(kf, sizeof(kf), "keyfile:%s", t->provider ? t->provider : "");
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(ks), i);
		const char **names = NULL;
		size_t nn = 0, j;

		if (jv_get_kind(e) != JV_KIND_STRING) {
			jv_free(e);
			continue;
		}
		s = jv_string_value(e);
		/*
		 * The default keyfile source is the provider's whole
		 * rotation.  When the keyfile cannot be opened the source
		 * stays, to fail with the reason when it is resolved.
		 */
		if (t->provider && strcmp(s, kf) == 0 &&
		    keyfile_rotation(t->provider, &names, &nn, err) == 0 &&
		    nn > 0) {
			for (j = 0; j < nn; j++) {
				char *src = xasprintf("keyfile:%s", names[j]);

				add_cand(t, src);
				free(src);
			}
			free(names);
		} else
			add_cand(t, s);
		jv_free(e);
	}
	if (t->n == 0)
		add_cand(t, NULL);
	jv_free(ks);
	jv_free(auth);
}

/* The failure of a target none of whose keys resolves. */
static void
no_key(struct policy_record *r, int ti)
{
	struct policy_target *t = &r->t[ti];
	const char *pv = t->provider ? t->provider : "?";

	send_fail(&r->last, RECORD_AUTH, 0, 0, "no API key for provider '%s' "
	    "(%s); set one in the environment or store it with 'llm-keys set "
	    "%s'", pv, t->why, t->provider ? t->provider : "NAME");
	r->have_last = 1;
	r->last_t = ti;
	r->transient = 0;
}

/*
 * Resolves the key of candidate ci of target ti on first use.  Returns
 * whether the candidate can send: a key that does not resolve, or that
 * an earlier candidate of the target already has, passes it over.
 */
static int
cand_key(struct policy *p, struct policy_record *r, int ti, int ci)
{
	struct policy_target *t = &r->t[ti];
	struct policy_cand *c = &t->c[ci];
	struct send_key *k;
	int j, alive = 0;

	if (c->resolved || c->source == NULL)
		return !c->dead;
	c->resolved = 1;
	k = send_key_get(p->keys, c->source);
	if (k->value == NULL) {
		size_t len = strlen(t->why);

		snprintf(t->why + len, sizeof(t->why) - len, "%s%s",
		    len ? "; " : "", k->why);
		c->dead = 1;
	} else {
		memcpy(c->fp, k->fp, sizeof(c->fp));
		for (j = 0; j < ci; j++)
			if (t->c[j].resolved && t->c[j].source &&
			    strcmp(t->c[j].fp, c->fp) == 0)
				c->dead = 1;	/* the same key again */
	}
	if (!c->dead)
		return 1;
	/* Every key of the target gone without a request: say why. */
	for (j = 0; j < t->n; j++)
		alive |= !t->c[j].dead || t->c[j].tries > 0 ||
		    !t->c[j].resolved;
	if (!alive && t->why[0])
		no_key(r, ti);
	return 0;
}

static void
scope_of(const struct policy_target *t, const struct policy_cand *c,
    struct state_scope *sc)
{
	sc->endpoint = t->endpoint;
	sc->key = c->fp;
	sc->model = t->model;
}

/* The bucket or slot name of limit l for candidate c. */
static char *
limit_scope(const struct policy_target *t, const struct policy_cand *c,
    const struct policy_limit *l)
{
	const char *fp = c->fp[0] ? c->fp : "-";

	return l->per_model ? xasprintf("%s %s key %s model %s", t->origin,
	    t->provider ? t->provider : "-", fp, t->model) :
	    xasprintf("%s %s key %s", t->origin, t->provider ?
	    t->provider : "-", fp);
}

/* Tokens a request of r may use: body bytes / 4 and max_tokens. */
static double
estimate(struct policy_record *r)
{
	size_t len = 0;
	double mt = 0;
	char *s;

	if (r->est_cached > 0)
		return r->est_cached;
	s = json_dump(r->rec, &len);
	free(s);
	json_peek_number(r->rec, "max_tokens", &mt);
	r->est_cached = ceil((double)len / 4) + (mt > 0 ? mt : 0);
	return r->est_cached;
}

static void
release_slots(struct policy_record *r)
{
	int i;

	for (i = 0; i < r->nslots; i++)
		state_slot_release(r->slots[i]);
	r->nslots = 0;
}

/* Gives back the rate turns of the current candidate (all, or tokens). */
static void
refund(struct policy *p, struct policy_record *r, int tokens_only,
    double actual)
{
	struct policy_target *t;
	struct policy_cand *c;
	int i;

	if (r->cur_t < 0 || !usable(p))
		return;
	t = &r->t[r->cur_t];
	c = &t->c[r->cur_c];
	for (i = 0; i < t->nlim; i++) {
		struct policy_limit *l = &t->lim[i];
		double cost = r->charged[i] - (tokens_only ? actual : 0);
		char *scope;

		if (r->charged[i] == 0 || l->concurrency ||
		    (tokens_only && strcmp(l->l.kind, "tpm") != 0) ||
		    cost == 0)
			continue;
		scope = limit_scope(t, c, l);
		ratelimit_refund(p->state, scope, &l->l, cost);
		free(scope);
	}
	memset(r->charged, 0, sizeof(r->charged));
}

enum pace { PACE_GO, PACE_WAIT, PACE_TURN, PACE_OUT };

/*
 * Takes the concurrency slots and rate turns of candidate ci of target
 * ti.  PACE_GO: send now; PACE_TURN: slots held, send at *at; PACE_WAIT:
 * a slot is busy, look again at *at; PACE_OUT: a turn would come past the
 * deadline.
 */
static enum pace
pace(struct policy *p, struct policy_record *r, int ti, int ci, double now,
    double wnow, double *at)
{
	struct policy_target *t = &r->t[ti];
	struct policy_cand *c = &t->c[ci];
	double latest, turn = wnow, when;
	int i, fd, res;

	r->nslots = 0;
	memset(r->charged, 0, sizeof(r->charged));
	if (!usable(p) || t->nlim == 0)
		return PACE_GO;
	for (i = 0; i < t->nlim; i++) {
		struct policy_limit *l = &t->lim[i];
		char *scope;

		if (!l->concurrency)
			continue;
		scope = limit_scope(t, c, l);
		fd = state_slot_acquire(p->state, scope, (int)l->l.n);
		free(scope);
		if (fd == -1) {
			release_slots(r);
			*at = now + POLICY_SLOT_POLL;
			return PACE_WAIT;
		}
		if (fd >= 0 && r->nslots < POLICY_LIMITS_MAX)
			r->slots[r->nslots++] = fd;
	}
	latest = wnow + (r->deadline > 0 ? r->deadline - now : FAR);
	r->cur_t = ti;
	r->cur_c = ci;
	for (i = 0; i < t->nlim; i++) {
		struct policy_limit *l = &t->lim[i];
		double cost = strcmp(l->l.kind, "tpm") == 0 ? estimate(r) : 1;
		char *scope;

		if (l->concurrency)
			continue;
		scope = limit_scope(t, c, l);
		res = ratelimit_reserve(p->state, scope, &l->l, cost, wnow,
		    latest, &when);
		free(scope);
		if (res == 1) {
			refund(p, r, 0, 0);
			release_slots(r);
			r->cur_t = r->cur_c = -1;
			r->paced_out = 1;
			return PACE_OUT;
		}
		if (res == 0) {
			r->charged[i] = cost;
			if (when > turn)
				turn = when;
		}
	}
	if (turn > wnow + 0.0005) {
		*at = now + (turn - wnow);
		return PACE_TURN;
	}
	return PACE_GO;
}

/* -- the next step -------------------------------------------------------- */

static int
fits(const struct policy_record *r, double at)
{
	return r->deadline <= 0 || at <= r->deadline;
}

static void
go(struct policy_record *r, struct policy_step *st)
{
	struct policy_target *t = &r->t[r->cur_t];
	struct policy_cand *c = &t->c[r->cur_c];

	r->counted_retry = c->tries > 0;
	if (r->counted_retry)
		r->retries++;
	c->tries++;
	r->attempts++;
	r->sent_wall = wall();
	st->action = POLICY_SEND;
	st->target = t->target;
	st->index = r->cur_t;
	st->source = c->source;
}

void
policy_next(struct policy *p, struct policy_record *r, double now,
    struct policy_step *st)
{
	struct state_verdict v;
	struct state_scope sc;
	double wnow, at, earliest = 0;
	int ti, ci;

	memset(st, 0, sizeof(*st));
	st->target = jv_invalid();
	if (r->final)
		goto fail;
	if (r->reserved) {
		if (now + 0.0005 >= r->turn) {
			r->reserved = 0;
			go(r, st);
			return;
		}
		st->action = POLICY_WAIT;
		st->at = r->turn;
		return;
	}
	wnow = wall();
	for (ti = 0; ti < r->nt; ti++) {
		struct policy_target *t = &r->t[ti];

		if (!t->listed)
			list_target(p, t);
		for (ci = 0; ci < t->n; ci++) {
			struct policy_cand *c = &t->c[ci];

			if (c->dead || (c->tries > 0 &&
			    r->retries >= p->retry.retries))
				continue;
			if (c->not_before > now) {
				if (fits(r, c->not_before) && (earliest == 0 ||
				    c->not_before < earliest))
					earliest = c->not_before;
				continue;
			}
			if (!cand_key(p, r, ti, ci))
				continue;
			if (usable(p) && t->endpoint[0]) {
				scope_of(t, c, &sc);
				state_check(p->state, &sc, r->tok, wnow,
				    p->timeout + LEASE_SLACK, &v);
				if (v.go == STATE_COOLING) {
					r->cool = v;
					r->have_cool = 1;
					r->last_cool_t = ti;
					at = now + (v.until - wnow);
					if (at < now + 0.001)
						at = now + 0.001;
					if (fits(r, at) && (earliest == 0 ||
					    at < earliest))
						earliest = at;
					continue;
				}
				if (v.go == STATE_PROBE)
					c->lease = 1;
			}
			switch (pace(p, r, ti, ci, now, wnow, &at)) {
			case PACE_GO:
				r->cur_t = ti;
				r->cur_c = ci;
				go(r, st);
				return;
			case PACE_TURN:
				r->reserved = 1;
				r->turn = at;
				st->action = POLICY_WAIT;
				st->at = at;
				return;
			case PACE_WAIT:
				/* Paced, not failed: wait rather than spill. */
				if (fits(r, at)) {
					st->action = POLICY_WAIT;
					st->at = at;
					return;
				}
				r->paced_out = 1;
				continue;
			case PACE_OUT:
				continue;
			}
		}
	}
	if (earliest > 0) {
		st->action = POLICY_WAIT;
		st->at = earliest;
		return;
	}
fail:
	st->action = POLICY_FAIL;
}

/* -- outcomes ------------------------------------------------------------- */

static int
reason_of(enum record_kind k, enum state_reason *reason)
{
	switch (k) {
	case RECORD_RATE_LIMITED:
		*reason = STATE_RATE;
		return 1;
	case RECORD_QUOTA:
		*reason = STATE_QUOTA;
		return 1;
	case RECORD_AUTH:
		*reason = STATE_AUTH;
		return 1;
	case RECORD_SERVER:
	case RECORD_TIMEOUT:
	case RECORD_NETWORK:
	case RECORD_TRUNCATED:
		*reason = STATE_SERVER;
		return 1;
	default:
		return 0;
	}
}

static char *
get_header(void *arg, const char *name)
{
	return http_header(arg, name);
}

/* Rate limit headers that say nothing is left pause the scope. */
static void
tighten(struct policy *p, const struct policy_target *t,
    const struct policy_cand *c, const struct http_transfer *x)
{
	struct state_scope sc;
	double wnow, until;

	if (x == NULL || !usable(p) || t->endpoint[0] == '\0')
		return;
	wnow = wall();
	if (ratelimit_exhausted(get_header, (void *)(uintptr_t)x, wnow,
	    &until) == 1) {
		scope_of(t, c, &sc);
		state_pause(p->state, &sc, until, wnow);
	}
}

void
policy_unsent(struct policy *p, struct policy_record *r,
    const struct send_failure *f)
{
	struct policy_target *t;
	struct policy_cand *c;
	int j;

	if (r->cur_t < 0)
		return;
	t = &r->t[r->cur_t];
	c = &t->c[r->cur_c];
	refund(p, r, 0, 0);
	release_slots(r);
	r->attempts--;
	c->tries--;
	if (r->counted_retry)
		r->retries--;
	r->last = *f;
	r->have_last = 1;
	r->last_t = r->cur_t;
	r->transient = 0;
	if (f->kind == RECORD_BAD_INPUT)
		r->final = 1;
	/* Another key would not make the request either. */
	for (j = 0; j < t->n; j++)
		t->c[j].dead = 1;
	r->cur_t = r->cur_c = -1;
}

void
policy_failed(struct policy *p, struct policy_record *r,
    const struct send_failure *f, const struct http_transfer *x, double now)
{
	struct policy_target *t;
	struct policy_cand *c;
	struct state_failure sf;
	struct state_scope sc;
	enum state_reason reason;
	double wait = 0, until;
	int transient, j;

	if (r->cur_t < 0)
		return;
	t = &r->t[r->cur_t];
	c = &t->c[r->cur_c];
	release_slots(r);
	refund(p, r, 1, 0);		/* tokens not spent */
	r->last = *f;
	r->have_last = 1;
	r->last_t = r->cur_t;
	transient = f->retriable;
	if (f->should_retry == 1)
		transient = 1;
	else if (f->should_retry == 0)
		transient = 0;
	r->last.retriable = transient;
	if (!transient)
		r->transient = 0;
	if (transient) {
		wait = retry_backoff(&p->retry, r->retries + 1, &p->rng);
		if (f->retry_after > wait)
			wait = f->retry_after;
	}
	if (usable(p) && t->endpoint[0] && reason_of(f->kind, &reason)) {
		sf.reason = reason;
		sf.status = f->status;
		sf.kind = f->kind;
		sf.message = f->message;
		sf.retry_after = f->retry_after;
		scope_of(t, c, &sc);
		state_fail(p->state, &sc, &sf, r->tok, wall(), wait +
		    p->timeout + LEASE_SLACK, &until);
		c->lease = 1;
	}
	tighten(p, t, c, x);
	if (f->kind == RECORD_BAD_INPUT)
		r->final = 1;
	if (transient) {
		c->not_before = now + wait;
		/* The server asked for more than the record has: move on. */
		if (f->retry_after >= 0 && !fits(r, now + f->retry_after))
			c->dead = 1;
		/* An endpoint's trouble is every key's. */
		if (reason_of(f->kind, &reason) && reason == STATE_SERVER)
			for (j = 0; j < t->n; j++)
				if (t->c[j].not_before < now + wait)
					t->c[j].not_before = now + wait;
	} else {
		c->dead = 1;
		/* A refused request: another key would not change that. */
		if (f->kind != RECORD_AUTH && f->kind != RECORD_QUOTA &&
		    f->kind != RECORD_RATE_LIMITED)
			for (j = 0; j < t->n; j++)
				t->c[j].dead = 1;
	}
	r->cur_t = r->cur_c = -1;
}

void
policy_succeeded(struct policy *p, struct policy_record *r, jv usage,
    const struct http_transfer *x, double now)
{
	struct policy_target *t;
	struct policy_cand *c;
	struct state_scope sc;
	double v, used = 0;

	(void)now;
	if (r->cur_t < 0)
		return;
	t = &r->t[r->cur_t];
	c = &t->c[r->cur_c];
	release_slots(r);
	if (json_peek_number(usage, "input", &v))
		used += v;
	if (json_peek_number(usage, "output", &v))
		used += v;
	if (json_peek_number(usage, "cache_read", &v))
		used += v;
	if (json_peek_number(usage, "cache_write", &v))
		used += v;
	/* The estimate was charged: settle with what was used. */
	if (jv_is_valid(usage))
		refund(p, r, 1, used);
	if (usable(p) && t->endpoint[0]) {
		scope_of(t, c, &sc);
		state_ok(p->state, &sc, r->sent_wall, wall());
	}
	tighten(p, t, c, x);
	r->cur_t = r->cur_c = -1;
}

void
policy_record_release(struct policy *p, struct policy_record *r)
{
	struct state_scope sc;
	int ti, ci;

	if (r->t == NULL) {
		jv_free(r->rec);
		memset(r, 0, sizeof(*r));
		r->rec = jv_invalid();
		return;
	}
	if (r->reserved)
		refund(p, r, 0, 0);
	release_slots(r);
	for (ti = 0; ti < r->nt; ti++) {
		struct policy_target *t = &r->t[ti];

		for (ci = 0; ci < t->n; ci++) {
			if (t->c[ci].lease && usable(p)) {
				scope_of(t, &t->c[ci], &sc);
				state_release(p->state, &sc, r->tok);
			}
			free(t->c[ci].source);
		}
		free(t->c);
		free(t->endpoint);
		free(t->origin);
		jv_free(t->target);
	}
	free(r->t);
	jv_free(r->rec);
	memset(r, 0, sizeof(*r));
	r->rec = jv_invalid();
}

const struct send_failure *
policy_failure(struct policy_record *r, const char **provider)
{
	struct send_failure *f = &r->last;
	int ti;

	if (!r->have_last) {
		if (r->have_cool) {
			double left = r->cool.ends - wall();

			send_fail(f, (enum record_kind)r->cool.kind,
			    r->cool.status, record_kind_retriable(
			    (enum record_kind)r->cool.kind), "cooling down "
			    "for %.0f s more (state shared by every process) "
			    "after: %s; not sent", left > 0 ? ceil(left) : 0,
			    r->cool.message[0] ? r->cool.message : "a failure");
			r->transient = f->retriable;
			r->last_t = r->last_cool_t;
		} else if (r->paced_out) {
			send_fail(f, RECORD_RATE_LIMITED, 0, 1, "the rate "
			    "limits leave no turn before the record's "
			    "deadline (--retry-max-time); not sent");
		} else
			send_fail(f, RECORD_CONFIG, 0, 0, "no candidate to "
			    "send to");
		r->have_last = 1;
	}
	ti = r->last_t >= 0 ? r->last_t : 0;
	*provider = ti < r->nt ? json_peek_string(r->t[ti].target,
	    "provider") : NULL;
	f->retriable = r->transient && f->retriable;
	/* Several candidates, all failed: say so, keep the last why. */
	if (r->nt > 1 && f->kind != RECORD_BAD_INPUT &&
	    f->kind != RECORD_EXHAUSTED) {
		struct buf msg;
		const char *ref = json_peek_string(r->t[ti].target, "ref");
		size_t len = strlen(f->message);

		buf_init(&msg, sizeof(f->message) - 1);
		buf_printf(&msg, "all %d candidates failed; last, %s: ", r->nt,
		    ref ? ref : "?");
		/* Cut to fit: the record's message has a ceiling. */
		buf_append(&msg, f->message, len < msg.max - msg.len ? len :
		    msg.max - msg.len);
		memcpy(f->message, buf_cstr(&msg), msg.len + 1);
		buf_release(&msg);
		f->kind = RECORD_EXHAUSTED;
	}
	return f;
}
