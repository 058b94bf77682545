/*
 * Unit tests for lib/cache: canonical JSON, the key (vectors computed
 * independently with jq -cS and b2sum -l 256), the entry format and its
 * verification, hits as records and as spliced lines, what may be
 * stored, modes, max_age, prune (LRU, temporary files, foreign files),
 * clear, the statistics, and failures reported once.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jv.h>
#include <sodium.h>

#include "buf.h"
#include "cache.h"
#include "errbuf.h"
#include "json.h"
#include "tap.h"
#include "xalloc.h"

static char dir[256];

static const char *echo_target = "{\"ref\":\"echo/echo\",\"provider\":"
    "\"echo\",\"api\":\"echo\",\"url\":\"\",\"model\":\"echo\","
    "\"headers\":{},\"limits\":{\"rpm\":5},\"cost\":{\"input\":0}}";

static void
canon_is(const char *in, const char *want)
{
	struct buf b;
	jv v = jv_parse(in);

	buf_init(&b, 0);
	cache_canonical(&b, v);
	is_str(buf_cstr(&b), want, "canonical %s", in);
	buf_release(&b);
	jv_free(v);
}

static void
test_canonical(void)
{
	canon_is("{\"b\":1,\"a\":[true,false,null],\"c\":{\"z\":\"\",\"y\":0}}",
	    "{\"a\":[true,false,null],\"b\":1,\"c\":{\"y\":0,\"z\":\"\"}}");
	canon_is("{\"ab\":1,\"a\":2,\"B\":3,\"\":4}",
	    "{\"\":4,\"B\":3,\"a\":2,\"ab\":1}");
	canon_is("{\"\\u00e9\":1,\"z\":2,\"\\u007f\":3}",
	    "{\"z\":2,\"\\u007f\":3,\"\xc3\xa9\":1}");
	canon_is("[1.0,-0,0.1,1e20,-2.5e-7,123456789,1e17,0.30000000000000004]",
	    "[1,0,0.1,1e+20,-2.5e-07,123456789,1e+17,0.30000000000000004]");
	canon_is("\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u001f/\"",
	    "\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u001f/\"");
	canon_is("{\"k\":{\"k\":{\"k\":[{\"b\":2,\"a\":1}]}}}",
	    "{\"k\":{\"k\":{\"k\":[{\"a\":1,\"b\":2}]}}}");
	{
		/* More members than the sorter keeps on its stack. */
		struct buf b, want;
		jv o = jv_object();
		int i;

		for (i = 39; i >= 0; i--) {
			char k[8];

			snprintf(k, sizeof(k), "k%02d", i);
			o = jv_object_set(o, jv_string(k), jv_number(i));
		}
		buf_init(&b, 0);
		buf_init(&want, 0);
		buf_putc(&want, '{');
		for (i = 0; i < 40; i++)
			buf_printf(&want, "%s\"k%02d\":%d", i ? "," : "", i, i);
		buf_putc(&want, '}');
		cache_canonical(&b, o);
		is_str(buf_cstr(&b), buf_cstr(&want), "40 members sorted");
		buf_release(&b);
		buf_release(&want);
		jv_free(o);
	}
}

static void
key_is(const char *rec, const char *target, const char *want,
    const char *what)
{
	char hex[CACHE_KEY_HEX + 1], err[ERRBUF_MAX] = "";
	jv r = jv_parse(rec), t = jv_parse(target);
	int rc = cache_key(r, t, hex, err);

	if (want == NULL) {
		ok(rc == -1 && hex[0] == '\0' && err[0], "%s: no key (%s)",
		    what, err);
	} else if (*want == '!') {
		ok(rc == 0 && strcmp(hex, want + 1) != 0, "%s", what);
	} else {
		if (rc == -1)
			diag("%s", err);
		is_str(rc == 0 ? hex : NULL, want, "%s", what);
	}
	jv_free(r);
	jv_free(t);
}

static void
test_key(void)
{
	static const char *const hi =
	    "9114e9c56418d70f452f896031e7f28a5144b46ca534d8cce2ecc08726cd4c56";

	/* printf '%s' '{"request":...,"version":1}' | b2sum -l 256 */
	key_is("{\"model\":\"echo\",\"prompt\":\"Hi\"}", echo_target, hi,
	    "vector: prompt Hi");
	key_is("{\"id\":\"q9\",\"model\":\"fast\",\"meta\":{\"a\":1},"
	    "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"Hi\"}]}],\"fallbacks\":[1],\"x\":2,"
	    "\"params\":{}}", echo_target, hi,
	    "id, meta, model name, unknown fields, fallbacks, empty params "
	    "and the content form do not count");
	key_is("{\"model\":\"echo\",\"prompt\":\"Hi\",\"temperature\":0.2}",
	    echo_target,
	    "8934156ecb6983dd004100850d9519dcde14c293245f59e628c4048fdbe396a1",
	    "vector: temperature 0.2");
	key_is("{\"id\":\"x\",\"model\":\"echo\",\"system\":\"Be terse.\","
	    "\"messages\":[{\"role\":\"user\",\"content\":"
	    "\"H\xc3\xa9 \\\"q\\\"\\n"
	    "\\u0001\"}],\"max_tokens\":64,\"temperature\":0.7,\"top_p\":1,"
	    "\"stop\":[\"\\n\\n\"],\"tools\":[{\"type\":\"function\","
	    "\"function\":{\"name\":\"f\",\"description\":\"d\",\"parameters\":"
	    "{\"type\":\"object\",\"properties\":{\"b\":{\"type\":\"string\"},"
	    "\"a\":{\"type\":\"integer\"}}}}}],\"tool_choice\":\"auto\","
	    "\"response_format\":{\"type\":\"json_object\"},"
	    "\"meta\":{\"m\":1}}",
	    echo_target,
	    "d1fff3656f94084f5b9c735ed8e284f7fdf6c32d95f21398cc4d114a47ce7e73",
	    "vector: system, tools, knobs, escapes");
	key_is("{\"prompt\":\"Hi\",\"temperature\":0.2000001}", echo_target,
	    "!8934156ecb6983dd004100850d9519dcde14c293245f59e628c4048fdbe396a1",
	    "a tiny parameter change is a new key");
	key_is("{\"prompt\":\"Hi\"}", "{\"ref\":\"echo/echo\",\"provider\":"
	    "\"echo\",\"api\":\"echo\",\"url\":\"\"}", NULL,
	    "a target without a model id");
	key_is("{\"model\":\"echo\"}", echo_target, NULL,
	    "a request without messages");
}

/* Writes an entry file by hand: the format as the header describes it. */
static void
plant(const char *key, long long created, const char *body)
{
	unsigned char sum[32];
	crypto_generichash_state st;
	char *head, *path, hex[65];
	FILE *fp;
	int i;

	head = xasprintf("LLMC1 %s %lld %zu ", key, created, strlen(body));
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (unsigned char *)head, strlen(head));
	crypto_generichash_update(&st, (const unsigned char *)body,
	    strlen(body));
	crypto_generichash_final(&st, sum, 32);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	path = xasprintf("%s/v1/%.2s", dir, key);
	mkdir(path, 0700);
	free(path);
	path = xasprintf("%s/v1/%.2s/%.2s", dir, key, key + 2);
	mkdir(path, 0700);
	free(path);
	path = xasprintf("%s/v1/%.2s/%.2s/%s", dir, key, key + 2, key);
	fp = fopen(path, "w");
	fprintf(fp, "%s%s\n%s\n", head, hex, body);
	fclose(fp);
	free(path);
	free(head);
}

static char *
entry_file(const char *key)
{
	return xasprintf("%s/v1/%.2s/%.2s/%s", dir, key, key + 2, key);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int
has_entry(const char *key)
{
	char *p = entry_file(key);
	int r = exists(p);

	free(p);
	return r;
}

static const char *const K1 =
    "1111111111111111111111111111111111111111111111111111111111111111";
static const char *const K2 =
    "2222222222222222222222222222222222222222222222222222222222222222";
static const char *const K3 =
    "3333333333333333333333333333333333333333333333333333333333333333";

static const char *const resp_text =
    "{\"id\":\"q1\",\"model\":\"echo/echo\",\"text\":\"Hello\","
    "\"stop_reason\":\"stop\",\"usage\":{\"input\":1,\"output\":2},"
    "\"cost\":{\"usd\":0},\"latency_ms\":5,\"attempts\":1,"
    "\"cached\":false,\"meta\":{\"a\":1},\"cache_key\":\"k\"}";

static void
open_store(struct cache *c, const char *mode)
{
	char err[ERRBUF_MAX];

	if (mode)
		setenv("LLM_CACHE", mode, 1);
	else
		unsetenv("LLM_CACHE");
	setenv("LLM_CACHE_DIR", dir, 1);
	if (cache_open(c, err) == -1) {
		diag("cache_open: %s", err);
		exit(1);
	}
}

static const char *const stored = "{\"model\":\"echo/echo\","
    "\"text\":\"Hello\",\"stop_reason\":\"stop\",\"usage\":{\"input\":1,"
    "\"output\":2},\"cost\":{\"usd\":0},\"latency_ms\":5,\"attempts\":1}";

static void
test_roundtrip(void)
{
	struct cache c;
	struct cache_entry e;
	struct buf line;
	char err[ERRBUF_MAX], *path;
	jv resp = jv_parse(resp_text), req, hit, fromline;
	int rc;

	open_store(&c, NULL);
	is_int(cache_get(&c, K1, &e, 0, err), CACHE_MISS, "empty: miss");
	is_int(cache_put(&c, K1, resp, err), 1, "put stores");
	path = entry_file(K1);
	ok(exists(path), "the entry is at v1/ab/cd/<key>");
	rc = cache_get(&c, K1, &e, 0, err);
	is_int(rc, CACHE_HIT, "get hits");
	if (rc == CACHE_HIT)
		is_mem(e.body, e.len, stored, strlen(stored), "the body keeps "
		    "the response fields, not id, cached, meta or annotations");
	else
		ok(0, "the body");
	req = jv_parse("{\"id\":\"n7\",\"model\":\"echo\",\"prompt\":\"x\","
	    "\"meta\":{\"b\":2},\"extra\":[1],\"cache_key\":\"old\","
	    "\"target\":{},\"attempts\":3}");
	hit = cache_hit_record(req, &e);
	is_str(json_peek_string(hit, "id"), "n7", "hit: the incoming id");
	ok(json_peek_kind(hit, "cached") == JV_KIND_TRUE, "hit: cached true");
	ok(jv_equal(json_get(hit, "meta"), jv_parse("{\"b\":2}")) &&
	    jv_equal(json_get(hit, "extra"), jv_parse("[1]")),
	    "hit: the incoming meta and unknown fields");
	ok(json_peek_kind(hit, "prompt") == JV_KIND_INVALID &&
	    json_peek_kind(hit, "target") == JV_KIND_INVALID,
	    "hit: no request fields");
	{
		double a = 0;

		json_peek_number(hit, "attempts", &a);
		ok(a == 1, "hit: the stored attempts, not the request's");
	}
	is_str(json_peek_string(hit, "cache_key"), K1, "hit: its key");
	buf_init(&line, 0);
	cache_hit_line(&line, req, &e);
	ok(line.len > 0 && line.data[line.len - 1] == '\n', "line ends");
	fromline = jv_parse_sized(line.data, (int)line.len - 1);
	ok(jv_equal(jv_copy(fromline), jv_copy(hit)), "the spliced line "
	    "is the hit record");
	{
		struct buf w;

		buf_init(&w, 0);
		json_write(&w, hit);
		is_mem(line.data, line.len - 1, w.data, w.len,
		    "... member for member, in order");
		buf_release(&w);
	}
	jv_free(fromline);
	jv_free(hit);
	jv_free(req);
	/* A request field that the entry holds too: jv's way, rec wins. */
	req = jv_parse("{\"id\":\"n8\",\"prompt\":\"x\",\"text\":\"mine\"}");
	buf_reset(&line);
	cache_hit_line(&line, req, &e);
	hit = jv_parse_sized(line.data, (int)line.len - 1);
	is_str(json_peek_string(hit, "text"), "mine",
	    "a colliding field replaces the stored one, as in send_response");
	jv_free(hit);
	jv_free(req);
	buf_release(&line);

	/* Peeking ignores max_age; lookups honour it. */
	plant(K2, (long long)time(NULL) - 1000, "{\"text\":\"old\","
	    "\"stop_reason\":\"stop\"}");
	c.max_age = 100;
	is_int(cache_get(&c, K2, &e, 0, err), CACHE_MISS,
	    "older than max_age: a miss");
	is_int(cache_get(&c, K2, &e, CACHE_PEEK, err), CACHE_HIT,
	    "... but show still sees it");
	c.max_age = 2000;
	is_int(cache_get(&c, K2, &e, 0, err), CACHE_HIT,
	    "younger than max_age: a hit");
	c.max_age = 0;
	cache_close(&c);
	free(path);
	jv_free(resp);
}

/* Damages the entry of key with f and checks it reads as corrupt. */
static void
damaged(const char *key, const char *how, int mode)
{
	struct cache c;
	struct cache_entry e;
	char err[ERRBUF_MAX], *path = entry_file(key);
	jv resp = jv_parse(resp_text);
	unsigned long long before;
	int fd;
	struct stat st;

	open_store(&c, NULL);
	cache_put(&c, key, resp, err);
	stat(path, &st);
	fd = open(path, O_RDWR);
	if (mode == 0)
		(void)!ftruncate(fd, st.st_size - 7);
	else if (mode == 1) {
		char ch;

		(void)!pread(fd, &ch, 1, st.st_size - 20);
		ch ^= 0x04;
		(void)!pwrite(fd, &ch, 1, st.st_size - 20);
	} else if (mode == 2) {
		(void)!pwrite(fd, "X", 1, 3);
	} else {
		(void)!pwrite(fd, "\n\n", 2, st.st_size);
	}
	close(fd);
	before = c.pending.corrupt;
	is_int(cache_get(&c, key, &e, CACHE_PEEK, err), -1,
	    "%s: show reports it", how);
	is_int(cache_get(&c, key, &e, 0, err), CACHE_MISS, "%s: a miss", how);
	ok(c.pending.corrupt == before + 1, "%s: counted", how);
	ok(!exists(path), "%s: removed", how);
	cache_close(&c);
	jv_free(resp);
	free(path);
}

static void
test_corrupt(void)
{
	struct cache c;
	struct cache_entry e;
	char err[ERRBUF_MAX], *p1, *p3;
	jv resp = jv_parse(resp_text);

	damaged(K1, "truncated", 0);
	damaged(K1, "a flipped bit in the body", 1);
	damaged(K1, "a damaged magic", 2);
	damaged(K1, "grown", 3);

	/* An entry answering another key (copied to the wrong name). */
	open_store(&c, NULL);
	cache_put(&c, K1, resp, err);
	p1 = entry_file(K1);
	p3 = entry_file(K3);
	plant(K3, 1, "{}");
	rename(p1, p3);
	is_int(cache_get(&c, K3, &e, 0, err), CACHE_MISS,
	    "an entry under another key's name is a miss");
	ok(!exists(p3), "... and removed");

	/* Read-only: a miss, counted, but left in place. */
	cache_close(&c);
	open_store(&c, NULL);
	cache_put(&c, K1, resp, err);
	cache_close(&c);
	{
		int fd = open(p1, O_RDWR);

		(void)!ftruncate(fd, 10);
		close(fd);
	}
	open_store(&c, "ro");
	is_int(cache_get(&c, K1, &e, 0, err), CACHE_MISS, "ro: corrupt miss");
	ok(exists(p1), "ro: nothing removed");
	is_int(cache_put(&c, K2, resp, err), 0, "ro: put stores nothing");
	cache_close(&c);
	unlink(p1);
	free(p1);
	free(p3);
	jv_free(resp);
}

static void
test_storable(void)
{
	static const struct {
		const char	*rec;
		int		 want;
		const char	*what;
	} cases[] = {
		{ "{\"text\":\"a\",\"stop_reason\":\"stop\"}", 1, "stop" },
		{ "{\"stop_reason\":\"length\"}", 1, "length" },
		{ "{\"stop_reason\":\"tool_use\",\"tool_calls\":[]}", 1,
		    "tool_use" },
		{ "{\"stop_reason\":\"refusal\"}", 1, "refusal" },
		{ "{\"stop_reason\":\"content_filter\"}", 0,
		    "content_filter" },
		{ "{\"stop_reason\":\"error\"}", 0, "stop_reason error" },
		{ "{\"text\":\"a\"}", 0, "no stop_reason" },
		{ "{\"stop_reason\":\"stop\",\"error\":{}}", 0,
		    "an error record" },
		{ "{\"stop_reason\":\"stop\",\"cached\":true}", 0, "a hit" },
		{ "{\"stop_reason\":\"stop\",\"partial\":true}", 0,
		    "partial" },
		{ "{\"type\":\"end\",\"stop_reason\":\"stop\"}", 1,
		    "a stream's end event" },
		{ "{\"type\":\"text\",\"stop_reason\":\"stop\"}", 0,
		    "another event" },
		{ "{\"type\":\"start\",\"stop_reason\":\"stop\"}", 0,
		    "a start event" },
		{ "{\"type\":\"question\",\"stop_reason\":\"stop\"}", 1,
		    "a response carrying its request's own type" },
		{ "[1]", 0, "not an object" },
	};
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		jv r = jv_parse(cases[i].rec);

		is_int(cache_storable(r), cases[i].want, "storable: %s",
		    cases[i].what);
		jv_free(r);
	}
}

static void
test_sender(void)
{
	struct cache c;
	char err[ERRBUF_MAX], key[CACHE_KEY_HEX + 1];
	jv req = jv_parse("{\"id\":\"s1\",\"model\":\"echo\","
	    "\"prompt\":\"sender\",\"meta\":{\"z\":1}}");
	jv t = jv_parse(echo_target), out;
	jv resp = jv_parse("{\"id\":\"s1\",\"model\":\"echo/echo\","
	    "\"text\":\"sender\",\"stop_reason\":\"stop\"}");
	jv other = jv_parse("{\"id\":\"s1\",\"model\":\"other/m\","
	    "\"text\":\"sender\",\"stop_reason\":\"stop\"}");

	open_store(&c, NULL);
	is_int(cache_fetch(&c, req, t, key, &out, err), CACHE_MISS,
	    "fetch: a miss");
	ok(cache_is_key(key), "fetch: the key to store under");
	is_int(cache_store(&c, key, "echo/echo", other, err), 0,
	    "store: an answer from another target is not kept");
	is_int(cache_fetch(&c, req, t, key, &out, err), CACHE_MISS,
	    "fetch: still a miss");
	is_int(cache_store(&c, key, "echo/echo", resp, err), 1,
	    "store: the target's answer is kept");
	is_int(cache_fetch(&c, req, t, key, &out, err), CACHE_HIT,
	    "fetch: a hit");
	ok(jv_is_valid(out) && json_peek_kind(out, "cached") ==
	    JV_KIND_TRUE && strcmp(json_peek_string(out, "text"),
	    "sender") == 0 && strcmp(json_peek_string(out, "id"), "s1") == 0,
	    "fetch: the hit record");
	jv_free(out);
	is_int(cache_store(&c, "", NULL, resp, err), 0,
	    "store: no key, nothing kept");
	cache_close(&c);
	open_store(&c, "off");
	is_int(cache_fetch(&c, req, t, key, &out, err), CACHE_MISS,
	    "off: a miss");
	is_str(key, "", "off: no key");
	is_int(cache_put(&c, K2, resp, err), 0, "off: nothing stored");
	cache_close(&c);
	jv_free(req);
	jv_free(t);
	jv_free(resp);
	jv_free(other);
}

static void
age(const char *key, time_t secs)
{
	struct timespec ts[2];
	char *p = entry_file(key);

	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - secs;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
	free(p);
}

static void
test_prune(void)
{
	struct cache c;
	struct cache_totals t;
	struct cache_entry e;
	char err[ERRBUF_MAX], key[CACHE_KEY_HEX + 1], *p, *tmp, *foreign;
	jv resp = jv_parse(resp_text);
	unsigned long long one;
	int i, fd;

	open_store(&c, NULL);
	cache_clear(&c, &t, err);
	for (i = 0; i < 10; i++) {
		memset(key, 'a' + i % 6, CACHE_KEY_HEX);
		key[CACHE_KEY_HEX] = '\0';
		key[63] = (char)('0' + i);
		cache_put(&c, key, resp, err);
		age(key, 10000 - i * 100);	/* key 0 least recently */
	}
	/* Using the oldest makes it the most recent. */
	memset(key, 'a', CACHE_KEY_HEX);
	key[63] = '0';
	is_int(cache_get(&c, key, &e, 0, err), CACHE_HIT, "use the oldest");
	one = e.size;
	/* A stale temporary file of a dead writer, a live one, a stranger. */
	tmp = xasprintf("%s/v1/aa/aa/.tmp-999999999-0-0", dir);
	fd = open(tmp, O_CREAT | O_WRONLY, 0600);
	close(fd);
	p = xasprintf("%s/v1/aa/aa/.tmp-%ld-0-1", dir, (long)getpid());
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	close(fd);
	foreign = xasprintf("%s/v1/aa/notes.txt", dir);
	fd = open(foreign, O_CREAT | O_WRONLY, 0600);
	close(fd);
	is_int(cache_prune(&c, one * 6, 0, 0, &t, err), 0, "prune");
	ok(t.entries == 6 && t.bytes <= one * 6 && t.removed == 4,
	    "prune: 10 entries to 6 (%llu left, %llu removed)", t.entries,
	    t.removed);
	ok(has_entry(key), "prune: the recently used one stays");
	memset(key, 'b', CACHE_KEY_HEX);
	key[63] = '1';
	ok(!has_entry(key), "prune: the least recently used goes");
	ok(t.temps == 1 && !exists(tmp) && exists(p),
	    "prune: a dead writer's temporary file goes, a live one's stays");
	ok(t.foreign == 1 && exists(foreign) &&
	    strstr(t.first_foreign, "notes.txt") != NULL,
	    "prune: a foreign file is counted and left alone");
	unlink(p);
	free(p);
	free(tmp);
	/* An entry whose header says one size and the file another. */
	memset(key, 'c', CACHE_KEY_HEX);
	key[63] = '8';
	p = entry_file(key);
	fd = open(p, O_WRONLY | O_APPEND);
	(void)!write(fd, "x", 1);
	close(fd);
	is_int(cache_prune(&c, 0, 0, 0, &t, err), 0, "prune again");
	ok(!exists(p) && t.removed == 1 && t.entries == 5,
	    "prune: an entry of the wrong size goes");
	free(p);
	/* max_age: by the time of the store. */
	plant(K3, (long long)time(NULL) - 5000, "{\"stop_reason\":\"stop\"}");
	is_int(cache_prune(&c, 0, 1000, 0, &t, err), 0, "prune --max-age");
	ok(!has_entry(K3) && t.entries == 5,
	    "prune: an entry older than max_age goes");
	is_int(cache_stats(&c, &t, err), 0, "stats");
	ok(t.entries == 5 && t.bytes == one * 5, "stats: entries and bytes");
	is_int(cache_clear(&c, &t, err), 0, "clear");
	ok(t.removed == 5, "clear: every entry");
	is_int(cache_stats(&c, &t, err), 0, "stats after clear");
	ok(t.entries == 0 && t.counts.hits == 0 && t.counts.stores == 0,
	    "clear: the counts are zero too");
	ok(exists(foreign), "clear: a foreign file stays");
	unlink(foreign);
	free(foreign);
	cache_close(&c);
	jv_free(resp);
}

static void
test_stats(void)
{
	struct cache c, d;
	struct cache_totals t;
	struct cache_entry e;
	char err[ERRBUF_MAX];
	jv resp = jv_parse(resp_text);
	int i;

	open_store(&c, NULL);
	cache_clear(&c, &t, err);
	cache_close(&c);
	open_store(&c, NULL);
	open_store(&d, NULL);
	cache_put(&c, K1, resp, err);
	for (i = 0; i < 3; i++)
		cache_get(&c, K1, &e, 0, err);
	cache_get(&d, K2, &e, 0, err);
	cache_get(&d, K1, &e, 0, err);
	cache_close(&c);
	cache_close(&d);
	open_store(&c, NULL);
	cache_stats(&c, &t, err);
	ok(t.counts.hits == 4 && t.counts.misses == 1 &&
	    t.counts.stores == 1 && t.entries == 1,
	    "two processes' counts add up (%llu hits, %llu misses)",
	    t.counts.hits, t.counts.misses);
	cache_close(&c);
	open_store(&c, "ro");
	cache_get(&c, K1, &e, 0, err);
	cache_close(&c);
	open_store(&c, NULL);
	cache_stats(&c, &t, err);
	is_int((long long)t.counts.hits, 4, "ro: no statistics written");
	/* Flushed every CACHE_STATS_EVERY events, not only at the end. */
	for (i = 0; i < CACHE_STATS_EVERY; i++)
		cache_get(&c, K2, &e, 0, err);
	open_store(&d, NULL);
	cache_stats(&d, &t, err);
	ok(t.counts.misses >= CACHE_STATS_EVERY,
	    "counts are flushed along the way");
	cache_close(&d);
	cache_close(&c);
	jv_free(resp);
}

static void
test_parse(void)
{
	unsigned long long n;
	double s;
	char err[ERRBUF_MAX];
	enum cache_mode m;

	ok(cache_parse_size("100", &n, err) == 0 && n == 100, "size 100");
	ok(cache_parse_size("2k", &n, err) == 0 && n == 2048, "size 2k");
	ok(cache_parse_size("1.5M", &n, err) == 0 && n == 1572864,
	    "size 1.5M");
	ok(cache_parse_size("1GiB", &n, err) == 0 && n == 1073741824,
	    "size 1GiB");
	ok(cache_parse_size("3TB", &n, err) == 0, "size 3TB");
	ok(cache_parse_size("-1", &n, err) == -1 &&
	    cache_parse_size("1x", &n, err) == -1 &&
	    cache_parse_size("", &n, err) == -1 &&
	    cache_parse_size("1e30", &n, err) == -1, "bad sizes");
	ok(cache_parse_age("90", &s, err) == 0 && s == 90, "age 90");
	ok(cache_parse_age("2h", &s, err) == 0 && s == 7200, "age 2h");
	ok(cache_parse_age("1.5d", &s, err) == 0 && s == 129600, "age 1.5d");
	ok(cache_parse_age("1w", &s, err) == 0 && s == 604800, "age 1w");
	ok(cache_parse_age("1y", &s, err) == -1 &&
	    cache_parse_age("h", &s, err) == -1 &&
	    cache_parse_age("-5m", &s, err) == -1, "bad ages");
	ok(cache_mode_parse(NULL, &m, err) == 0 && m == CACHE_RW &&
	    cache_mode_parse("ro", &m, err) == 0 && m == CACHE_RO &&
	    cache_mode_parse("off", &m, err) == 0 && m == CACHE_OFF &&
	    cache_mode_parse("0", &m, err) == 0 && m == CACHE_OFF &&
	    cache_mode_parse("on", &m, err) == 0 && m == CACHE_RW, "modes");
	ok(cache_mode_parse("maybe", &m, err) == -1 &&
	    strstr(err, "maybe") != NULL, "an unknown mode");
	setenv("LLM_CACHE_MAX_SIZE", "lots", 1);
	{
		struct cache c;

		setenv("LLM_CACHE_DIR", dir, 1);
		unsetenv("LLM_CACHE");
		ok(cache_open(&c, err) == -1 &&
		    strstr(err, "LLM_CACHE_MAX_SIZE") != NULL,
		    "a bad LLM_CACHE_MAX_SIZE fails cache_open");
	}
	unsetenv("LLM_CACHE_MAX_SIZE");
	ok(cache_is_key(K1) && !cache_is_key("11") &&
	    !cache_is_key("111111111111111111111111111111111111111111111111"
	    "111111111111111A"), "cache_is_key");
}

static void
test_failures(void)
{
	struct cache c;
	struct cache_entry e;
	char err[ERRBUF_MAX] = "", *file = xasprintf("%s/afile", dir);
	char *under = xasprintf("%s/afile/cache", dir);
	jv resp = jv_parse(resp_text);
	FILE *fp = fopen(file, "w");

	fclose(fp);
	setenv("LLM_CACHE_DIR", under, 1);
	unsetenv("LLM_CACHE");
	cache_open(&c, err);
	is_int(cache_put(&c, K1, resp, err), -1,
	    "an unusable directory: the first put reports");
	ok(strstr(err, "afile") != NULL, "... naming the place (%s)", err);
	is_int(cache_put(&c, K2, resp, err), 0, "... later ones are quiet");
	is_int(cache_get(&c, K1, &e, 0, err), CACHE_MISS,
	    "... gets are quiet misses");
	is_int(cache_flush(&c, err), 0, "... and so are statistics");
	cache_close(&c);
	cache_open(&c, err);
	is_int(cache_get(&c, K1, &e, 0, err), -1,
	    "in a new process, the first get reports");
	is_int(cache_get(&c, K1, &e, 0, err), CACHE_MISS, "... then misses");
	cache_close(&c);
	cache_open(&c, err);
	cache_get(&c, K2, &e, CACHE_PEEK, err);
	is_int(cache_flush(&c, err), 0, "nothing to count, nothing to say");
	c.pending.misses = 1;
	is_int(cache_flush(&c, err), -1, "statistics report when first");
	cache_close(&c);
	unlink(file);
	free(file);
	free(under);
	jv_free(resp);
}

int
main(void)
{
	char *cmd;

	snprintf(dir, sizeof(dir), "%s/llm-cache-unit.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("LLM_CACHE_MAX_AGE");
	unsetenv("LLM_CACHE_MAX_SIZE");
	test_canonical();
	test_key();
	test_parse();
	test_roundtrip();
	test_corrupt();
	test_storable();
	test_sender();
	test_prune();
	test_stats();
	test_failures();
	cmd = xasprintf("rm -rf '%s'", dir);
	(void)!system(cmd);
	free(cmd);
	json_release();
	return done();
}
