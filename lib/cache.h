/*
 * cache: the content-addressed response cache (DESIGN.md section 6).
 *
 * Key.  A request's key is BLAKE2b-256 (crypto_generichash, 32 bytes, no
 * key), written as 64 lowercase hex digits, of the canonical JSON of
 *
 *	{"request": CANON, "target": {"api": A, "model": M, "provider": P,
 *	 "url": U}, "version": 1}
 *
 * where CANON is request_normalize's canonical form of the record for the
 * target (so "prompt" and "messages", string and part content, "system"
 * as a field or as a message, OpenAI's and bare tool definitions all give
 * the same key) with an empty "params" object dropped, and A, M, P, U are
 * the target's "api", "model" (the provider's model id), "provider" and
 * "url" strings.  Nothing else takes part: not the id, meta, unknown
 * fields, limits, fallbacks, headers, auth or any key.  Canonical JSON is
 * compact (no white space), object members sorted by the bytes of their
 * UTF-8 names (memcmp order, a prefix first), strings escaped as
 * json_write does ("\"", "\\", \n \t \r \b \f, other bytes below 0x20 and
 * 0x7f as \u00XX in lowercase hex, everything else literal), numbers that
 * are integers below 1e17 in magnitude as plain decimal (-0 as 0), other
 * numbers as the first of printf's %.15g, %.16g, %.17g that reads back to
 * the same double.  man/llm-cache.1 repeats this for other implementers.
 *
 * Store.  Under the cache directory (LLM_CACHE_DIR, else
 * $XDG_CACHE_HOME/llm) an entry lives at v1/ab/cd/<key>, ab and cd the
 * key's first two pairs of hex digits.  Its file is one header line and
 * the body:
 *
 *	LLMC1 <key> <created> <length> <sum>\n<body>\n
 *
 * created is the Unix time of the store in seconds, length the body's
 * length in bytes, body the response fields as compact JSON (an object:
 * model, text, reasoning, reasoning_signature, tool_calls, stop_reason,
 * usage, provider_model, cost, latency_ms, attempts, those present, in
 * the response's order) and sum the hex BLAKE2b-256 of the header up to
 * and including the space before sum, followed by the body.  An entry is
 * written to a temporary file (.tmp-<pid>-<n>-<random>) in its directory and
 * renamed into place, so readers see a whole entry or none; nothing is
 * fsynced, since a torn or lost write after a crash fails the checksum and
 * reads as a miss.  Every read checks the magic, the key against the file
 * name, the length, the trailing newline and the sum; an entry that fails
 * is a miss, is counted as corrupt and is removed (rw mode).  The mtime is
 * its last use (touched on a hit at most once a minute), which prune uses
 * for its approximate LRU order; created is what max_age compares.
 *
 * Statistics.  Each process counts hits, misses, corrupt entries and
 * stores in memory and adds them to v1/stats, a fixed-width line updated
 * in place under flock(2), every CACHE_STATS_EVERY events and at
 * cache_close: the per-record cost is an increment.  A process killed
 * with SIGKILL loses its unflushed counts, nothing else.  The same line
 * keeps an approximate byte count of the store, which puts use to decide
 * when max_size calls for a prune.
 *
 * Modes.  LLM_CACHE=off (or 0, no, false) disables lookups and stores;
 * ro (read-only, for untrusted jobs) looks up but writes nothing: no
 * entries, no removals, no access times, no statistics; on, rw, yes, 1,
 * true or unset is the default read-write mode.
 *
 * Failures.  A cache problem never loses a record: lookups become misses
 * and stores are skipped.  Functions that meet one (an unwritable
 * directory, a full disk, a foreign file where an entry or directory
 * should be) return -1 with a message in err for the first problem on a
 * struct cache and quietly degrade afterwards, so that a tool warns once
 * by warning at every -1.  A corrupt entry is not a problem of the store
 * but of one entry: it is counted, not reported.  Nothing here prints or
 * exits.
 *
 * Wiring a sender (llm-send --cache, llm-stream --cache):
 *
 *	struct cache c;  char key[CACHE_KEY_HEX + 1];  jv hit;
 *
 *	if (cache_open(&c, err) == -1) -> usage error (bad LLM_CACHE)
 *	per request, once resolved (rec without or with "target"; target the
 *	first candidate):
 *	    switch (cache_fetch(&c, rec, target, key, &hit, err)) {
 *	    case CACHE_HIT:  emit hit (it is the whole response); next record
 *	    case -1:         warn err; then as a miss
 *	    case CACHE_MISS: send; key is "" when the request has no key
 *	    }
 *	when the record's output is final (response or error, any candidate):
 *	    if (cache_store(&c, key, first_candidate_ref, out, err) == -1)
 *		    warn err	(it keeps only complete answers of that target)
 *	at exit: if (cache_flush(&c, err) == -1) warn err; cache_close(&c);
 *
 * A stream replays a hit as events: a "start" event, one "text" event
 * (and one "reasoning" event before it, and one "tool_call" event per
 * call, arguments as JSON text) holding the whole stored value, then the
 * "end" event holding the hit record; it stores only after the
 * provider's terminal event (an "end" record passed to cache_store).
 */
#ifndef LLM_CACHE_H
#define LLM_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "buf.h"

#define CACHE_VERSION		1
#define CACHE_KEY_BYTES		32
#define CACHE_KEY_HEX		64
#define CACHE_ENTRY_MAX		(64u << 20)	/* bytes of one entry file */
#define CACHE_STATS_EVERY	1024		/* events between flushes */
#define CACHE_TOUCH_SECS	60		/* mtime granularity of use */
#define CACHE_TMP_STALE_SECS	60		/* prune: temporary files */

#define CACHE_HIT		1
#define CACHE_MISS		0

enum cache_mode {
	CACHE_OFF,
	CACHE_RO,
	CACHE_RW
};

/* Flags for cache_get. */
#define CACHE_PEEK	0x1	/* look only: no counts, touch or removal,
				   no max_age */

struct cache_counts {
	unsigned long long	 hits;
	unsigned long long	 misses;
	unsigned long long	 corrupt;
	unsigned long long	 stores;
};

struct cache {
	char			*root;		/* the cache directory */
	char			*dir;		/* root/v1 */
	int			 dfd;		/* dir, open once it exists */
	enum cache_mode		 mode;
	double			 max_age;	/* seconds; 0: no limit */
	unsigned long long	 max_size;	/* bytes; 0: no limit */
	struct cache_counts	 pending;	/* not yet in the stats file */
	long long		 pending_bytes;	/* store size change, ditto */
	unsigned		 reported;	/* a failure was returned */
	unsigned long		 seq;		/* temporary file names: */
	long			 pid;		/* ... the writer's, read once */
	uint32_t		 nonce;		/* ... and a random part */
	struct buf		 key;		/* scratch: canonical JSON */
	struct buf		 entry;		/* scratch: entry file */
	struct buf		 path;		/* scratch: file names */
};

/* A verified entry, as cache_get returns it. */
struct cache_entry {
	char		 key[CACHE_KEY_HEX + 1];
	long long	 created;	/* Unix seconds */
	long long	 used;		/* mtime, Unix seconds */
	unsigned long long size;	/* bytes of the file */
	const char	*body;		/* the response fields as JSON text */
	size_t		 len;		/* body length */
};

/* What a walk of the store found (cache_stats, cache_prune, cache_clear). */
struct cache_totals {
	struct cache_counts	 counts;	/* from the stats file */
	unsigned long long	 entries;	/* entries (left) */
	unsigned long long	 bytes;		/* their bytes */
	unsigned long long	 removed;	/* entries removed */
	unsigned long long	 freed;		/* bytes removed */
	unsigned long long	 temps;		/* temporary files removed */
	unsigned long long	 foreign;	/* names that are not ours */
	char			 first_foreign[512];	/* the first of them */
};

/*
 * Parses an LLM_CACHE value (NULL or "" is the default, read-write).
 * Returns 0, or -1 with err for an unknown value.
 */
int	cache_mode_parse(const char *s, enum cache_mode *mode, char *err);

/*
 * Parses a size: a number of bytes with an optional suffix k, M, G, T
 * (powers of 1024, either case, an optional trailing "B" or "iB").
 * Returns 0, or -1 with err.
 */
int	cache_parse_size(const char *s, unsigned long long *out, char *err);

/*
 * Parses an age: a number with an optional unit s, m, h, d, w (seconds
 * when none).  Returns 0, or -1 with err.
 */
int	cache_parse_age(const char *s, double *secs, char *err);

/*
 * Opens the store named by the environment: LLM_CACHE for the mode,
 * LLM_CACHE_DIR or $XDG_CACHE_HOME/llm for the place, LLM_CACHE_MAX_AGE
 * and LLM_CACHE_MAX_SIZE for the limits (callers override the fields with
 * their flags afterwards).  Creates nothing: directories appear with the
 * first store.  Returns 0, or -1 with err for a bad variable; c is then
 * released and must not be used.
 */
int	cache_open(struct cache *c, char *err);

/*
 * Adds this process's counts to the stats file now (nothing in ro and
 * off modes).  Returns 0, or -1 with err (reported once, see above).
 * When max_size is set and the store has grown past it, prunes it to
 * nine tenths of max_size unless another process is pruning.
 */
int	cache_flush(struct cache *c, char *err);

/*
 * Flushes, ignoring failures, and frees c's memory.  Safe on a zeroed
 * struct cache and after a failed cache_open.
 */
void	cache_close(struct cache *c);

/*
 * Appends v's canonical JSON (see above) to b.  Borrows v.  Returns 0,
 * or -1 when b's ceiling is reached.
 */
int	cache_canonical(struct buf *b, jv v);

/*
 * Computes the key of request record rec for target (both borrowed) into
 * hex (CACHE_KEY_HEX + 1 bytes).  Returns 0, or -1 with err when the
 * target lacks one of api, model, provider, url, or when the record is
 * not a request request_normalize accepts (its message in err).
 */
int	cache_key(jv rec, jv target, char *hex, char *err);

/* The same from canonical form canon (request_normalize's; borrowed). */
int	cache_key_canon(jv canon, jv target, char *hex, char *err);

/*
 * Looks key up.  Returns CACHE_HIT with *e filled (e->body points into
 * c's scratch buffer, valid until the next call on c), CACHE_MISS (none,
 * expired, corrupt: a corrupt entry is removed in rw mode), or -1 with
 * err for a reading problem reported once (later ones are misses).  Off
 * mode always misses.  flags: 0 or CACHE_PEEK.  A hit touches the file's
 * mtime when it is older than CACHE_TOUCH_SECS (rw mode).
 */
int	cache_get(struct cache *c, const char *key, struct cache_entry *e,
	    int flags, char *err);

/*
 * Whether response record resp (borrowed) may be stored: not an error, not
 * a hit (cached true), not partial, and stop_reason one of stop, length,
 * tool_use, refusal (content_filter and error mean the answer was cut or
 * failed).  A stream's "end" event counts as its response.
 */
int	cache_storable(jv resp);

/*
 * Stores the response fields of resp (borrowed) under key, replacing any
 * entry.  Returns 1 when stored, 0 when not (off or ro mode, not
 * storable, larger than CACHE_ENTRY_MAX), or -1 with err for a writing
 * problem reported once (later ones return 0).
 */
int	cache_put(struct cache *c, const char *key, jv resp, char *err);

/*
 * The record a hit gives for request rec (borrowed): "id" from rec, the
 * stored fields, "cached": true, then rec's fields that are not request
 * fields (meta, unknown ones; a request field is one send_response drops,
 * plus cache_key and cache_ref), then "cache_key".  Returns a new record,
 * or jv_invalid() when the body does not parse (it verified, so only
 * when memory runs out).
 */
jv	cache_hit_record(jv rec, const struct cache_entry *e);

/*
 * The same record as one line of JSON text appended to out (with "\n"),
 * built by splicing the stored text instead of parsing it: the hit path
 * of a pipeline stage.  Borrows rec.  Returns 0, or -1 when b's ceiling
 * is reached.
 */
int	cache_hit_line(struct buf *out, jv rec, const struct cache_entry *e);

/*
 * For a sender: computes rec's key for target (both borrowed) into key
 * and looks it up.  Returns CACHE_HIT with the hit record in *out (new;
 * see cache_hit_record), CACHE_MISS (key holds the key to store under, or
 * "" when rec has none: a bad request, a target without identity), or -1
 * with err for a problem reported once; key is then filled as for a miss.
 * Off mode is a miss with key "".
 */
int	cache_fetch(struct cache *c, jv rec, jv target, char *key, jv *out,
	    char *err);

/*
 * For a sender: stores response resp (borrowed) under key when key is
 * not "", resp is storable and, when ref is not NULL, resp's "model" is
 * ref (an answer from a fallback target is not the answer to this key).
 * Returns as cache_put.
 */
int	cache_store(struct cache *c, const char *key, const char *ref, jv resp,
	    char *err);

/*
 * Embeddings (llm-embed) are cached per text.  The key of a text is the
 * BLAKE2b-256 of the canonical JSON of
 *
 *	{"embedding": {"dims": D, "model": M, "provider": P, "text": T},
 *	 "version": 1}
 *
 * with D the vector size asked for (dims > 0) or null, M and P the
 * target's "model" and "provider", T the len bytes of text (UTF-8).
 * Returns 0 with hex filled, or -1 with err when the text is too large.
 */
int	cache_embed_key(const char *provider, const char *model, long dims,
	    const char *text, size_t len, char *hex, char *err);

/*
 * Stores len bytes of body, a JSON object of the caller's (an
 * embedding: {"dims", "embedding_b64"}), under key as it stands; entries
 * are read back with cache_get.  Returns as cache_put.
 */
int	cache_put_body(struct cache *c, const char *key, const char *body,
	    size_t len, char *err);

/*
 * Reads the totals: the stats file's counts plus this process's pending
 * ones, and a walk of the store for entries and bytes.  Returns 0, or -1
 * with err.
 */
int	cache_stats(struct cache *c, struct cache_totals *t, char *err);

/*
 * Prunes the store: removes stale temporary files (older than
 * CACHE_TMP_STALE_SECS, or of a process that no longer exists on this
 * host), entries whose header or size is wrong, entries created more
 * than max_age seconds ago (when > 0), then the least recently used
 * entries until the rest take at most max_size bytes (when > 0).  Holds
 * an exclusive flock on v1/lock meanwhile; with nowait set, returns 0
 * doing nothing when another process holds it.  Names that are not ours
 * are counted in t and left alone.  Returns 0, or -1 with err (ro or off
 * mode, an unreadable directory).
 */
int	cache_prune(struct cache *c, unsigned long long max_size,
	    double max_age, int nowait, struct cache_totals *t, char *err);

/*
 * Removes every entry and temporary file and zeroes the statistics,
 * leaving foreign files.  Returns 0, or -1 with err.
 */
int	cache_clear(struct cache *c, struct cache_totals *t, char *err);

/* Whether s is a key: CACHE_KEY_HEX lowercase hex digits. */
int	cache_is_key(const char *s);

#endif
