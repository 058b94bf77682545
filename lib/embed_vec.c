#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "embed_vec.h"

/* GCC and clang have 128-bit integers on every 64-bit target we build on. */
__extension__ typedef unsigned __int128 u128;

/* 5^0 to 5^27, the powers of five that fit in 64 bits. */
static const uint64_t pow5_64[28] = {
	1ULL, 5ULL, 25ULL, 125ULL, 625ULL, 3125ULL, 15625ULL, 78125ULL,
	390625ULL, 1953125ULL, 9765625ULL, 48828125ULL, 244140625ULL,
	1220703125ULL, 6103515625ULL, 30517578125ULL, 152587890625ULL,
	762939453125ULL, 3814697265625ULL, 19073486328125ULL,
	95367431640625ULL, 476837158203125ULL, 2384185791015625ULL,
	11920928955078125ULL, 59604644775390625ULL, 298023223876953125ULL,
	1490116119384765625ULL, 7450580596923828125ULL
};

/* 5^n for n up to 54, exactly. */
static u128
pow5(int n)
{
	if (n <= 27)
		return pow5_64[n];
	return (u128)pow5_64[27] * pow5_64[n - 27];
}

/*
 * A lower bound of floor(e * log10(2)), off by at most one: 78913 / 2^18
 * is just below log10(2) and 78914 / 2^18 just above, so the error always
 * makes the power of ten smaller, which costs a digit and never loses
 * one.
 */
static int
log10_pow2_floor(int e)
{
	if (e >= 0)
		return (int)(((uint32_t)e * 78913u) >> 18);
	return -(int)((((uint32_t)-e * 78914u) + (1u << 18) - 1) >> 18);
}

/*
 * floor(x * 2^e / 10^k), and in *exact whether nothing was cut off.
 * x < 2^26; k is chosen by the caller so that the result is below 2^40.
 */
static uint64_t
scaled(uint64_t x, int e, int k, int *exact)
{
	int n, s, r;

	if (k >= 0) {
		/* Large floats (k >= 0 means e > k): x 2^(e-k) / 5^k. */
		u128 num = (u128)x << (e - k), den = pow5(k), q;

		q = num / den;
		*exact = q * den == num;
		return (uint64_t)q;
	}
	n = -k;
	s = e + n;		/* x 5^n 2^s */
	if (s >= 0) {
		*exact = 1;
		return (x * pow5_64[n]) << s;
	}
	r = -s;
	if (n <= 14) {
		/* The common case, |f| from 1e-5 to 1: one 64-bit product. */
		uint64_t p = x * pow5_64[n];

		if (r >= 64) {
			*exact = p == 0;
			return 0;
		}
		*exact = (p & ((1ULL << r) - 1)) == 0;
		return p >> r;
	} else {
		/* x 5^n needs up to 135 bits: three 64-bit limbs. */
		u128 p5 = pow5(n), a, b, mid, low;
		uint64_t w0, w1, w2;

		a = (u128)x * (uint64_t)p5;
		b = (u128)x * (uint64_t)(p5 >> 64);
		w0 = (uint64_t)a;
		mid = (a >> 64) + (uint64_t)b;
		w1 = (uint64_t)mid;
		w2 = (uint64_t)(b >> 64) + (uint64_t)(mid >> 64);
		low = ((u128)w1 << 64) | w0;
		if (r >= 128) {
			*exact = low == 0 && (w2 & ((1ULL << (r - 128)) -
			    1)) == 0;
			return w2 >> (r - 128);
		}
		*exact = (low & (((u128)1 << r) - 1)) == 0;
		return (uint64_t)((low >> r) | ((u128)w2 << (128 - r)));
	}
}

void
embed_vec_shortest(float f, uint32_t *digits, int *exp10)
{
	uint32_t bits, fm, fe;
	uint64_t m, mv, mp, mm, vr, vp, vm, out;
	int e, k, even, vr_exact, vp_exact, vm_exact, removed = 0;
	unsigned last = 0;

	memcpy(&bits, &f, sizeof(bits));
	fm = bits & 0x7fffff;
	fe = (bits >> 23) & 0xff;
	if (fe == 0) {
		m = fm;
		e = -149;
	} else {
		m = fm | 0x800000;
		e = (int)fe - 150;
	}
	/*
	 * The float is m 2^e; the decimals that read back as it lie strictly
	 * between the midpoints with its neighbours, or on them too when m
	 * is even (ties go to even).  Times 4, so the midpoints are whole:
	 * mm, mv, mp times 2^(e-2).  Just above a power of two the lower
	 * neighbour is half as far.
	 */
	even = (m & 1) == 0;
	mv = 4 * m;
	mp = mv + 2;
	mm = mv - (fm != 0 || fe <= 1 ? 2 : 1);
	e -= 2;
	/*
	 * A power of ten a tenth of 2^e or less: the interval is at least
	 * 3 2^e wide, so at least one digit goes in the loop below, which
	 * leaves the last one removed for rounding.
	 */
	k = log10_pow2_floor(e) - 1;
	vr = scaled(mv, e, k, &vr_exact);
	vp = scaled(mp, e, k, &vp_exact);
	vm = scaled(mm, e, k, &vm_exact);
	/* An open interval: the upper midpoint itself does not read back. */
	if (!even && vp_exact)
		vp--;
	vm_exact = vm_exact && even;
	if (!vm_exact && !vr_exact) {
		/*
		 * The common case: neither bound nor the float is a whole
		 * decimal here, so no tie and no bound to land on.  Two
		 * digits at a time while two can go.
		 */
		while (vp / 100 > vm / 100) {
			last = (unsigned)(vr % 100 / 10);
			vr /= 100;
			vp /= 100;
			vm /= 100;
			removed += 2;
		}
		if (vp / 10 > vm / 10) {
			last = (unsigned)(vr % 10);
			vr /= 10;
			vm /= 10;
			removed++;
		}
		out = vr + (vr == vm || last >= 5);
		*digits = (uint32_t)out;
		*exp10 = k + removed;
		return;
	}
	/* Remove digits while a shorter decimal lies in the interval. */
	while (vp / 10 > vm / 10) {
		vm_exact = vm_exact && vm % 10 == 0;
		vr_exact = vr_exact && last == 0;
		last = (unsigned)(vr % 10);
		vr /= 10;
		vp /= 10;
		vm /= 10;
		removed++;
	}
	/* The lower bound itself may be shorter still. */
	if (vm_exact)
		while (vm % 10 == 0) {
			vr_exact = vr_exact && last == 0;
			last = (unsigned)(vr % 10);
			vr /= 10;
			vp /= 10;
			vm /= 10;
			removed++;
		}
	/* Exactly half way: to even. */
	if (vr_exact && last == 5 && vr % 2 == 0)
		last = 4;
	out = vr + ((vr == vm && !vm_exact) || last >= 5);
	*digits = (uint32_t)out;
	*exp10 = k + removed;
}

/* "00" to "99", for writing digits two at a time. */
static const char pairs[] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

size_t
embed_vec_float(char *out, float f)
{
	uint32_t bits, d;
	char dig[10];
	char *p = out;
	int exp10, nd, n, i, x;

	memcpy(&bits, &f, sizeof(bits));
	if (((bits >> 23) & 0xff) == 0xff) {
		memcpy(out, "null", 4);
		return 4;
	}
	if (bits >> 31)
		*p++ = '-';
	if ((bits & 0x7fffffff) == 0) {
		*p++ = '0';
		return (size_t)(p - out);
	}
	embed_vec_shortest(f, &d, &exp10);
	nd = d >= 100000000 ? 9 : d >= 10000000 ? 8 : d >= 1000000 ? 7 :
	    d >= 100000 ? 6 : d >= 10000 ? 5 : d >= 1000 ? 4 : d >= 100 ? 3 :
	    d >= 10 ? 2 : 1;
	for (i = nd; i >= 2; i -= 2) {
		memcpy(dig + i - 2, pairs + 2 * (d % 100), 2);
		d /= 100;
	}
	if (i == 1)
		dig[0] = (char)('0' + d);
	/* n: where the decimal point goes, as ECMAScript counts it. */
	n = exp10 + nd;
	if (nd <= n && n <= 21) {
		memcpy(p, dig, (size_t)nd);
		p += nd;
		for (i = nd; i < n; i++)
			*p++ = '0';
	} else if (0 < n && n <= 21) {
		memcpy(p, dig, (size_t)n);
		p += n;
		*p++ = '.';
		memcpy(p, dig + n, (size_t)(nd - n));
		p += nd - n;
	} else if (-6 < n && n <= 0) {
		*p++ = '0';
		*p++ = '.';
		for (i = n; i < 0; i++)
			*p++ = '0';
		memcpy(p, dig, (size_t)nd);
		p += nd;
	} else {
		*p++ = dig[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, dig + 1, (size_t)(nd - 1));
			p += nd - 1;
		}
		*p++ = 'e';
		x = n - 1;
		*p++ = x < 0 ? '-' : '+';
		if (x < 0)
			x = -x;
		if (x >= 10)
			*p++ = (char)('0' + x / 10);
		*p++ = (char)('0' + x % 10);
	}
	return (size_t)(p - out);
}

int
embed_vec_json(struct buf *b, const float *v, size_t n)
{
	char *p;
	size_t i;

	if (n > (SIZE_MAX - 2) / (EMBED_VEC_FLOAT_MAX + 1) ||
	    buf_reserve(b, n * (EMBED_VEC_FLOAT_MAX + 1) + 2) == -1)
		return -1;
	p = b->data + b->len;
	*p++ = '[';
	for (i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		p += embed_vec_float(p, v[i]);
	}
	*p++ = ']';
	b->len = (size_t)(p - b->data);
	b->data[b->len] = '\0';
	return 0;
}

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
embed_vec_b64_len(size_t n)
{
	return (n * 4 + 2) / 3 * 4;
}

int
embed_vec_b64(struct buf *b, const float *v, size_t n)
{
	const unsigned char *s;
	unsigned char tmp[4];
	size_t len = n * 4, i, olen = embed_vec_b64_len(n);
	uint32_t w;
	char *p;

	if (n > SIZE_MAX / 8 || buf_reserve(b, olen) == -1)
		return -1;
	p = b->data + b->len;
	s = (const unsigned char *)v;
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	/* Big-endian hosts: one float at a time, bytes swapped. */
	{
		unsigned char *le = malloc(len ? len : 1);

		if (le == NULL)
			return -1;
		for (i = 0; i < n; i++) {
			memcpy(tmp, &v[i], 4);
			le[4 * i] = tmp[3];
			le[4 * i + 1] = tmp[2];
			le[4 * i + 2] = tmp[1];
			le[4 * i + 3] = tmp[0];
		}
		s = le;
	}
#endif
	for (i = 0; i + 3 <= len; i += 3) {
		w = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*p++ = b64_chars[w >> 18];
		*p++ = b64_chars[(w >> 12) & 63];
		*p++ = b64_chars[(w >> 6) & 63];
		*p++ = b64_chars[w & 63];
	}
	if (i < len) {
		memset(tmp, 0, sizeof(tmp));
		memcpy(tmp, s + i, len - i);
		w = (uint32_t)tmp[0] << 16 | (uint32_t)tmp[1] << 8 | tmp[2];
		*p++ = b64_chars[w >> 18];
		*p++ = b64_chars[(w >> 12) & 63];
		*p++ = len - i == 2 ? b64_chars[(w >> 6) & 63] : '=';
		*p++ = '=';
	}
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	free((void *)s);
#endif
	b->len = (size_t)(p - b->data);
	b->data[b->len] = '\0';
	return 0;
}

/* The value of each base64 character, 64 for the others. */
static const unsigned char b64_value[256] = {
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64, 64, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
	64, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 64,
	64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64
};

long
embed_vec_b64_decode(const char *s, size_t len, float *out, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char *o = (unsigned char *)out;
	size_t i, nbytes, full, rest;
	uint32_t w;
	unsigned a, b, c, d;

	/* Padding is optional; what is left must be whole characters. */
	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	nbytes = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (nbytes % 4 != 0 || nbytes / 4 > max)
		return -1;
	full = len / 4;
	for (i = 0; i < full; i++, u += 4) {
		a = b64_value[u[0]];
		b = b64_value[u[1]];
		c = b64_value[u[2]];
		d = b64_value[u[3]];
		if ((a | b | c | d) & 64)
			return -1;
		w = a << 18 | b << 12 | c << 6 | d;
		*o++ = (unsigned char)(w >> 16);
		*o++ = (unsigned char)(w >> 8);
		*o++ = (unsigned char)w;
	}
	rest = len % 4;
	if (rest) {
		a = b64_value[u[0]];
		b = b64_value[u[1]];
		c = rest == 3 ? b64_value[u[2]] : 0;
		if ((a | b | c) & 64)
			return -1;
		w = a << 18 | b << 12 | c << 6;
		*o++ = (unsigned char)(w >> 16);
		if (rest == 3)
			*o++ = (unsigned char)(w >> 8);
	}
	embed_vec_le(out, nbytes / 4);
	return (long)(nbytes / 4);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

long
embed_vec_parse_array(const char *s, size_t len, float *out, size_t max,
    size_t *used)
{
	const char *p = s, *end = s + len, *q;
	char tmp[64], *e;
	size_t n = 0, l;

	if (p == end || *p != '[')
		return -1;
	for (p++; p < end && is_space(*p); p++)
		;
	if (p < end && *p == ']') {
		*used = (size_t)(p + 1 - s);
		return 0;
	}
	for (;;) {
		if (p == end || !(*p == '-' || (*p >= '0' && *p <= '9')))
			return -1;
		/* The number's extent, by JSON's alphabet; strtof reads it. */
		for (q = p; q < end && ((*q >= '0' && *q <= '9') ||
		    *q == '-' || *q == '+' || *q == '.' || *q == 'e' ||
		    *q == 'E'); q++)
			;
		l = (size_t)(q - p);
		if (l >= sizeof(tmp) || n == max)
			return -1;
		memcpy(tmp, p, l);
		tmp[l] = '\0';
		errno = 0;
		out[n] = strtof(tmp, &e);
		if (e != tmp + l)
			return -1;
		n++;
		for (p = q; p < end && is_space(*p); p++)
			;
		if (p == end)
			return -1;
		if (*p == ']') {
			*used = (size_t)(p + 1 - s);
			return (long)n;
		}
		if (*p != ',')
			return -1;
		for (p++; p < end && is_space(*p); p++)
			;
	}
}

void
embed_vec_normalize(float *v, size_t n)
{
	double sum = 0, scale;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (double)v[i] * v[i];
	if (!(sum > 0))
		return;
	scale = 1 / sqrt(sum);
	for (i = 0; i < n; i++)
		v[i] = (float)(v[i] * scale);
}

void
embed_vec_le(float *v, size_t n)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	unsigned char *p = (unsigned char *)v, t;
	size_t i;

	for (i = 0; i < n; i++, p += 4) {
		t = p[0];
		p[0] = p[3];
		p[3] = t;
		t = p[1];
		p[1] = p[2];
		p[2] = t;
	}
#else
	(void)v;
	(void)n;
#endif
}
