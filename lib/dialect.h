/*
 * dialect: the wire formats of LLM APIs.
 *
 * A dialect adapter, lib/dialect_<api>.c, is the only code that knows one
 * API's format.  It maps a canonical request (request.h) to an HTTP body
 * and headers, and a response body back to the fields of a response
 * record.  Adapters do no I/O, keep no state and never see a secret: the
 * engine adds authentication, merges "params" into the body last and drops
 * the target's compat.stripParams keys after build.
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
 */
#ifndef LLM_DIALECT_H
#define LLM_DIALECT_H

#include <stddef.h>

#include <jv.h>

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

#endif
