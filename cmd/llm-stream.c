/*
 * llm-stream: send request records and write their answers as stream
 * events while they arrive: start, text, reasoning and tool_call deltas,
 * then one end or error per record (DESIGN.md section 2).
 *
 * The sending loop is the engine's (lib/engine.h), shared with llm-send;
 * this file picks the output.  Events go out as they are made, the
 * records' events interleaved.  With -t or -T the input is text and so is
 * the output: each answer's text on standard output as it arrives, its
 * reasoning on standard error (dimmed on a terminal, hidden with -q), the
 * answers one after the other in input order.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "engine.h"
#include "input.h"
#include "json.h"
#include "sendopt.h"
#include "tool.h"

#define DIM	"\033[2m"
#define PLAIN	"\033[0m"

/* The plain-text output of -t and -T. */
struct text {
	int	quiet;		/* -q: the text alone */
	int	color;		/* dim the reasoning */
	int	bol;		/* standard output is at a line's start */
	int	reasoning;	/* a reasoning run is open on stderr */
	int	rbol;		/* ... and at a line's start */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: llm-stream [-hqTtV] [-F ref,...] [-j jobs] [-m model] "
	    "[-o key=value]\n"
	    "                  [-s system] [--cache] [--dry-run] [--rate N/U] "
	    "[--retry n]\n"
	    "                  [--retry-base secs] [--retry-cap secs] "
	    "[--retry-max-time secs]\n"
	    "                  [--stats] [--timeout secs] "
	    "[--timeout-first secs]\n"
	    "                  [--timeout-idle secs] [file ...]\n");
}

/* Ends a reasoning run on standard error, if one is open. */
static void
end_reasoning(struct text *x)
{
	if (!x->reasoning)
		return;
	if (x->color)
		fputs(PLAIN, stderr);
	if (!x->rbol)
		fputc('\n', stderr);
	x->reasoning = 0;
}

/* The tool calls of an end event (borrowed), one line each on stderr. */
static void
show_calls(struct text *x, jv ev)
{
	jv calls = json_get(ev, "tool_calls");
	struct buf b;
	int i, n;

	n = jv_get_kind(calls) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(calls)) : 0;
	buf_init(&b, 0);
	for (i = 0; i < n && !x->quiet; i++) {
		jv c = jv_array_get(jv_copy(calls), i), a;
		const char *name = json_peek_string(c, "name");

		buf_reset(&b);
		a = json_get(c, "arguments_raw");
		if (jv_get_kind(a) != JV_KIND_STRING) {
			jv_free(a);
			a = json_get(c, "arguments");
		}
		json_write(&b, a);
		fprintf(stderr, "%stool call %s %s%s\n", x->color ? DIM : "",
		    name ? name : "?", buf_cstr(&b), x->color ? PLAIN : "");
		jv_free(a);
		jv_free(c);
	}
	buf_release(&b);
	jv_free(calls);
}

/* The engine's sink for -t and -T: consumes ev. */
static void
text_sink(void *arg, jv ev)
{
	struct text *x = arg;
	const char *type = json_peek_string(ev, "type");
	const char *d = json_peek_string(ev, "delta");
	size_t n;

	if (type == NULL) {
		/* Not an event: a record passing through, a dry run. */
		tool_emit(ev);
		return;
	}
	if (strcmp(type, "text") == 0 && d != NULL && (n = strlen(d)) > 0) {
		end_reasoning(x);
		tool_write(d, n);
		x->bol = d[n - 1] == '\n';
	} else if (strcmp(type, "reasoning") == 0 && d != NULL &&
	    (n = strlen(d)) > 0 && !x->quiet) {
		if (!x->reasoning && x->color)
			fputs(DIM, stderr);
		x->reasoning = 1;
		fwrite(d, 1, n, stderr);
		x->rbol = d[n - 1] == '\n';
	} else if (strcmp(type, "end") == 0 || strcmp(type, "error") == 0) {
		end_reasoning(x);
		if (strcmp(type, "end") == 0)
			show_calls(x, ev);
		/* Each answer on lines of its own. */
		if (!x->bol)
			tool_write("\n", 1);
		x->bol = 1;
	}
	jv_free(ev);
}

/* -q, the one option of llm-stream's own. */
static int
option(struct engine *e, int ch, const char *arg)
{
	struct text *x = e->sink_arg;

	(void)arg;
	if (ch != 'q')
		return -1;
	x->quiet = 1;
	return 0;
}

/* The output: events as they come, or, with -t and -T, plain text. */
static void
ready(struct engine *e, const struct sendopt *o)
{
	struct text *x = e->sink_arg;

	e->stream = 1;
	if (o->mode == INPUT_JSONL) {
		/* Every record's events interleaved, as they come. */
		e->unordered = 1;
		e->progress = 1;
	} else {
		/* For people: one answer after the other, no progress line. */
		x->color = tool_color();
		e->sink = text_sink;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		SENDOPT_LONGOPTS,
		SENDOPT_STREAM_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	static const struct engine_tool tool = {
		"F:hj:m:o:qs:TtV", longopts, usage, option, ready
	};
	static struct engine e;
	static struct text x = { 0, 0, 1, 0, 1 };

	tool_init("llm-stream");
	e.sink_arg = &x;
	return tool_finish(engine_main(&e, &tool, argc, argv));
}
