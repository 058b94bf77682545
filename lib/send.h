/*
 * send: one request record and one target, as HTTP and back.
 *
 * send_prepare normalizes a request record (request.h), lets the target's
 * dialect build the body, merges "params" into it last and drops the
 * target's compat.stripParams keys.  send_auth then resolves the key and
 * header values (value.h) into a curl header list just before the
 * transfer; resolved keys are kept in a struct send_keys for the rest of
 * the process, so a "!command" runs and a keyfile unlocks once.
 * send_result turns the HTTP outcome into response fields or an error, and
 * send_response/send_error build the records a tool writes.
 */
#ifndef LLM_SEND_H
#define LLM_SEND_H

#include <stddef.h>

#include <curl/curl.h>
#include <jv.h>

#include "dialect.h"
#include "http.h"
#include "keyfile.h"
#include "record.h"
#include "secmem.h"

struct send_request {
	const struct dialect	*dialect;
	jv			 target;	/* borrowed reference kept */
	jv			 canon;
	jv			 body;
	jv			 headers;	/* adapter's extra headers */
	char			*url;
	char			*text;		/* serialized body */
	size_t			 len;
};

struct send_key {
	char		*source;	/* the value expression */
	struct secmem	*value;		/* NULL: did not resolve */
	char		 fp[KEYFILE_FP_LEN + 1];	/* of value */
	char		 why[256];	/* why not */
	char		*prefix;	/* the header line last built ... */
	struct secmem	*line;		/* ... kept: one per request is costly */
};

struct send_keys {
	struct send_key	*v;
	size_t		 n;
};

/* What went wrong with an attempt. */
struct send_failure {
	enum record_kind kind;
	int		 status;
	int		 retriable;
	char		 message[512];
	double		 retry_after;	/* seconds the server asked, < 0 none */
	int		 should_retry;	/* x-should-retry: 1, 0, -1 absent */
};

/*
 * Prepares the HTTP request of rec for target (both borrowed; the
 * request keeps a reference to target).  stream asks for the streaming
 * variant.  Returns 0, or -1 with err (the kind in *kind: bad_input for
 * a request the record cannot make, config for a target that cannot be
 * used).
 */
int	send_prepare(jv rec, jv target, int stream, struct send_request *sr,
	    enum record_kind *kind, char *err);

void	send_request_release(struct send_request *sr);

/*
 * The key behind source (borrowed), resolved on first use and kept in keys
 * with its fingerprint; value is NULL and why says why when it does not
 * resolve.  Returns an entry of keys, valid until the next call that
 * resolves a new source (send_key_get, send_auth).
 */
struct send_key *send_key_get(struct send_keys *keys, const char *source);

/*
 * Builds the header list for sr: Content-Type, the adapter's headers, the
 * target's headers (values resolved) and the auth header with the key of
 * source, or, when source is NULL, of the first key source of the target
 * that resolves.  Returns the list (the caller hands it to http_post with
 * secret set), or NULL with the failure filled.
 */
struct curl_slist *send_auth(struct send_request *sr, struct send_keys *keys,
	    const char *source, struct send_failure *f);

/* The request as --dry-run shows it: method, url, headers (secrets never
 * resolved: auth values read "<redacted>"), body.  Returns a new object. */
jv	send_dry_run(struct send_request *sr);

/*
 * Reads a finished transfer: 0 with the response fields in *fields, or
 * -1 with f filled (transport error, HTTP error, unusable body), the
 * server's Retry-After or retry-after-ms and x-should-retry included.
 */
int	send_result(struct send_request *sr, struct http_transfer *t,
	    jv *fields, struct send_failure *f);

/*
 * The response record: id, model (target ref), the fields, cost from the
 * target's prices, latency_ms, attempts, cached false, then the record's
 * fields that are not part of a request (meta and unknown ones).
 * Consumes rec and fields; borrows target.
 */
jv	send_response(jv rec, jv target, jv fields, double latency_ms,
	    int attempts);

/*
 * The error record: rec with "error" from f, minus any resolution
 * (target, fallbacks, explain) so a later stage resolves it afresh.
 * Consumes rec.
 */
jv	send_error(jv rec, const char *provider, const struct send_failure *f);

void	send_keys_release(struct send_keys *keys);

/*
 * Records whose "error" says this: a failure filled by hand (no
 * Retry-After, no x-should-retry).
 */
void	send_fail(struct send_failure *f, enum record_kind kind, int status,
	    int retriable, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

#endif
