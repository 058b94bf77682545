/*
 * Unit tests for lib/embed_vec: the shortest float32 formatter (layout
 * cases, round trip over every subnormal and millions of random floats,
 * shortness and closeness against printf's correctly rounded digits),
 * base64 both ways, float arrays, normalizing, and the conformance of the
 * real OpenAI base64/float pair in ../shared/fixtures/embeddings: both
 * forms decode to the same bits, and the formatter prints the recorded
 * numbers exactly.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "buf.h"
#include "embed_api.h"
#include "embed_vec.h"
#include "fsutil.h"
#include "tap.h"
#include "xalloc.h"

static float
from_bits(uint32_t b)
{
	float f;

	memcpy(&f, &b, sizeof(f));
	return f;
}

static uint32_t
to_bits(float f)
{
	uint32_t b;

	memcpy(&b, &f, sizeof(b));
	return b;
}

static const char *
fmt(float f)
{
	static char s[EMBED_VEC_FLOAT_MAX + 1];

	s[embed_vec_float(s, f)] = '\0';
	return s;
}

static const struct {
	uint32_t	 bits;
	const char	*want;
} layout[] = {
	{ 0x00000000, "0" },
	{ 0x80000000, "-0" },
	{ 0x3f800000, "1" },
	{ 0xbf800000, "-1" },
	{ 0x3dcccccd, "0.1" },
	{ 0x3e99999a, "0.3" },
	{ 0x40490fdb, "3.1415927" },
	{ 0x33d6bf95, "1e-7" },
	{ 0x358637bd, "0.000001" },
	{ 0x37c7b9cf, "0.000023809172" },
	{ 0x3727c5ac, "0.00001" },
	{ 0x4cbebc20, "100000000" },
	{ 0x4ceb79a3, "123456790" },
	{ 0x60ad78ec, "100000000000000000000" },
	{ 0x6258d727, "1e+21" },
	{ 0x7149f2ca, "1e+30" },
	{ 0x7f7fffff, "3.4028235e+38" },
	{ 0x00800000, "1.1754944e-38" },
	{ 0x00000001, "1e-45" },
	{ 0x00000002, "3e-45" },
	{ 0x007fffff, "1.1754942e-38" },
	{ 0x4b800000, "16777216" },
	{ 0x4b800001, "16777218" },
	{ 0x7f800000, "null" },
	{ 0xff800000, "null" },
	{ 0x7fc00000, "null" },
	{ 0xbdcb5703, "-0.099287055" },
};

/* Whether s reads back as exactly the bits of f. */
static int
reads_back(const char *s, float f)
{
	char *e;
	float g = strtof(s, &e);

	return *e == '\0' && to_bits(g) == to_bits(f);
}

/* The significant digits of a decimal in any layout, and their count. */
static int
sig_digits(const char *s, char *out)
{
	int n = 0, started = 0;

	for (; *s && *s != 'e' && *s != 'E'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (*s == '0' && !started)
			continue;
		started = 1;
		out[n++] = *s;
	}
	while (n > 0 && out[n - 1] == '0')
		n--;
	out[n] = '\0';
	return n;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
next32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int
finite_bits(uint32_t b)
{
	return ((b >> 23) & 0xff) != 0xff;
}

static void
test_layout(void)
{
	size_t i;

	for (i = 0; i < nitems(layout); i++)
		is_str(fmt(from_bits(layout[i].bits)), layout[i].want,
		    "format %08x", layout[i].bits);
}

static void
test_round_trip(void)
{
	unsigned long bad = 0, n = 0, shorter = 0, notclose = 0;
	uint32_t b, i;
	char s[EMBED_VEC_FLOAT_MAX + 1], ref[32];
	/* Digits before trailing zeros go: 1e21 prints 22 of them. */
	char d1[EMBED_VEC_FLOAT_MAX + 1], d2[32];
	int p, len, rlen;

	/* Every subnormal, both signs of some. */
	for (b = 1; b < 0x800000; b++) {
		float f = from_bits(b);

		s[embed_vec_float(s, f)] = '\0';
		bad += !reads_back(s, f);
		n++;
	}
	ok(bad == 0, "every subnormal reads back (%lu of %lu bad)", bad, n);
	/* Around every power of two, where the interval is lopsided. */
	bad = n = 0;
	for (b = 0x00800000; b < 0x7f800000; b += 0x800000)
		for (i = 0; i < 8; i++) {
			uint32_t c[2] = { b + i, b - 1 - i };
			int j;

			for (j = 0; j < 2; j++) {
				float f = from_bits(c[j]);

				s[embed_vec_float(s, f)] = '\0';
				bad += !reads_back(s, f);
				n++;
			}
		}
	ok(bad == 0, "floats next to powers of two read back (%lu of %lu "
	    "bad)", bad, n);
	/* Random bit patterns: every exponent alike. */
	bad = n = 0;
	for (i = 0; i < 3000000; i++) {
		float f;

		b = next32();
		if (!finite_bits(b))
			continue;
		f = from_bits(b);
		s[embed_vec_float(s, f)] = '\0';
		if (!reads_back(s, f) && bad++ < 5)
			diag("%08x -> %s", b, s);
		n++;
	}
	ok(bad == 0, "random floats read back (%lu of %lu bad)", bad, n);
	/* Random vector-like values, the formatter's daily bread. */
	bad = n = 0;
	for (i = 0; i < 2000000; i++) {
		float f = (float)((double)(int32_t)next32() / 2147483648.0 *
		    0.2);

		s[embed_vec_float(s, f)] = '\0';
		bad += !reads_back(s, f);
		n++;
	}
	ok(bad == 0, "values of vectors read back (%lu of %lu bad)", bad, n);
	/*
	 * Shortest and closest: printf's correctly rounded digits at the
	 * first precision that reads back.  Ours may only be shorter where
	 * the rounded decimal falls outside a lopsided interval, and must
	 * then still read back; of the same length, they are the same.
	 */
	bad = n = 0;
	for (i = 0; i < 400000; i++) {
		float f;

		b = next32() & 0x7fffffff;
		if (!finite_bits(b) || b == 0)
			continue;
		f = from_bits(b);
		for (p = 1; p <= 9; p++) {
			snprintf(ref, sizeof(ref), "%.*e", p - 1, (double)f);
			if (reads_back(ref, f))
				break;
		}
		s[embed_vec_float(s, f)] = '\0';
		len = sig_digits(s, d1);
		rlen = sig_digits(ref, d2);
		if (len > rlen)
			notclose++;
		else if (len < rlen)
			shorter++;
		else if (strcmp(d1, d2) != 0) {
			if (notclose++ < 5)
				diag("%08x: %s, printf %s", b, s, ref);
		}
		n++;
	}
	ok(notclose == 0, "digits are printf's shortest correctly rounded "
	    "(%lu of %lu differ, %lu shorter)", notclose, n, shorter);
}

static void
test_b64(void)
{
	float v[7] = { 0, -0.0f, 1, -2.5f, 1e-45f, 3.4028235e38f, 0.1f };
	float back[8];
	struct buf b;
	long n;
	int i, same = 1;

	buf_init(&b, 0);
	ok(embed_vec_b64(&b, v, 1) == 0 && strcmp(b.data, "AAAAAA==") == 0,
	    "base64 of 0.0 is AAAAAA==");
	buf_reset(&b);
	embed_vec_b64(&b, (const float[]){ 1.0f }, 1);
	is_str(b.data, "AACAPw==", "base64 of 1.0 is little-endian");
	is_int((long)embed_vec_b64_len(7), 40, "7 floats take 40 characters");
	for (i = 1; i <= 7; i++) {
		buf_reset(&b);
		embed_vec_b64(&b, v, (size_t)i);
		n = embed_vec_b64_decode(b.data, b.len, back, 8);
		same = same && n == i && memcmp(v, back, 4 * (size_t)i) == 0;
	}
	ok(same, "base64 of 1 to 7 floats decodes to the same bits");
	n = embed_vec_b64_decode("AACAPw", 6, back, 8);
	ok(n == 1 && back[0] == 1.0f, "padding is optional");
	ok(embed_vec_b64_decode("AACAPw==", 8, back, 0) == -1,
	    "more floats than room is an error");
	ok(embed_vec_b64_decode("AACA", 4, back, 8) == -1,
	    "a partial float is an error");
	ok(embed_vec_b64_decode("AA*APw==", 8, back, 8) == -1,
	    "a character outside the alphabet is an error");
	ok(embed_vec_b64_decode("AACAP", 5, back, 8) == -1,
	    "a dangling character is an error");
	ok(embed_vec_b64_decode("", 0, back, 8) == 0, "empty is no floats");
	buf_release(&b);
}

static void
test_json(void)
{
	float v[3] = { 0.5f, -1e-7f, 2 }, back[4];
	struct buf b;
	size_t used = 0;
	long n;

	buf_init(&b, 0);
	embed_vec_json(&b, v, 3);
	is_str(b.data, "[0.5,-1e-7,2]", "a vector as JSON");
	n = embed_vec_parse_array(b.data, b.len, back, 4, &used);
	ok(n == 3 && memcmp(back, v, sizeof(v)) == 0 && used == b.len,
	    "the JSON reads back");
	n = embed_vec_parse_array("[ 1 , 2.5e0 ]x", 14, back, 4, &used);
	ok(n == 2 && back[1] == 2.5f && used == 13, "white space and the end");
	ok(embed_vec_parse_array("[]", 2, back, 4, &used) == 0, "empty array");
	ok(embed_vec_parse_array("[1,]", 4, back, 4, &used) == -1,
	    "a trailing comma is an error");
	ok(embed_vec_parse_array("[\"1\"]", 5, back, 4, &used) == -1,
	    "a string is an error");
	ok(embed_vec_parse_array("[1,2,3]", 7, back, 2, &used) == -1,
	    "more than room is an error");
	ok(embed_vec_parse_array("[nan]", 5, back, 2, &used) == -1,
	    "not a JSON number is an error");
	buf_reset(&b);
	embed_vec_json(&b, v, 0);
	is_str(b.data, "[]", "an empty vector");
	buf_release(&b);
	v[0] = 3;
	v[1] = 4;
	embed_vec_normalize(v, 2);
	ok(fabsf(v[0] - 0.6f) < 1e-7f && fabsf(v[1] - 0.8f) < 1e-7f,
	    "normalize (3, 4)");
	v[0] = v[1] = 0;
	embed_vec_normalize(v, 2);
	ok(v[0] == 0 && v[1] == 0, "a zero vector stays zero");
}

/*
 * Answers that are not JSON to the end are unusable, whatever member
 * they break off in (valgrind: nothing read that was not set).
 */
static void
test_api(void)
{
	static const char *const cut[] = {
		"{\"data\":[],\"model\":\"emb",
		"{\"model\":\"emb\",\"data\":[{\"embedding\":\"AACAPw==\"}],"
		    "\"model\":\"e",
		"{\"data\":[{\"embedding\":\"AACAPw==\"}],\"usage\":"
		    "{\"prompt_tokens\":",
		"{\"data\":[{\"index\":0,\"embedding\":\"AACAPw",
	};
	const char *whole = "{\"data\":[{\"embedding\":\"AACAPw==\"}],"
	    "\"model\":\"emb\"}";
	struct embed_vectors ev;
	char err[256];
	size_t i;
	int r, all = 1;

	for (i = 0; i < nitems(cut); i++) {
		memset(&ev, 0, sizeof(ev));
		ev.n = 1;
		r = embed_api_openai.parse(cut[i], strlen(cut[i]), &ev, err);
		if (r != -1 || ev.v != NULL) {
			diag("%s: %d", cut[i], r);
			all = 0;
		}
		free(ev.v);
	}
	ok(all, "a cut-off OpenAI answer is unusable");
	memset(&ev, 0, sizeof(ev));
	ev.n = 1;
	r = embed_api_openai.parse(whole, strlen(whole), &ev, err);
	ok(r == 0 && ev.dims == 1 && ev.v[0] == 1.0f &&
	    strcmp(ev.model, "emb") == 0, "a whole one is read");
	free(ev.v);
}

/* The fixture's vector, from its JSON (jv is fine in a test). */
static jv
fixture(const char *dir, const char *name)
{
	char *path = NULL, *text = NULL, err[256];
	size_t len = 0;
	jv v, d, e;

	path = xasprintf("%s/embeddings/%s", dir, name);
	if (fsutil_read_file(path, 1 << 20, &text, &len, err) == -1) {
		free(path);
		return jv_invalid();
	}
	free(path);
	v = jv_parse_sized(text, (int)len);
	free(text);
	d = jv_array_get(jv_object_get(v, jv_string("data")), 0);
	e = jv_object_get(d, jv_string("embedding"));
	return e;
}

static void
test_fixture(void)
{
	const char *dir = getenv("LLM_FIXTURES");
	char *path = NULL, *text = NULL, err[256], *p, *q;
	float fl[512], b64[512];
	size_t len = 0;
	long n;
	int i, nf = 0, bits_same = 1, text_same = 1;
	jv e;

	if (dir == NULL)
		dir = "../shared/fixtures";
	e = fixture(dir, "openai-te3large-base64.json");
	if (jv_get_kind(e) != JV_KIND_STRING) {
		jv_free(e);
		for (i = 0; i < 4; i++)
			ok(0, "fixture %s/embeddings unreadable", dir);
		return;
	}
	n = embed_vec_b64_decode(jv_string_value(e),
	    (size_t)jv_string_length_bytes(jv_copy(e)), b64, 512);
	jv_free(e);
	is_int(n, 256, "the base64 fixture holds 256 floats");
	/*
	 * The float form's numbers as the recorded text: strtof gives the
	 * float each means, and the text is what the formatter must print.
	 */
	path = xasprintf("%s/embeddings/openai-te3large-float.json", dir);
	if (fsutil_read_file(path, 1 << 20, &text, &len, err) == -1)
		text = NULL;
	free(path);
	p = text ? strstr(text, "\"embedding\"") : NULL;
	p = p ? strchr(p, '[') : NULL;
	while (p && nf < 512) {
		char tok[64];

		p += strspn(p, "[, \t\r\n");
		if (*p == ']' || *p == '\0')
			break;
		q = p + strcspn(p, ", \t\r\n]");
		if ((size_t)(q - p) >= sizeof(tok))
			break;
		memcpy(tok, p, (size_t)(q - p));
		tok[q - p] = '\0';
		fl[nf] = strtof(tok, NULL);
		if (nf < n && to_bits(fl[nf]) != to_bits(b64[nf]))
			bits_same = 0;
		if (strcmp(fmt(fl[nf]), tok) != 0) {
			if (text_same)
				diag("float %d: %s printed as %s", nf, tok,
				    fmt(fl[nf]));
			text_same = 0;
		}
		nf++;
		p = q;
	}
	free(text);
	is_int(nf, 256, "the float fixture holds 256 numbers");
	ok(bits_same && nf == n, "base64 and float forms are the same "
	    "floats, bit for bit");
	ok(text_same && nf == 256, "the formatter prints each recorded "
	    "number exactly");
}

int
main(void)
{
	test_layout();
	test_round_trip();
	test_b64();
	test_json();
	test_api();
	test_fixture();
	return done();
}
