/*
 * sendopt: the options the sending tools share (llm-send, llm-stream).
 *
 * One parser for the options that mean the same thing in every tool that
 * sends requests, so that a letter or a long option never drifts between
 * them: -F -j -m -o -s -T -t, --cache, --dry-run, --rate, --retry,
 * --retry-base, --retry-cap, --retry-max-time, --stats, --timeout, and the
 * streaming timeouts --timeout-first and --timeout-idle.  A tool lists
 * SENDOPT_LONGOPTS (and SENDOPT_STREAM_LONGOPTS when it streams) in its
 * getopt_long table, adds its own options, and hands every option it does
 * not handle itself to sendopt_parse.
 *
 * -s and -o describe request fields; sendopt_apply fills them into a
 * record that lacks them, the record's own fields winning.
 */
#ifndef LLM_SENDOPT_H
#define LLM_SENDOPT_H

#include <getopt.h>

#include <jv.h>

#include "input.h"
#include "ratelimit.h"
#include "retry.h"

#define SENDOPT_JOBS_DEFAULT	16
#define SENDOPT_JOBS_MAX	1024
#define SENDOPT_TIMEOUT_DEFAULT	600	/* seconds per HTTP request */
#define SENDOPT_IDLE_DEFAULT	300	/* seconds without a byte, streaming */

/* getopt_long codes of the long options (past any character). */
enum {
	SENDOPT_CACHE = 0x100,
	SENDOPT_DRY_RUN,
	SENDOPT_RATE,
	SENDOPT_RETRY,
	SENDOPT_RETRY_BASE,
	SENDOPT_RETRY_CAP,
	SENDOPT_RETRY_MAX_TIME,
	SENDOPT_STATS,
	SENDOPT_TIMEOUT,
	SENDOPT_TIMEOUT_FIRST,
	SENDOPT_TIMEOUT_IDLE
};

#define SENDOPT_LONGOPTS \
	{ "cache", no_argument, NULL, SENDOPT_CACHE }, \
	{ "dry-run", no_argument, NULL, SENDOPT_DRY_RUN }, \
	{ "rate", required_argument, NULL, SENDOPT_RATE }, \
	{ "retry", required_argument, NULL, SENDOPT_RETRY }, \
	{ "retry-base", required_argument, NULL, SENDOPT_RETRY_BASE }, \
	{ "retry-cap", required_argument, NULL, SENDOPT_RETRY_CAP }, \
	{ "retry-max-time", required_argument, NULL, SENDOPT_RETRY_MAX_TIME }, \
	{ "stats", no_argument, NULL, SENDOPT_STATS }, \
	{ "timeout", required_argument, NULL, SENDOPT_TIMEOUT }

#define SENDOPT_STREAM_LONGOPTS \
	{ "timeout-first", required_argument, NULL, SENDOPT_TIMEOUT_FIRST }, \
	{ "timeout-idle", required_argument, NULL, SENDOPT_TIMEOUT_IDLE }

struct sendopt {
	const char		*model;		/* -m */
	const char		*system;	/* -s */
	const char		*fallbacks;	/* -F */
	jv			 set;		/* -o: fields, "params" */
	int			 jobs;		/* -j */
	int			 dry_run;
	int			 cache;
	int			 stats;
	long			 timeout;	/* --timeout, seconds */
	double			 timeout_first;	/* seconds, 0: none */
	double			 timeout_idle;	/* seconds, 0: none */
	enum input_mode		 mode;		/* -t, -T */
	struct retry_policy	 retry;		/* --retry* */
	struct ratelimit_limit	 rate;		/* --rate; n 0: none */
};

/* Sets o to the defaults.  sendopt_release frees what it then holds. */
void	sendopt_init(struct sendopt *o);

void	sendopt_release(struct sendopt *o);

/*
 * Takes the option ch (a getopt_long result) with its argument arg
 * (borrowed; it must outlive o, as argv does).  Returns 1 when the option
 * was one of the shared ones and is taken, 0 when it is not one of them
 * (the tool's own, or unknown), or -1 with a message in err when its
 * argument is bad ("-j: expected 1 to 1024, got 'x'").
 */
int	sendopt_parse(struct sendopt *o, int ch, const char *arg, char *err);

/*
 * Fills in what rec lacks: "system" from -s, the -o fields, and the -o
 * parameters merged under rec's own "params".  Consumes rec, returns it.
 */
jv	sendopt_apply(const struct sendopt *o, jv rec);

#endif
