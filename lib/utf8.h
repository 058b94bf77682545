/*
 * utf8: validation of UTF-8 byte strings.
 *
 * jv silently replaces invalid sequences with U+FFFD, which would quietly
 * change a user's prompt; input is checked here first so a bad line is
 * reported instead.  Stream parsers use utf8_tail to avoid cutting a
 * character in two at a chunk boundary.
 */
#ifndef LLM_UTF8_H
#define LLM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returns 1 when the n bytes at s are well-formed UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF), else 0 and, when badoff is not
 * NULL, the offset of the first bad byte.  NUL bytes are valid UTF-8.
 */
int	utf8_valid(const char *s, size_t n, size_t *badoff);

/*
 * Returns how many bytes at the end of s[0..n) form the start of a
 * multi-byte character that is not complete yet (0 to 3).  A caller holding
 * a chunk of a stream keeps those bytes for the next chunk.
 */
size_t	utf8_tail(const char *s, size_t n);

/*
 * Writes the UTF-8 form of code point c (at most U+10FFFF, not a
 * surrogate) to out, which has room for 4 bytes.  Returns its length.
 */
size_t	utf8_encode(uint32_t c, char *out);

#endif
