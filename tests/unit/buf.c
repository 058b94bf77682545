/*
 * Unit tests for lib/buf: the ceiling, NUL termination, consume, reset,
 * release and detach, as buf.h promises them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

static void
test_init(void)
{
	struct buf b;

	memset(&b, 0xa5, sizeof(b));
	buf_init(&b, 0);
	ok(b.data == NULL && b.len == 0, "init: empty, data NULL");
	is_int(b.max == SIZE_MAX - 1, 1, "init: max 0 means SIZE_MAX - 1");
	is_str(buf_cstr(&b), "", "cstr of an empty buf is \"\"");
	buf_release(&b);
	is_int(b.max == SIZE_MAX - 1, 1, "release keeps the ceiling");
}

static void
test_append(void)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	is_int(buf_append(&b, "ab", 2), 0, "append");
	is_int(buf_puts(&b, "cd"), 0, "puts");
	is_int(buf_putc(&b, 'e'), 0, "putc");
	is_int(buf_printf(&b, "%d-%s", 42, "x"), 0, "printf");
	is_str(buf_cstr(&b), "abcde42-x", "contents after appends");
	is_int((long long)b.len, 9, "len counts the bytes");
	is_int(b.data[b.len], '\0', "NUL after the contents");
	is_int(buf_append(&b, NULL, 0), 0, "append of nothing");
	is_int((long long)b.len, 9, "len unchanged by an empty append");

	buf_reset(&b);
	is_int(buf_append(&b, "a\0b", 3), 0, "append with a NUL byte");
	is_mem(b.data, b.len, "a\0b", 3, "NUL bytes kept");
	is_int(b.data[3], '\0', "terminated after binary data");

	/* Growth across many reallocations keeps what was there. */
	buf_reset(&b);
	for (i = 0; i < 10000; i++)
		if (buf_putc(&b, 'a' + (int)(i % 26)) == -1)
			break;
	is_int((long long)b.len, 10000, "10000 putc");
	for (i = 0; i < 10000; i++)
		if (b.data[i] != 'a' + (int)(i % 26))
			break;
	is_int((long long)i, 10000, "contents survive growth");
	is_int(b.data[10000], '\0', "terminated after growth");

	buf_reset(&b);
	is_int(buf_printf(&b, "%0500d|%s", 7, "end"), 0, "long printf");
	is_int((long long)b.len, 504, "long printf length");
	ok(b.len == 504 && memcmp(b.data + 499, "7|end", 5) == 0 &&
	    b.data[504] == '\0', "long printf contents");
	buf_release(&b);
}

static void
test_ceiling(void)
{
	struct buf b;

	buf_init(&b, 4);
	is_int(buf_append(&b, "abcd", 4), 0, "append up to the ceiling");
	errno = 0;
	is_int(buf_putc(&b, 'e'), -1, "one byte past the ceiling fails");
	is_int(errno, EMSGSIZE, "errno is EMSGSIZE");
	is_str(buf_cstr(&b), "abcd", "buf unchanged after a refused append");
	is_int((long long)b.len, 4, "len unchanged after a refused append");

	buf_reset(&b);
	errno = 0;
	is_int(buf_append(&b, "abcdef", 6), -1, "append past the ceiling");
	is_int(errno, EMSGSIZE, "errno is EMSGSIZE");
	is_int((long long)b.len, 0, "nothing appended");
	is_str(buf_cstr(&b), "", "still empty");

	is_int(buf_puts(&b, "ab"), 0, "puts within the ceiling");
	errno = 0;
	is_int(buf_printf(&b, "%s", "xyz"), -1, "printf past the ceiling");
	is_int(errno, EMSGSIZE, "printf: errno is EMSGSIZE");
	is_str(buf_cstr(&b), "ab", "printf past the ceiling leaves buf");
	is_int(buf_printf(&b, "%s", "xy"), 0, "printf up to the ceiling");
	is_str(buf_cstr(&b), "abxy", "printf up to the ceiling");

	buf_reset(&b);
	is_int(buf_reserve(&b, 4), 0, "reserve up to the ceiling");
	is_int((long long)b.len, 0, "reserve does not change len");
	ok(b.cap >= 5, "reserve makes room for the bytes and the NUL");
	errno = 0;
	is_int(buf_reserve(&b, 5), -1, "reserve past the ceiling");
	is_int(errno, EMSGSIZE, "reserve: errno is EMSGSIZE");
	is_int(buf_reserve(&b, SIZE_MAX), -1, "reserve of SIZE_MAX");
	buf_putc(&b, 'x');
	is_int(buf_reserve(&b, SIZE_MAX - 1), -1,
	    "reserve that would overflow len + n");
	buf_release(&b);

	/* The same ceiling holds after release. */
	is_int(buf_puts(&b, "abcde"), -1, "ceiling kept after release");
	is_int(buf_puts(&b, "abcd"), 0, "usable after release");
	buf_release(&b);
}

static void
test_consume(void)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "hello world");
	buf_consume(&b, 6);
	is_str(buf_cstr(&b), "world", "consume drops the first bytes");
	is_int((long long)b.len, 5, "consume: len");
	buf_consume(&b, 0);
	is_str(buf_cstr(&b), "world", "consume 0 keeps all");
	buf_consume(&b, 5);
	is_int((long long)b.len, 0, "consume all empties");
	is_str(buf_cstr(&b), "", "consume all: cstr \"\"");
	is_int(buf_puts(&b, "again"), 0, "append after consume");
	is_str(buf_cstr(&b), "again", "contents after consume and append");
	buf_release(&b);
}

static void
test_reset(void)
{
	struct buf b;
	char *p;
	size_t cap;

	buf_init(&b, 0);
	buf_puts(&b, "something");
	p = b.data;
	cap = b.cap;
	buf_reset(&b);
	is_int((long long)b.len, 0, "reset: len 0");
	ok(b.data == p && b.cap == cap, "reset keeps the memory");
	is_str(buf_cstr(&b), "", "reset: cstr \"\"");
	buf_release(&b);
	ok(b.data == NULL && b.len == 0 && b.cap == 0, "release empties");
	buf_release(&b);
	ok(b.data == NULL, "release twice is harmless");
}

static void
test_detach(void)
{
	struct buf b;
	char *p;
	size_t n = 99;

	buf_init(&b, 16);
	p = buf_detach(&b, &n);
	ok(p != NULL, "detach of an empty buf returns memory");
	is_str(p, "", "detach of an empty buf is \"\"");
	is_int((long long)n, 0, "detach: length 0");
	free(p);

	buf_puts(&b, "abc");
	p = buf_detach(&b, &n);
	is_str(p, "abc", "detach returns the contents");
	is_int((long long)n, 3, "detach: length");
	ok(b.data == NULL && b.len == 0, "detach empties the buf");
	is_int((long long)b.max, 16, "detach keeps the ceiling");
	free(p);

	buf_puts(&b, "x");
	p = buf_detach(&b, NULL);
	is_str(p, "x", "detach with a NULL length pointer");
	free(p);
	buf_release(&b);
}

int
main(void)
{
	test_init();
	test_append();
	test_ceiling();
	test_consume();
	test_reset();
	test_detach();
	return done();
}
