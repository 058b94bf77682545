/*
 * llm-cache: the response cache as a pipeline stage, and its upkeep.
 *
 *	llm-cache get | llm-send | llm-cache put
 *
 * get answers the requests it has answers for and annotates the others
 * with their key; put stores the complete answers to annotated requests.
 * The store and the key are lib/cache.c's; this file is plumbing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "catalog.h"
#include "config.h"
#include "errbuf.h"
#include "input.h"
#include "json.h"
#include "record.h"
#include "resolve.h"
#include "tool.h"
#include "xalloc.h"

enum cmd {
	CMD_GET,
	CMD_PUT,
	CMD_KEY,
	CMD_STATS,
	CMD_PRUNE,
	CMD_CLEAR,
	CMD_SHOW
};

static const struct {
	const char	*name;
	enum cmd	 cmd;
	const char	*opts;		/* what it accepts: m t A S */
} cmds[] = {
	{ "get", CMD_GET, "mtA" },
	{ "put", CMD_PUT, "S" },
	{ "key", CMD_KEY, "mt" },
	{ "stats", CMD_STATS, "" },
	{ "prune", CMD_PRUNE, "AS" },
	{ "clear", CMD_CLEAR, "" },
	{ "show", CMD_SHOW, "" },
};

static struct cache cache;
static struct catalog cat;
static struct config cfg;
static struct resolver res;
static int have_resolver;
static const char *default_model;
static struct buf line;

/*
 * Targets of concrete references ("zai/glm-4.7"), which resolve the same
 * way every time in a process: resolving costs as much as the rest of a
 * hit.  Aliases are resolved per record (weights, context windows).  A
 * request too large for the model's context window then gets a key that
 * llm-send never fills, as it fails the request.
 */
#define MEMO_MAX	64

static struct {
	char	*ref;
	jv	 target;
} memo[MEMO_MAX];
static int nmemo;

static jv
resolved(jv rec, char *why, jv *failed)
{
	const char *m = json_peek_string(rec, "model"), *ref;
	jv r, target;
	int i, bad;

	if (m == NULL && json_peek_kind(rec, "model") == JV_KIND_INVALID)
		m = default_model;
	for (i = 0; m != NULL && i < nmemo; i++)
		if (strcmp(memo[i].ref, m) == 0)
			return jv_copy(memo[i].target);
	r = resolve_request(&res, jv_copy(rec), default_model, &bad);
	if (bad) {
		snprintf(why, ERRBUF_MAX, "%s", record_error_message(r));
		*failed = r;
		return jv_invalid();
	}
	target = json_get(r, "target");
	jv_free(r);
	if (m != NULL && nmemo < MEMO_MAX &&
	    (ref = json_peek_string(target, "ref")) != NULL &&
	    strcmp(ref, m) == 0) {
		memo[nmemo].ref = xstrdup(m);
		memo[nmemo++].target = jv_copy(target);
	}
	return target;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: llm-cache get [-Tt] [-m model] [--max-age age] "
	    "[file ...]\n"
	    "       llm-cache put [--max-size size] [file ...]\n"
	    "       llm-cache key [-Tt] [-m model] [file ...]\n"
	    "       llm-cache stats\n"
	    "       llm-cache prune [--max-age age] [--max-size size]\n"
	    "       llm-cache clear\n"
	    "       llm-cache show key\n");
}

/* The record's id as JSON text, for messages; caller frees. */
static char *
id_of(jv rec)
{
	jv s = jv_dump_string(json_get(rec, "id"), 0);
	char *p = xstrdup(jv_string_value(s));

	jv_free(s);
	return p;
}

/*
 * The key of request rec (borrowed) into key and its target's ref into
 * ref (empty when it has none).  Returns 0, or -1 with why and, through
 * *failed, the record a key stage writes instead (new; the resolver's
 * error record or rec with a bad_input error).
 */
static int
key_of(jv rec, char *key, char *ref, size_t nref, char *why, jv *failed)
{
	jv target;
	const char *s;

	*failed = jv_invalid();
	ref[0] = '\0';
	if (json_peek_kind(rec, "target") == JV_KIND_OBJECT)
		target = json_get(rec, "target");
	else if (!jv_is_valid(target = resolved(rec, why, failed)))
		return -1;
	if (cache_key(rec, target, key, why) == -1) {
		*failed = record_error(jv_copy(rec), RECORD_BAD_INPUT, 0,
		    json_peek_string(target, "provider"), 0, why);
		jv_free(target);
		return -1;
	}
	if ((s = json_peek_string(target, "ref")) != NULL)
		snprintf(ref, nref, "%s", s);
	jv_free(target);
	return 0;
}

/* The annotations of an earlier get would be stale: drop them. */
static jv
unannotated(jv rec)
{
	if (json_peek_kind(rec, "cache_key") != JV_KIND_INVALID)
		rec = jv_object_delete(rec, jv_string("cache_key"));
	if (json_peek_kind(rec, "cache_ref") != JV_KIND_INVALID)
		rec = jv_object_delete(rec, jv_string("cache_ref"));
	return rec;
}

/* get and key: one pass over the requests. */
static void
stage(struct input *in, enum cmd cmd)
{
	char err[ERRBUF_MAX], why[ERRBUF_MAX], key[CACHE_KEY_HEX + 1];
	char ref[512], *id;
	struct cache_entry e;
	int r, warned = 0;
	jv rec, failed;

	while (tool_read(in, &rec)) {
		if (record_is_response(rec) ||
		    (cmd == CMD_GET && cache.mode == CACHE_OFF)) {
			tool_emit(rec);
			continue;
		}
		if (key_of(rec, key, ref, sizeof(ref), why, &failed) == -1) {
			id = id_of(rec);
			if (cmd == CMD_KEY) {
				tool_warn("record %s: %s", id, why);
				tool_count_error(0);
				jv_free(rec);
				tool_emit(failed);
			} else {
				/* The sender says why per record. */
				if (!warned++)
					tool_warn("record %s: not cached: %s",
					    id, why);
				jv_free(failed);
				tool_emit(unannotated(rec));
			}
			free(id);
			continue;
		}
		if (cmd == CMD_KEY) {
			jv out = jv_object_set(jv_object(), jv_string("id"),
			    json_get(rec, "id"));

			tool_emit(jv_object_set(out, jv_string("cache_key"),
			    jv_string(key)));
			jv_free(rec);
			continue;
		}
		r = cache_get(&cache, key, &e, 0, err);
		if (r == -1)
			tool_warn("%s; going on uncached", err);
		if (r == CACHE_HIT) {
			buf_reset(&line);
			if (cache_hit_line(&line, rec, &e) == 0) {
				tool_write(line.data, line.len);
				jv_free(rec);
				continue;
			}
		}
		rec = jv_object_set(rec, jv_string("cache_key"),
		    jv_string(key));
		if (ref[0])
			rec = jv_object_set(rec, jv_string("cache_ref"),
			    jv_string(ref));
		else if (json_peek_kind(rec, "cache_ref") != JV_KIND_INVALID)
			rec = jv_object_delete(rec, jv_string("cache_ref"));
		tool_emit(rec);
	}
}

/* put: every record passes; complete answers to keyed requests stay. */
static void
put(struct input *in)
{
	char err[ERRBUF_MAX];
	const char *key;
	int retriable;
	jv rec, e;

	while (tool_read(in, &rec)) {
		/* The last stage's status is the pipeline's: keep failures. */
		if (record_is_error(rec)) {
			e = json_get(rec, "error");
			retriable = 0;
			json_peek_bool(e, "retriable", &retriable);
			tool_count_error(retriable);
			jv_free(e);
		}
		key = json_peek_string(rec, "cache_key");
		if (key != NULL && cache_is_key(key) &&
		    cache_store(&cache, key, json_peek_string(rec, "cache_ref"),
		    rec, err) == -1)
			tool_warn("%s; going on uncached", err);
		tool_emit(rec);
	}
}

/* Output for people on a terminal, JSON for programs. */
static void
say(jv obj, const char *human)
{
	if (tool_stdout_tty()) {
		tool_write(human, strlen(human));
		jv_free(obj);
	} else
		tool_emit(obj);
}

static jv
num(jv o, const char *k, unsigned long long v)
{
	return jv_object_set(o, jv_string(k), jv_number((double)v));
}

static const char *
mode_name(enum cache_mode m)
{
	return m == CACHE_RW ? "rw" : m == CACHE_RO ? "ro" : "off";
}

static void
warn_foreign(const struct cache_totals *t)
{
	if (t->foreign == 1)
		tool_warn("ignoring '%s': not a cache file", t->first_foreign);
	else if (t->foreign > 1)
		tool_warn("ignoring '%s' and %llu more: not cache files",
		    t->first_foreign, t->foreign - 1);
}

static int
stats(void)
{
	struct cache_totals t;
	char err[ERRBUF_MAX];
	unsigned long long look;
	jv o;

	if (cache_stats(&cache, &t, err) == -1) {
		tool_warn("%s", err);
		return TOOL_EXIT_FAIL;
	}
	warn_foreign(&t);
	look = t.counts.hits + t.counts.misses;
	o = jv_object_set(jv_object(), jv_string("dir"),
	    jv_string(cache.root));
	o = jv_object_set(o, jv_string("mode"),
	    jv_string(mode_name(cache.mode)));
	o = num(o, "hits", t.counts.hits);
	o = num(o, "misses", t.counts.misses);
	o = num(o, "corrupt", t.counts.corrupt);
	o = num(o, "stores", t.counts.stores);
	o = num(o, "entries", t.entries);
	o = num(o, "bytes", t.bytes);
	buf_reset(&line);
	buf_printf(&line,
	    "cache directory  %s (%s)\n"
	    "hits             %llu (%.1f%%)\n"
	    "misses           %llu\n"
	    "corrupt          %llu\n"
	    "stores           %llu\n"
	    "entries          %llu\n"
	    "bytes            %llu (%.1f MiB)\n",
	    cache.root, mode_name(cache.mode), t.counts.hits,
	    look ? 100.0 * (double)t.counts.hits / (double)look : 0.0,
	    t.counts.misses, t.counts.corrupt, t.counts.stores, t.entries,
	    t.bytes, (double)t.bytes / 1048576);
	say(o, line.data);
	return TOOL_EXIT_OK;
}

static int
prune_or_clear(enum cmd cmd, int have_size, unsigned long long size,
    int have_age, double age)
{
	struct cache_totals t;
	char err[ERRBUF_MAX];
	jv o;
	int r;

	if (!have_size)
		size = cache.max_size;
	if (!have_age)
		age = cache.max_age;
	r = cmd == CMD_CLEAR ? cache_clear(&cache, &t, err) :
	    cache_prune(&cache, size, age, 0, &t, err);
	if (r == -1) {
		tool_warn("%s", err);
		return TOOL_EXIT_FAIL;
	}
	warn_foreign(&t);
	o = num(jv_object(), "removed", t.removed);
	o = num(o, "freed", t.freed);
	o = num(o, "temps", t.temps);
	o = num(o, "entries", t.entries);
	o = num(o, "bytes", t.bytes);
	buf_reset(&line);
	buf_printf(&line, "removed %llu entries (%llu bytes) and %llu "
	    "temporary files; %llu entries (%llu bytes) left\n", t.removed,
	    t.freed, t.temps, t.entries, t.bytes);
	say(o, line.data);
	return TOOL_EXIT_OK;
}

static int
show(const char *key)
{
	struct cache_entry e;
	char err[ERRBUF_MAX];
	jv body, o;
	int r;

	r = cache_get(&cache, key, &e, CACHE_PEEK, err);
	if (r == -1) {
		tool_warn("%s", err);
		return TOOL_EXIT_FAIL;
	}
	if (r == CACHE_MISS) {
		tool_warn("show: no entry '%s'", key);
		return TOOL_EXIT_FAIL;
	}
	body = jv_parse_sized(e.body, (int)e.len);
	o = jv_object_set(jv_object(), jv_string("key"), jv_string(key));
	o = jv_object_set(o, jv_string("created"),
	    jv_number((double)e.created));
	o = jv_object_set(o, jv_string("used"), jv_number((double)e.used));
	o = num(o, "bytes", e.size);
	o = jv_object_set(o, jv_string("response"), body);
	tool_emit(o);
	return TOOL_EXIT_OK;
}

/* get and key resolve records that carry no target, as llm-send would. */
static void
open_resolver(const char *model)
{
	char err[ERRBUF_MAX];

	if (catalog_open(&cat, err) == -1)
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	if (config_load(&cfg, err) == -1) {
		catalog_release(&cat);
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	}
	resolver_init(&res, &cat, &cfg);
	have_resolver = 1;
	default_model = model;
	if (default_model == NULL &&
	    (default_model = getenv("LLM_MODEL")) != NULL &&
	    *default_model == '\0')
		default_model = NULL;
	if (default_model == NULL)
		default_model = json_peek_string(cfg.defaults, "model");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "max-age", required_argument, NULL, 'A' },
		{ "max-size", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	char err[ERRBUF_MAX];
	const char *model = NULL;
	enum input_mode mode = INPUT_JSONL;
	unsigned long long size = 0;
	double age = 0;
	int ch, status = TOOL_EXIT_OK, have_size = 0, have_age = 0;
	int tflag = 0;
	size_t i;
	enum cmd cmd;
	struct input in;

	tool_init("llm-cache");
	if (argc < 2) {
		usage(stderr);
		return tool_finish(TOOL_EXIT_USAGE);
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return tool_finish(TOOL_EXIT_OK);
	}
	if (strcmp(argv[1], "-V") == 0) {
		printf("llm-cache %s\n", VERSION);
		return tool_finish(TOOL_EXIT_OK);
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		tool_warn("unknown command '%s'", argv[1]);
		usage(stderr);
		return tool_finish(TOOL_EXIT_USAGE);
	}
	cmd = cmds[i].cmd;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "hm:TtV", longopts, NULL)) !=
	    -1) {
		if (ch == 'h') {
			usage(stdout);
			return tool_finish(TOOL_EXIT_OK);
		}
		if (ch == 'V') {
			printf("llm-cache %s\n", VERSION);
			return tool_finish(TOOL_EXIT_OK);
		}
		if (ch == '?' || strchr(cmds[i].opts,
		    ch == 'T' ? 't' : ch) == NULL) {
			if (ch != '?')
				tool_warn("%s: option not accepted here",
				    cmds[i].name);
			usage(stderr);
			return tool_finish(TOOL_EXIT_USAGE);
		}
		switch (ch) {
		case 'A':
			if (cache_parse_age(optarg, &age, err) == -1)
				tool_die(TOOL_EXIT_USAGE, "--max-age: %s",
				    err);
			have_age = 1;
			break;
		case 'm':
			model = optarg;
			break;
		case 'S':
			if (cache_parse_size(optarg, &size, err) == -1)
				tool_die(TOOL_EXIT_USAGE, "--max-size: %s",
				    err);
			have_size = 1;
			break;
		case 'T':
			mode = INPUT_WHOLE;
			tflag++;
			break;
		case 't':
			mode = INPUT_LINES;
			tflag++;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (tflag > 1 || (cmd == CMD_SHOW ? argc != 1 : cmd >= CMD_STATS &&
	    argc != 0)) {
		usage(stderr);
		return tool_finish(TOOL_EXIT_USAGE);
	}
	if (cmd == CMD_SHOW && !cache_is_key(argv[0]))
		tool_die(TOOL_EXIT_USAGE, "show: '%s' is not a cache key "
		    "(64 lowercase hex digits)", argv[0]);
	if (cache_open(&cache, err) == -1)
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	if (have_age)
		cache.max_age = age;
	if (have_size && cmd == CMD_PUT)
		cache.max_size = size;
	buf_init(&line, 0);
	switch (cmd) {
	case CMD_GET:
	case CMD_KEY:
		open_resolver(model);
		/* FALLTHROUGH */
	case CMD_PUT:
		input_init(&in, argv, argc, mode);
		if (cmd == CMD_PUT)
			put(&in);
		else
			stage(&in, cmd);
		input_release(&in);
		if (cache_flush(&cache, err) == -1)
			tool_warn("%s", err);
		status = tool_status();
		break;
	case CMD_STATS:
		status = stats();
		break;
	case CMD_PRUNE:
	case CMD_CLEAR:
		status = prune_or_clear(cmd, have_size, size, have_age, age);
		break;
	case CMD_SHOW:
		status = show(argv[0]);
		break;
	}
	cache_close(&cache);
	buf_release(&line);
	for (i = 0; i < (size_t)nmemo; i++) {
		free(memo[i].ref);
		jv_free(memo[i].target);
	}
	if (have_resolver) {
		resolver_release(&res);
		config_release(&cfg);
		catalog_release(&cat);
	}
	json_release();
	return tool_finish(status);
}
