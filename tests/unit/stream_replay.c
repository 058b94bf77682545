/*
 * stream_replay: replays a recorded event stream through the SSE parser
 * and a dialect's stream adapter (dialect_stream), the way llm-stream
 * reads a body off the wire, and prints the stream events it gives as
 * JSON Lines: the content events, then the one "end" (with the response
 * fields) or "error".  tests/conformance-stream.t drives it over the
 * recorded transcripts.
 *
 *	stream_replay [-b max_body] [-e max_event] [-n size] api file
 *
 *	-n size	feed the body in chunks of size bytes (1: byte by
 *		byte); 0, the default, feeds it whole
 *	-e, -b	the ceilings of dialect_stream_init (0: defaults)
 *
 * file "-" is stdin.  Exit status 0 when the answer ended with "end", 1
 * with "error", 2 on a usage or file error.
 *
 * Run without arguments (as tests/run runs every unit test) it prints TAP
 * for a small self-test: a stream of each dialect, whole and byte by byte,
 * must give the same events and end as expected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dialect.h"
#include "json.h"
#include "tap.h"

/* Runs body through dialect api in chunks of size (0: whole); the events
 * go to out, one JSON line each.  Returns 1 after "end", 0 after "error". */
static int
replay(const char *api, const char *body, size_t len, size_t size,
    size_t max_event, size_t max_body, struct buf *out)
{
	const struct dialect *d = dialect_find(api);
	struct dialect_stream ds;
	jv target, events = jv_array();
	size_t off = 0, n;
	int i, k, ok, done = 0;

	target = jv_object_set(jv_object(), jv_string("provider"),
	    jv_string("replay"));
	dialect_stream_init(&ds, d, target, max_event, max_body);
	while (off < len && !done) {
		n = size == 0 || size > len - off ? len - off : size;
		done = dialect_stream_feed(&ds, body + off, n, &events);
		off += n;
	}
	ok = dialect_stream_finish(&ds, &events);
	k = jv_array_length(jv_copy(events));
	for (i = 0; i < k; i++) {
		jv ev = jv_array_get(jv_copy(events), i);

		(void)json_write(out, ev);	/* borrows ev */
		(void)buf_putc(out, '\n');
		jv_free(ev);
	}
	jv_free(events);
	jv_free(target);
	dialect_stream_release(&ds);
	return ok;
}

/* The self-test's streams: api, body, the end's fields as JSON. */
static const struct {
	const char	*api, *body, *end;
} cases[] = {
	{ "openai-completions",
	  "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":"
	  "{\"content\":\"H\\u00e9\"}}]}\n\n"
	  "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"llo\"},"
	  "\"finish_reason\":\"stop\"}]}\n\n"
	  "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
	  "\"completion_tokens\":2}}\n\ndata: [DONE]\n\n",
	  "{\"type\":\"end\",\"text\":\"H\xc3\xa9llo\",\"stop_reason\":"
	  "\"stop\",\"usage\":{\"input\":3,\"output\":2,\"cache_read\":0,"
	  "\"cache_write\":0,\"reasoning\":0},\"provider_model\":\"m\"}" },
	{ "anthropic-messages",
	  "event: message_start\r\ndata: {\"type\":\"message_start\","
	  "\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":5,"
	  "\"output_tokens\":1}}}\r\n\r\n"
	  "event: content_block_start\r\ndata: {\"type\":"
	  "\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
	  "\"text\",\"text\":\"\"}}\r\n\r\n"
	  "event: content_block_delta\r\ndata: {\"type\":"
	  "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	  "\"text_delta\",\"text\":\"Hi\"}}\r\n\r\n"
	  "event: message_delta\r\ndata: {\"type\":\"message_delta\","
	  "\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":"
	  "{\"output_tokens\":4}}\r\n\r\n"
	  "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n",
	  "{\"type\":\"end\",\"text\":\"Hi\",\"stop_reason\":\"stop\","
	  "\"usage\":{\"input\":5,\"output\":4,\"cache_read\":0,"
	  "\"cache_write\":0,\"reasoning\":0},\"provider_model\":\"c\"}" },
	{ "openai-responses",
	  "event: response.output_text.delta\rdata: {\"type\":"
	  "\"response.output_text.delta\",\"delta\":\"ok\"}\r\r"
	  "event: response.completed\rdata: {\"type\":\"response.completed\","
	  "\"response\":{\"status\":\"completed\",\"model\":\"g\",\"output\":"
	  "[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\","
	  "\"text\":\"ok\"}]}],\"usage\":{\"input_tokens\":1,"
	  "\"output_tokens\":1}}}\r\r",
	  "{\"type\":\"end\",\"text\":\"ok\",\"stop_reason\":\"stop\","
	  "\"usage\":{\"input\":1,\"output\":1,\"cache_read\":0,"
	  "\"cache_write\":0,\"reasoning\":0},\"provider_model\":\"g\"}" },
	{ "google-generative-ai",
	  "\xef\xbb\xbf" "data: {\"candidates\":[{\"content\":{\"parts\":"
	  "[{\"text\":\"a\"}]}}]}\r\n\r\n"
	  "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]},"
	  "\"finishReason\":\"STOP\"}],\"usageMetadata\":"
	  "{\"promptTokenCount\":2,\"candidatesTokenCount\":1},"
	  "\"modelVersion\":\"gm\"}\r\n\r\n",
	  "{\"type\":\"end\",\"text\":\"ab\",\"stop_reason\":\"stop\","
	  "\"usage\":{\"input\":2,\"output\":1,\"cache_read\":0,"
	  "\"cache_write\":0,\"reasoning\":0},\"provider_model\":\"gm\"}" },
};

/* Does the last line of out hold the same JSON as want? */
static int
last_is(struct buf *out, const char *want)
{
	const char *s = buf_cstr(out), *p;
	jv a, b;
	int eq;

	if (out->len == 0)
		return 0;
	for (p = s + out->len - 1; p > s && p[-1] != '\n'; p--)
		;
	a = jv_parse_sized(p, (int)(s + out->len - p));
	b = jv_parse(want);
	eq = jv_equal(a, b);
	return eq == 1;
}

static int
selftest(void)
{
	struct buf whole, bytes;
	size_t i;
	int ok1, ok2;

	for (i = 0; i < nitems(cases); i++) {
		buf_init(&whole, 0);
		buf_init(&bytes, 0);
		ok1 = replay(cases[i].api, cases[i].body,
		    strlen(cases[i].body), 0, 0, 0, &whole);
		ok2 = replay(cases[i].api, cases[i].body,
		    strlen(cases[i].body), 1, 0, 0, &bytes);
		ok(ok1 && ok2, "%s: ends with end", cases[i].api);
		is_mem(bytes.data, bytes.len, whole.data, whole.len,
		    "%s: byte by byte as whole", cases[i].api);
		if (!ok(last_is(&whole, cases[i].end), "%s: the end fields",
		    cases[i].api))
			diag("%s", buf_cstr(&whole));
		buf_release(&whole);
		buf_release(&bytes);
	}
	json_release();
	return done();
}

static void
usage(void)
{
	fprintf(stderr, "usage: stream_replay [-b max_body] [-e max_event] "
	    "[-n size] api file\n");
	exit(2);
}

static size_t
number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		usage();
	return (size_t)v;
}

int
main(int argc, char *argv[])
{
	struct buf body, out;
	size_t size = 0, max_event = 0, max_body = 0;
	FILE *f;
	char chunk[65536];
	size_t n;
	int c, r;

	if (argc == 1)
		return selftest();
	while ((c = getopt(argc, argv, "b:e:n:")) != -1)
		switch (c) {
		case 'b':
			max_body = number(optarg);
			break;
		case 'e':
			max_event = number(optarg);
			break;
		case 'n':
			size = number(optarg);
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	if (dialect_find(argv[0]) == NULL ||
	    dialect_find(argv[0])->stream_new == NULL) {
		fprintf(stderr, "stream_replay: no stream adapter for '%s'\n",
		    argv[0]);
		return 2;
	}
	f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
	if (f == NULL) {
		fprintf(stderr, "stream_replay: open '%s': %s\n", argv[1],
		    strerror(errno));
		return 2;
	}
	buf_init(&body, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		(void)buf_append(&body, chunk, n);
	if (ferror(f)) {
		fprintf(stderr, "stream_replay: read '%s': %s\n", argv[1],
		    strerror(errno));
		return 2;
	}
	if (f != stdin)
		fclose(f);
	buf_init(&out, 0);
	r = replay(argv[0], buf_cstr(&body), body.len, size, max_event,
	    max_body, &out);
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	buf_release(&body);
	buf_release(&out);
	json_release();
	if (fflush(stdout) == EOF || ferror(stdout))
		return 2;
	return r ? 0 : 1;
}
