/*
 * dialect: the wire formats of LLM APIs.
 *
 * A dialect adapter, lib/dialect_<api>.c, is the only code that knows one
 * API's format.  It maps a canonical request (request.h) to an HTTP body
 * and headers, and a response body back to the fields of a response
 * record.  Adapters do no I/O, keep no state beyond one streamed answer
 * and never see a secret: the engine adds authentication, merges "params"
 * into the body last and drops the target's compat.stripParams keys after
 * build.
 *
 * Response fields an adapter returns from parse (DESIGN.md section 2):
 *
 *	{"text": "..." | null, "reasoning": "..." (absent when none),
 *	 "reasoning_signature": "..." (Anthropic thinking, for replay),
 *	 "tool_calls": [{"id", "name", "arguments": {...}}] (absent when none),
 *	 "stop_reason": "stop"|"length"|"tool_use"|"content_filter"|
 *	     "refusal"|"error",
 *	 "usage": {"input", "output", "cache_read", "cache_write",
 *	     "reasoning"},
 *	 "provider_model": "<model id the server reported>"}
 *
 * Usage conventions, the same for every API: "input" counts prompt tokens
 * that were not read from a cache; "cache_read" and "cache_write" the
 * cached ones; "output" every generated token, reasoning included;
 * "reasoning" the reasoning part of output.  Tool call "arguments" are
 * parsed JSON; arguments that do not parse are kept as the raw string
 * under "arguments_raw" with "arguments": {}.
 *
 * Streaming.  An adapter reads a streamed answer one server-sent event at
 * a time (sse.h does the framing) and returns the stream events of
 * DESIGN.md section 2 that the event carries, without "id", in arrival
 * order.  These three kinds, and only these, come from an adapter:
 *
 *	{"type": "text", "delta": "..."}
 *	{"type": "reasoning", "delta": "..."}
 *	{"type": "tool_call", "index": N, "call_id": "...", "name": "...",
 *	 "arguments_delta": "..."}
 *
 * Deltas are never empty, but for the first tool_call event of a call,
 * which announces it as soon as its name is known and may carry "".
 * "index" counts the calls of the answer from 0 in the order they begin
 * (not the provider's own index); "call_id" and "name" are on every event
 * of the call, as known at that moment ("" until then: every API here
 * sends both with the call's first event).  Joined in order, the deltas of
 * each kind are the answer's "text" and "reasoning" and, per index, the
 * text the call's "arguments" were parsed from, as the final fields say.
 * Signatures (Anthropic thinking, Responses encrypted reasoning, Gemini
 * thought signatures) are no deltas: they come in the final fields'
 * "reasoning_signature" only, complete, so that a caller can replay them.
 *
 * The other events are made around the adapter, by the engine or
 * dialect_stream below: "start" by the engine, when it decides the record
 * has begun; "end" from stream_end's fields, once the adapter saw the
 * stream's terminal event; "error" when the adapter reports a failure or
 * the stream ends before its terminal event (kind "truncated").
 */
#ifndef LLM_DIALECT_H
#define LLM_DIALECT_H

#include <stddef.h>

#include <jv.h>

#include "buf.h"
#include "sse.h"

struct dialect {
	const char	*api;		/* "openai-completions", ... */

	/*
	 * Builds the request: *body gets the JSON body (a new object),
	 * *headers an object of extra header names and values (plain text,
	 * never a secret; Content-Type is the engine's), *url a new string
	 * when the URL differs from target.url, else jv_null().  canon and
	 * target are borrowed.  stream asks for the streaming variant.
	 * Returns 0, or -1 with err for a request the API cannot express.
	 */
	int	(*build)(jv canon, jv target, int stream, jv *body,
		    jv *headers, jv *url, char *err);

	/*
	 * Parses a complete 2xx response body into response fields (a new
	 * object in *resp).  Returns 0, or -1 with err when the body is not
	 * a response (not JSON, no choices, ...).
	 */
	int	(*parse)(const char *body, size_t len, jv target, jv *resp,
		    char *err);

	/*
	 * Reads the provider's error out of a non-2xx (or error) body:
	 * returns a new object {"message", "type", "code"} with whatever
	 * the body holds (strings; absent when unknown).  Never fails: a
	 * body that is not JSON gives {"message": <its first line, cut>}.
	 */
	jv	(*error)(int status, const char *body, size_t len);

	/*
	 * Streaming, set for every dialect here: see "Streaming" above and
	 * dialect_stream below, which calls these.
	 *
	 * A new state for reading one streamed answer for target
	 * (borrowed: the state copies what it keeps).  Never NULL.
	 */
	void	*(*stream_new)(jv target);

	/*
	 * Reads one event: its SSE type ("message" when the event had no
	 * "event" field) and its data, len bytes (borrowed; NUL-terminated).
	 * Appends the stream events it carries to the array *events.
	 * Returns:
	 *
	 *  DIALECT_STREAM_MORE	go on;
	 *  DIALECT_STREAM_DONE	the terminal event: the answer is
	 *			complete, and every later call does nothing
	 *			and returns DIALECT_STREAM_DONE again (the
	 *			events after it are ignored);
	 *  DIALECT_STREAM_CAN_END the answer is complete if the body
	 *			ends here, but later events still count (an
	 *			API without a terminal event: Gemini);
	 *  DIALECT_STREAM_FAIL	the provider reported an error in the
	 *			stream or sent what cannot be read:
	 *			*error gets a
	 *			new object {"message", "type", "code",
	 *			"status"} as error() reads it ("status", when
	 *			present, is the HTTP status the provider's
	 *			error type stands for, so that classify.h
	 *			can tell its kind; the HTTP status was 2xx).
	 *			Later calls return DIALECT_STREAM_FAIL
	 *			with no events.
	 */
	int	(*stream_event)(void *st, const char *type, const char *data,
		    size_t len, jv *events, jv *error);

	/*
	 * The response fields of what was read, the shape parse returns.
	 * complete is 1 when the stream ended properly (after DONE, or at
	 * the end of the body after CAN_END): the fields are then what parse
	 * would make of the same answer in one body.  complete 0 gives what
	 * arrived so far, best effort ("stop_reason" may be absent).  May be
	 * called more than once.
	 */
	jv	(*stream_end)(void *st, int complete);

	void	(*stream_free)(void *st);
};

enum {
	DIALECT_STREAM_FAIL = -1,
	DIALECT_STREAM_MORE = 0,
	DIALECT_STREAM_DONE = 1,
	DIALECT_STREAM_CAN_END = 2
};

extern const struct dialect dialect_openai_completions;
extern const struct dialect dialect_openai_responses;
extern const struct dialect dialect_anthropic_messages;
extern const struct dialect dialect_google_generative_ai;
extern const struct dialect dialect_echo;

/*
 * The offline echo provider's answer to canon (borrowed), which the
 * engine asks for instead of sending anything: *resp gets response fields
 * with "text" the text of the last user message, "stop_reason" "stop",
 * "provider_model" "echo" and usage input = ceil(bytes of the system text
 * and every message's text / 4), output = ceil(bytes of the answer / 4),
 * the rest 0.  Returns 0, or -1 when canon has no "messages" list.
 */
int	dialect_echo_answer(jv canon, jv *resp);

/*
 * The echo provider's answer to canon (borrowed) as the event stream its
 * stream adapter reads, appended to out: the text in a few deltas (cut
 * after runs of white space, at most ECHO_DELTA_MAX bytes each, never
 * inside a UTF-8 character), as events "text" with a JSON string as data,
 * then an event "end" whose data is the fields of dialect_echo_answer.
 * The engine runs it through dialect_stream like a body off the wire, so
 * that streaming works offline end to end.  Returns 0, or -1 when canon
 * has no "messages" list or out's ceiling is reached.
 */
#define ECHO_DELTA_MAX	32
int	dialect_echo_stream(jv canon, struct buf *out);

/* The adapter for api, or NULL. */
const struct dialect *dialect_find(const char *api);

/*
 * Shared helpers for adapters (dialect.c).
 *
 * dialect_error_generic: the {"message","type","code"} reading that fits
 * most APIs ({"error": {"message", "type", "code"}} or {"error": "..."} or
 * {"message": ...}); adapters call it and refine.
 *
 * dialect_arguments: parses tool call arguments text into the
 * "arguments" (and, when it does not parse, "arguments_raw") fields of
 * call.  Consumes call, returns it.
 */
jv	dialect_error_generic(int status, const char *body, size_t len);
jv	dialect_arguments(jv call, const char *text, size_t len);

/*
 * Shared helpers for stream adapters (dialect_stream.c).
 *
 * dialect_event_delta: {"type": type, "delta": delta}.  Consumes delta.
 *
 * dialect_event_call: the tool_call event of call index, with call_id
 * and name (NULL reads as "") and the len bytes at delta.
 *
 * dialect_event_json: reads an event's data as one JSON value into *v
 * (new), checking its syntax first (json_syntax: libjq leaks on some bad
 * input and is slow to say no).  Returns 0, or DIALECT_STREAM_FAIL with
 * *error set when the data is not JSON.
 *
 * dialect_event_fail: sets *error to {"message": <the formatted text>}
 * and returns DIALECT_STREAM_FAIL.
 *
 * dialect_event_index: the whole number at obj[key] (borrowed) when it is
 * one from 0 to 1e9, else -1: an index as a C integer, safe whatever a
 * server sends.
 *
 * dialect_event_status: sets "status" in an error object ({"message",
 * "type", "code"}) to the HTTP status its code or type stands for: a code
 * of three digits 400 to 599 itself, else a word every API uses in them
 * ("rate_limit" 429, "quota" 429, "overloaded" 529, "server_error" and
 * "internal" 500, "invalid_request" 400, "not_found" 404, "permission"
 * and "forbidden" 403, "auth" and "api_key" 401, "timeout" 408); no
 * "status" when none fits.  Consumes info and returns it.
 */
jv	dialect_event_delta(const char *type, jv delta);
jv	dialect_event_call(int index, const char *call_id, const char *name,
	    const char *delta, size_t len);
int	dialect_event_json(const char *data, size_t len, jv *v, jv *error);
int	dialect_event_fail(jv *error, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
long	dialect_event_index(jv obj, const char *key);
jv	dialect_event_status(jv info);

/*
 * dialect_stream (dialect_stream.c): one streamed answer from body bytes
 * to stream events, the SSE framing and an adapter's stream functions
 * put together, with the rules every dialect shares.  No I/O.
 *
 * The caller feeds the body of a 2xx answer as it arrives and appends
 * the events to its output (adding "id", and "start" first, and to "end"
 * what a response record holds beyond the fields: model, cost, latency).
 * The events are the adapter's (see above), then exactly one of:
 *
 *	{"type": "end", <the fields of stream_end>}
 *	{"type": "error", "error": {"kind", "message", "provider"
 *	 (when the target names one), "retriable"}, "partial": true|false}
 *
 * "partial" says whether a content event (text, reasoning, tool_call)
 * came before the error: the answer was cut, and a retry would write its
 * content again.  The error's kind:
 *
 *  - an error the provider sent in the stream: classify_http's reading of
 *    the adapter's error object (its "status" hint, else 500);
 *  - a stream cut before its terminal event: "truncated", retriable;
 *  - an event over max_event bytes: "server", not retriable (the event
 *    is reported at the ceiling, not after reading it all);
 *  - a body over max_body bytes: "server", not retriable;
 *  - an event the adapter cannot read (data that is not JSON, ...):
 *    "server", retriable, as llm-send treats an unusable body;
 *  - a body with no SSE line at all (no comment, no data, event, id or
 *    retry field): when it is a complete answer in the API's plain JSON
 *    form (a server that ignored "stream": true), its content as one
 *    event of each kind and an "end"; else "not an event stream" with
 *    what error() reads from a JSON body, classified by the status its
 *    code or type stands for (dialect_event_status: Gemini's 404 body is
 *    bad_request, Anthropic's rate_limit_error rate_limited), else
 *    "server", retriable.
 *
 * Bytes after the end or error are ignored, unread: after a terminal
 * event (OpenAI's "data: [DONE]", Anthropic's message_stop, Responses'
 * response.completed) nothing that follows changes the answer, and a body
 * holding several answers (a replayed transcript) gives the first.
 */
struct dialect_stream {
	const struct dialect	*d;
	void			*st;
	jv			 target;
	struct sse		 sse;
	struct buf		 head;	/* the body until an SSE line */
	jv			 out;	/* events of the current feed */
	size_t			 body, max_body;
	int			 ended;	/* 1 after end, -1 error */
	int			 can_end;
	int			 content; /* a content event went out */
};

/*
 * Starts reading an answer of dialect d (d->stream_new must be set) for
 * target (borrowed; a reference is kept).  max_event is the ceiling on
 * one SSE event (0: SSE_EVENT_MAX), max_body on the whole body (0:
 * DIALECT_STREAM_BODY_MAX).
 */
#define DIALECT_STREAM_BODY_MAX	(64u << 20)
void	dialect_stream_init(struct dialect_stream *ds,
	    const struct dialect *d, jv target, size_t max_event,
	    size_t max_body);

/*
 * Feeds n bytes of the body (borrowed) and appends the events they
 * complete to the array *events.  Returns 1 once the end or error event
 * went out (that call's last event; later calls append nothing), else 0.
 */
int	dialect_stream_feed(struct dialect_stream *ds, const char *p,
	    size_t n, jv *events);

/*
 * The body is over: appends the end or error event unless one went out
 * already.  Returns 1 when the answer ended with "end", 0 with "error".
 */
int	dialect_stream_finish(struct dialect_stream *ds, jv *events);

/* Frees everything ds holds. */
void	dialect_stream_release(struct dialect_stream *ds);

#endif
