/*
 * llm-embed: embed texts in batches, one record per text; search vectors.
 *
 * Texts are read into a window of items, in input order.  Each is looked
 * up in the per-text cache; the misses gather in the open batch, which
 * closes at -b texts, at the provider's token ceiling, when the window is
 * full, at the end of input, or when input stalls with nothing under way
 * and the batch is LINGER old.
 * A closed batch is one record to the failing-well layer (policy.h): its
 * attempts, keys, cooldowns and rate limits are llm-send's, and up to -j
 * batches are under way at once on one curl multi handle.  Its answer is
 * read by the format's module (embed_api.h) straight into the items'
 * vectors, which go to the cache; items are written from the head of the
 * window as soon as they are done, so output follows input and memory
 * follows the window, not the input.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "catalog.h"
#include "config.h"
#include "embed_api.h"
#include "embed_input.h"
#include "embed_search.h"
#include "embed_vec.h"
#include "errbuf.h"
#include "http.h"
#include "jscan.h"
#include "json.h"
#include "latency.h"
#include "keyfile.h"
#include "policy.h"
#include "provider.h"
#include "record.h"
#include "resolve.h"
#include "retry.h"
#include "send.h"
#include "sendopt.h"
#include "state.h"
#include "tool.h"
#include "value.h"
#include "xalloc.h"

#define JOBS_DEFAULT	4
#define BATCH_MAX	4096
#define ARGS_MAX	256	/* -r and -g each */
#define LINGER		0.5	/* seconds a batch waits on stalled input */

enum format { F_JSON, F_B64, F_F32 };

enum item_state {
	I_WAIT,		/* in a batch, open or under way */
	I_DONE,		/* vec holds the vector */
	I_OUT,		/* out is the record to write (or none) */
};

struct item {
	jv		 rec;		/* {"id", "text", ...} */
	const char	*text;		/* in rec */
	size_t		 len;
	enum item_state	 state;
	jv		 out;
	float		*vec;
	char		 key[CACHE_KEY_HEX + 1];
	struct buf	 vtxt;		/* -f json: the vector, formatted */
	int		 formatted;
};

enum batch_state { B_FREE, B_OPEN, B_READY, B_ACTIVE };

struct batch {
	enum batch_state	 state;
	unsigned long		*seq;		/* its items */
	size_t			 n;
	double			 tokens;
	jv			 prrec;		/* for the policy */
	struct policy_record	 pr;
	struct send_request	 sr;
	const char		*source;
	struct http_transfer	*xfer;
	double			 not_before;
	double			 opened;	/* when its first text came */
};

static struct {
	const char	*model;
	int		 batch;
	long		 chunk, overlap, dims;
	enum format	 format;
	const char	*outfile;
	int		 jobs;
	int		 normalize;
	int		 cache;
	int		 dry_run;
	int		 stats;
	long		 timeout;
	long		 k;
	const char	*query;
	int		 docs;
	enum input_mode	 mode;
	char		*dirs[ARGS_MAX], *globs[ARGS_MAX];
	int		 ndirs, nglobs;
} opt;

static struct {
	unsigned long	 texts, cached, embedded, errors, passed, requests;
	double		 tokens, usd;
	struct latency	 lat;
	double		 start;
} st;

static struct resolver res;
static struct http http;
static struct send_keys keys;
static struct policy pol;
static struct state state;
static struct cache cache;
static int logfd = -1;

static jv target;			/* the one target of the run */
static const struct embed_api *api;
static char *url;
static const char *ref, *provider, *model_id;
static struct buf model_json;		/* the "model" value, as JSON */
static double max_request_tokens;
static size_t run_dims;			/* 0 until known */
static double price_in;			/* USD per million input tokens */

static struct item *ring;
static size_t ring_cap, ring_len;
static unsigned long ring_head;		/* sequence number of ring[head] */
static struct batch *batches;
static int nbatches, active;		/* active: B_ACTIVE batches */
static int inflight;
static struct batch *open_batch;

static FILE *matfp;			/* -f f32 */
static unsigned long next_row;
static struct buf line;			/* a record being written */

static float *query_vec;		/* search: the query's vector */
static int query_failed;

static char *
config_key(const char *name)
{
	return resolver_config_key(&res, name);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: llm-embed [-hTtV] [-b batch] [-c chars] [-d dims] "
	    "[-f format] [-g glob]\n"
	    "                 [-j jobs] [-m model] [-o file] [-r dir] "
	    "[--dry-run] [--no-cache]\n"
	    "                 [--normalize] [--overlap chars] [--rate N/U] "
	    "[--retry n]\n"
	    "                 [--retry-base secs] [--retry-cap secs] "
	    "[--retry-max-time secs]\n"
	    "                 [--stats] [--timeout secs] [file ...]\n"
	    "       llm-embed -k n -q text [-d dims] [-m model] [--no-cache] "
	    "[--timeout secs]\n"
	    "                 index ...\n");
}

static struct item *
item_at(unsigned long seq)
{
	return &ring[seq % ring_cap];
}

/* -- the target -------------------------------------------------------- */

/* Whether t's model is an id its provider takes without listing it. */
static int
unlisted_any_model(jv t)
{
	jv p = provider_get(&res.ps, json_peek_string(t, "provider"));
	jv ids;
	int any = 0, i, n, listed = 0;

	if (!jv_is_valid(p) || !json_peek_bool(p, "anyModel", &any) || !any) {
		jv_free(p);
		return 0;
	}
	ids = provider_model_ids(p);
	n = jv_array_length(jv_copy(ids));
	for (i = 0; i < n && !listed; i++) {
		jv id = jv_array_get(jv_copy(ids), i);

		listed = jv_get_kind(id) == JV_KIND_STRING &&
		    strcmp(jv_string_value(id), json_peek_string(t,
		    "model")) == 0;
		jv_free(id);
	}
	jv_free(ids);
	return !listed;
}

/* Resolves the model and checks it embeds.  Returns 0, or -1 with err. */
static int
setup_target(const char *name, char *err)
{
	const char *type;
	double d;

	target = resolve_target(&res, name, err);
	if (!jv_is_valid(target))
		return -1;
	ref = json_peek_string(target, "ref");
	type = json_peek_string(target, "type");
	if (!(type && strcmp(type, "embedding") == 0) &&
	    !(type == NULL && unlisted_any_model(target)))
		return errbuf_set(err, "'%s' is a %s model, not an embedding "
		    "model (one whose \"type\" is \"embedding\"; "
		    "'llm-resolve -l' lists them)", ref, type ? type : "chat");
	if ((api = embed_api_find(target, err)) == NULL)
		return -1;
	if ((url = api->url(target, err)) == NULL)
		return -1;
	provider = json_peek_string(target, "provider");
	model_id = json_peek_string(target, "model");
	if (provider == NULL || model_id == NULL)
		return errbuf_set(err, "target '%s' has no provider or model",
		    ref);
	buf_init(&model_json, 0);
	json_write_string(&model_json, ref, strlen(ref));
	if (opt.dims > 0)
		run_dims = (size_t)opt.dims;
	else if (json_peek_number(target, "dims", &d) && d > 0 &&
	    d <= EMBED_API_DIMS_MAX)
		run_dims = (size_t)d;
	{
		jv c = json_get(target, "cost");

		json_peek_number(c, "input", &price_in);
		jv_free(c);
	}
	return 0;
}

/* -- logging and statistics ------------------------------------------- */

static void
log_attempt(struct batch *b, const char *status, double ms, double tokens)
{
	struct buf lb;
	struct timespec ts;
	jv l;

	if (logfd == -1)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	l = jv_object();
	l = jv_object_set(l, jv_string("ts"), jv_number((double)ts.tv_sec +
	    floor((double)ts.tv_nsec / 1e6) / 1e3));
	l = jv_object_set(l, jv_string("id"), json_get(b->prrec, "id"));
	l = jv_object_set(l, jv_string("texts"), jv_number((double)b->n));
	l = jv_object_set(l, jv_string("target"), jv_string(ref));
	if (b->source)
		l = jv_object_set(l, jv_string("key"), jv_string(b->source));
	l = jv_object_set(l, jv_string("attempt"),
	    jv_number(b->pr.attempts));
	l = jv_object_set(l, jv_string("status"), jv_string(status));
	l = jv_object_set(l, jv_string("latency_ms"), jv_number(round(ms)));
	if (tokens >= 0)
		l = jv_object_set(l, jv_string("usage"), jv_object_set(
		    jv_object(), jv_string("input"), jv_number(tokens)));
	l = jv_object_set(l, jv_string("cost_usd"), jv_number(tokens > 0 ?
	    round(tokens * price_in / 1e6 * 1e10) / 1e10 : 0));
	buf_init(&lb, 0);
	json_write(&lb, l);
	buf_putc(&lb, '\n');
	(void)!write(logfd, lb.data, lb.len);
	buf_release(&lb);
	jv_free(l);
}

static void
print_stats(void)
{
	double secs = http_now() - st.start;
	fprintf(stderr, "%s: %lu texts, %lu cached, %lu embedded, %lu errors, "
	    "%lu requests, %.0f input tokens, $%.6f, latency p50 %.0f ms "
	    "p95 %.0f ms, %.1f s, %.0f texts/s\n", tool_name, st.texts,
	    st.cached, st.embedded, st.errors, st.requests, st.tokens, st.usd,
	    latency_quantile(&st.lat, 0.5), latency_quantile(&st.lat, 0.95),
	    secs, (double)st.texts / (secs > 0 ? secs : 1e-9));
}

static void
progress(int final)
{
	static double last;
	double now = http_now();
	unsigned long done = st.cached + st.embedded + st.errors;

	if (!isatty(STDERR_FILENO) || (!final && now - last < 0.2))
		return;
	last = now;
	fprintf(stderr, "\r%s: %lu texts done, %d requests in flight, "
	    "%.1f/s%s", tool_name, done, inflight,
	    (double)done / (now - st.start + 1e-9), final ? "\n" : "   ");
}

/* -- items ------------------------------------------------------------ */

/* An item's final record is an error: f for every text of a batch. */
static void
item_error(struct item *it, jv out, int retriable)
{
	it->out = out;
	it->state = I_OUT;
	st.errors++;
	tool_count_error(retriable);
}

/* Reads a cache entry's vector into it; 0, or -1 (a miss after all). */
static int
from_cache(struct item *it, const struct cache_entry *e)
{
	struct jscan sc;
	struct embed_vectors ev;
	const char *k, *v = NULL;
	size_t kn, vl = 0;
	double dims = -1;
	char err[ERRBUF_MAX];
	int r, esc = 0;

	jscan_init(&sc, e->body, e->len);
	if (jscan_enter(&sc, '{') == -1)
		return -1;
	while ((r = jscan_key(&sc, &k, &kn)) == 1) {
		if (jscan_is(k, kn, "dims") && jscan_peek(&sc) ==
		    'n')
			r = jscan_number(&sc, &dims);
		else if (jscan_is(k, kn, "embedding_b64"))
			r = jscan_string(&sc, &v, &vl, &esc);
		else
			r = jscan_skip(&sc);
		if (r == -1)
			return -1;
	}
	if (r == -1 || v == NULL || dims < 1 || dims > EMBED_API_DIMS_MAX ||
	    (run_dims && (size_t)dims != run_dims))
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.n = 1;
	ev.dims = (size_t)dims;
	if (embed_api_place(&ev, 0, v, vl, '"', esc, err) == -1)
		return -1;
	if (run_dims == 0)
		run_dims = (size_t)dims;
	it->vec = ev.v;
	return 0;
}

/* Stores it's vector under its key. */
static void
to_cache(struct item *it)
{
	struct buf b;
	char err[ERRBUF_MAX];

	if (!opt.cache || it->key[0] == '\0' || cache.mode != CACHE_RW)
		return;
	buf_init(&b, 0);
	buf_printf(&b, "{\"dims\":%zu,\"embedding_b64\":\"", run_dims);
	embed_vec_b64(&b, it->vec, run_dims);
	buf_puts(&b, "\"}");
	if (cache_put_body(&cache, it->key, b.data, b.len, err) == -1)
		tool_warn("%s; going on uncached", err);
	buf_release(&b);
}

/* -- batches ---------------------------------------------------------- */

static struct batch *
batch_new(void)
{
	int i;

	for (i = 0; i < nbatches; i++)
		if (batches[i].state == B_FREE) {
			struct batch *b = &batches[i];

			b->state = B_OPEN;
			b->n = 0;
			b->tokens = 0;
			b->prrec = jv_invalid();
			b->xfer = NULL;
			b->source = NULL;
			b->not_before = 0;
			b->opened = http_now();
			return b;
		}
	return NULL;
}

static void
batch_free(struct batch *b)
{
	if (b->state == B_ACTIVE)
		active--;
	send_request_release(&b->sr);
	policy_record_release(&pol, &b->pr);
	jv_free(b->prrec);
	b->prrec = jv_invalid();
	b->state = B_FREE;
	b->n = 0;
	if (open_batch == b)
		open_batch = NULL;
}

/* Every text of b fails with f. */
static void
batch_fail(struct batch *b, const struct send_failure *f,
    const char *prov, int attempts)
{
	jv first = json_get(b->prrec, "id");
	jv ids = jv_dump_string(first, 0);
	size_t i;

	for (i = 0; i < b->n; i++) {
		struct item *it = item_at(b->seq[i]);
		jv out = send_error(jv_copy(it->rec), prov, f);

		if (attempts > 0)
			out = jv_object_set(out, jv_string("attempts"),
			    jv_number(attempts));
		item_error(it, out, f->retriable);
	}
	tool_warn("%zu text%s from %s: %s", b->n, b->n == 1 ? "" : "s",
	    jv_string_value(ids), f->message);
	jv_free(ids);
	batch_free(b);
}

static void
policy_fail(struct batch *b)
{
	const struct send_failure *f;
	const char *prov;

	f = policy_failure(&b->pr, &prov);
	batch_fail(b, f, prov, b->pr.attempts);
}

static int
batch_send(struct batch *b, const struct policy_step *ps)
{
	struct send_failure f;
	struct curl_slist *hdrs;
	char err[ERRBUF_MAX];

	b->source = ps->source;
	if ((hdrs = send_auth(&b->sr, &keys, ps->source, &f)) == NULL) {
		log_attempt(b, record_kind_name(f.kind), 0, -1);
		policy_unsent(&pol, &b->pr, &f);
		return -1;
	}
	st.requests++;
	b->xfer = http_post(&http, b->sr.url, hdrs, 1, b->sr.text, b->sr.len,
	    b, err);
	if (b->xfer == NULL) {
		send_fail(&f, RECORD_NETWORK, 0, 1, "%s", err);
		policy_failed(&pol, &b->pr, &f, NULL, http_now());
		return -1;
	}
	inflight++;
	return 0;
}

static void
batch_step(struct batch *b)
{
	struct policy_step ps;

	b->not_before = 0;
	for (;;) {
		policy_next(&pol, &b->pr, http_now(), &ps);
		switch (ps.action) {
		case POLICY_WAIT:
			b->not_before = ps.at;
			return;
		case POLICY_FAIL:
			policy_fail(b);
			return;
		case POLICY_SEND:
			if (batch_send(b, &ps) == 0)
				return;
			break;
		}
	}
}

/* The request body of b, built into b->sr. */
static int
batch_build(struct batch *b, char *err)
{
	const char **texts = xcalloc(b->n, sizeof(*texts));
	size_t *lens = xcalloc(b->n, sizeof(*lens)), i;
	struct buf body;
	int r;

	for (i = 0; i < b->n; i++) {
		texts[i] = item_at(b->seq[i])->text;
		lens[i] = item_at(b->seq[i])->len;
	}
	buf_init(&body, 0);
	r = api->build(&body, target, texts, lens, b->n, opt.dims);
	free(texts);
	free(lens);
	if (r == -1) {
		buf_release(&body);
		return errbuf_set(err, "request too large");
	}
	memset(&b->sr, 0, sizeof(b->sr));
	b->sr.dialect = api->dialect;
	b->sr.target = jv_copy(target);
	b->sr.canon = b->sr.body = jv_invalid();
	b->sr.headers = jv_object();
	b->sr.url = xstrdup(url);
	b->sr.text = buf_detach(&body, &b->sr.len);
	return 0;
}

/* --dry-run: the batch's request, as the first item's record. */
static void
batch_dry_run(struct batch *b)
{
	jv out, ids = jv_array(), keysv = jv_array();
	size_t i;

	b->sr.body = jv_parse_sized(b->sr.text, (int)b->sr.len);
	out = jv_object_set(jv_object(), jv_string("dry_run"),
	    send_dry_run(&b->sr));
	out = jv_object_set(out, jv_string("model"), jv_string(ref));
	for (i = 0; i < b->n; i++) {
		struct item *it = item_at(b->seq[i]);

		ids = jv_array_append(ids, json_get(it->rec, "id"));
		keysv = jv_array_append(keysv, jv_string(it->key));
		it->state = I_OUT;
		it->out = jv_invalid();
	}
	out = jv_object_set(out, jv_string("ids"), ids);
	out = jv_object_set(out, jv_string("cache_keys"), keysv);
	item_at(b->seq[0])->out = out;
	batch_free(b);
}

/* A closed batch goes: built, then under the policy. */
static void
batch_start(struct batch *b)
{
	struct send_failure f;
	char err[ERRBUF_MAX];

	if (open_batch == b)
		open_batch = NULL;
	if (batch_build(b, err) == -1) {
		send_fail(&f, RECORD_BAD_INPUT, 0, 0, "%s", err);
		b->state = B_READY;
		batch_fail(b, &f, provider, 0);
		return;
	}
	if (opt.dry_run) {
		batch_dry_run(b);
		return;
	}
	b->prrec = jv_object_set(jv_object(), jv_string("id"),
	    json_get(item_at(b->seq[0])->rec, "id"));
	policy_record_init(&pol, &b->pr, b->prrec, jv_array_append(jv_array(),
	    jv_copy(target)), http_now());
	/* The rate limits' token estimate: the texts', not the body's. */
	b->pr.est_cached = b->tokens > 0 ? b->tokens : 1;
	b->state = B_ACTIVE;
	active++;
	batch_step(b);
}

/* Closes the open batch; it starts when there is room. */
static void
batch_close(void)
{
	if (open_batch && open_batch->n > 0) {
		open_batch->state = B_READY;
		open_batch = NULL;
	}
}

/* Starts closed batches, oldest first, while -j allows. */
static void
start_ready(void)
{
	int i, best;

	for (;;) {
		if (active >= opt.jobs)
			return;
		best = -1;
		for (i = 0; i < nbatches; i++)
			if (batches[i].state == B_READY && (best == -1 ||
			    batches[i].seq[0] < batches[best].seq[0]))
				best = i;
		if (best == -1)
			return;
		batch_start(&batches[best]);
	}
}

static int
ready_count(void)
{
	int i, n = 0;

	for (i = 0; i < nbatches; i++)
		n += batches[i].state == B_READY;
	return n;
}

static void
complete(struct http_transfer *t)
{
	struct batch *b = t->user;
	struct send_failure f;
	struct embed_vectors ev;
	char err[ERRBUF_MAX];
	double ms = (http_now() - t->started) * 1000;
	jv fields, usage;
	size_t i;

	b->xfer = NULL;
	inflight--;
	if (send_result(&b->sr, t, &fields, &f) == 0) {
		jv_free(fields);
		memset(&ev, 0, sizeof(ev));
		ev.n = b->n;
		ev.dims = run_dims;
		/*
		 * A vector of another size is no accident a retry mends:
		 * the model is not the one configured (its "dims").
		 */
		if (api->parse(buf_cstr(&t->resp), t->resp.len, &ev,
		    err) == -1)
			send_fail(&f, RECORD_SERVER, (int)t->status,
			    !ev.wrong_dims, "unusable response: %s", err);
		else if (run_dims && ev.dims != run_dims) {
			send_fail(&f, RECORD_SERVER, (int)t->status, 0,
			    "vectors of %zu numbers, expected %zu", ev.dims,
			    run_dims);
			free(ev.v);
		} else {
			if (run_dims == 0)
				run_dims = ev.dims;
			latency_add(&st.lat, ms);
			usage = ev.tokens >= 0 ? jv_object_set(jv_object(),
			    jv_string("input"), jv_number(ev.tokens)) :
			    jv_invalid();
			policy_succeeded(&pol, &b->pr, usage, t, http_now());
			jv_free(usage);
			log_attempt(b, "ok", ms, ev.tokens);
			if (ev.tokens > 0) {
				st.tokens += ev.tokens;
				st.usd += ev.tokens * price_in / 1e6;
			}
			for (i = 0; i < b->n; i++) {
				struct item *it = item_at(b->seq[i]);

				it->vec = xmalloc(run_dims * sizeof(float));
				memcpy(it->vec, ev.v + i * run_dims, run_dims *
				    sizeof(float));
				it->state = I_DONE;
				st.embedded++;
				to_cache(it);
			}
			free(ev.v);
			batch_free(b);
			http_transfer_free(t);
			return;
		}
	}
	{
		char status[32];

		snprintf(status, sizeof(status), "%d", f.status);
		log_attempt(b, f.status ? status : record_kind_name(f.kind),
		    ms, -1);
	}
	policy_failed(&pol, &b->pr, &f, t, http_now());
	batch_step(b);
	http_transfer_free(t);
}

/* -- reading ---------------------------------------------------------- */

/* A new text: from the cache, or into the open batch. */
static void
add_text(unsigned long seq)
{
	struct item *it = item_at(seq);
	struct cache_entry e;
	char err[ERRBUF_MAX];
	double tok;
	jv text = json_get(it->rec, "text");
	int got;

	it->len = (size_t)jv_string_length_bytes(jv_copy(text));
	jv_free(text);
	it->text = json_peek_string(it->rec, "text");
	st.texts++;
	if ((opt.cache || opt.dry_run) && cache_embed_key(provider, model_id,
	    opt.dims, it->text, it->len, it->key, err) == -1)
		it->key[0] = '\0';
	if (opt.cache && !opt.dry_run && it->key[0]) {
		got = cache_get(&cache, it->key, &e, 0, err);
		if (got == -1)
			tool_warn("%s; going on uncached", err);
		if (got == CACHE_HIT && from_cache(it, &e) == 0) {
			it->state = I_DONE;
			st.cached++;
			return;
		}
	}
	tok = embed_input_tokens(it->text, it->len);
	/* Over the request's token ceiling: this text opens the next. */
	if (open_batch && max_request_tokens > 0 && open_batch->n > 0 &&
	    open_batch->tokens + tok > max_request_tokens)
		batch_close();
	if (open_batch == NULL)
		open_batch = batch_new();	/* room was checked */
	open_batch->seq[open_batch->n++] = seq;
	open_batch->tokens += tok;
	it->state = I_WAIT;
	if (open_batch->n == (size_t)opt.batch)
		batch_close();
}

/* Whether another text may be read now. */
static int
room(void)
{
	int free_batches = 0, i;

	if (ring_len >= ring_cap)
		return 0;
	for (i = 0; i < nbatches; i++)
		free_batches += batches[i].state == B_FREE;
	/* An open batch with room, or a free one for the next. */
	if (open_batch)
		return open_batch->n < (size_t)opt.batch &&
		    (free_batches > 0 || max_request_tokens == 0);
	return free_batches > 0;
}

/* One text for the search query, as if read. */
static jv single = { 0 };
static int single_given;

static int
next_input(struct embed_input *in, jv *rec, char *err)
{
	if (single_given) {
		if (!jv_is_valid(single))
			return EMBED_INPUT_EOF;
		*rec = single;
		single = jv_invalid();
		return EMBED_INPUT_TEXT;
	}
	return embed_input_next(in, rec, err);
}

/* -- writing ---------------------------------------------------------- */

static const char *const not_carried[] = {
	"id", "text", "prompt", "model", "error", "attempts", "dims",
	"embedding", "embedding_b64", "row", "matrix", NULL
};

static int
carried(const char *k)
{
	const char *const *p;

	for (p = not_carried; *p; p++)
		if (strcmp(*p, k) == 0)
			return 0;
	return 1;
}

/* -- formatting vectors in two threads --------------------------------- */

/*
 * Writing a float in its shortest form costs some 34 ns, 52 us for a
 * vector of 1536: with -f json that is most of the run.  So the finished
 * vectors at the head of the window are formatted half here and half by
 * a second thread, which touches nothing but the floats and their text
 * (no jv: libjq's reference counts are not thread-safe).
 */
#define FMT_MIN		16	/* fewer vectors: not worth a hand-off */

static struct {
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 state;		/* 0 none, 1 running, -1 failed */
	int		 busy, quit;
	struct item	**v;
	size_t		 n;
} fmt = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void
format_items(struct item **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (opt.normalize)
			embed_vec_normalize(v[i]->vec, run_dims);
		buf_reset(&v[i]->vtxt);
		embed_vec_json(&v[i]->vtxt, v[i]->vec, run_dims);
		v[i]->formatted = 1;
	}
}

static void *
fmt_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&fmt.mu);
	for (;;) {
		while (!fmt.busy && !fmt.quit)
			pthread_cond_wait(&fmt.cv, &fmt.mu);
		if (fmt.quit)
			break;
		pthread_mutex_unlock(&fmt.mu);
		format_items(fmt.v, fmt.n);
		pthread_mutex_lock(&fmt.mu);
		fmt.busy = 0;
		pthread_cond_broadcast(&fmt.cv);
	}
	pthread_mutex_unlock(&fmt.mu);
	return NULL;
}

/* Formats the finished vectors at the head of the window, two ways. */
static void
format_ahead(void)
{
	static struct item **v;
	static size_t cap;
	struct item *it;
	size_t n = 0, half;

	while (n < ring_len && (it = item_at(ring_head + n))->state ==
	    I_DONE && !it->formatted) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = it;
	}
	if (n < FMT_MIN)
		return;
	if (fmt.state == 0)
		fmt.state = pthread_create(&fmt.th, NULL, fmt_worker,
		    NULL) == 0 ? 1 : -1;
	if (fmt.state != 1) {
		format_items(v, n);
		return;
	}
	half = n / 2;
	pthread_mutex_lock(&fmt.mu);
	fmt.v = v + half;
	fmt.n = n - half;
	fmt.busy = 1;
	pthread_cond_broadcast(&fmt.cv);
	pthread_mutex_unlock(&fmt.mu);
	format_items(v, half);
	pthread_mutex_lock(&fmt.mu);
	while (fmt.busy)
		pthread_cond_wait(&fmt.cv, &fmt.mu);
	pthread_mutex_unlock(&fmt.mu);
}

static void
fmt_stop(void)
{
	if (fmt.state != 1)
		return;
	pthread_mutex_lock(&fmt.mu);
	fmt.quit = 1;
	pthread_cond_broadcast(&fmt.cv);
	pthread_mutex_unlock(&fmt.mu);
	pthread_join(fmt.th, NULL);
	fmt.state = 0;
}

static void
write_vector(struct item *it)
{
	jv id = json_get(it->rec, "id");
	int i2;

	if (opt.normalize && !it->formatted)
		embed_vec_normalize(it->vec, run_dims);
	buf_reset(&line);
	buf_puts(&line, "{\"id\":");
	json_write(&line, id);
	jv_free(id);
	buf_puts(&line, ",\"model\":");
	buf_append(&line, model_json.data, model_json.len);
	buf_printf(&line, ",\"dims\":%zu,", run_dims);
	switch (opt.format) {
	case F_JSON:
		buf_puts(&line, "\"embedding\":");
		if (it->formatted)
			buf_append(&line, it->vtxt.data, it->vtxt.len);
		else
			embed_vec_json(&line, it->vec, run_dims);
		break;
	case F_B64:
		buf_puts(&line, "\"embedding_b64\":\"");
		embed_vec_b64(&line, it->vec, run_dims);
		buf_putc(&line, '"');
		break;
	case F_F32:
		embed_vec_le(it->vec, run_dims);
		if (fwrite(it->vec, sizeof(float), run_dims, matfp) !=
		    run_dims)
			tool_die(TOOL_EXIT_FAIL, "write '%s': %s",
			    opt.outfile, strerror(errno));
		buf_printf(&line, "\"row\":%lu,\"matrix\":", next_row++);
		json_write_string(&line, opt.outfile, strlen(opt.outfile));
		break;
	}
	for (i2 = jv_object_iter(it->rec); jv_object_iter_valid(it->rec, i2);
	    i2 = jv_object_iter_next(it->rec, i2)) {
		jv k = jv_object_iter_key(it->rec, i2);

		if (carried(jv_string_value(k))) {
			jv v = jv_object_iter_value(it->rec, i2);

			buf_putc(&line, ',');
			json_write(&line, k);
			buf_putc(&line, ':');
			json_write(&line, v);
			jv_free(v);
		}
		jv_free(k);
	}
	buf_puts(&line, "}\n");
	tool_write(line.data, line.len);
}

static void
item_clear(struct item *it)
{
	jv_free(it->rec);
	if (jv_is_valid(it->out))
		jv_free(it->out);
	free(it->vec);
	buf_release(&it->vtxt);
	memset(it, 0, sizeof(*it));
	it->rec = it->out = jv_invalid();
}

/* Writes the finished items at the head of the window. */
static void
drain(void)
{
	struct item *it;

	if (opt.format == F_JSON && !opt.query)
		format_ahead();
	while (ring_len > 0 && (it = item_at(ring_head))->state != I_WAIT) {
		if (opt.query) {
			if (it->state == I_DONE) {
				query_vec = it->vec;
				it->vec = NULL;
			} else {
				if (jv_is_valid(it->out))
					tool_emit(jv_copy(it->out));
				query_failed = 1;
			}
		} else if (it->state == I_DONE)
			write_vector(it);
		else if (jv_is_valid(it->out)) {
			tool_emit(it->out);
			it->out = jv_invalid();
		}
		item_clear(it);
		ring_head++;
		ring_len--;
	}
}

/* Starts the batches whose wait is over; the earliest wait left, or 0. */
static double
wake(void)
{
	double now = http_now(), next = 0;
	int i;

	for (i = 0; i < nbatches; i++) {
		struct batch *b = &batches[i];

		if (b->state != B_ACTIVE || b->xfer || b->not_before == 0)
			continue;
		if (b->not_before <= now) {
			batch_step(b);
			now = http_now();
		}
		if (b->state == B_ACTIVE && !b->xfer && b->not_before > 0 &&
		    (next == 0 || b->not_before < next))
			next = b->not_before;
	}
	return next;
}

static void
run(struct embed_input *in)
{
	char err[ERRBUF_MAX];
	int eof = 0, ready, got, ms, i, fd;
	struct http_transfer *t;
	double next;
	jv rec;

	nbatches = opt.jobs + 2;
	batches = xcalloc((size_t)nbatches, sizeof(*batches));
	for (i = 0; i < nbatches; i++) {
		batches[i].seq = xcalloc((size_t)opt.batch,
		    sizeof(unsigned long));
		batches[i].prrec = jv_invalid();
		batches[i].sr.target = batches[i].sr.canon =
		    batches[i].sr.body = batches[i].sr.headers = jv_invalid();
	}
	ring_cap = (size_t)opt.batch * (size_t)(opt.jobs * 2 + 2);
	if (ring_cap < 1024)
		ring_cap = 1024;
	ring = xcalloc(ring_cap, sizeof(*ring));
	for (;;) {
		while (!eof && !tool_interrupted && ready_count() == 0 &&
		    room()) {
			struct item *it;
			unsigned long seq;

			got = next_input(in, &rec, err);
			if (got == EMBED_INPUT_AGAIN) {
				/*
				 * A stall: send what there is if idle, once
				 * the batch has waited LINGER for more, so
				 * that a producer writing in bursts (jq,
				 * a pipe's 64 KiB) still gets one request,
				 * not one per burst.
				 */
				if (active == 0 && open_batch &&
				    http_now() - open_batch->opened >= LINGER)
					batch_close();
				break;
			}
			if (got == EMBED_INPUT_EOF) {
				eof = 1;
				break;
			}
			if (got == EMBED_INPUT_FAIL || got ==
			    EMBED_INPUT_SKIP) {
				tool_warn("%s", err);
				if (got == EMBED_INPUT_FAIL)
					tool_count_error(0);
				continue;
			}
			seq = ring_head + ring_len++;
			it = item_at(seq);
			memset(it, 0, sizeof(*it));
			buf_init(&it->vtxt, 0);
			it->rec = rec;
			it->out = jv_invalid();
			if (got == EMBED_INPUT_PASS) {
				it->rec = jv_null();
				it->out = rec;
				it->state = I_OUT;
				st.passed++;
			} else if (got == EMBED_INPUT_BAD) {
				jv ids = jv_dump_string(json_get(rec, "id"),
				    0);

				tool_warn("record %s: %s", jv_string_value(ids),
				    record_error_message(rec));
				jv_free(ids);
				it->rec = jv_null();
				item_error(it, rec, 0);
			} else
				add_text(seq);
		}
		if (ring_len >= ring_cap || eof || tool_interrupted)
			batch_close();
		start_ready();
		next = wake();
		if (state_warning(&state))
			tool_warn("%s", state_warning(&state));
		drain();
		progress(0);
		if ((eof && ring_len == 0) || tool_interrupted)
			break;
		ms = inflight ? 1000 : 60000;
		if (next > 0) {
			double d = ceil((next - http_now()) * 1000);

			if (d < ms)
				ms = d < 0 ? 0 : (int)d;
		}
		if (active == 0 && open_batch && open_batch->n > 0) {
			/* Wake when the open batch has lingered enough. */
			double d = ceil((open_batch->opened + LINGER -
			    http_now()) * 1000);

			if (d < ms)
				ms = d < 0 ? 0 : (int)d;
		}
		fd = eof || ready_count() > 0 || !room() ? -1 :
		    embed_input_fd(in);
		/* Nothing to wait for: go round (a document, a stall). */
		if (fd == -1 && inflight == 0 && next == 0 && !eof &&
		    ready_count() == 0 && room())
			continue;
		if (http_wait(&http, fd, ms, &ready, err) == -1) {
			tool_warn("%s", err);
			break;
		}
		while ((t = http_done(&http)) != NULL)
			complete(t);
	}
	/* Interrupted: abandon what is under way. */
	for (i = 0; i < nbatches; i++) {
		if (batches[i].xfer) {
			http_abort(&http, batches[i].xfer);
			batches[i].xfer = NULL;
		}
		if (batches[i].state != B_FREE)
			batch_free(&batches[i]);
		free(batches[i].seq);
	}
	free(batches);
	while (ring_len > 0) {
		item_clear(item_at(ring_head));
		ring_head++;
		ring_len--;
	}
	free(ring);
	progress(1);
}

/* -- options ---------------------------------------------------------- */

/* Leaves while parsing options, so's memory freed (for LeakSanitizer). */
static int
opt_exit(struct sendopt *so, int status)
{
	sendopt_release(so);
	return tool_finish(status);
}

static int
long_arg(const char *name, const char *arg, long lo, long hi, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (*end || end == arg || errno || n < lo || n > hi) {
		tool_warn("%s: expected %ld to %ld, got '%s'", name, lo, hi,
		    arg);
		return -1;
	}
	*out = n;
	return 0;
}

static int
search(char **files, int nfiles)
{
	struct embed_search s;
	struct buf out;
	char err[ERRBUF_MAX];
	int i, r = 0;

	if (embed_search_init(&s, query_vec, run_dims, (size_t)opt.k,
	    ref) == -1) {
		/* Nothing has a cosine with it: no answer, not an empty one. */
		tool_warn("the query's vector is zero");
		tool_count_error(0);
		embed_search_release(&s);
		return -1;
	}
	for (i = 0; i < nfiles; i++)
		if (embed_search_file(&s, files[i], err) == -1) {
			tool_warn("%s", err);
			tool_count_error(0);
			r = -1;
		}
	if (s.other_model)
		tool_warn("%lu records of another model skipped",
		    s.other_model);
	if (s.other_dims)
		tool_warn("%lu records of another size than %zu skipped",
		    s.other_dims, run_dims);
	if (s.zero)
		tool_warn("%lu vectors of length 0 skipped", s.zero);
	if (s.no_vector)
		tool_warn("%lu records without a vector skipped",
		    s.no_vector);
	buf_init(&out, 0);
	embed_search_results(&s, &out);
	tool_write(out.data, out.len);
	buf_release(&out);
	embed_search_release(&s);
	return r;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		SENDOPT_LONGOPTS,
		{ "no-cache", no_argument, NULL, 'N' },
		{ "normalize", no_argument, NULL, 'Y' },
		{ "overlap", required_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 }
	};
	struct sendopt so;
	struct embed_input_opts io;
	struct embed_input in;
	struct catalog cat;
	struct config cfg;
	char err[ERRBUF_MAX];
	const char *logpath, *model;
	int ch, r = 0, status = TOOL_EXIT_USAGE, def, max, batch_given = 0;
	long n;

	tool_init("llm-embed");
	sendopt_init(&so);
	so.jobs = JOBS_DEFAULT;
	so.cache = 1;
	opt.k = 0;
	policy_init(&pol);
	state.dfd = -1;
	target = jv_invalid();
	while ((ch = getopt_long(argc, argv, "b:c:d:f:g:hj:k:m:o:q:r:TtV",
	    longopts, NULL)) != -1) {
		r = 0;
		switch (ch) {
		case 'b':
			if (long_arg("-b", optarg, 1, BATCH_MAX, &n) == -1)
				return opt_exit(&so, TOOL_EXIT_USAGE);
			opt.batch = (int)n;
			batch_given = 1;
			break;
		case 'c':
			if (long_arg("-c", optarg, 1, 1L << 30, &opt.chunk) ==
			    -1)
				return opt_exit(&so, TOOL_EXIT_USAGE);
			break;
		case 'd':
			if (long_arg("-d", optarg, 1, EMBED_API_DIMS_MAX,
			    &opt.dims) == -1)
				return opt_exit(&so, TOOL_EXIT_USAGE);
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				opt.format = F_JSON;
			else if (strcmp(optarg, "base64") == 0)
				opt.format = F_B64;
			else if (strcmp(optarg, "f32") == 0)
				opt.format = F_F32;
			else {
				tool_warn("-f: expected json, base64 or f32, "
				    "got '%s'", optarg);
				return opt_exit(&so, TOOL_EXIT_USAGE);
			}
			break;
		case 'g':
			if (opt.nglobs == ARGS_MAX) {
				tool_warn("-g: at most %d", ARGS_MAX);
				return opt_exit(&so, TOOL_EXIT_USAGE);
			}
			opt.globs[opt.nglobs++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return opt_exit(&so, 0);
		case 'k':
			if (long_arg("-k", optarg, 1, EMBED_SEARCH_K_MAX,
			    &opt.k) == -1)
				return opt_exit(&so, TOOL_EXIT_USAGE);
			break;
		case 'N':
			so.cache = 0;
			break;
		case 'O':
			if (long_arg("--overlap", optarg, 0, 1L << 30,
			    &opt.overlap) == -1)
				return opt_exit(&so, TOOL_EXIT_USAGE);
			break;
		case 'o':
			opt.outfile = optarg;
			break;
		case 'q':
			opt.query = optarg;
			break;
		case 'r':
			if (opt.ndirs == ARGS_MAX) {
				tool_warn("-r: at most %d", ARGS_MAX);
				return opt_exit(&so, TOOL_EXIT_USAGE);
			}
			opt.dirs[opt.ndirs++] = optarg;
			opt.docs = 1;
			break;
		case 'V':
			printf("llm-embed %s\n", VERSION);
			return opt_exit(&so, 0);
		case 'Y':
			opt.normalize = 1;
			break;
		default:
			/* What every sending tool shares: -j -m -T -t, --retry... */
			if (ch != '?' && (r = sendopt_parse(&so, ch, optarg,
			    err)) == 1)
				break;
			if (r == -1)
				tool_warn("%s", err);
			else
				usage(stderr);
			sendopt_release(&so);
			return tool_finish(TOOL_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	opt.jobs = so.jobs;
	opt.model = so.model;
	opt.cache = so.cache;
	opt.dry_run = so.dry_run;
	opt.stats = so.stats;
	opt.timeout = so.timeout;
	if (so.mode == INPUT_WHOLE)
		opt.docs = 1;
	else
		opt.mode = so.mode;
	pol.retry = so.retry;
	pol.rate = so.rate;
	sendopt_release(&so);
	if ((opt.k > 0) != (opt.query != NULL)) {
		tool_warn("-k and -q go together");
		usage(stderr);
		return tool_finish(TOOL_EXIT_USAGE);
	}
	if (opt.query && argc == 0) {
		tool_warn("a search needs index files");
		return tool_finish(TOOL_EXIT_USAGE);
	}
	if ((opt.format == F_F32) != (opt.outfile != NULL)) {
		tool_warn(opt.outfile ? "-o goes with -f f32" :
		    "-f f32 needs -o file");
		return tool_finish(TOOL_EXIT_USAGE);
	}
	if (opt.overlap > 0 && (opt.chunk == 0 || opt.overlap >= opt.chunk)) {
		tool_warn("--overlap: needs -c and must be less than it");
		return tool_finish(TOOL_EXIT_USAGE);
	}
	if (opt.docs && opt.mode == INPUT_LINES) {
		tool_warn("-t reads lines, -T and -r whole files: one of them");
		return tool_finish(TOOL_EXIT_USAGE);
	}

	if (catalog_open(&cat, err) == -1)
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	if (config_load(&cfg, err) == -1) {
		catalog_release(&cat);
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	}
	resolver_init(&res, &cat, &cfg);
	value_config_lookup = config_key;
	keyfile_install_lookup();
	memset(&http, 0, sizeof(http));
	buf_init(&line, 0);
	model = opt.model;
	if (model == NULL && (model = getenv("LLM_EMBED_MODEL")) &&
	    *model == '\0')
		model = NULL;
	if (model == NULL)
		model = json_peek_string(cfg.defaults, "embed_model");
	if (model == NULL) {
		tool_warn("no embedding model: give -m, LLM_EMBED_MODEL or "
		    "defaults.embed_model");
		goto cleanup;
	}
	if (setup_target(model, err) == -1) {
		tool_warn("%s", err);
		goto cleanup;
	}
	embed_api_limits(target, &def, &max, &max_request_tokens);
	if (!batch_given)
		opt.batch = def;
	if (max > 0 && opt.batch > max) {
		tool_warn("-b: %s takes at most %d texts a request; "
		    "using %d", provider, max, max);
		opt.batch = max;
	}
	if (opt.cache && cache_open(&cache, err) == -1) {
		tool_warn("%s", err);
		goto cleanup;
	}
	if (opt.cache && cache.mode == CACHE_OFF)
		opt.cache = 0;
	if (http_init(&http, err) == -1) {
		tool_warn("%s", err);
		goto cleanup;
	}
	/* --timeout takes any long: one past LONG_MAX ms is no limit. */
	http.timeout_ms = opt.timeout > LONG_MAX / 1000 ? 0 :
	    opt.timeout * 1000;
	http_set_parallel(&http, opt.jobs);
	pol.timeout = (double)opt.timeout;
	pol.keys = &keys;
	if (!opt.dry_run && state_open(&state, NULL, err) == -1)
		tool_warn("%s", err);
	pol.state = &state;
	if ((logpath = getenv("LLM_LOG")) != NULL && *logpath &&
	    (logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		tool_warn("LLM_LOG: open '%s': %s", logpath, strerror(errno));
	if (opt.format == F_F32 && !opt.dry_run &&
	    (matfp = fopen(opt.outfile, "w")) == NULL) {
		tool_warn("open '%s': %s", opt.outfile, strerror(errno));
		goto cleanup;
	}
	st.start = http_now();
	memset(&io, 0, sizeof(io));
	io.mode = opt.mode;
	io.docs = opt.docs;
	io.files = opt.query ? NULL : argv;
	io.nfiles = opt.query ? 0 : argc;
	io.dirs = opt.dirs;
	io.ndirs = opt.ndirs;
	io.globs = opt.globs;
	io.nglobs = opt.nglobs;
	io.chunk = opt.chunk;
	io.overlap = opt.overlap;
	json_peek_number(target, "context_window", &io.max_tokens);
	if (opt.query) {
		single = jv_object_set(jv_object_set(jv_object(),
		    jv_string("id"), jv_string("query")), jv_string("text"),
		    jv_string(opt.query));
		single_given = 1;
		opt.dry_run = 0;
	}
	embed_input_init(&in, &io);
	embed_input_set_nonblock(&in);
	run(&in);
	fmt_stop();
	embed_input_release(&in);
	if (opt.query && query_vec && !tool_interrupted)
		search(argv, argc);
	else if (opt.query && !query_failed && !tool_interrupted) {
		tool_warn("the query could not be embedded");
		tool_count_error(0);
	}
	if (opt.stats)
		print_stats();
	status = tool_status();
cleanup:
	if (matfp && fclose(matfp) == EOF) {
		tool_warn("write '%s': %s", opt.outfile, strerror(errno));
		status = TOOL_EXIT_FAIL;
	}
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
	free(query_vec);
	free(url);
	jv_free(target);
	jv_free(single_given ? jv_invalid() : jv_invalid());
	buf_release(&model_json);
	buf_release(&line);
	resolver_release(&res);
	config_release(&cfg);
	catalog_release(&cat);
	return tool_finish(status);
}
