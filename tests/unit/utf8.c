/*
 * Unit tests for lib/utf8, table-driven: well-formedness after RFC 3629
 * (overlong forms, surrogates, code points past U+10FFFF, truncated
 * sequences) with the offset of the first bad byte, and utf8_tail.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "utf8.h"

#define S(s)	s, sizeof(s) - 1

static const struct {
	const char	*s;
	size_t		 n;
	int		 valid;
	size_t		 badoff;
	const char	*what;
} valid_tests[] = {
	{ S(""), 1, 0, "empty" },
	{ S("hello"), 1, 0, "ASCII" },
	{ S("a\0b"), 1, 0, "NUL is valid" },
	{ S("\x7f"), 1, 0, "DEL" },
	{ S("\xc2\x80"), 1, 0, "U+0080, smallest 2-byte" },
	{ S("\xc3\xa9t\xc3\xa9"), 1, 0, "U+00E9 twice" },
	{ S("\xdf\xbf"), 1, 0, "U+07FF, largest 2-byte" },
	{ S("\xe0\xa0\x80"), 1, 0, "U+0800, smallest 3-byte" },
	{ S("\xe2\x82\xac"), 1, 0, "euro sign" },
	{ S("\xed\x9f\xbf"), 1, 0, "U+D7FF, just below the surrogates" },
	{ S("\xee\x80\x80"), 1, 0, "U+E000, just above the surrogates" },
	{ S("\xef\xbf\xbf"), 1, 0, "U+FFFF" },
	{ S("\xef\xbb\xbf{}"), 1, 0, "byte order mark" },
	{ S("\xf0\x90\x80\x80"), 1, 0, "U+10000, smallest 4-byte" },
	{ S("\xf0\x9f\x98\x80"), 1, 0, "emoji" },
	{ S("\xf4\x8f\xbf\xbf"), 1, 0, "U+10FFFF, the last code point" },
	{ S("\x80"), 0, 0, "lone continuation byte" },
	{ S("ab\xbf"), 0, 2, "continuation byte after ASCII" },
	{ S("\xc0\x80"), 0, 0, "overlong NUL (C0 80)" },
	{ S("\xc1\xbf"), 0, 0, "overlong 2-byte (C1)" },
	{ S("\xe0\x80\xaf"), 0, 0, "overlong 3-byte" },
	{ S("\xe0\x9f\xbf"), 0, 0, "overlong 3-byte, top" },
	{ S("\xf0\x80\x80\xaf"), 0, 0, "overlong 4-byte" },
	{ S("\xf0\x8f\xbf\xbf"), 0, 0, "overlong 4-byte, top" },
	{ S("x\xed\xa0\x80"), 0, 1, "high surrogate U+D800" },
	{ S("\xed\xbf\xbf"), 0, 0, "low surrogate U+DFFF" },
	{ S("\xf4\x90\x80\x80"), 0, 0, "U+110000" },
	{ S("\xf5\x80\x80\x80"), 0, 0, "F5 lead byte" },
	{ S("\xff"), 0, 0, "FF" },
	{ S("\xfe"), 0, 0, "FE" },
	{ S("abc\xc3"), 0, 3, "truncated 2-byte at the end" },
	{ S("abc\xe2\x82"), 0, 3, "truncated 3-byte at the end" },
	{ S("\xf0\x9f\x98"), 0, 0, "truncated 4-byte at the end" },
	{ S("\xc3(x"), 0, 0, "2-byte lead, ASCII second byte" },
	{ S("\xe2\x28\xa1"), 0, 0, "3-byte, bad second byte" },
	{ S("\xe2\x82\x28"), 0, 0, "3-byte, bad third byte" },
	{ S("\xf0\x9f\x98\x28"), 0, 0, "4-byte, bad fourth byte" },
	{ S("ok \xc3\xa9 then \xff"), 0, 11, "offset after a good sequence" },
	{ S("\xc3\xa9\xc3"), 0, 2, "good then truncated" },
};

static const struct {
	const char	*s;
	size_t		 n;
	size_t		 tail;
	const char	*what;
} tail_tests[] = {
	{ S(""), 0, "empty" },
	{ S("abc"), 0, "ASCII" },
	{ S("ab\xc3"), 1, "first byte of 2" },
	{ S("ab\xc3\xa9"), 0, "complete 2-byte" },
	{ S("\xe2"), 1, "first byte of 3" },
	{ S("\xe2\x82"), 2, "two bytes of 3" },
	{ S("\xe2\x82\xac"), 0, "complete 3-byte" },
	{ S("x\xf0"), 1, "first byte of 4" },
	{ S("x\xf0\x9f"), 2, "two bytes of 4" },
	{ S("x\xf0\x9f\x98"), 3, "three bytes of 4" },
	{ S("x\xf0\x9f\x98\x80"), 0, "complete 4-byte" },
	{ S("\xc3\xa9\xe2\x82"), 2, "complete then partial" },
	{ S("\x80\x80\x80\x80"), 0, "only continuation bytes" },
};

int
main(void)
{
	size_t i, off;
	char *p;

	for (i = 0; i < nitems(valid_tests); i++) {
		off = (size_t)-1;
		is_int(utf8_valid(valid_tests[i].s, valid_tests[i].n, &off),
		    valid_tests[i].valid, "utf8_valid: %s",
		    valid_tests[i].what);
		if (!valid_tests[i].valid)
			is_int((long long)off, (long long)valid_tests[i].badoff,
			    "utf8_valid: %s: offset", valid_tests[i].what);
		else
			is_int(utf8_valid(valid_tests[i].s, valid_tests[i].n,
			    NULL), 1, "utf8_valid: %s: NULL badoff",
			    valid_tests[i].what);
	}
	is_int(utf8_valid("\xff", 1, NULL), 0, "NULL badoff on invalid input");

	/*
	 * Only the n bytes count: a sequence cut by n is truncated even when
	 * the bytes after it would complete it, and nothing past n is read
	 * (an exact-size heap copy lets the sanitizer check that).
	 */
	p = malloc(2);
	memcpy(p, "\xe2\x82", 2);
	ok(!utf8_valid(p, 2, &off) && off == 0,
	    "sequence cut by n is invalid, no read past n");
	free(p);
	is_int(utf8_valid("\xc3\xa9", 1, NULL), 0, "n cuts a 2-byte sequence");

	for (i = 0; i < nitems(tail_tests); i++)
		is_int((long long)utf8_tail(tail_tests[i].s, tail_tests[i].n),
		    (long long)tail_tests[i].tail, "utf8_tail: %s",
		    tail_tests[i].what);
	return done();
}
