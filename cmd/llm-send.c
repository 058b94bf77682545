/*
 * llm-send: send request records, write one response or error record each.
 *
 * The sending loop is the engine's (lib/engine.h), shared with llm-stream:
 * up to -j records under way, their transfers polled together with
 * standard input, the policy's retries, key rotation and fallbacks, and the
 * cache.  Here the answers are whole: one record per request, in input
 * order (a window bounded by -j) or, with -u, as they are answered.
 */
#include <getopt.h>
#include <stdio.h>

#include "engine.h"
#include "sendopt.h"
#include "tool.h"

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

/* -u, the one option of llm-send's own. */
static int
option(struct engine *e, int ch, const char *arg)
{
	(void)arg;
	if (ch != 'u')
		return -1;
	e->unordered = 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		SENDOPT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	static const struct engine_tool tool = {
		"F:hj:m:o:s:TtuV", longopts, usage, option, NULL
	};
	static struct engine e;

	tool_init("llm-send");
	e.progress = 1;
	return tool_finish(engine_main(&e, &tool, argc, argv));
}
