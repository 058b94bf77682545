/*
 * llm-resolve: turn model references into concrete targets.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "catalog.h"
#include "config.h"
#include "errbuf.h"
#include "input.h"
#include "json.h"
#include "record.h"
#include "resolve.h"
#include "state.h"
#include "tool.h"
#include "xalloc.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: llm-resolve [-ehV] [-F ref,...] [-m ref] [-S seed] "
	    "[file ...]\n"
	    "       llm-resolve -l [-p provider]\n"
	    "       llm-resolve --state | --state-clear\n");
}

/*
 * --state: the cooldowns, rate buckets and concurrency slots every
 * sending process shares, one object a line; --state-clear: forget them.
 */
static int
show_state(int clear)
{
	struct state s;
	struct timespec ts;
	char err[ERRBUF_MAX];
	const char *w;
	jv all;
	int i, n, r;

	if (state_open(&s, NULL, err) == -1) {
		tool_warn("%s", err);
		state_close(&s);
		return TOOL_EXIT_FAIL;
	}
	if (clear) {
		if ((r = state_clear(&s, err)) == -1)
			tool_warn("%s", err);
		state_close(&s);
		return r == -1 ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	all = state_list(&s, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	n = jv_array_length(jv_copy(all));
	for (i = 0; i < n; i++)
		tool_emit(jv_array_get(jv_copy(all), i));
	jv_free(all);
	if ((w = state_warning(&s)) != NULL)
		tool_warn("%s", w);
	state_close(&s);
	return TOOL_EXIT_OK;
}

/* A number of dollars per million tokens, short. */
static void
price(char *out, size_t n, jv c, const char *key)
{
	double d;

	if (!json_peek_number(c, key, &d))
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%g", d);
}

/* -l on a terminal: an aligned table; otherwise one object per line. */
static void
list(struct resolver *r, const char *provider)
{
	jv all = resolve_list(r, provider);
	int i, n = jv_array_length(jv_copy(all)), w = 5;
	struct buf line;

	if (!tool_stdout_tty()) {
		for (i = 0; i < n; i++)
			tool_emit(jv_array_get(jv_copy(all), i));
		jv_free(all);
		return;
	}
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(all), i);
		int l = (int)strlen(json_peek_string(e, "ref"));

		w = l > w ? l : w;
		jv_free(e);
	}
	buf_init(&line, 0);
	buf_printf(&line, "%-*s  %-20s %9s %8s %8s %8s\n", w, "MODEL", "API",
	    "CONTEXT", "MAX OUT", "IN $/M", "OUT $/M");
	tool_write(line.data, line.len);
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(all), i), c = json_get(e, "cost");
		char in[32], out[32];
		double cw = 0, mo = 0;

		buf_reset(&line);
		if (json_peek_kind(e, "alias") == JV_KIND_TRUE) {
			buf_printf(&line, "%-*s  alias -> %s\n", w,
			    json_peek_string(e, "ref"),
			    json_peek_string(e, "model") ?
			    json_peek_string(e, "model") : "(weighted)");
		} else {
			json_peek_number(e, "context_window", &cw);
			json_peek_number(e, "max_tokens", &mo);
			price(in, sizeof(in), c, "input");
			price(out, sizeof(out), c, "output");
			buf_printf(&line, "%-*s  %-20s %9.0f %8.0f %8s %8s\n",
			    w, json_peek_string(e, "ref"),
			    json_peek_string(e, "api"), cw, mo, in, out);
		}
		tool_write(line.data, line.len);
		jv_free(c);
		jv_free(e);
	}
	buf_release(&line);
	jv_free(all);
}

static void
resolve_all(struct resolver *r, struct input *in, const char *model)
{
	jv rec;
	int failed;

	while (tool_read(in, &rec)) {
		if (record_is_response(rec)) {
			tool_emit(rec);
			continue;
		}
		rec = resolve_request(r, rec, model, &failed);
		if (failed) {
			jv ids = jv_dump_string(json_get(rec, "id"), 0);

			tool_warn("record %s: %s", jv_string_value(ids),
			    record_error_message(rec));
			tool_count_error(0);
			jv_free(ids);
		}
		tool_emit(rec);
	}
}

int
main(int argc, char *argv[])
{
	struct catalog cat;
	struct config cfg;
	struct resolver r;
	struct input in;
	char err[ERRBUF_MAX], *end;
	const char *model = NULL, *fallbacks = NULL, *provider = NULL;
	const char *seed = NULL, *dflt;
	static const struct option longopts[] = {
		{ "state", no_argument, NULL, 'Y' },
		{ "state-clear", no_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, explain = 0, lflag = 0, sflag = 0, status;

	tool_init("llm-resolve");
	while ((ch = getopt_long(argc, argv, "eF:hlm:p:S:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'X':
		case 'Y':
			if (sflag && sflag != ch) {
				usage(stderr);
				return tool_finish(TOOL_EXIT_USAGE);
			}
			sflag = ch;
			break;
		case 'e':
			explain = 1;
			break;
		case 'F':
			fallbacks = optarg;
			break;
		case 'h':
			usage(stdout);
			return tool_finish(0);
		case 'l':
			lflag = 1;
			break;
		case 'm':
			model = optarg;
			break;
		case 'p':
			provider = optarg;
			break;
		case 'S':
			seed = optarg;
			break;
		case 'V':
			printf("llm-resolve %s\n", VERSION);
			return tool_finish(0);
		default:
			usage(stderr);
			return tool_finish(TOOL_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (sflag) {
		if (argc > 0 || lflag || provider || model || explain ||
		    fallbacks || seed) {
			usage(stderr);
			return tool_finish(TOOL_EXIT_USAGE);
		}
		return tool_finish(show_state(sflag == 'X'));
	}
	if ((provider && !lflag) || (lflag && (argc > 0 || model || explain ||
	    fallbacks || seed))) {
		usage(stderr);
		return tool_finish(TOOL_EXIT_USAGE);
	}
	if (catalog_open(&cat, err) == -1)
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	if (config_load(&cfg, err) == -1) {
		config_release(&cfg);
		catalog_release(&cat);
		tool_die(TOOL_EXIT_USAGE, "%s", err);
	}
	resolver_init(&r, &cat, &cfg);
	r.explain = explain;
	status = TOOL_EXIT_USAGE;
	if (seed) {
		errno = 0;
		resolver_seed(&r, strtoull(seed, &end, 10));
		if (errno || *end || *seed == '\0' || *seed == '-') {
			tool_warn("-S: '%s' is not a number", seed);
			goto cleanup;
		}
	}
	if (fallbacks && resolver_add_fallbacks(&r, fallbacks, err) == -1) {
		tool_warn("-F: %s", err);
		goto cleanup;
	}
	if (provider) {
		jv p = provider_get(&r.ps, provider);
		int known = jv_is_valid(p);

		jv_free(p);
		if (!known) {
			tool_warn("-p: unknown provider '%s'", provider);
			goto cleanup;
		}
	}
	if (lflag) {
		list(&r, provider);
		status = TOOL_EXIT_OK;
		goto cleanup;
	}
	/* Precedence: the flag, then the environment, then the file. */
	dflt = model;
	if (dflt == NULL && (dflt = getenv("LLM_MODEL")) != NULL &&
	    *dflt == '\0')
		dflt = NULL;
	if (dflt == NULL)
		dflt = json_peek_string(cfg.defaults, "model");
	if (model && argc == 0 && isatty(STDIN_FILENO)) {
		/* Nothing to read interactively: resolve the reference alone. */
		int failed;
		jv rec = resolve_request(&r, jv_object_set(jv_object(),
		    jv_string("model"), jv_string(model)), NULL, &failed);

		if (failed) {
			tool_warn("%s", record_error_message(rec));
			tool_count_error(0);
		}
		tool_emit(rec);
	} else {
		input_init(&in, argv, argc, INPUT_JSONL);
		resolve_all(&r, &in, dflt);
		input_release(&in);
	}
	status = tool_status();
cleanup:
	resolver_release(&r);
	config_release(&cfg);
	catalog_release(&cat);
	return tool_finish(status);
}
