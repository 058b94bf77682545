/*
 * Unit tests for lib/dialect_echo: build hands back the canonical request,
 * dialect_echo_answer echoes the last user message with estimated usage,
 * parse reads back its own bodies.
 */
#include <string.h>

#include <jv.h>

#include "dialect.h"
#include "errbuf.h"
#include "json.h"
#include "request.h"
#include "tap.h"

static jv
canon_of(const char *rec)
{
	char err[ERRBUF_MAX];
	jv r = jv_parse(rec), t = jv_parse("{\"provider\":\"echo\","
	    "\"api\":\"echo\",\"model\":\"echo\"}"), c;

	if (request_normalize(r, t, &c, err) == -1) {
		diag("normalize: %s", err);
		c = jv_invalid();
	}
	jv_free(r);
	jv_free(t);
	return c;
}

/* Consumes got. */
static int
is_json(jv got, const char *want, const char *name)
{
	jv w = jv_parse(want);
	int good = jv_equal(jv_copy(got), jv_copy(w));

	ok(good, "%s", name);
	if (!good) {
		jv d = jv_dump_string(jv_copy(got), 0);

		diag("got:  %s", jv_string_value(d));
		diag("want: %s", want);
		jv_free(d);
	}
	jv_free(w);
	jv_free(got);
	return good;
}

static void
test_build(void)
{
	char err[ERRBUF_MAX];
	jv c = canon_of("{\"system\":\"S\",\"prompt\":\"hi\"}");
	jv t = jv_parse("{\"provider\":\"echo\",\"model\":\"echo\"}");
	jv body, headers, url;

	is_int(dialect_echo.build(c, t, 0, &body, &headers, &url, err), 0,
	    "build succeeds");
	ok(jv_equal(jv_copy(body), jv_copy(c)),
	    "the body is the canonical request");
	is_json(headers, "{}", "no headers");
	ok(jv_get_kind(url) == JV_KIND_NULL, "url null");
	is_str(dialect_echo.api, "echo", "api name");
	jv_free(body);
	jv_free(url);
	jv_free(c);
	jv_free(t);
}

static void
test_answer(void)
{
	jv c, r, u;

	c = canon_of("{\"prompt\":\"hello\"}");
	is_int(dialect_echo_answer(c, &r), 0, "answer succeeds");
	is_json(r, "{\"text\":\"hello\",\"stop_reason\":\"stop\",\"usage\":"
	    "{\"input\":2,\"output\":2,\"cache_read\":0,\"cache_write\":0,"
	    "\"reasoning\":0},\"provider_model\":\"echo\"}",
	    "echo of a prompt, usage rounded up (5 bytes -> 2)");
	jv_free(c);

	c = canon_of("{\"system\":\"12345678\",\"messages\":["
	    "{\"role\":\"user\",\"content\":\"first\"},"
	    "{\"role\":\"assistant\",\"content\":\"reply\"},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"ab\"},{\"type\":\"image\",\"url\":\"https://i\"},"
	    "{\"type\":\"text\",\"text\":\"cd\"}]}]}");
	dialect_echo_answer(c, &r);
	is_json(json_get(r, "text"), "\"ab\\ncd\"",
	    "the last user message's text, parts joined");
	/* 8 + 5 + 5 + 5 ("ab\ncd") = 23 bytes -> 6 tokens. */
	u = json_get(r, "usage");
	is_json(json_get(u, "input"), "6",
	    "input counts system and every message");
	is_json(json_get(u, "output"), "2", "output counts the answer");
	jv_free(u);
	jv_free(r);
	jv_free(c);

	c = jv_parse("{\"messages\":[{\"role\":\"assistant\",\"content\":"
	    "[{\"type\":\"text\",\"text\":\"x\"}]}]}");
	dialect_echo_answer(c, &r);
	is_json(json_get(r, "text"), "\"\"", "no user message: empty text");
	jv_free(r);
	jv_free(c);

	c = jv_parse("{\"prompt\":\"x\"}");
	is_int(dialect_echo_answer(c, &r), -1, "no messages list: -1");
	jv_free(c);
}

static void
test_parse(void)
{
	char err[ERRBUF_MAX];
	const char *b;
	jv t = jv_object(), r;

	b = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"yo\"}]}]}";
	is_int(dialect_echo.parse(b, strlen(b), t, &r, err), 0,
	    "parse of a built body");
	is_json(json_get(r, "text"), "\"yo\"", "answers it");
	jv_free(r);
	b = "{\"text\":\"z\",\"stop_reason\":\"stop\"}";
	is_int(dialect_echo.parse(b, strlen(b), t, &r, err), 0,
	    "parse of response fields");
	is_json(r, b, "passes them through");
	b = "nope";
	is_int(dialect_echo.parse(b, strlen(b), t, &r, err), -1,
	    "parse of non-JSON fails");
	b = "{\"x\":1}";
	is_int(dialect_echo.parse(b, strlen(b), t, &r, err), -1,
	    "parse of another object fails");
	r = dialect_echo.error(500, "{\"error\":{\"message\":\"m\"}}", 25);
	is_json(r, "{\"message\":\"m\"}", "error reads the generic shape");
	jv_free(t);
}

int
main(void)
{
	test_build();
	test_answer();
	test_parse();
	return done();
}
