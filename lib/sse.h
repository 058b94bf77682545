/*
 * sse: a push parser for Server-Sent Events (text/event-stream), as the
 * WHATWG HTML standard's EventSource section defines the format.
 *
 * The parser does no I/O.  A caller hands it the bytes of a response body
 * in chunks of any size, split anywhere (inside a line, between CR and LF,
 * inside a UTF-8 sequence, inside the leading BOM), and gets one callback
 * per complete event.  It never decodes text: bytes are kept up to the end
 * of their line, so a chunk boundary inside a character needs no care, and
 * an event's data is passed on exactly as it arrived.
 *
 * The rules followed:
 *
 *  - One leading UTF-8 byte order mark (EF BB BF) is dropped.
 *  - Lines end at CR LF, LF or CR.
 *  - An empty line dispatches the event.  A line starting with ':' is a
 *    comment.  Otherwise the field name runs up to the first ':' and the
 *    value follows, without one leading space; a line with no ':' is a
 *    field of that name with an empty value.
 *  - "data" appends its value and a LF to the event's data; at dispatch
 *    the last LF goes, so several data lines join with LF.  An event whose
 *    data is empty (no data line since the last dispatch) is not
 *    dispatched, as the standard says, even with an "event" field.
 *  - "event" sets the event's type (the last one wins); the type is
 *    "message" when there is none.  The type is a C string: a NUL byte
 *    in the value ends it, and an empty one is "message".
 *  - "id" sets the last event id, unless the value holds a NUL byte; the
 *    id sticks to every later event until another "id" changes it.
 *  - "retry" sets the reconnection time in milliseconds when the value is
 *    ASCII digits only; anything else is ignored.  Values too large for a
 *    long are clamped to LONG_MAX.  The value sticks like the id.
 *  - Any other field is ignored.
 *  - At the end of the input an event without its empty line is not
 *    dispatched: the standard says an incomplete event is discarded, and a
 *    stream cut in the middle of an event must not look complete.
 *
 * Every event has a ceiling set at init: the bytes of all its lines (line
 * ends not counted, comments and ignored fields included) from the line
 * after the previous empty line.  An event that passes it is reported once,
 * as soon as it passes (so a 10 MiB line without an end is seen at the
 * ceiling, not at its end), by a callback with toolong set; then every byte
 * up to the next empty line is skipped without being kept, and parsing goes
 * on after it.  No buffer holds more than the ceiling.
 *
 * Speed: the framing is plain byte scanning (memchr), some GB/s; an event
 * whose line is whole in a chunk is not copied.  No JSON is parsed here.
 */
#ifndef LLM_SSE_H
#define LLM_SSE_H

#include <stddef.h>

#include "buf.h"

#define SSE_EVENT_MAX	(8u << 20)	/* the default ceiling */

/*
 * One event, as the callback sees it.  Every pointer is borrowed and valid
 * only during the callback.
 */
struct sse_event {
	const char	*type;	/* "message" when no "event" field */
	const char	*data;	/* len bytes and a NUL (the data may
				 * hold NUL bytes of its own) */
	size_t		 len;
	const char	*id;	/* the last event id, "" when none */
	long		 retry;	/* the last retry in ms, -1: none */
	int		 toolong; /* 1: an event passed the ceiling
				 * and is lost; type and data "" */
};

/*
 * The parser's state.  nevents and nknown may be read between calls: a
 * caller tells a body that is no event stream at all (a JSON error body
 * sent as text/event-stream) by nknown still 0 at its end.
 */
struct sse {
	struct buf	 line;		/* the line not ended yet */
	struct buf	 data;		/* the data, a LF per line */
	struct buf	 type;		/* the "event" value */
	struct buf	 id;		/* the last event id */
	long		 retry;		/* the last retry; -1 */
	size_t		 max;		/* the event ceiling */
	size_t		 size;		/* the event's bytes */
	size_t		 col;		/* bytes of the line so far,
					 * when skipping (only 0 or
					 * not matters) */
	int		 bom;		/* BOM bytes seen; 3: past */
	int		 cr;		/* the last line ended in CR */
	int		 skip;		/* skipping a too long event */
	int		 fields;	/* a field line since the
					 * last empty line */
	unsigned long	 nevents;	/* events dispatched */
	unsigned long	 nknown;	/* comments and data, event,
					 * id and retry lines seen */
};

/*
 * Makes p ready for a new stream with a ceiling of max bytes per event (0
 * means SSE_EVENT_MAX).  p owns memory from here: sse_release frees it.
 */
void	sse_init(struct sse *p, size_t max);

/*
 * Parses the n bytes at chunk (borrowed; any bytes at all), calling
 * cb(arg, &event) for each event they complete, in order.  The callback
 * returns 0 to go on; any other value stops sse_feed, which returns it at
 * once without reading the rest of the chunk (feeding more goes on from
 * whatever bytes come next, as if the rest had never been).  Returns 0
 * when every byte was read.  Never fails otherwise: a too long event is
 * reported through the callback, and nothing else is wrong in SSE.
 */
int	sse_feed(struct sse *p, const char *chunk, size_t n,
	    int (*cb)(void *, const struct sse_event *), void *arg);

/*
 * Ends the stream: an event still without its empty line (or a line
 * without its end) is discarded, per the standard.  Returns 1 when what
 * was discarded was an event (a field line that is no comment, or a too
 * long event being skipped), else 0.  p is then ready for a new stream,
 * as after sse_init, its counters at 0.
 */
int	sse_finish(struct sse *p);

/* Frees p's memory; sse_init makes it usable again. */
void	sse_release(struct sse *p);

#endif
