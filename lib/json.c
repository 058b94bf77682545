#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errbuf.h"
#include "utf8.h"

#include "json.h"
#include "xalloc.h"

/*
 * Keys are nearly always string literals looked up again and again: keep
 * their jv strings (hash computed once) in a small table indexed by the
 * key's address, and check the text, since the same address may hold
 * another key later (a caller's buffer).
 */
#define KEYCACHE	256

static struct {
	const char	*ptr;
	jv		 key;
} keycache[KEYCACHE];

static jv
key_for(const char *key)
{
	size_t h = ((size_t)key >> 3) % KEYCACHE;

	if (keycache[h].ptr == key &&
	    strcmp(jv_string_value(keycache[h].key), key) == 0)
		return jv_copy(keycache[h].key);
	if (keycache[h].ptr != NULL)
		jv_free(keycache[h].key);
	keycache[h].ptr = key;
	keycache[h].key = jv_string(key);
	return jv_copy(keycache[h].key);
}

void
json_release(void)
{
	size_t i;

	for (i = 0; i < KEYCACHE; i++)
		if (keycache[i].ptr != NULL) {
			jv_free(keycache[i].key);
			keycache[i].ptr = NULL;
		}
}

jv
json_get(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(obj), key_for(key));
}

jv
json_field(jv obj, const char *key)
{
	jv v = json_get(obj, key);

	if (jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return jv_invalid();
	}
	return v;
}

jv
json_set(jv o, const char *key, jv v)
{
	return jv_object_set(o, key_for(key), v);
}

jv_kind
json_peek_kind(jv obj, const char *key)
{
	jv v = json_get(obj, key);
	jv_kind k = jv_get_kind(v);

	jv_free(v);
	return k;
}

const char *
json_peek_string(jv obj, const char *key)
{
	jv v = json_get(obj, key);
	const char *s = NULL;

	/* obj keeps its own reference, so the bytes outlive ours. */
	if (jv_get_kind(v) == JV_KIND_STRING)
		s = jv_string_value(v);
	jv_free(v);
	return s;
}

int
json_peek_number(jv obj, const char *key, double *out)
{
	jv v = json_get(obj, key);
	int ok = jv_get_kind(v) == JV_KIND_NUMBER;

	if (ok)
		*out = jv_number_value(v);
	jv_free(v);
	return ok;
}

int
json_peek_bool(jv obj, const char *key, int *out)
{
	jv v = json_get(obj, key);
	jv_kind k = jv_get_kind(v);

	jv_free(v);
	if (k != JV_KIND_TRUE && k != JV_KIND_FALSE)
		return 0;
	*out = k == JV_KIND_TRUE;
	return 1;
}

jv
json_merge(jv a, jv b)
{
	int it;

	if (jv_get_kind(a) != JV_KIND_OBJECT ||
	    jv_get_kind(b) != JV_KIND_OBJECT) {
		jv_free(a);
		return b;
	}
	for (it = jv_object_iter(b); jv_object_iter_valid(b, it);
	    it = jv_object_iter_next(b, it)) {
		jv k = jv_object_iter_key(b, it);
		jv v = jv_object_iter_value(b, it);
		jv old = jv_object_get(jv_copy(a), jv_copy(k));

		if (jv_get_kind(old) == JV_KIND_OBJECT &&
		    jv_get_kind(v) == JV_KIND_OBJECT)
			v = json_merge(old, v);
		else
			jv_free(old);
		a = jv_object_set(a, k, v);
	}
	jv_free(b);
	return a;
}

char *
json_dump(jv v, size_t *lenp)
{
	jv s = jv_dump_string(jv_copy(v), 0);
	size_t n = (size_t)jv_string_length_bytes(jv_copy(s));
	char *p = xmalloc(n + 1);

	memcpy(p, jv_string_value(s), n);
	p[n] = '\0';
	jv_free(s);
	if (lenp)
		*lenp = n;
	return p;
}

int
json_write_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	char esc[7];

	if (buf_putc(b, '"') == -1)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		switch (c) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\t':
			e = "\\t";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		default:
			esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
			esc[4] = hex[c >> 4], esc[5] = hex[c & 15], esc[6] = 0;
			e = esc;
		}
		if (buf_append(b, s + start, i - start) == -1 ||
		    buf_puts(b, e) == -1)
			return -1;
		start = i + 1;
	}
	if (buf_append(b, s + start, n - start) == -1)
		return -1;
	return buf_putc(b, '"');
}

int
json_write_number(struct buf *b, double d)
{
	char tmp[40];
	int prec;

	if (isnan(d))
		return buf_puts(b, "null");
	if (isinf(d))	/* as jq prints them */
		return buf_puts(b, d > 0 ? "1.7976931348623157e+308" :
		    "-1.7976931348623157e+308");
	if (d == floor(d) && fabs(d) < 1e17) {
		/* Integers are most numbers in records: no printf for them. */
		long long ll = (long long)d;
		unsigned long long u = ll < 0 ? -(unsigned long long)ll :
		    (unsigned long long)ll;
		char *p = tmp + sizeof(tmp);

		*--p = '\0';
		do
			*--p = (char)('0' + u % 10);
		while ((u /= 10) != 0);
		if (ll < 0 || signbit(d))
			*--p = '-';
		return buf_puts(b, p);
	}
	/* The shortest of 15, 16, 17 significant digits that reads back. */
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	return buf_puts(b, tmp);
}

/*
 * The canonical form: numbers as json_write writes them, but -0 as 0, so
 * that no key depends on a sign that compares equal.
 */
static int
write_number(struct buf *b, double d, int canonical)
{
	if (canonical && d == 0)
		return buf_putc(b, '0');
	return json_write_number(b, d);
}

struct member {
	const char	*name;
	size_t		 len;
	jv		 key;
	jv		 value;
};

/* Byte order of the UTF-8 names, a shorter prefix first. */
static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->name, y->name, n);

	if (r != 0)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int	write_value(struct buf *, jv, int);

/* An object's members, in insertion order or, canonical, sorted. */
static int
write_object(struct buf *b, jv v, int canonical)
{
	struct member small[16], *m = small;
	int it, n = 0, cap = 16, i, r = 0;

	for (it = jv_object_iter(v); jv_object_iter_valid(v, it);
	    it = jv_object_iter_next(v, it)) {
		if (n == cap) {
			cap *= 2;
			if (m == small) {
				m = xmalloc(sizeof(*m) * (size_t)cap);
				memcpy(m, small, sizeof(small));
			} else
				m = xrealloc(m, sizeof(*m) * (size_t)cap);
		}
		m[n].key = jv_object_iter_key(v, it);
		m[n].value = jv_object_iter_value(v, it);
		m[n].name = jv_string_value(m[n].key);
		m[n].len = (size_t)jv_string_length_bytes(jv_copy(m[n].key));
		n++;
	}
	if (canonical && n > 1)
		qsort(m, (size_t)n, sizeof(*m), member_cmp);
	if (buf_putc(b, '{') == -1)
		r = -1;
	for (i = 0; i < n && r == 0; i++)
		r = (i && buf_putc(b, ',') == -1) ||
		    json_write_string(b, m[i].name, m[i].len) == -1 ||
		    buf_putc(b, ':') == -1 ||
		    write_value(b, m[i].value, canonical) == -1 ? -1 : 0;
	for (i = 0; i < n; i++) {
		jv_free(m[i].key);
		jv_free(m[i].value);
	}
	if (m != small)
		free(m);
	return r == 0 ? buf_putc(b, '}') : -1;
}

static int
write_value(struct buf *b, jv v, int canonical)
{
	int i, n;

	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
		return buf_puts(b, "null");
	case JV_KIND_TRUE:
		return buf_puts(b, "true");
	case JV_KIND_FALSE:
		return buf_puts(b, "false");
	case JV_KIND_NUMBER:
		return write_number(b, jv_number_value(v), canonical);
	case JV_KIND_STRING:
		return json_write_string(b, jv_string_value(v),
		    (size_t)jv_string_length_bytes(jv_copy(v)));
	case JV_KIND_ARRAY:
		if (buf_putc(b, '[') == -1)
			return -1;
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			jv e = jv_array_get(jv_copy(v), i);
			int r = (i && buf_putc(b, ',') == -1) ||
			    write_value(b, e, canonical) == -1;

			jv_free(e);
			if (r)
				return -1;
		}
		return buf_putc(b, ']');
	case JV_KIND_OBJECT:
		return write_object(b, v, canonical);
	default:
		return buf_puts(b, "null");
	}
}

int
json_write(struct buf *b, jv v)
{
	return write_value(b, v, 0);
}

int
json_write_canonical(struct buf *b, jv v)
{
	return write_value(b, v, 1);
}

int
json_parse_error(const char *path, const char *msg, char *err)
{
	const char *at = strstr(msg, " at line ");
	unsigned long line, col;

	if (at && sscanf(at, " at line %lu, column %lu", &line, &col) == 2) {
		/*
		 * jq counts the newline that ends a bad token before it
		 * reports, so "column 0" means the end of the line before.
		 */
		if (col == 0 && line > 1)
			return errbuf_set(err, "%s: line %lu: %.*s (at the end "
			    "of the line)", path, line - 1, (int)(at - msg),
			    msg);
		return errbuf_set(err, "%s: line %lu: %.*s (column %lu)",
		    path, line, (int)(at - msg), msg, col);
	}
	at = strstr(msg, " (while parsing");
	return errbuf_set(err, "%s: %.*s", path,
	    at ? (int)(at - msg) : (int)strlen(msg), msg);
}

const char *
json_kind_name(jv_kind k)
{
	switch (k) {
	case JV_KIND_NULL:
		return "null";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE:
		return "boolean";
	case JV_KIND_NUMBER:
		return "number";
	case JV_KIND_STRING:
		return "string";
	case JV_KIND_ARRAY:
		return "array";
	case JV_KIND_OBJECT:
		return "object";
	default:
		return "nothing";
	}
}

/* json_syntax: recursive descent over the bytes, depth-bounded. */
#define SYNTAX_DEPTH	256	/* libjq 1.6 refuses deeper */

struct syn {
	const char	*p, *start, *end;
	const char	*why;
	int		 depth;
};

static void
syn_ws(struct syn *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
syn_fail(struct syn *j, const char *why)
{
	j->why = why;
	return 0;
}

static int
syn_string(struct syn *j)
{
	int i;

	j->p++;		/* the opening quote */
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			j->p++;
			return 1;
		}
		if (c < 0x20)
			return syn_fail(j, "control character in a string");
		if (c == '\\') {
			if (++j->p >= j->end)
				break;
			if (*j->p == 'u') {
				for (i = 1; i <= 4; i++)
					if (j->p + i >= j->end ||
					    !isxdigit((unsigned char)j->p[i]))
						return syn_fail(j, "bad \\u "
						    "escape");
				j->p += 4;
			} else if (strchr("\"\\/bfnrt", *j->p) == NULL ||
			    *j->p == '\0')
				return syn_fail(j, "bad escape");
		}
		j->p++;
	}
	return syn_fail(j, "unterminated string");
}

static int
syn_digits(struct syn *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static int
syn_number(struct syn *j)
{
	if (*j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!syn_digits(j))
		return syn_fail(j, "bad number");
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!syn_digits(j))
			return syn_fail(j, "bad number");
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!syn_digits(j))
			return syn_fail(j, "bad number");
	}
	return 1;
}

static int
syn_word(struct syn *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return syn_fail(j, "invalid literal");
	j->p += n;
	return 1;
}

static int syn_value(struct syn *);

static int
syn_container(struct syn *j, char close)
{
	int first = 1;

	if (++j->depth > SYNTAX_DEPTH)
		return syn_fail(j, "nested too deep");
	j->p++;
	for (;;) {
		syn_ws(j);
		if (j->p >= j->end)
			return syn_fail(j, "unfinished object or array");
		if (*j->p == close && first) {
			j->p++;
			break;
		}
		if (close == '}') {
			if (*j->p != '"')
				return syn_fail(j, "expected a key");
			if (!syn_string(j))
				return 0;
			syn_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return syn_fail(j, "expected ':'");
			j->p++;
		}
		if (!syn_value(j))
			return 0;
		syn_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			first = 0;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			break;
		}
		return syn_fail(j, close == '}' ? "expected ',' or '}'" :
		    "expected ',' or ']'");
	}
	j->depth--;
	return 1;
}

static int
syn_value(struct syn *j)
{
	syn_ws(j);
	if (j->p >= j->end)
		return syn_fail(j, "expected a value");
	switch (*j->p) {
	case '{':
		return syn_container(j, '}');
	case '[':
		return syn_container(j, ']');
	case '"':
		return syn_string(j);
	case 't':
		return syn_word(j, "true");
	case 'f':
		return syn_word(j, "false");
	case 'n':
		return syn_word(j, "null");
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return syn_number(j);
		return syn_fail(j, "expected a value");
	}
}

int
json_syntax(const char *s, size_t n, size_t *off, const char **why)
{
	struct syn j = { s, s, s + n, NULL, 0 };

	if (syn_value(&j)) {
		syn_ws(&j);
		if (j.p == j.end)
			return 1;
		j.why = "more than one value";
	}
	*off = (size_t)(j.p - s);
	*why = j.why;
	return 0;
}

int
json_parse_checked(const char *s, size_t n, jv *out, char *err)
{
	const char *why;
	size_t off;
	jv v;

	if (!utf8_valid(s, n, &off))
		return errbuf_set(err, "invalid UTF-8 at byte %zu", off + 1);
	if (!json_syntax(s, n, &off, &why))
		return errbuf_set(err, "invalid JSON: %s at column %zu", why,
		    off + 1);
	v = jv_parse_sized(s, (int)n);
	if (!jv_is_valid(v)) {
		/* What jq still refuses (its own limits): its words, cut. */
		jv m = jv_invalid_get_msg(v);
		const char *msg = jv_get_kind(m) == JV_KIND_STRING ?
		    jv_string_value(m) : "refused by the parser";
		const char *cut = strstr(msg, " at line ");

		if (cut == NULL)
			cut = strstr(msg, " (while parsing");
		errbuf_set(err, "invalid JSON: %.*s",
		    cut ? (int)(cut - msg) : (int)strlen(msg), msg);
		jv_free(m);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * json_locate: a minimal scanner over JSON text.  It tracks the line and
 * skips values it does not need; it does not validate (jv already did).
 */
struct scan {
	const char	*p, *end;
	unsigned long	 line;
};

static void
skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\r' || *s->p == '\n')) {
		if (*s->p == '\n')
			s->line++;
		s->p++;
	}
}

/* Skips a string starting at the quote; sets [*k, *klen) to its body. */
static int
skip_string(struct scan *s, const char **k, size_t *klen)
{
	const char *start;

	if (s->p >= s->end || *s->p != '"')
		return -1;
	start = ++s->p;
	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\')
			s->p++;
		else if (*s->p == '\n')
			s->line++;
		s->p++;
	}
	if (s->p >= s->end)
		return -1;
	if (k) {
		*k = start;
		*klen = (size_t)(s->p - start);
	}
	s->p++;
	return 0;
}

static int
skip_value(struct scan *s)
{
	int depth = 0;

	skip_ws(s);
	while (s->p < s->end) {
		char c = *s->p;

		if (c == '"') {
			if (skip_string(s, NULL, NULL) == -1)
				return -1;
			if (depth == 0)
				return 0;
			continue;
		}
		if (depth == 0 && (c == ',' || c == '}' || c == ']'))
			return 0;
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0) {
			s->p++;
			return 0;
		} else if (c == '\n')
			s->line++;
		s->p++;
	}
	return depth == 0 ? 0 : -1;
}

unsigned long
json_locate(const char *text, size_t len, const char *const *path,
    int npath)
{
	struct scan s = { text, text + len, 1 };
	int i;

	for (i = 0; i < npath; i++) {
		const char *k;
		size_t klen;
		unsigned long found;
		long idx = -1, n = 0;

		skip_ws(&s);
		found = s.line;
		if (s.p >= s.end)
			return 0;
		if (*s.p == '[') {
			idx = strtol(path[i], NULL, 10);
			s.p++;
			for (;;) {
				skip_ws(&s);
				if (s.p >= s.end || *s.p == ']')
					return found;
				if (n == idx)
					break;
				if (skip_value(&s) == -1)
					return found;
				skip_ws(&s);
				if (s.p < s.end && *s.p == ',')
					s.p++;
				n++;
			}
			continue;
		}
		if (*s.p != '{')
			return found;
		s.p++;
		for (;;) {
			skip_ws(&s);
			if (s.p >= s.end || *s.p == '}')
				return found;
			if (skip_string(&s, &k, &klen) == -1)
				return found;
			skip_ws(&s);
			if (s.p < s.end && *s.p == ':')
				s.p++;
			skip_ws(&s);
			if (klen == strlen(path[i]) &&
			    memcmp(k, path[i], klen) == 0)
				break;
			if (skip_value(&s) == -1)
				return found;
			skip_ws(&s);
			if (s.p < s.end && *s.p == ',')
				s.p++;
		}
	}
	skip_ws(&s);
	return s.line;
}
