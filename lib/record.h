/*
 * record: the shapes of records every tool shares (DESIGN.md section 2).
 *
 * Request records come in, response and error records go out.  An error
 * record is the request it concerns with an "error" object added, so that a
 * later stage can send it again; a line that could not be parsed at all
 * becomes an error record of its own holding only an id.
 */
#ifndef LLM_RECORD_H
#define LLM_RECORD_H

#include <jv.h>

/* Error kinds; record_kind_name gives the wire name. */
enum record_kind {
	RECORD_BAD_INPUT,
	RECORD_CONFIG,
	RECORD_AUTH,
	RECORD_BAD_REQUEST,
	RECORD_CONTEXT_LENGTH,
	RECORD_CONTENT_FILTER,
	RECORD_RATE_LIMITED,
	RECORD_QUOTA,
	RECORD_TIMEOUT,
	RECORD_NETWORK,
	RECORD_SERVER,
	RECORD_TRUNCATED,
	RECORD_EXHAUSTED
};

const char *record_kind_name(enum record_kind kind);

/* Whether failures of this kind are transient by default. */
int	record_kind_retriable(enum record_kind kind);

/*
 * Gives req an "id" when it has none: the 1-based input line number as a
 * string.  Consumes req, returns it.
 */
jv	record_with_id(jv req, unsigned long lineno);

/*
 * Returns req with "error": {kind, status (when > 0), message, provider
 * (when not NULL), retriable}, replacing an earlier error.  Consumes req.
 */
jv	record_error(jv req, enum record_kind kind, int status,
	    const char *provider, int retriable, const char *message);

/*
 * The error record for an input line that is not a usable record:
 * {"id": "<lineno>", "error": {"kind": "bad_input", "message":
 * "line N: <message>", ...}}.
 */
jv	record_bad_input(unsigned long lineno, const char *message);

/*
 * Whether rec already holds an answer and so passes through a sending
 * stage untouched: a response (text and stop_reason, as an end event has
 * too) or another stream event with its own fields (a text or reasoning
 * delta, a tool_call index, a start with its model).  A record with a
 * prompt or messages is always a request.
 */
int	record_is_response(jv rec);

/*
 * The message of rec's error, or NULL.  Borrows rec; the string lives as
 * long as rec does.
 */
const char *record_error_message(jv rec);

/* Whether rec is an error record. */
int	record_is_error(jv rec);

#endif
