/*
 * embed_vec: embedding vectors as text and bytes.
 *
 * A vector is an array of 32-bit IEEE floats.  It travels in three forms:
 *
 *  - JSON numbers, each the shortest decimal that reads back as the same
 *    float (not the same double: a float32 needs at most 9 digits), laid
 *    out as ECMAScript's Number::toString lays out numbers, so that
 *    0.000023809172 stays positional and 1e-7 and 1.5e+30 do not.  Of
 *    the shortest decimals the one closest to the float is chosen (ties
 *    to even), which is what every shortest-round-trip printer (Ryu,
 *    JavaScript, numpy) prints.  -0 is written "-0" so that it reads back
 *    with its sign; NaN and the infinities, which JSON lacks, as null.
 *  - base64 (RFC 4648, with padding) of the floats as little-endian
 *    bytes: what OpenAI-compatible servers send for encoding_format
 *    "base64", and what -f base64 writes.
 *  - raw little-endian float32, row after row (-f f32).
 *
 * The formatter works on the float's bits with integer arithmetic only:
 * it scales the float and the bounds of its rounding interval by a power
 * of ten exactly (a 64-bit product for the magnitudes embeddings have,
 * 128 and 192 bits for the rest) and removes digits while a shorter
 * decimal still lies inside the interval.  No printf, no strtod, no
 * tables to build at run time: thread-safe, and some 30 ns a float.
 *
 * Nothing here allocates but embed_vec_json and embed_vec_b64, which
 * append to a struct buf (and fail at its ceiling).
 */
#ifndef LLM_EMBED_VEC_H
#define LLM_EMBED_VEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Longest text of one float: "-100000000000000000000" is 22 bytes. */
#define EMBED_VEC_FLOAT_MAX	24

/*
 * Writes f as the shortest JSON number that reads back as f (see above)
 * into out, which must hold EMBED_VEC_FLOAT_MAX bytes; no NUL is added.
 * Returns the length.
 */
size_t	embed_vec_float(char *out, float f);

/*
 * The shortest decimal of f, finite and not zero, as digits and a power
 * of ten: |f| reads back from digits * 10^exp10.  For tests and other
 * layouts.
 */
void	embed_vec_shortest(float f, uint32_t *digits, int *exp10);

/* Appends "[x,y,...]" (n floats at v) to b.  Returns 0, or -1 at b's
 * ceiling. */
int	embed_vec_json(struct buf *b, const float *v, size_t n);

/* Appends the base64 of the n floats at v, little-endian, to b, without
 * quotes.  Returns 0, or -1 at b's ceiling. */
int	embed_vec_b64(struct buf *b, const float *v, size_t n);

/* Characters of the base64 of n floats. */
size_t	embed_vec_b64_len(size_t n);

/*
 * Decodes len bytes of base64 at s (padding optional, no white space)
 * into little-endian floats at out, at most max of them.  Returns the
 * number of floats, or -1 when s is not base64, does not hold a whole
 * number of floats, or holds more than max.
 */
long	embed_vec_b64_decode(const char *s, size_t len, float *out,
	    size_t max);

/*
 * Reads a JSON array of numbers from s (len bytes, starting at "[";
 * white space allowed) into out, at most max, each rounded to float as
 * strtof does.  *used gets the bytes read, "]" included.  Returns the
 * number of floats, or -1 when the text is not such an array (or holds
 * more than max).
 */
long	embed_vec_parse_array(const char *s, size_t len, float *out,
	    size_t max, size_t *used);

/* Scales the n floats at v to length 1 (a zero vector stays zero). */
void	embed_vec_normalize(float *v, size_t n);

/*
 * Converts n floats between the host's order and little-endian, in
 * place (nothing to do on little-endian hosts).
 */
void	embed_vec_le(float *v, size_t n);

#endif
