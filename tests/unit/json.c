/*
 * Unit tests for lib/json: the json_peek_* helpers on every wrong kind,
 * json_get, json_merge, json_dump, json_kind_name and json_locate.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "tap.h"

static jv
parse(const char *s)
{
	jv v = jv_parse(s);

	if (!jv_is_valid(v)) {
		diag("bad test JSON: %s", s);
		jv_free(v);
		return jv_null();
	}
	return v;
}

/* Whether a and b are equal JSON; consumes neither. */
static int
same(jv a, jv b)
{
	return jv_equal(jv_copy(a), jv_copy(b)) == 1;
}

static void
is_json(jv got, const char *want, const char *what)
{
	jv w = parse(want);
	char *g = json_dump(got, NULL);

	if (!ok(same(got, w), "%s", what)) {
		diag("got:  %s", g);
		diag("want: %s", want);
	}
	free(g);
	jv_free(w);
}

/* Values that are not objects, and an object lacking the key. */
static const char *const not_there[] = {
	"null", "true", "1", "\"k\"", "[\"k\"]", "{}", "{\"other\":1}",
};

/* obj.k of every kind but the one a peek wants. */
static const char *const kinds[] = {
	"{\"k\":null}", "{\"k\":true}", "{\"k\":false}", "{\"k\":1.5}",
	"{\"k\":\"s\"}", "{\"k\":[]}", "{\"k\":{}}",
};

static void
test_peek(void)
{
	const char *s;
	double d;
	size_t i;
	jv o, g;
	int b;

	for (i = 0; i < nitems(not_there); i++) {
		o = parse(not_there[i]);
		d = 7;
		b = 7;
		ok(json_peek_string(o, "k") == NULL, "peek_string on %s: NULL",
		    not_there[i]);
		ok(!json_peek_number(o, "k", &d) && d == 7,
		    "peek_number on %s: 0, out untouched", not_there[i]);
		ok(!json_peek_bool(o, "k", &b) && b == 7,
		    "peek_bool on %s: 0, out untouched", not_there[i]);
		is_int(json_peek_kind(o, "k"), JV_KIND_INVALID,
		    "peek_kind on %s: JV_KIND_INVALID", not_there[i]);
		g = json_get(o, "k");
		ok(!jv_is_valid(g), "json_get on %s: invalid", not_there[i]);
		jv_free(g);
		jv_free(o);
	}
	/* An invalid value is not an object either. */
	o = jv_invalid();
	ok(json_peek_string(o, "k") == NULL, "peek_string on invalid");
	is_int(json_peek_kind(o, "k"), JV_KIND_INVALID, "peek_kind on invalid");
	jv_free(o);

	for (i = 0; i < nitems(kinds); i++) {
		jv_kind k;

		o = parse(kinds[i]);
		g = jv_object_get(jv_copy(o), jv_string("k"));
		k = jv_get_kind(g);
		jv_free(g);
		d = 7;
		b = 7;
		s = json_peek_string(o, "k");
		if (k == JV_KIND_STRING)
			is_str(s, "s", "peek_string on %s", kinds[i]);
		else
			ok(s == NULL, "peek_string on %s: NULL", kinds[i]);
		if (k == JV_KIND_NUMBER)
			ok(json_peek_number(o, "k", &d) && d == 1.5,
			    "peek_number on %s", kinds[i]);
		else
			ok(!json_peek_number(o, "k", &d) && d == 7,
			    "peek_number on %s: 0", kinds[i]);
		if (k == JV_KIND_TRUE || k == JV_KIND_FALSE)
			ok(json_peek_bool(o, "k", &b) &&
			    b == (k == JV_KIND_TRUE), "peek_bool on %s",
			    kinds[i]);
		else
			ok(!json_peek_bool(o, "k", &b) && b == 7,
			    "peek_bool on %s: 0", kinds[i]);
		is_int(json_peek_kind(o, "k"), k, "peek_kind on %s", kinds[i]);
		g = json_get(o, "k");
		is_int(jv_get_kind(g), k, "json_get on %s", kinds[i]);
		jv_free(g);
		jv_free(o);
	}

	/* Borrowing: the object is still usable, the string lives with it. */
	o = parse("{\"a\":\"hello\",\"n\":2}");
	s = json_peek_string(o, "a");
	json_peek_kind(o, "a");
	json_peek_number(o, "n", &d);
	g = json_get(o, "a");
	jv_free(g);
	is_str(s, "hello", "a peeked string lives as long as the object");
	is_int(jv_get_refcnt(o), 1, "peeks and json_get leave the refcount");
	jv_free(o);
}

static const struct {
	const char	*a, *b, *want, *what;
} merge_tests[] = {
	{ "{\"a\":1}", "{\"b\":2}", "{\"a\":1,\"b\":2}", "disjoint keys" },
	{ "{\"a\":1,\"b\":1}", "{\"b\":2}", "{\"a\":1,\"b\":2}",
	    "b's scalar wins" },
	{ "{\"o\":{\"x\":1,\"y\":{\"p\":1,\"q\":1}}}",
	    "{\"o\":{\"y\":{\"q\":2,\"r\":3},\"z\":4}}",
	    "{\"o\":{\"x\":1,\"y\":{\"p\":1,\"q\":2,\"r\":3},\"z\":4}}",
	    "nested objects merge recursively" },
	{ "{\"o\":{\"x\":1}}", "{\"o\":5}", "{\"o\":5}",
	    "a scalar replaces an object" },
	{ "{\"o\":5}", "{\"o\":{\"x\":1}}", "{\"o\":{\"x\":1}}",
	    "an object replaces a scalar" },
	{ "{\"l\":[1,2]}", "{\"l\":[3]}", "{\"l\":[3]}",
	    "arrays are replaced, not joined" },
	{ "{\"o\":{\"x\":1}}", "{\"o\":null}", "{\"o\":null}",
	    "null replaces too" },
	{ "{\"o\":{\"x\":1}}", "{\"o\":{}}", "{\"o\":{\"x\":1}}",
	    "an empty object changes nothing" },
	{ "{}", "{}", "{}", "two empty objects" },
	{ "[1]", "{\"a\":1}", "{\"a\":1}", "a not an object: b" },
	{ "{\"a\":1}", "[1]", "[1]", "b not an object: b" },
	{ "null", "7", "7", "neither an object: b" },
};

static void
test_merge(void)
{
	size_t i;
	jv a, b, keep, m;

	for (i = 0; i < nitems(merge_tests); i++) {
		a = parse(merge_tests[i].a);
		b = parse(merge_tests[i].b);
		m = json_merge(a, b);
		is_json(m, merge_tests[i].want, merge_tests[i].what);
		jv_free(m);
	}

	/* Values shared with the caller are not changed under it. */
	a = parse("{\"o\":{\"x\":1},\"s\":\"t\"}");
	b = parse("{\"o\":{\"y\":2}}");
	keep = jv_copy(a);
	m = json_merge(a, jv_copy(b));
	is_json(m, "{\"o\":{\"x\":1,\"y\":2},\"s\":\"t\"}",
	    "merge into a shared object");
	is_json(keep, "{\"o\":{\"x\":1},\"s\":\"t\"}",
	    "the caller's copy of a is unchanged");
	is_json(b, "{\"o\":{\"y\":2}}", "the caller's copy of b is unchanged");
	jv_free(keep);
	jv_free(b);
	jv_free(m);
}

static void
test_dump(void)
{
	static const struct {
		jv_kind		 k;
		const char	*name;
	} names[] = {
		{ JV_KIND_NULL, "null" }, { JV_KIND_TRUE, "boolean" },
		{ JV_KIND_FALSE, "boolean" }, { JV_KIND_NUMBER, "number" },
		{ JV_KIND_STRING, "string" }, { JV_KIND_ARRAY, "array" },
		{ JV_KIND_OBJECT, "object" },
	};
	size_t i, n = 0;
	char *s;
	jv v;

	v = parse("{ \"a\" : [1, 2.5, \"x\\u00e9\"],\n \"b\": {\"c\": null} }");
	s = json_dump(v, &n);
	is_str(s, "{\"a\":[1,2.5,\"x\xc3\xa9\"],\"b\":{\"c\":null}}",
	    "json_dump is compact");
	is_int((long long)n, (long long)strlen(s), "json_dump length");
	free(s);
	is_int(jv_get_refcnt(v), 1, "json_dump borrows");
	jv_free(v);
	v = jv_string_sized("a\0b", 3);
	s = json_dump(v, &n);
	is_str(s, "\"a\\u0000b\"", "json_dump escapes NUL");
	free(s);
	s = json_dump(v, NULL);
	ok(s != NULL, "json_dump with a NULL length pointer");
	free(s);
	jv_free(v);

	for (i = 0; i < nitems(names); i++)
		is_str(json_kind_name(names[i].k), names[i].name,
		    "json_kind_name: %s", names[i].name);
	ok(json_kind_name(JV_KIND_INVALID) != NULL,
	    "json_kind_name of invalid is a string");
}

/* json_write: exact output where it is fixed, else a faithful round trip. */
static const struct {
	const char	*in, *want;
} write_tests[] = {
	{ "null", "null" }, { "true", "true" }, { "false", "false" },
	{ "0", "0" }, { "-0", "-0" }, { "42", "42" }, { "-7", "-7" },
	{ "1.5", "1.5" }, { "0.1", "0.1" }, { "1e300", NULL },
	{ "123456789012345678", NULL }, { "9007199254740993", NULL },
	{ "3.141592653589793", "3.141592653589793" }, { "1e-7", NULL },
	{ "2.2250738585072014e-308", NULL }, { "5e-324", NULL },
	{ "\"\"", "\"\"" }, { "\"a\\\"b\\\\c\"", "\"a\\\"b\\\\c\"" },
	{ "\"\\n\\t\\r\\b\\f\"", "\"\\n\\t\\r\\b\\f\"" },
	{ "\"\\u0000\\u0001\\u001f\\u007f\"",
	    "\"\\u0000\\u0001\\u001f\\u007f\"" },
	{ "\"\\u00e9\\u20ac\\ud83d\\ude00\"",
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"" },
	{ "\"</script>\"", "\"</script>\"" },
	{ "[]", "[]" }, { "{}", "{}" }, { "[1,[2,[3]],{}]", "[1,[2,[3]],{}]" },
	{ "{\"b\":1,\"a\":{\"d\":[true,null],\"c\":\"x\"}}",
	    "{\"b\":1,\"a\":{\"d\":[true,null],\"c\":\"x\"}}" },
	{ "{\"a\\\"k\":\"v\"}", "{\"a\\\"k\":\"v\"}" },
};

static void
test_write(void)
{
	struct buf b;
	size_t i;
	jv v, back;

	for (i = 0; i < nitems(write_tests); i++) {
		buf_init(&b, 0);
		v = parse(write_tests[i].in);
		is_int(json_write(&b, v), 0, "json_write %s",
		    write_tests[i].in);
		if (write_tests[i].want)
			is_str(buf_cstr(&b), write_tests[i].want,
			    "json_write %s: text", write_tests[i].in);
		back = jv_parse_sized(buf_cstr(&b), (int)b.len);
		ok(jv_is_valid(back) && same(back, v),
		    "json_write %s: reads back the same", write_tests[i].in);
		is_int(jv_get_refcnt(v), 1, "json_write %s: borrows",
		    write_tests[i].in);
		jv_free(back);
		jv_free(v);
		buf_release(&b);
	}

	/* Object keys in insertion order. */
	v = jv_object_set(jv_object(), jv_string("z"), jv_number(1));
	v = jv_object_set(v, jv_string("a"), jv_number(2));
	v = jv_object_set(v, jv_string("m"), jv_number(3));
	buf_init(&b, 0);
	json_write(&b, v);
	is_str(buf_cstr(&b), "{\"z\":1,\"a\":2,\"m\":3}",
	    "json_write: keys in insertion order");
	buf_release(&b);

	/* Non-finite numbers as jq prints them. */
	buf_init(&b, 0);
	json_write(&b, jv_number(HUGE_VAL));
	buf_putc(&b, ' ');
	json_write(&b, jv_number(NAN));
	is_str(buf_cstr(&b), "1.7976931348623157e+308 null",
	    "json_write: infinity and NaN as jq prints them");
	buf_release(&b);

	/* The ceiling. */
	buf_init(&b, 10);
	is_int(json_write(&b, v), -1, "json_write past the ceiling: -1");
	buf_release(&b);
	buf_init(&b, 19);
	is_int(json_write(&b, v), 0, "json_write up to the ceiling: 0");
	buf_release(&b);
	jv_free(v);
}

static const char doc[] =
    "{\n"					/* 1 */
    "  \"providers\": {\n"			/* 2 */
    "    \"zai\": {\n"				/* 3 */
    "      \"name\": \"a \\\"quoted\\\" {[ name\",\n" /* 4 */
    "      \"baseUrl\":\n"			/* 5 */
    "        42,\n"				/* 6 */
    "      \"skip\": {\"models\": [1,\n"	/* 7 */
    "        2]},\n"				/* 8 */
    "      \"models\": [\n"			/* 9 */
    "        { \"id\": \"a\" },\n"		/* 10 */
    "        {\n"				/* 11 */
    "          \"id\": \"b\",\n"		/* 12 */
    "          \"cost\": { \"input\": -1 },\n"	/* 13 */
    "          \"input\": [\"text\",\n"		/* 14 */
    "            \"audio\"]\n"			/* 15 */
    "        }\n"				/* 16 */
    "      ]\n"					/* 17 */
    "    },\n"					/* 18 */
    "    \"z\\\"ai\": 1\n"			/* 19 */
    "  }\n"					/* 20 */
    "}\n";

static const struct {
	const char	*path[8];
	int		 n;
	unsigned long	 line;
	const char	*what;
} locate_tests[] = {
	{ { NULL }, 0, 1, "empty path: the root" },
	{ { "providers" }, 1, 2, "a top-level key" },
	{ { "providers", "zai" }, 2, 3, "a nested key" },
	{ { "providers", "zai", "name" }, 3, 4,
	    "a string holding quotes and brackets" },
	{ { "providers", "zai", "baseUrl" }, 3, 6,
	    "a value on the line after its key" },
	{ { "providers", "zai", "models" }, 3, 9,
	    "a key also used inside a skipped value" },
	{ { "providers", "zai", "models", "0" }, 4, 10,
	    "the first array element" },
	{ { "providers", "zai", "models", "0", "id" }, 5, 10,
	    "a key in the first element" },
	{ { "providers", "zai", "models", "1" }, 4, 11,
	    "the second array element" },
	{ { "providers", "zai", "models", "1", "cost", "input" }, 6, 13,
	    "deep in the second element" },
	{ { "providers", "zai", "models", "1", "input", "1" }, 6, 15,
	    "an element of a nested array" },
	{ { "providers", "z\\\"ai" }, 2, 19, "a key with an escape" },
	{ { "providers", "zai", "nope" }, 3, 3,
	    "a missing key: the deepest part that exists" },
	{ { "providers", "zai", "models", "7" }, 4, 9,
	    "an index past the end: the array" },
	{ { "providers", "zai", "baseUrl", "x" }, 4, 6,
	    "a path through a scalar: the scalar" },
	{ { "nope", "x" }, 2, 1, "a missing top-level key: the root" },
};

static void
test_locate(void)
{
	static const char *const p1[] = { "a", "b" };
	static const char *const p2[] = { "a" };
	static const char *const p3[] = { "b" };
	static const char lead[] = "\n\n{\"a\":\n1}";
	size_t i;

	for (i = 0; i < nitems(locate_tests); i++)
		is_int((long long)json_locate(doc, sizeof(doc) - 1,
		    locate_tests[i].path, locate_tests[i].n),
		    (long long)locate_tests[i].line, "json_locate: %s",
		    locate_tests[i].what);

	is_int((long long)json_locate("", 0, p1, 2), 0,
	    "json_locate: empty text: 0");
	is_int((long long)json_locate("   \n", 4, p1, 2), 0,
	    "json_locate: only blanks: 0");
	is_int((long long)json_locate(lead, sizeof(lead) - 1, p2, 1), 4,
	    "json_locate: root after blank lines, key found");
	is_int((long long)json_locate(lead, sizeof(lead) - 1, p1, 2), 4,
	    "json_locate: root after blank lines, path through a scalar");
	/* The deepest part that exists is the root, on line 3. */
	is_int((long long)json_locate(lead, sizeof(lead) - 1, p3, 1), 3,
	    "json_locate: root after blank lines, key missing: the root");
}

int
main(void)
{
	test_peek();
	test_merge();
	test_dump();
	test_write();
	test_locate();
	return done();
}
