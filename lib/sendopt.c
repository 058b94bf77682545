#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "json.h"
#include "sendopt.h"
#include "xalloc.h"

/* Request fields -o sets directly; any other key goes into "params". */
static const char *const top_fields[] = {
	"max_tokens", "temperature", "top_p", "stop", "thinking",
	"tool_choice", "response_format", "system", "tools", NULL
};

void
sendopt_init(struct sendopt *o)
{
	memset(o, 0, sizeof(*o));
	o->set = jv_object();
	o->jobs = SENDOPT_JOBS_DEFAULT;
	o->timeout = SENDOPT_TIMEOUT_DEFAULT;
	o->timeout_idle = SENDOPT_IDLE_DEFAULT;
	o->mode = INPUT_JSONL;
	retry_policy_init(&o->retry);
}

void
sendopt_release(struct sendopt *o)
{
	jv_free(o->set);
	o->set = jv_invalid();
}

/* -o KEY=VALUE: VALUE as JSON when it parses, else as a string. */
static int
parse_set(struct sendopt *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *const *f;
	char *key;
	jv v, p;
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
		v = jv_string(eq + 1);
	}
	for (f = top_fields; *f; f++)
		top |= strcmp(*f, key) == 0;
	if (top)
		o->set = jv_object_set(o->set, jv_string(key), v);
	else {
		p = json_get(o->set, "params");
		if (jv_get_kind(p) != JV_KIND_OBJECT) {
			jv_free(p);
			p = jv_object();
		}
		o->set = jv_object_set(o->set, jv_string("params"),
		    jv_object_set(p, jv_string(key), v));
	}
	free(key);
	return 0;
}

/*
 * Seconds, fractions allowed: into *out.  zero says whether 0 is
 * allowed (it means "none").
 */
static int
seconds(const char *name, const char *arg, int zero, double *out,
    char *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (*end || end == arg || errno || !(v >= 0) || v > 1e7 ||
	    (!zero && v == 0))
		return errbuf_set(err, "%s: expected seconds, got '%s'", name,
		    arg);
	*out = v;
	return 0;
}

/* A whole number from lo to hi into *out. */
static int
whole(const char *arg, long lo, long hi, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (*end || end == arg || errno || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

int
sendopt_parse(struct sendopt *o, int ch, const char *arg, char *err)
{
	long n;

	switch (ch) {
	case 'F':
		o->fallbacks = arg;
		break;
	case 'j':
		if (whole(arg, 1, SENDOPT_JOBS_MAX, &n) == -1)
			return errbuf_set(err, "-j: expected 1 to %d, got '%s'",
			    SENDOPT_JOBS_MAX, arg);
		o->jobs = (int)n;
		break;
	case 'm':
		o->model = arg;
		break;
	case 'o':
		if (parse_set(o, arg) == -1)
			return errbuf_set(err, "-o: expected key=value (not "
			    "model=, use -m), got '%s'", arg);
		break;
	case 's':
		o->system = arg;
		break;
	case 'T':
		o->mode = INPUT_WHOLE;
		break;
	case 't':
		o->mode = INPUT_LINES;
		break;
	case SENDOPT_CACHE:
		o->cache = 1;
		break;
	case SENDOPT_DRY_RUN:
		o->dry_run = 1;
		break;
	case SENDOPT_RATE:
		if (retry_rate_parse(arg, &o->rate.n, &o->rate.period) == -1)
			return errbuf_set(err, "--rate: expected N/U (U one of "
			    "s, m, h, d), got '%s'", arg);
		o->rate.burst = 1;
		break;
	case SENDOPT_RETRY:
		if (whole(arg, 0, RETRY_MAX_RETRIES, &n) == -1)
			return errbuf_set(err, "--retry: expected 0 to %d, "
			    "got '%s'", RETRY_MAX_RETRIES, arg);
		o->retry.retries = (int)n;
		break;
	case SENDOPT_RETRY_BASE:
		return seconds("--retry-base", arg, 0, &o->retry.base, err) ?
		    -1 : 1;
	case SENDOPT_RETRY_CAP:
		return seconds("--retry-cap", arg, 0, &o->retry.cap, err) ?
		    -1 : 1;
	case SENDOPT_RETRY_MAX_TIME:
		return seconds("--retry-max-time", arg, 1, &o->retry.max_time,
		    err) ? -1 : 1;
	case SENDOPT_STATS:
		o->stats = 1;
		break;
	case SENDOPT_TIMEOUT:
		if (whole(arg, 1, LONG_MAX, &n) == -1)
			return errbuf_set(err, "--timeout: expected seconds, "
			    "got '%s'", arg);
		o->timeout = n;
		break;
	case SENDOPT_TIMEOUT_FIRST:
		return seconds("--timeout-first", arg, 1, &o->timeout_first,
		    err) ? -1 : 1;
	case SENDOPT_TIMEOUT_IDLE:
		return seconds("--timeout-idle", arg, 1, &o->timeout_idle,
		    err) ? -1 : 1;
	default:
		return 0;
	}
	return 1;
}

jv
sendopt_apply(const struct sendopt *o, jv rec)
{
	jv set = o->set;
	int it;

	if (o->system && json_peek_kind(rec, "system") == JV_KIND_INVALID)
		rec = jv_object_set(rec, jv_string("system"),
		    jv_string(o->system));
	for (it = jv_object_iter(set); jv_object_iter_valid(set, it);
	    it = jv_object_iter_next(set, it)) {
		jv k = jv_object_iter_key(set, it);
		jv v = jv_object_iter_value(set, it);
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
