#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <time.h>

#include "buf.h"
#include "classify.h"
#include "errbuf.h"
#include "json.h"
#include "redact.h"
#include "request.h"
#include "retry.h"
#include "send.h"
#include "value.h"
#include "xalloc.h"

/* Fields of a request record, dropped from the response built from it. */
static const char *const request_fields[] = {
	"id", "model", "prompt", "messages", "system", "tools", "tool_choice",
	"max_tokens", "temperature", "top_p", "stop", "response_format",
	"thinking", "params", "target", "fallbacks", "explain", "error",
	"attempts", NULL
};

void
send_fail(struct send_failure *f, enum record_kind kind, int status,
    int retriable, const char *fmt, ...)
{
	va_list ap;

	f->kind = kind;
	f->status = status;
	f->retriable = retriable;
	f->retry_after = -1;
	f->should_retry = -1;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	/* Providers quote the key they refuse: never pass that on. */
	redact_text(f->message, sizeof(f->message));
}

int
send_prepare(jv rec, jv target, int stream, struct send_request *sr,
    enum record_kind *kind, char *err)
{
	const char *api = json_peek_string(target, "api");
	jv params, strip;
	int i, n;

	memset(sr, 0, sizeof(*sr));
	sr->target = jv_copy(target);
	sr->canon = sr->body = sr->headers = jv_invalid();
	*kind = RECORD_CONFIG;
	if (api == NULL || (sr->dialect = dialect_find(api)) == NULL)
		return errbuf_set(err, "target '%s': unsupported api '%s'",
		    json_peek_string(target, "ref"), api ? api : "");
	*kind = RECORD_BAD_INPUT;
	if (request_normalize(rec, target, &sr->canon, err) == -1)
		return -1;
	{
		jv url = jv_null();

		if (sr->dialect->build(sr->canon, target, stream, &sr->body,
		    &sr->headers, &url, err) == -1) {
			sr->body = sr->headers = jv_invalid();
			jv_free(url);
			return -1;
		}
		sr->url = xstrdup(jv_get_kind(url) == JV_KIND_STRING ?
		    jv_string_value(url) : json_peek_string(target, "url"));
		jv_free(url);
	}
	/*
	 * An alias's params are defaults under the fields the adapter set
	 * from the record; the record's own params go in last; stripParams
	 * wins over everything.
	 */
	params = json_get(target, "params");
	if (jv_get_kind(params) == JV_KIND_OBJECT)
		sr->body = json_merge(params, sr->body);
	else
		jv_free(params);
	params = json_get(rec, "params");
	if (jv_get_kind(params) == JV_KIND_OBJECT)
		sr->body = json_merge(sr->body, params);
	else
		jv_free(params);
	{
		jv compat = json_get(target, "compat");

		strip = json_get(compat, "stripParams");
		jv_free(compat);
	}
	n = jv_get_kind(strip) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(strip)) : 0;
	for (i = 0; i < n; i++) {
		jv k = jv_array_get(jv_copy(strip), i);

		if (jv_get_kind(k) == JV_KIND_STRING)
			sr->body = jv_object_delete(sr->body, k);
		else
			jv_free(k);
	}
	jv_free(strip);
	{
		struct buf b;

		buf_init(&b, 0);
		json_write(&b, sr->body);
		sr->text = buf_detach(&b, &sr->len);
	}
	return 0;
}

void
send_request_release(struct send_request *sr)
{
	jv_free(sr->target);
	jv_free(sr->canon);
	jv_free(sr->body);
	jv_free(sr->headers);
	free(sr->url);
	free(sr->text);
	memset(sr, 0, sizeof(*sr));
	sr->target = sr->canon = sr->body = sr->headers = jv_invalid();
}

static const char *
auth_header(const char *scheme)
{
	if (strcmp(scheme, "bearer") == 0)
		return "Authorization: Bearer ";
	if (strcmp(scheme, "x-api-key") == 0)
		return "x-api-key: ";
	if (strcmp(scheme, "api-key") == 0)
		return "api-key: ";
	if (strcmp(scheme, "x-goog-api-key") == 0)
		return "x-goog-api-key: ";
	return NULL;
}

/* The resolved value of source, resolving it on first use. */
static struct send_key *
key_for(struct send_keys *keys, const char *source, char *err)
{
	struct send_key *k;
	size_t i;
	int r;

	for (i = 0; i < keys->n; i++)
		if (strcmp(keys->v[i].source, source) == 0)
			return &keys->v[i];
	keys->v = xrealloc(keys->v, (keys->n + 1) * sizeof(*keys->v));
	k = &keys->v[keys->n++];
	memset(k, 0, sizeof(*k));
	k->source = xstrdup(source);
	if ((k->value = secmem_new(VALUE_MAX)) == NULL) {
		snprintf(k->why, sizeof(k->why), "cannot allocate secure "
		    "memory");
		return k;
	}
	if ((r = value_resolve(source, k->value, err)) != 0) {
		snprintf(k->why, sizeof(k->why), "%s", err);
		secmem_free(k->value);
		k->value = NULL;
	} else if (k->value->len == 0) {
		snprintf(k->why, sizeof(k->why), "empty");
		secmem_free(k->value);
		k->value = NULL;
	} else {
		redact_add(k->value->data, k->value->len);
		keyfile_fingerprint(k->value->data, k->value->len, k->fp);
	}
	return k;
}

struct send_key *
send_key_get(struct send_keys *keys, const char *source)
{
	char err[ERRBUF_MAX];

	return key_for(keys, source, err);
}

/*
 * Appends "<prefix><value>" to the list.  The line is built in secure
 * memory once per key and prefix and kept: guarded allocations cost a
 * handful of system calls each, too many to pay per request.
 */
static struct curl_slist *
append_secret(struct curl_slist *l, const char *prefix, struct send_key *k,
    int *ok)
{
	struct curl_slist *nl;

	*ok = 0;
	if (k->line == NULL || strcmp(k->prefix, prefix) != 0) {
		secmem_free(k->line);
		free(k->prefix);
		k->prefix = xstrdup(prefix);
		if ((k->line = secmem_new(VALUE_MAX + 256)) == NULL)
			return l;
		if (secmem_append(k->line, prefix, strlen(prefix)) ||
		    secmem_append(k->line, k->value->data, k->value->len)) {
			secmem_free(k->line);
			k->line = NULL;
			return l;
		}
	}
	/* A value with a line break would smuggle in another header. */
	if (strpbrk(k->line->data, "\r\n") == NULL &&
	    (nl = curl_slist_append(l, k->line->data)) != NULL) {
		l = nl;
		*ok = 1;
	}
	return l;
}

struct curl_slist *
send_auth(struct send_request *sr, struct send_keys *keys, const char *source,
    struct send_failure *f)
{
	struct curl_slist *l = NULL;
	jv auth = json_get(sr->target, "auth"), ks, hs;
	const char *scheme = json_peek_string(auth, "scheme");
	const char *prefix = scheme ? auth_header(scheme) : NULL;
	const char *provider = json_peek_string(sr->target, "provider");
	char err[ERRBUF_MAX], why[1024] = "";
	int i, n, it, ok, found = 0;

	l = curl_slist_append(l, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip for large bodies. */
	l = curl_slist_append(l, "Expect:");
	hs = json_merge(json_get(sr->target, "headers"),
	    jv_copy(sr->headers));
	if (jv_get_kind(hs) == JV_KIND_OBJECT) {
		for (it = jv_object_iter(hs); jv_object_iter_valid(hs, it);
		    it = jv_object_iter_next(hs, it)) {
			jv k = jv_object_iter_key(hs, it);
			jv v = jv_object_iter_value(hs, it);
			char *prefix2 = xasprintf("%s: ", jv_string_value(k));
			struct send_key *sk = key_for(keys,
			    jv_get_kind(v) == JV_KIND_STRING ?
			    jv_string_value(v) : "", err);

			ok = 0;
			if (sk->value)
				l = append_secret(l, prefix2, sk, &ok);
			if (!ok)
				send_fail(f, RECORD_CONFIG, 0, 0,
				    "header '%s' has no usable value: %s",
				    jv_string_value(k), sk->value ? "it holds "
				    "a line break" : sk->why);
			free(prefix2);
			jv_free(k);
			jv_free(v);
			if (!ok)
				goto fail;
		}
	}
	ks = json_get(auth, "keys");
	if (source && jv_get_kind(ks) == JV_KIND_ARRAY) {
		/* The caller picked the key: that one, or none. */
		jv_free(ks);
		ks = jv_array_append(jv_array(), jv_string(source));
	}
	n = jv_get_kind(ks) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ks)) :
	    0;
	for (i = 0; i < n && !found && prefix; i++) {
		jv s = jv_array_get(jv_copy(ks), i);
		struct send_key *sk = key_for(keys, jv_string_value(s), err);

		if (sk->value) {
			l = append_secret(l, prefix, sk, &ok);
			found = ok;
		} else {
			size_t len = strlen(why);

			snprintf(why + len, sizeof(why) - len, "%s%s",
			    len ? "; " : "", sk->why);
		}
		jv_free(s);
	}
	jv_free(ks);
	if (n > 0 && prefix && !found) {
		send_fail(f, RECORD_AUTH, 0, 0, "no API key for provider '%s' "
		    "(%s); set one in the environment or store it with "
		    "'llm-keys set %s'", provider ? provider : "?", why,
		    provider ? provider : "NAME");
		goto fail;
	}
	jv_free(hs);
	jv_free(auth);
	return l;
fail:
	jv_free(hs);
	jv_free(auth);
	for (struct curl_slist *p = l; p; p = p->next)
		memset(p->data, 0, strlen(p->data));
	curl_slist_free_all(l);
	return NULL;
}

jv
send_dry_run(struct send_request *sr)
{
	jv auth = json_get(sr->target, "auth"), h = jv_object(), hs;
	const char *scheme = json_peek_string(auth, "scheme");
	const char *prefix = scheme ? auth_header(scheme) : NULL;
	int it;

	h = jv_object_set(h, jv_string("Content-Type"),
	    jv_string("application/json"));
	hs = json_merge(json_get(sr->target, "headers"),
	    jv_copy(sr->headers));
	for (it = jv_object_iter(hs); jv_object_iter_valid(hs, it);
	    it = jv_object_iter_next(hs, it)) {
		jv k = jv_object_iter_key(hs, it);
		jv v = jv_object_iter_value(hs, it);
		const char *s = jv_get_kind(v) == JV_KIND_STRING ?
		    jv_string_value(v) : "";

		/*
		 * Show only literal values; anything resolved may be secret.
		 * A configured literal (config:) is looked up, nothing run,
		 * and scrubbed of what looks like a token.
		 */
		if (strncmp(s, "config:", 7) == 0) {
			char *lit = value_config_lookup ?
			    value_config_lookup(s + 7) : NULL;
			char shown[512];

			snprintf(shown, sizeof(shown), "%s", lit ? lit : "");
			redact_text(shown, sizeof(shown));
			h = jv_object_set(h, k, jv_string(lit && !strchr(lit,
			    '$') ? shown : "<redacted>"));
			if (lit) {
				sodium_memzero(lit, strlen(lit));
				free(lit);
			}
		} else
			h = jv_object_set(h, k, strchr(s, '$') ||
			    s[0] == '!' || strncmp(s, "keyfile:", 8) == 0 ?
			    jv_string("<redacted>") : jv_copy(v));
		jv_free(v);
	}
	jv_free(hs);
	if (prefix && jv_array_length(json_get(auth, "keys")) > 0) {
		size_t n = strcspn(prefix, ":");
		char *name = xstrndup(prefix, n);

		h = jv_object_set(h, jv_string(name), jv_string(
		    strcmp(scheme, "bearer") == 0 ? "Bearer <redacted>" :
		    "<redacted>"));
		free(name);
	}
	jv_free(auth);
	return jv_object_set(jv_object_set(jv_object_set(jv_object_set(
	    jv_object(), jv_string("method"), jv_string("POST")),
	    jv_string("url"), jv_string(sr->url)), jv_string("headers"), h),
	    jv_string("body"), jv_copy(sr->body));
}

/* What the server says about trying again. */
static void
server_hints(struct http_transfer *t, struct send_failure *f)
{
	struct timespec ts;
	char *v;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* retry-after-ms is the finer of the two: it wins. */
	v = http_header(t, "retry-after-ms");
	f->retry_after = retry_after_ms_parse(v);
	free(v);
	if (f->retry_after < 0) {
		v = http_header(t, "retry-after");
		f->retry_after = retry_after_parse(v, (double)ts.tv_sec +
		    (double)ts.tv_nsec / 1e9);
		free(v);
	}
	v = http_header(t, "x-should-retry");
	f->should_retry = retry_should_retry_parse(v);
	free(v);
}

int
send_result(struct send_request *sr, struct http_transfer *t, jv *fields,
    struct send_failure *f)
{
	char err[ERRBUF_MAX];
	int retriable;
	enum record_kind kind;
	jv info;

	memset(f, 0, sizeof(*f));
	if (t->result != CURLE_OK) {
		kind = classify_transport(t->result, &retriable);
		send_fail(f, kind, (int)t->status, retriable, "%s",
		    t->errmsg[0] ? t->errmsg : curl_easy_strerror(t->result));
		return -1;
	}
	if (t->status < 200 || t->status > 299) {
		const char *m, *type;

		info = sr->dialect->error((int)t->status, buf_cstr(&t->resp),
		    t->resp.len);
		kind = classify_http((int)t->status, info, &retriable);
		m = json_peek_string(info, "message");
		type = json_peek_string(info, "type");
		send_fail(f, kind, (int)t->status, retriable, "HTTP %ld%s%s%s%s",
		    t->status, type ? " " : "", type ? type : "",
		    m ? ": " : "", m ? m : "");
		server_hints(t, f);
		jv_free(info);
		return -1;
	}
	if (sr->dialect->parse(buf_cstr(&t->resp), t->resp.len, sr->target,
	    fields, err) == -1) {
		send_fail(f, RECORD_SERVER, (int)t->status, 1,
		    "unusable response: %s", err);
		return -1;
	}
	return 0;
}

static int
is_request_field(const char *k)
{
	const char *const *f;

	for (f = request_fields; *f; f++)
		if (strcmp(*f, k) == 0)
			return 1;
	return 0;
}

jv
send_response(jv rec, jv target, jv fields, double latency_ms, int attempts)
{
	static const char *const order[] = {
		"text", "reasoning", "reasoning_signature", "tool_calls",
		"stop_reason", "usage", "provider_model", NULL
	};
	jv out = jv_object(), usage = json_get(fields, "usage");
	jv cost = json_get(target, "cost");
	const char *const *k;
	double usd = 0, v, p;
	int it;

	out = jv_object_set(out, jv_string("id"), json_get(rec, "id"));
	out = jv_object_set(out, jv_string("model"), json_get(target, "ref"));
	for (k = order; *k; k++)
		if (json_peek_kind(fields, *k) != JV_KIND_INVALID)
			out = jv_object_set(out, jv_string(*k),
			    json_get(fields, *k));
	if (json_peek_number(usage, "input", &v) &&
	    json_peek_number(cost, "input", &p))
		usd += v * p;
	if (json_peek_number(usage, "output", &v) &&
	    json_peek_number(cost, "output", &p))
		usd += v * p;
	if (json_peek_number(usage, "cache_read", &v) &&
	    json_peek_number(cost, "cache_read", &p))
		usd += v * p;
	if (json_peek_number(usage, "cache_write", &v) &&
	    json_peek_number(cost, "cache_write", &p))
		usd += v * p;
	/* Prices are per million tokens; keep ten significant decimals. */
	usd = round(usd / 1e6 * 1e10) / 1e10;
	out = jv_object_set(out, jv_string("cost"), jv_object_set(jv_object(),
	    jv_string("usd"), jv_number(usd)));
	out = jv_object_set(out, jv_string("latency_ms"),
	    jv_number(round(latency_ms)));
	out = jv_object_set(out, jv_string("attempts"), jv_number(attempts));
	out = jv_object_set(out, jv_string("cached"), jv_false());
	for (it = jv_object_iter(rec); jv_object_iter_valid(rec, it);
	    it = jv_object_iter_next(rec, it)) {
		jv key = jv_object_iter_key(rec, it);

		if (!is_request_field(jv_string_value(key)))
			out = jv_object_set(out, key,
			    jv_object_iter_value(rec, it));
		else
			jv_free(key);
	}
	jv_free(usage);
	jv_free(cost);
	jv_free(fields);
	jv_free(rec);
	return out;
}

jv
send_error(jv rec, const char *provider, const struct send_failure *f)
{
	rec = jv_object_delete(rec, jv_string("target"));
	rec = jv_object_delete(rec, jv_string("fallbacks"));
	rec = jv_object_delete(rec, jv_string("explain"));
	return record_error(rec, f->kind, f->status, provider, f->retriable,
	    f->message);
}

void
send_keys_release(struct send_keys *keys)
{
	size_t i;

	for (i = 0; i < keys->n; i++) {
		free(keys->v[i].source);
		free(keys->v[i].prefix);
		if (keys->v[i].value)
			redact_remove(keys->v[i].value->data);
		secmem_free(keys->v[i].value);
		secmem_free(keys->v[i].line);
	}
	free(keys->v);
	keys->v = NULL;
	keys->n = 0;
}
