/*
 * json: small helpers over libjq's jv API.
 *
 * jv functions consume their arguments (see STYLE.md, "jv pitfalls"); the
 * helpers here are explicit about it.  The json_peek_* functions *borrow*
 * the object: they neither consume it nor return a reference, and a string
 * they return points into the object, valid while the caller holds it
 * unchanged.  They check kinds first, so they are safe on untrusted input:
 * a missing key and a value of the wrong kind both read as absent.
 */
#ifndef LLM_JSON_H
#define LLM_JSON_H

#include <stddef.h>

#include <jv.h>

/* The string at obj[key], or NULL.  Borrows obj. */
const char *json_peek_string(jv obj, const char *key);

/* Sets *out to the number at obj[key] and returns 1, else returns 0. */
int	json_peek_number(jv obj, const char *key, double *out);

/* Sets *out to the boolean at obj[key] (0/1) and returns 1, else 0. */
int	json_peek_bool(jv obj, const char *key, int *out);

/* The kind of obj[key], JV_KIND_INVALID when absent.  Borrows obj. */
jv_kind	json_peek_kind(jv obj, const char *key);

/*
 * Returns a new reference to obj[key], or jv_invalid() when obj is not an
 * object or has no such key.  Borrows obj.
 */
jv	json_get(jv obj, const char *key);

/*
 * json_get, but null reads as absent (jv_invalid()): the way optional
 * fields are read, since templates and some servers write nulls.
 */
jv	json_field(jv obj, const char *key);

/* jv_object_set with a C key (cached like json_get's).  Consumes o, v. */
jv	json_set(jv o, const char *key, jv v);

/*
 * Frees the lookup keys json_get keeps between calls, so that leak
 * checkers see a clean exit; json_get works again afterwards.
 */
void	json_release(void);

/*
 * Deep merge: returns a with every key of b set into it, objects merged
 * recursively, anything else replaced by b's value.  Consumes a and b.
 */
jv	json_merge(jv a, jv b);

/*
 * Returns a new string with v as compact JSON, and its length in *lenp.
 * Borrows v.  Caller frees.
 */
char	*json_dump(jv v, size_t *lenp);

/*
 * Appends v as compact JSON to b (a struct buf): object keys in insertion
 * order, strings escaped as JSON requires, numbers in the shortest form
 * that reads back to the same double.  Borrows v.  Several times faster
 * than jv_dump_string, which matters on every tool's output path.  Returns
 * 0, or -1 when b's ceiling is reached.
 */
struct buf;
int	json_write(struct buf *b, jv v);

/*
 * json_write with object keys sorted by the bytes of their UTF-8 names (a
 * shorter prefix first) and -0 written as 0: the canonical form the
 * cache's keys are computed over (llm-cache(1) specifies it).
 */
int	json_write_canonical(struct buf *b, jv v);

/*
 * The pieces json_write uses, for other writers: n bytes of UTF-8 as a JSON string; a number in the shortest form
 * that reads back (integers below 1e17 without printf, NaN as null).
 */
int	json_write_string(struct buf *b, const char *s, size_t n);
int	json_write_number(struct buf *b, double d);

/*
 * Turns a jq parse error about file path into `path: line N: what
 * (column M)` in err, dropping jq's quotation of the input (which may
 * hold a secret).  Returns -1.
 */
int	json_parse_error(const char *path, const char *msg, char *err);

/* A name for a kind as users know it: "object", "string", ... */
const char *json_kind_name(jv_kind k);

/*
 * Checks that the n bytes at s are exactly one JSON value (RFC 8259, with
 * surrounding white space), without allocating.  Returns 1, or 0 with the
 * offset of the problem in *off and a short reason in *why.  Input goes
 * through this before jv_parse_sized: libjq 1.6 leaks the value before a
 * missing separator, so an untrusted stream of bad lines could otherwise
 * grow memory without bound; and it is several times faster than jq's
 * parser at saying no.
 */
int	json_syntax(const char *s, size_t n, size_t *off, const char **why);

/*
 * Parses untrusted JSON text: checks UTF-8 and syntax (json_syntax) before
 * libjq sees it.  Returns 0 with a new value in *out, or -1 with a reason
 * in err that never quotes the text.
 */
int	json_parse_checked(const char *s, size_t n, jv *out, char *err);

/*
 * Finds where a value sits in JSON source text, for messages of the form
 * `file: line N: ...`.  path is a list of npath object keys (array
 * positions written as decimal strings); returns the 1-based line of the
 * value, or of the deepest part of the path that exists, or 0 when the
 * text does not parse far enough.  Never allocates.
 */
unsigned long json_locate(const char *text, size_t len,
	    const char *const *path, int npath);

#endif
