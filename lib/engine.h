/*
 * engine: the sending loop that llm-send and llm-stream share.
 *
 * The loop is curl's: keep up to -j records under way, poll their transfers
 * together with standard input, and read input only while the window of
 * records has room, so that memory stays bounded on any input.  For each
 * record the engine resolves its candidates (or re-resolves the references
 * of a record that carries a target), looks it up in the response cache,
 * and lets the policy (policy.h) say which candidate goes next and when:
 * a record waiting out a backoff, a cooldown or a rate limit turn holds
 * its slot with a "not before" time, and the wait in the loop ends at the
 * earliest of those.  Keys are resolved once per process (send.h).
 *
 * Two ways to answer:
 *
 *  - Whole (llm-send): one response or error record per request, written
 *    in input order (a window bounded by -j) or, unordered, as each is
 *    answered.
 *
 *  - Streamed (llm-stream): the streaming request of each dialect, read as
 *    it arrives through dialect_stream (dialect.h), and written as the
 *    stream events of DESIGN.md section 2, each tagged with the record's
 *    "id": "start" once the record is resolved, the content events (text,
 *    reasoning, tool_call) as they arrive, then exactly one "end" (every
 *    field of the response record llm-send would write) or "error" (with
 *    "partial").  Unordered, events go out the moment they are made,
 *    interleaved between records; ordered, a record's events wait until
 *    the records before it are over.  What the body callback makes is
 *    written before it returns, so an event reaches standard output as
 *    its bytes arrive.  Failures are retried and failed over only until a
 *    content event of the answer went out: after that an attempt that
 *    fails ends the record with an error event, "partial": true, never
 *    with a second copy of the answer.  Timeouts: --timeout bounds a
 *    transfer; --timeout-first the wait for the first byte of the body;
 *    --timeout-idle each silence after it.  A stream that ended (its
 *    terminal event read) is answered at once; what its server sends after
 *    that is read and dropped, for two seconds and 64 KiB at most, then
 *    the transfer is cut.
 *
 * Like tool.h, this module writes: records and events on standard output,
 * a warning per failed record and the progress line on standard error.
 */
#ifndef LLM_ENGINE_H
#define LLM_ENGINE_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include <jv.h>

#include "buf.h"
#include "cache.h"
#include "catalog.h"
#include "config.h"
#include "http.h"
#include "input.h"
#include "latency.h"
#include "policy.h"
#include "resolve.h"
#include "send.h"
#include "sendopt.h"
#include "state.h"

struct engine_slot;

struct engine_stats {
	unsigned long	 requests, ok, errors;
	double		 in_tokens, out_tokens, usd;
	struct latency	 lat;		/* of the answers */
	double		 start;
};

struct engine {
	/* Set by the tool before engine_open. */
	int		 stream;	/* stream answers as events */
	int		 unordered;	/* write as answered */
	int		 progress;	/* a progress line on a tty stderr */

	/*
	 * Streaming: where events go, in order per record, each a new
	 * object with "id" first that the sink consumes; NULL writes them
	 * as JSON lines.  A sink writes through tool.h (tool_write) or to
	 * standard error; the engine flushes standard output after it.
	 */
	void		(*sink)(void *arg, jv ev);
	void		*sink_arg;

	/* The engine's own. */
	const struct sendopt	*opt;
	struct catalog		 cat;
	struct config		 cfg;
	struct resolver		 res;
	struct http		 http;
	struct send_keys	 keys;
	struct cache		 cache;
	struct policy		 pol;
	struct state		 state;
	struct engine_stats	 st;
	const char		*default_model;
	int			 logfd;
	int			 opened;	/* what engine_close undoes */
	struct buf		 obuf;		/* events not yet written */
	struct engine_slot	**ring;		/* records in input order */
	struct engine_slot	*pool;
	struct engine_slot	**spare;
	size_t			 ring_cap, ring_head, ring_len, nspare;
	int			 inflight;	/* transfers */
	int			 active;	/* records under way */
};

/*
 * Gets e ready to send with the options o (borrowed; kept until
 * engine_close): the catalog, the configuration and its aliases, -F, the
 * default model (-m, LLM_MODEL, the configuration's), the cache, the HTTP
 * engine, the shared state and LLM_LOG.  What cannot be shared or logged
 * is a warning.  Returns 0, or -1 with err for what makes the tool a
 * usage error (a catalog or configuration that does not load, a bad -F or
 * LLM_CACHE); e must still be closed.
 */
int	engine_open(struct engine *e, const struct sendopt *o, char *err);

/*
 * Reads the records of in and answers them all, or until SIGINT or
 * SIGTERM (records under way are then abandoned).  Failures are counted
 * with tool_count_error.
 */
void	engine_run(struct engine *e, struct input *in);

/* The --stats line on standard error. */
void	engine_print_stats(struct engine *e);

/* Frees everything e holds; safe after a failed engine_open. */
void	engine_close(struct engine *e);

/*
 * What a sending tool adds to the engine: its getopt letters and long
 * options (the shared ones of sendopt.h included), its usage, and two
 * hooks: option takes one of its own options (returns 0, or -1 for one
 * it does not know); ready sets e's output fields once the options are
 * read.  Either hook may be NULL.
 */
struct engine_tool {
	const char		*shorts;
	const struct option	*longs;
	void			(*usage)(FILE *fp);
	int			(*option)(struct engine *e, int ch,
				    const char *arg);
	void			(*ready)(struct engine *e,
				    const struct sendopt *o);
};

/*
 * The whole of a sending tool after tool_init: reads the options of argv
 * (-h prints the usage, -V the version), then answers the records of the
 * files the operands name, or of standard input.  Returns the exit status
 * for tool_finish: 0, 1 or 75 by the records' fate, 2 for a usage or
 * configuration error, 130 after an interrupt.
 */
int	engine_main(struct engine *e, const struct engine_tool *tool,
	    int argc, char *argv[]);

#endif
