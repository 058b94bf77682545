/*
 * Unit tests for the stream adapters of the four dialects and echo, and
 * for dialect_stream, which runs them: small hand-written streams for
 * each quirk the adapters handle, each read whole and byte by byte (the
 * same events both ways), with the events expected in full.
 *
 * Streams and expected events are written with ' for " (Q() swaps them
 * back), so no test string holds an apostrophe.  The expected events are
 * a JSON array compared as JSON (key order aside).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dialect.h"
#include "json.h"
#include "xalloc.h"
#include "tap.h"

#define CHAT(x)		"data: " x "\n\n"
#define DONE		"data: [DONE]\n\n"
#define AM(ev, x)	"event: " ev "\ndata: " x "\n\n"
#define RS(ev, x)	"event: " ev "\ndata: {'type':'" ev "'" x "}\n\n"
#define GG(x)		"data: " x "\r\n\r\n"

#define U(i, o, cr, cw, r) \
	"'usage':{'input':" #i ",'output':" #o ",'cache_read':" #cr \
	",'cache_write':" #cw ",'reasoning':" #r "}"
#define U0		U(0, 0, 0, 0, 0)
#define TEXT(s)		"{'type':'text','delta':'" s "'}"
#define REASON(s)	"{'type':'reasoning','delta':'" s "'}"
#define CALL(i, id, name, d) \
	"{'type':'tool_call','index':" #i ",'call_id':'" id "','name':'" \
	name "','arguments_delta':'" d "'}"
#define ERR(kind, msg, retry, partial) \
	"{'type':'error','error':{'kind':'" kind "','message':'" msg "'," \
	"'provider':'test','retriable':" retry "},'partial':" partial "}"

/* s with every ' turned into ", a new string. */
static char *
Q(const char *s)
{
	char *t = xstrdup(s), *p;

	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

/* The events dialect api makes of body, fed in chunks of size (0: all). */
static jv
run(const char *api, const char *body, size_t len, size_t size,
    int *ended)
{
	struct dialect_stream ds;
	jv target, events = jv_array();
	size_t off = 0, n;

	target = jv_object_set(jv_object(), jv_string("provider"),
	    jv_string("test"));
	dialect_stream_init(&ds, dialect_find(api), target, 0, 0);
	while (off < len) {
		n = size == 0 || size > len - off ? len - off : size;
		if (dialect_stream_feed(&ds, body + off, n, &events))
			break;
		off += n;
	}
	*ended = dialect_stream_finish(&ds, &events);
	dialect_stream_release(&ds);
	jv_free(target);
	return events;
}

static void
show(const char *what, jv v)
{
	struct buf b;

	buf_init(&b, 0);
	json_write(&b, v);
	diag("%s: %s", what, buf_cstr(&b));
	buf_release(&b);
}

/*
 * Runs body (quoted) through api whole and byte by byte: two points,
 * the same events both ways, and those events equal to want (quoted).
 */
static void
expect(const char *name, const char *api, const char *body,
    const char *want)
{
	char *b = Q(body), *w = Q(want);
	jv whole, bytes, wv;
	int e1, e2, eq;

	whole = run(api, b, strlen(b), 0, &e1);
	bytes = run(api, b, strlen(b), 1, &e2);
	eq = jv_equal(jv_copy(whole), jv_copy(bytes)) == 1 && e1 == e2;
	if (!ok(eq, "%s: byte by byte as whole", name))
		show("bytes", bytes);
	wv = jv_parse(w);
	if (!jv_is_valid(wv)) {
		diag("bad test JSON: %s", w);
		abort();
	}
	if (!ok(jv_equal(jv_copy(whole), wv) == 1, "%s", name))
		show("got", whole);
	jv_free(whole);
	jv_free(bytes);
	free(b);
	free(w);
}

/*
 * Plain content chunks take a fast path in the chat adapter that reads
 * them without libjq: whatever their strings hold, the events must say
 * what libjq reads in them.  Each case is one chunk; the text of the
 * events and of the end record must equal libjq's .choices[0].delta
 * .content, and provider_model its .model.
 */
static void
chat_fast(void)
{
	static const char *const chunks[] = {
		"{\"id\":\"x\",\"object\":\"chat.completion.chunk\","
		    "\"created\":1,\"model\":\"m1\",\"choices\":[{\"index\":0,"
		    "\"delta\":{\"content\":\"plain\"},\"finish_reason\":null,"
		    "\"logprobs\":null}]}",
		"{\"model\":\"m\\u0032\",\"choices\":[{\"index\":0,\"delta\":"
		    "{\"content\":\"esc \\\" \\\\ \\/ \\b\\f\\n\\r\\t end\"}}]}",
		"{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
		    "\"\\u00e9\\u20ac \\ud83d\\ude00 \\u0000.\"}}]}",
		"{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
		    "\"bad utf8 \xff\xfe here\"}}]}",
		"{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
		    "\"raw \xc3\xa9 \xf0\x9f\x98\x80\"}}]}",
		"{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
		    "\"content\":null,\"reasoning_content\":null}}]}",
		"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}]}",
		"{\"choices\":[{\"delta\":{\"content\":\"no index\"}}]}",
		"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}},"
		    "{\"index\":1,\"delta\":{\"content\":\"b\"}}]}",
		"{\"extra\":{\"k\":[1,2]},\"choices\":[{\"index\":0,\"delta\":"
		    "{\"content\":\"unknown member\"}}]}",
		"{ \"choices\" : [ { \"index\" : 0 , \"delta\" : { \"content\""
		    " : \"spaced\" } } ] , \"model\" : \"m3\" }",
		"{\"model\":\"m\\\"q\",\"choices\":[{\"index\":0,\"delta\":"
		    "{\"content\":\"escaped model\"}}]}",
	};
	struct buf body, want, got;
	jv events, v, e, model = jv_null();
	size_t i, k;
	int ended, n;

	buf_init(&body, 0);
	buf_init(&want, 0);
	buf_init(&got, 0);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		buf_puts(&body, "data: ");
		buf_puts(&body, chunks[i]);
		buf_puts(&body, "\n\n");
		v = jv_parse(chunks[i]);
		if (!jv_is_valid(v)) {
			diag("bad test JSON: %s", chunks[i]);
			abort();
		}
		e = json_get(v, "model");
		if (jv_get_kind(e) == JV_KIND_STRING) {
			jv_free(model);
			model = e;
		} else
			jv_free(e);
		e = jv_array_get(json_get(v, "choices"), 0);
		if (jv_get_kind(e) == JV_KIND_OBJECT) {
			jv c = json_get(e, "delta");

			jv_free(e);
			e = json_get(c, "content");
			jv_free(c);
		}
		if (jv_get_kind(e) == JV_KIND_STRING)
			buf_append(&want, jv_string_value(e),
			    (size_t)jv_string_length_bytes(jv_copy(e)));
		jv_free(e);
		jv_free(v);
	}
	buf_puts(&body, DONE);
	for (k = 0; k < 2; k++) {
		events = run("openai-completions", body.data, body.len,
		    k ? 1 : 0, &ended);
		buf_reset(&got);
		n = jv_array_length(jv_copy(events));
		e = jv_array_get(jv_copy(events), n - 1);
		for (i = 0; i + 1 < (size_t)n; i++) {
			v = jv_array_get(jv_copy(events), (int)i);
			if (strcmp(json_peek_string(v, "type"), "text") == 0) {
				jv d = json_get(v, "delta");

				buf_append(&got, jv_string_value(d), (size_t)
				    jv_string_length_bytes(jv_copy(d)));
				jv_free(d);
			}
			jv_free(v);
		}
		ok(ended && got.len == want.len &&
		    memcmp(got.data, want.data, want.len) == 0,
		    "chat fast path (%s): the text deltas are libjq's reading",
		    k ? "byte by byte" : "whole");
		v = json_get(e, "text");
		ok(jv_get_kind(v) == JV_KIND_STRING &&
		    (size_t)jv_string_length_bytes(jv_copy(v)) == want.len &&
		    memcmp(jv_string_value(v), want.data, want.len) == 0,
		    "chat fast path (%s): the end text is libjq's reading",
		    k ? "byte by byte" : "whole");
		jv_free(v);
		v = json_get(e, "provider_model");
		ok(jv_equal(v, jv_copy(model)),
		    "chat fast path (%s): provider_model is the last model",
		    k ? "byte by byte" : "whole");
		jv_free(e);
		jv_free(events);
	}
	jv_free(model);
	buf_release(&body);
	buf_release(&want);
	buf_release(&got);
}

/* OpenAI Chat Completions. */
static void
chat(void)
{
	const char *A = "openai-completions";

	expect("chat: text, finish, usage chunk, [DONE]", A,
	    CHAT("{'model':'gpt','choices':[{'index':0,'delta':{'role':"
	    "'assistant','content':''}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'content':'Hel'}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'content':'lo'},"
	    "'finish_reason':'stop'}],'usage':null}")
	    CHAT("{'choices':[],'usage':{'prompt_tokens':10,"
	    "'completion_tokens':2,'prompt_tokens_details':"
	    "{'cached_tokens':4}}}") DONE,
	    "[" TEXT("Hel") "," TEXT("lo") ",{'type':'end','text':'Hello',"
	    "'stop_reason':'stop'," U(6, 2, 4, 0, 0) ",'provider_model':"
	    "'gpt'}]");
	expect("chat: reasoning_content then content (DeepSeek)", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':null,"
	    "'reasoning_content':'Think'}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'content':'Ok',"
	    "'reasoning_content':null},'finish_reason':'stop'}],'usage':"
	    "{'prompt_tokens':5,'completion_tokens':9,"
	    "'completion_tokens_details':{'reasoning_tokens':7},"
	    "'prompt_cache_hit_tokens':2}}") DONE,
	    "[" REASON("Think") "," TEXT("Ok") ",{'type':'end','text':'Ok',"
	    "'reasoning':'Think','stop_reason':'stop'," U(3, 9, 2, 0, 7)
	    "}]");
	expect("chat: reasoning (Groq), one field per delta", A,
	    CHAT("{'choices':[{'index':0,'delta':{'reasoning':'a',"
	    "'reasoning_content':'b'}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'reasoning_text':'c'},"
	    "'finish_reason':'stop'}]}") DONE,
	    "[" REASON("b") "," REASON("c") ",{'type':'end','text':null,"
	    "'reasoning':'bc','stop_reason':'stop'," U0 "}]");
	expect("chat: parallel calls by index", A,
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'c1','type':'function','function':{'name':'f',"
	    "'arguments':''}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':1,"
	    "'id':'c2','function':{'name':'g','arguments':'{}'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'function':{'arguments':'{\\'a\\':1}'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{},'finish_reason':"
	    "'tool_calls'}]}") DONE,
	    "[" CALL(0, "c1", "f", "") "," CALL(1, "c2", "g", "") ","
	    CALL(0, "c1", "f", "{\\'a\\':1}") "," CALL(1, "c2", "g", "{}")
	    ",{'type':'end','text':null,'tool_calls':[{'id':'c1','name':"
	    "'f','arguments':{'a':1}},{'id':'c2','name':'g','arguments':{}}],"
	    "'stop_reason':'tool_use'," U0 "}]");
	expect("chat: empty id and name on continuations, arguments null", A,
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'c1','function':{'name':'f','arguments':null}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'','function':{'name':'','arguments':'{\\'x\\''}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'','type':'function','function':{'arguments':':2}'}}]},"
	    "'finish_reason':'tool_calls'}]}") DONE,
	    "[" CALL(0, "c1", "f", "") "," CALL(0, "c1", "f", "{\\'x\\'")
	    "," CALL(0, "c1", "f", ":2}") ",{'type':'end','text':null,"
	    "'tool_calls':[{'id':'c1','name':'f','arguments':{'x':2}}],"
	    "'stop_reason':'tool_use'," U0 "}]");
	expect("chat: a {} first delta, then the arguments whole", A,
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'c1','function':{'name':'f','arguments':'{}'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'function':{'arguments':'{\\'q\\':\\'x\\'}'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{},'finish_reason':"
	    "'tool_calls'}]}") DONE,
	    "[" CALL(0, "c1", "f", "") "," CALL(0, "c1", "f",
	    "{\\'q\\':\\'x\\'}") ",{'type':'end','text':null,'tool_calls':"
	    "[{'id':'c1','name':'f','arguments':{'q':'x'}}],"
	    "'stop_reason':'tool_use'," U0 "}]");
	expect("chat: a {} first delta, then fragments", A,
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'c1','function':{'name':'f','arguments':'{}'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'function':{'arguments':'{\\'q\\':'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'function':{'arguments':'1}'}}]}}]}") DONE,
	    "[" CALL(0, "c1", "f", "") "," CALL(0, "c1", "f", "{\\'q\\':")
	    "," CALL(0, "c1", "f", "1}") ",{'type':'end','text':null,"
	    "'tool_calls':[{'id':'c1','name':'f','arguments':{'q':1}}],"
	    "'stop_reason':'tool_use'," U0 "}]");
	expect("chat: a lone {} goes out at the finish", A,
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'c1','function':{'name':'now','arguments':'{ }'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{},'finish_reason':"
	    "'tool_calls'}]}") DONE,
	    "[" CALL(0, "c1", "now", "") "," CALL(0, "c1", "now", "{}")
	    ",{'type':'end','text':null,'tool_calls':[{'id':'c1','name':"
	    "'now','arguments':{}}],'stop_reason':'tool_use'," U0 "}]");
	expect("chat: the whole call sent again is ignored", A,
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'c1','function':{'name':'f','arguments':'{\\'a\\':1}'}}]}"
	    "}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'c1','function':{'name':'f','arguments':'{\\'a\\':1}'}}]}"
	    "}]}") DONE,
	    "[" CALL(0, "c1", "f", "{\\'a\\':1}") ",{'type':'end','text':"
	    "null,'tool_calls':[{'id':'c1','name':'f','arguments':{'a':1}}],"
	    "'stop_reason':'tool_use'," U0 "}]");
	expect("chat: no index: calls told apart by id", A,
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'id':'a',"
	    "'function':{'name':'f','arguments':'{\\'n\\':'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{"
	    "'function':{'arguments':'1}'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'id':'b',"
	    "'function':{'name':'g','arguments':'{}'}}]}}]}") DONE,
	    "[" CALL(0, "a", "f", "{\\'n\\':") "," CALL(0, "a", "f", "1}")
	    "," CALL(1, "b", "g", "") "," CALL(1, "b", "g", "{}")
	    ",{'type':'end','text':null,"
	    "'tool_calls':[{'id':'a','name':'f','arguments':{'n':1}},{'id':"
	    "'b','name':'g','arguments':{}}],'stop_reason':'tool_use'," U0
	    "}]");
	expect("chat: arguments as an object (Ollama), no id", A,
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'function':"
	    "{'name':'f','arguments':{'a':[1,2]}}}]},'finish_reason':"
	    "'stop'}]}") DONE,
	    "[" CALL(0, "", "f", "{\\'a\\':[1,2]}")
	    ",{'type':'end','text':null,'tool_calls':[{'id':'call_0','name':"
	    "'f','arguments':{'a':[1,2]}}],'stop_reason':'tool_use'," U0
	    "}]");
	expect("chat: arguments that do not parse", A,
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'c','function':{'name':'f','arguments':'{\\'a\\':'}}]},"
	    "'finish_reason':'length'}]}") DONE,
	    "[" CALL(0, "c", "f", "{\\'a\\':") ",{'type':'end','text':null,"
	    "'tool_calls':[{'id':'c','name':'f','arguments':{},"
	    "'arguments_raw':'{\\'a\\':'}],'stop_reason':"
	    "'length'," U0 "}]");
	expect("chat: no finish_reason ever, text only", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':'hi'},"
	    "'finish_reason':null}]}") DONE,
	    "[" TEXT("hi") ",{'type':'end','text':'hi','stop_reason':'stop',"
	    U0 "}]");
	expect("chat: n > 1: only choice 0", A,
	    CHAT("{'choices':[{'index':1,'delta':{'content':'B'}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'content':'A'}}]}")
	    CHAT("{'choices':[{'index':1,'delta':{},'finish_reason':"
	    "'length'}]}")
	    CHAT("{'choices':[{'index':0,'delta':{},'finish_reason':"
	    "'stop'}]}") DONE,
	    "[" TEXT("A") ",{'type':'end','text':'A','stop_reason':'stop',"
	    U0 "}]");
	expect("chat: refusal: no text, stop_reason refusal", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':null,'refusal':"
	    "'No.'},'finish_reason':'stop'}]}") DONE,
	    "[{'type':'end','text':null,'stop_reason':'refusal'," U0 "}]");
	expect("chat: Mistral content parts with thinking", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':[{'type':"
	    "'thinking','thinking':[{'type':'text','text':'hmm'}]},{'type':"
	    "'text','text':'yes'}]},'finish_reason':'stop'}]}") DONE,
	    "[" REASON("hmm") "," TEXT("yes") ",{'type':'end','text':'yes',"
	    "'reasoning':'hmm','stop_reason':'stop'," U0 "}]");
	expect("chat: usage in x_groq only", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':'x'},"
	    "'finish_reason':'stop'}],'x_groq':{'usage':{'prompt_tokens':3,"
	    "'completion_tokens':1}}}") DONE,
	    "[" TEXT("x") ",{'type':'end','text':'x','stop_reason':'stop',"
	    U(3, 1, 0, 0, 0) "}]");
	expect("chat: zai tool_stream", A,
	    CHAT("{'model':'glm-4.6','choices':[{'index':0,'delta':{'role':"
	    "'assistant','reasoning_content':'Weather?'}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'call_-8','type':'function','function':{'name':"
	    "'get_weather','arguments':''}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'call_-8','function':{'arguments':'{\\'city\\':'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,"
	    "'id':'call_-8','function':{'arguments':'\\'Beijing\\'}'}}]}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{},'finish_reason':"
	    "'tool_calls'}],'usage':{'prompt_tokens':20,'completion_tokens':"
	    "12}}") DONE,
	    "[" REASON("Weather?") "," CALL(0, "call_-8", "get_weather", "")
	    "," CALL(0, "call_-8", "get_weather", "{\\'city\\':") ","
	    CALL(0, "call_-8", "get_weather", "\\'Beijing\\'}") ",{'type':"
	    "'end','text':null,'reasoning':'Weather?','tool_calls':[{'id':"
	    "'call_-8','name':'get_weather','arguments':{'city':'Beijing'}}],"
	    "'stop_reason':'tool_use'," U(20, 12, 0, 0, 0) ","
	    "'provider_model':'glm-4.6'}]");
	expect("chat: zai network_error finish", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':'pa'},"
	    "'finish_reason':'network_error'}]}") DONE,
	    "[" TEXT("pa") ",{'type':'end','text':'pa','stop_reason':'error',"
	    U0 "}]");
	expect("chat: error chunk mid-stream", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':'pa'}}]}")
	    CHAT("{'error':{'message':'Overloaded','type':'server_error'}}")
	    DONE,
	    "[" TEXT("pa") "," ERR("server", "server_error: Overloaded",
	    "true", "true") "]");
	expect("chat: rate limit error chunk before any content", A,
	    CHAT("{'error':{'message':'Slow down','code':"
	    "'rate_limit_exceeded'}}"),
	    "[" ERR("rate_limited", "Slow down", "true", "false") "]");
	expect("chat: an SSE event named error", A,
	    "event: error\ndata: {'message':'boom','code':500}\n\n",
	    "[" ERR("server", "boom", "true", "false") "]");
	expect("chat: OpenRouter finish_reason error", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':'a'}}]}")
	    CHAT("{'choices':[{'index':0,'delta':{},'finish_reason':"
	    "'error'}]}") DONE,
	    "[" TEXT("a") "," ERR("server", "finish_reason error: the "
	    "provider failed mid-answer", "true", "true") "]");
	expect("chat: cut after the finish, before [DONE]", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':'a'},"
	    "'finish_reason':'stop'}]}"),
	    "[" TEXT("a") "," ERR("truncated", "stream ended before its "
	    "terminal event", "true", "true") "]");
	expect("chat: cut inside an event", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':'a'}}]}")
	    "data: {'choi",
	    "[" TEXT("a") "," ERR("truncated", "stream cut inside an event, "
	    "before its terminal event", "true", "true") "]");
	expect("chat: events after [DONE] ignored", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':'a'}}]}") DONE
	    CHAT("{'choices':[{'index':0,'delta':{'content':'b'}}]}")
	    CHAT("not json"),
	    "[" TEXT("a") ",{'type':'end','text':'a','stop_reason':'stop',"
	    U0 "}]");
	expect("chat: data that is not JSON", A,
	    CHAT("{'choices':[{'index':0,'delta':{'content':'a'}}]}")
	    CHAT("{'choices':") DONE,
	    "[" TEXT("a") "," ERR("server", "stream event data is not JSON: "
	    "expected a value at byte 12", "true", "true") "]");
	expect("chat: data that is JSON but no object", A,
	    CHAT("[1,2]") DONE,
	    "[" ERR("server", "stream event data is not a JSON object",
	    "true", "false") "]");
	expect("chat: comments and retry lines are fine", A,
	    ": OPENROUTER PROCESSING\n\nretry: 100\n"
	    CHAT("{'choices':[{'index':0,'delta':{'content':'a'}}]}") DONE,
	    "[" TEXT("a") ",{'type':'end','text':'a','stop_reason':'stop',"
	    U0 "}]");
}

/* Anthropic Messages. */
static void
anthropic(void)
{
	const char *A = "anthropic-messages";

#define START(u) AM("message_start", "{'type':'message_start','message':" \
	"{'model':'claude','content':[],'usage':" u "}}")
#define BSTART(i, b) AM("content_block_start", "{'type':" \
	"'content_block_start','index':" #i ",'content_block':" b "}")
#define BDELTA(i, d) AM("content_block_delta", "{'type':" \
	"'content_block_delta','index':" #i ",'delta':" d "}")
#define BSTOP(i) AM("content_block_stop", "{'type':'content_block_stop'," \
	"'index':" #i "}")
#define MDELTA(why, u) AM("message_delta", "{'type':'message_delta'," \
	"'delta':{'stop_reason':'" why "'},'usage':" u "}")
#define MSTOP AM("message_stop", "{'type':'message_stop'}")
#define IN5 "{'input_tokens':5,'output_tokens':1}"

	expect("anthropic: thinking with signature, then text", A,
	    START(IN5) BSTART(0, "{'type':'thinking','thinking':'',"
	    "'signature':''}") BDELTA(0, "{'type':'thinking_delta',"
	    "'thinking':'Hm'}") BDELTA(0, "{'type':'signature_delta',"
	    "'signature':'c2ln'}") BSTOP(0) BSTART(1, "{'type':'text',"
	    "'text':''}") AM("ping", "{'type':'ping'}") BDELTA(1,
	    "{'type':'text_delta','text':'Yes'}") BSTOP(1)
	    MDELTA("end_turn", "{'output_tokens':9}") MSTOP,
	    "[" REASON("Hm") "," TEXT("Yes") ",{'type':'end','text':'Yes',"
	    "'reasoning':'Hm','reasoning_signature':'c2ln','stop_reason':"
	    "'stop'," U(5, 9, 0, 0, 0) ",'provider_model':'claude'}]");
	expect("anthropic: two thinking blocks and a redacted one", A,
	    START(IN5) BSTART(0, "{'type':'thinking','thinking':''}")
	    BDELTA(0, "{'type':'thinking_delta','thinking':'a'}")
	    BDELTA(0, "{'type':'signature_delta','signature':'s1'}")
	    BSTART(1, "{'type':'redacted_thinking','data':'xx'}")
	    BSTART(2, "{'type':'thinking','thinking':''}")
	    BDELTA(2, "{'type':'thinking_delta','thinking':'b'}")
	    BDELTA(2, "{'type':'signature_delta','signature':'s2'}")
	    MDELTA("end_turn", "{'output_tokens':3}") MSTOP,
	    "[" REASON("a") "," REASON("\\n") "," REASON("b") ",{'type':"
	    "'end','text':null,'reasoning':'a\\nb','reasoning_signature':"
	    "'[{\\'type\\':\\'thinking\\',\\'thinking\\':\\'a\\',"
	    "\\'signature\\':\\'s1\\'},{\\'type\\':\\'redacted_thinking\\',"
	    "\\'data\\':\\'xx\\'},{\\'type\\':\\'thinking\\',\\'thinking\\':"
	    "\\'b\\',\\'signature\\':\\'s2\\'}]','stop_reason':'stop',"
	    U(5, 3, 0, 0, 0) ",'provider_model':'claude'}]");
	expect("anthropic: two tool_use blocks, empty first fragment", A,
	    START(IN5) BSTART(0, "{'type':'tool_use','id':'t1','name':'f',"
	    "'input':{}}") BDELTA(0, "{'type':'input_json_delta',"
	    "'partial_json':''}") BDELTA(0, "{'type':'input_json_delta',"
	    "'partial_json':'{\\'a\\':'}") BDELTA(0, "{'type':"
	    "'input_json_delta','partial_json':'1}'}") BSTOP(0)
	    BSTART(1, "{'type':'tool_use','id':'t2','name':'now','input':"
	    "{}}") BSTOP(1) MDELTA("tool_use", "{'output_tokens':20}")
	    MSTOP,
	    "[" CALL(0, "t1", "f", "") "," CALL(0, "t1", "f", "{\\'a\\':")
	    "," CALL(0, "t1", "f", "1}") "," CALL(1, "t2", "now", "")
	    ",{'type':'end','text':null,'tool_calls':[{'id':'t1','name':'f',"
	    "'arguments':{'a':1}},{'id':'t2','name':'now','arguments':{}}],"
	    "'stop_reason':'tool_use'," U(5, 20, 0, 0, 0) ","
	    "'provider_model':'claude'}]");
	expect("anthropic: tool input whole in the block start", A,
	    START(IN5) BSTART(0, "{'type':'tool_use','id':'t','name':'f',"
	    "'input':{'a':1}}") BSTOP(0) MDELTA("tool_use",
	    "{'output_tokens':3}") MSTOP,
	    "[" CALL(0, "t", "f", "") "," CALL(0, "t", "f", "{\\'a\\':1}")
	    ",{'type':'end','text':null,'tool_calls':[{'id':'t','name':'f',"
	    "'arguments':{'a':1}}],'stop_reason':'tool_use',"
	    U(5, 3, 0, 0, 0) ",'provider_model':'claude'}]");
	expect("anthropic: interleaved blocks: text in arrival order", A,
	    START(IN5) BSTART(0, "{'type':'text','text':''}")
	    BSTART(1, "{'type':'text','text':''}")
	    BDELTA(0, "{'type':'text_delta','text':'a'}")
	    BDELTA(1, "{'type':'text_delta','text':'b'}")
	    BDELTA(0, "{'type':'text_delta','text':'c'}")
	    MDELTA("end_turn", "{'output_tokens':3}") MSTOP,
	    "[" TEXT("a") "," TEXT("b") "," TEXT("c") ",{'type':'end',"
	    "'text':'abc','stop_reason':'stop'," U(5, 3, 0, 0, 0) ","
	    "'provider_model':'claude'}]");
	expect("anthropic: max_tokens inside a tool call", A,
	    START(IN5) BSTART(0, "{'type':'tool_use','id':'t','name':'f',"
	    "'input':{}}") BDELTA(0, "{'type':'input_json_delta',"
	    "'partial_json':'{\\'a\\': [1,'}") MDELTA("max_tokens",
	    "{'output_tokens':8}") MSTOP,
	    "[" CALL(0, "t", "f", "") "," CALL(0, "t", "f", "{\\'a\\': [1,")
	    ",{'type':'end','text':null,'tool_calls':[{'id':'t','name':'f',"
	    "'arguments':{},'arguments_raw':'{\\'a\\': [1,'}],'stop_reason':"
	    "'length'," U(5, 8, 0, 0, 0) ",'provider_model':'claude'}]");
	expect("anthropic: message_delta usage replaces, nulls do not", A,
	    START("{'input_tokens':5,'cache_read_input_tokens':2,"
	    "'output_tokens':1}") BSTART(0, "{'type':'text','text':''}")
	    BDELTA(0, "{'type':'text_delta','text':'x'}")
	    MDELTA("end_turn", "{'input_tokens':6,'cache_read_input_tokens':"
	    "null,'output_tokens':4}") MSTOP,
	    "[" TEXT("x") ",{'type':'end','text':'x','stop_reason':'stop',"
	    U(6, 4, 2, 0, 0) ",'provider_model':'claude'}]");
	expect("anthropic: overloaded_error mid-stream", A,
	    START(IN5) BSTART(0, "{'type':'text','text':''}")
	    BDELTA(0, "{'type':'text_delta','text':'x'}")
	    AM("error", "{'type':'error','error':{'type':'overloaded_error',"
	    "'message':'Overloaded'}}"),
	    "[" TEXT("x") "," ERR("server", "overloaded_error: Overloaded",
	    "true", "true") "]");
	expect("anthropic: rate_limit_error before any content", A,
	    START(IN5) AM("error", "{'type':'error','error':{'type':"
	    "'rate_limit_error','message':'Too fast'}}"),
	    "[" ERR("rate_limited", "rate_limit_error: Too fast", "true",
	    "false") "]");
	expect("anthropic: invalid_request_error mid-stream", A,
	    AM("error", "{'type':'error','error':{'type':"
	    "'invalid_request_error','message':'prompt is too long'}}"),
	    "[" ERR("context_length", "invalid_request_error: prompt is too "
	    "long", "false", "false") "]");
	expect("anthropic: cut before message_stop", A,
	    START(IN5) BSTART(0, "{'type':'text','text':''}")
	    BDELTA(0, "{'type':'text_delta','text':'x'}")
	    MDELTA("end_turn", "{'output_tokens':2}"),
	    "[" TEXT("x") "," ERR("truncated", "stream ended before its "
	    "terminal event", "true", "true") "]");
	expect("anthropic: events without event lines", A,
	    "data: {'type':'message_start','message':{'model':'m','usage':"
	    "{'input_tokens':1,'output_tokens':1}}}\n\n"
	    "data: {'type':'content_block_delta','index':0,'delta':{'type':"
	    "'text_delta','text':'hi'}}\n\n"
	    "data: {'type':'message_stop'}\n\n",
	    "[" TEXT("hi") ",{'type':'end','text':'hi','stop_reason':'stop',"
	    U(1, 1, 0, 0, 0) ",'provider_model':'m'}]");
	expect("anthropic: events after message_stop ignored", A,
	    START(IN5) MDELTA("end_turn", "{'output_tokens':2}") MSTOP
	    AM("error", "{'type':'error','error':{'type':'api_error',"
	    "'message':'late'}}"),
	    "[{'type':'end','text':null,'stop_reason':'stop',"
	    U(5, 2, 0, 0, 0) ",'provider_model':'claude'}]");
	expect("anthropic: refusal with no content", A,
	    START(IN5) MDELTA("refusal", "{'output_tokens':2}") MSTOP,
	    "[{'type':'end','text':null,'stop_reason':'refusal',"
	    U(5, 2, 0, 0, 0) ",'provider_model':'claude'}]");
}

/* OpenAI Responses. */
static void
responses(void)
{
	const char *A = "openai-responses";

#define COMPLETED(r) RS("response.completed", ",'response':" r)
#define RUSAGE "'usage':{'input_tokens':9,'output_tokens':4," \
	"'input_tokens_details':{'cached_tokens':1}," \
	"'output_tokens_details':{'reasoning_tokens':2}}"

	expect("responses: text", A,
	    RS("response.created", ",'response':{'model':'gpt-5','output':[],"
	    "'status':'in_progress'}")
	    RS("response.output_text.delta", ",'delta':'Hi'")
	    RS("response.output_text.delta", ",'delta':' there'")
	    COMPLETED("{'status':'completed','model':'gpt-5','output':"
	    "[{'type':'message','content':[{'type':'output_text','text':"
	    "'Hi there'}]}]," RUSAGE "}"),
	    "[" TEXT("Hi") "," TEXT(" there") ",{'type':'end','text':"
	    "'Hi there','stop_reason':'stop'," U(8, 4, 1, 0, 2) ","
	    "'provider_model':'gpt-5'}]");
	expect("responses: two summary parts, a call with deltas", A,
	    RS("response.output_item.added", ",'output_index':0,'item':"
	    "{'id':'rs1','type':'reasoning'}")
	    RS("response.reasoning_summary_text.delta", ",'item_id':'rs1',"
	    "'summary_index':0,'delta':'One'")
	    RS("response.reasoning_summary_text.delta", ",'item_id':'rs1',"
	    "'summary_index':1,'delta':'Two'")
	    RS("response.output_item.added", ",'output_index':1,'item':"
	    "{'id':'fc1','type':'function_call','call_id':'call_1','name':"
	    "'f','arguments':''}")
	    RS("response.function_call_arguments.delta", ",'item_id':'fc1',"
	    "'output_index':1,'delta':'{\\'a\\':'")
	    RS("response.function_call_arguments.delta", ",'item_id':'fc1',"
	    "'output_index':1,'delta':'2}'")
	    RS("response.function_call_arguments.done", ",'item_id':'fc1',"
	    "'output_index':1,'arguments':'{\\'a\\':2}'")
	    COMPLETED("{'status':'completed','output':[{'type':'reasoning',"
	    "'summary':[{'type':'summary_text','text':'One'},{'type':"
	    "'summary_text','text':'Two'}]},{'type':'function_call','call_id':"
	    "'call_1','name':'f','arguments':'{\\'a\\':2}'}]}"),
	    "[" REASON("One") "," REASON("\\n\\n") "," REASON("Two") ","
	    CALL(0, "call_1", "f", "") "," CALL(0, "call_1", "f",
	    "{\\'a\\':") "," CALL(0, "call_1", "f", "2}") ",{'type':'end',"
	    "'text':null,'reasoning':'One\\n\\nTwo','tool_calls':[{'id':"
	    "'call_1','name':'f','arguments':{'a':2}}],'stop_reason':"
	    "'tool_use'," U0 "}]");
	expect("responses: arguments only in the done event", A,
	    RS("response.output_item.added", ",'output_index':0,'item':"
	    "{'id':'fc1','type':'function_call','call_id':'c','name':'f'}")
	    RS("response.function_call_arguments.done", ",'item_id':'fc1',"
	    "'arguments':'{}'")
	    COMPLETED("{'status':'completed','output':[{'type':"
	    "'function_call','call_id':'c','name':'f','arguments':'{}'}]}"),
	    "[" CALL(0, "c", "f", "") "," CALL(0, "c", "f", "{}") ",{'type':"
	    "'end','text':null,'tool_calls':[{'id':'c','name':'f',"
	    "'arguments':{}}],'stop_reason':'tool_use'," U0 "}]");
	expect("responses: completed without output (Codex): items stand in",
	    A,
	    RS("response.output_text.delta", ",'delta':'ok'")
	    RS("response.output_item.done", ",'output_index':0,'item':{"
	    "'type':'message','content':[{'type':'output_text','text':"
	    "'ok'}]}")
	    COMPLETED("{'status':'completed','output':[]," RUSAGE "}"),
	    "[" TEXT("ok") ",{'type':'end','text':'ok','stop_reason':'stop',"
	    U(8, 4, 1, 0, 2) "}]");
	expect("responses: completed without output or items: the deltas",
	    A,
	    RS("response.output_text.delta", ",'delta':'ok'")
	    RS("response.function_call_arguments.delta", ",'item_id':'x',"
	    "'delta':'{}'")
	    COMPLETED("{'status':'completed'}"),
	    "[" TEXT("ok") "," CALL(0, "", "", "") "," CALL(0, "", "", "{}")
	    ",{'type':'end','text':'ok','tool_calls':[{'id':'','name':'',"
	    "'arguments':{}}],'stop_reason':'tool_use'," U0 "}]");
	expect("responses: incomplete is an end with stop_reason length", A,
	    RS("response.output_text.delta", ",'delta':'cut'")
	    RS("response.incomplete", ",'response':{'status':'incomplete',"
	    "'incomplete_details':{'reason':'max_output_tokens'},'output':"
	    "[{'type':'message','content':[{'type':'output_text','text':"
	    "'cut'}]}]}"),
	    "[" TEXT("cut") ",{'type':'end','text':'cut','stop_reason':"
	    "'length'," U0 "}]");
	expect("responses: refusal delta is text", A,
	    RS("response.refusal.delta", ",'delta':'No.'")
	    COMPLETED("{'status':'completed','output':[{'type':'message',"
	    "'content':[{'type':'refusal','refusal':'No.'}]}]}"),
	    "[" TEXT("No.") ",{'type':'end','text':'No.','stop_reason':"
	    "'refusal'," U0 "}]");
	expect("responses: response.failed", A,
	    RS("response.output_text.delta", ",'delta':'a'")
	    RS("response.failed", ",'response':{'status':'failed','error':"
	    "{'code':'server_error','message':'Something broke'}}"),
	    "[" TEXT("a") "," ERR("server", "Something broke", "true",
	    "true") "]");
	expect("responses: error event, rate limit", A,
	    RS("error", ",'code':'rate_limit_exceeded','message':'Slow'"),
	    "[" ERR("rate_limited", "Slow", "true", "false") "]");
	expect("responses: events after completed ignored", A,
	    COMPLETED("{'status':'completed','output':[]}")
	    RS("response.output_text.delta", ",'delta':'late'"),
	    "[{'type':'end','text':null,'stop_reason':'stop'," U0 "}]");
	expect("responses: cut before completed", A,
	    RS("response.output_text.delta", ",'delta':'a'"),
	    "[" TEXT("a") "," ERR("truncated", "stream ended before its "
	    "terminal event", "true", "true") "]");
}

/* Gemini. */
static void
gemini(void)
{
	const char *A = "google-generative-ai";

	expect("gemini: text, finish, usage", A,
	    GG("{'candidates':[{'content':{'role':'model','parts':[{'text':"
	    "'A'}]}}],'usageMetadata':{'promptTokenCount':4},"
	    "'modelVersion':'gemini'}")
	    GG("{'candidates':[{'content':{'parts':[{'text':'B'}]},"
	    "'finishReason':'STOP'}],'usageMetadata':{'promptTokenCount':4,"
	    "'candidatesTokenCount':2,'thoughtsTokenCount':3,"
	    "'cachedContentTokenCount':1}}"),
	    "[" TEXT("A") "," TEXT("B") ",{'type':'end','text':'AB',"
	    "'stop_reason':'stop'," U(3, 5, 1, 0, 3) ",'provider_model':"
	    "'gemini'}]");
	expect("gemini: thought parts, signature", A,
	    GG("{'candidates':[{'content':{'parts':[{'text':'plan','thought':"
	    "true},{'text':'go','thoughtSignature':'sig'}]},'finishReason':"
	    "'STOP'}]}"),
	    "[" REASON("plan") "," TEXT("go") ",{'type':'end','text':'go',"
	    "'reasoning':'plan','reasoning_signature':'sig','stop_reason':"
	    "'stop'," U0 "}]");
	expect("gemini: parallel function calls", A,
	    GG("{'candidates':[{'content':{'parts':[{'functionCall':{'name':"
	    "'f','args':{'a':1}}},{'functionCall':{'name':'g','id':'x'}}]},"
	    "'finishReason':'STOP'}]}"),
	    "[" CALL(0, "call_0", "f", "{\\'a\\':1}") "," CALL(1, "x", "g", "")
	    ",{'type':'end','text':null,'tool_calls':[{'id':'call_0','name':"
	    "'f','arguments':{'a':1}},{'id':'x','name':'g','arguments':{}}],"
	    "'stop_reason':'tool_use'," U0 "}]");
	expect("gemini: events after the finish still count", A,
	    GG("{'candidates':[{'content':{'parts':[{'text':'A'}]},"
	    "'finishReason':'MAX_TOKENS'}]}")
	    GG("{'usageMetadata':{'promptTokenCount':2,"
	    "'candidatesTokenCount':1}}"),
	    "[" TEXT("A") ",{'type':'end','text':'A','stop_reason':'length',"
	    U(2, 1, 0, 0, 0) "}]");
	expect("gemini: blocked prompt", A,
	    GG("{'promptFeedback':{'blockReason':'SAFETY'}}"),
	    "[{'type':'end','text':null,'stop_reason':'content_filter'," U0
	    "}]");
	expect("gemini: no finishReason: cut", A,
	    GG("{'candidates':[{'content':{'parts':[{'text':'A'}]}}]}"),
	    "[" TEXT("A") "," ERR("truncated", "stream ended before its "
	    "terminal event", "true", "true") "]");
	expect("gemini: error event", A,
	    GG("{'error':{'code':429,'message':'Resource exhausted',"
	    "'status':'RESOURCE_EXHAUSTED'}}"),
	    "[" ERR("rate_limited", "RESOURCE_EXHAUSTED: Resource exhausted",
	    "true", "false") "]");
	expect("gemini: an event of another kind is skipped", A,
	    GG("{'responseId':'r1'}")
	    GG("{'candidates':[{'content':{'parts':[{'text':'A'}]},"
	    "'finishReason':'STOP'}]}"),
	    "[" TEXT("A") ",{'type':'end','text':'A','stop_reason':'stop',"
	    U0 "}]");
}

/* Bodies that are no event stream, ceilings, exactly one end. */
static void
glue(void)
{
	struct dialect_stream ds;
	jv target = jv_object(), ev = jv_array();
	char *big;
	int r;

	expect("glue: a JSON error body (Gemini 404)", "google-generative-ai",
	    "{\n  'error': {\n    'code': 404,\n    'message': 'not found',"
	    "\n    'status': 'NOT_FOUND'\n  }\n}\n",
	    "[" ERR("bad_request", "response is not an event stream: "
	    "NOT_FOUND: not found", "false", "false") "]");
	expect("glue: an Anthropic 429 body on a 200", "anthropic-messages",
	    "{'type':'error','error':{'type':'rate_limit_error','message':"
	    "'Too fast'}}",
	    "[" ERR("rate_limited", "response is not an event stream: "
	    "rate_limit_error: Too fast", "true", "false") "]");
	expect("glue: plain text", "openai-completions",
	    "<html>Bad gateway</html>\n",
	    "[" ERR("server", "response is not an event stream", "true",
	    "false") "]");
	expect("glue: a whole answer as JSON (stream ignored)",
	    "openai-completions",
	    "{'model':'m','choices':[{'message':{'content':'Hi','tool_calls':"
	    "[{'id':'c','function':{'name':'f','arguments':'{}'}}]},"
	    "'finish_reason':'tool_calls'}]}",
	    "[" TEXT("Hi") "," CALL(0, "c", "f", "{}") ",{'type':'end',"
	    "'text':'Hi','tool_calls':[{'id':'c','name':'f','arguments':{}}],"
	    "'stop_reason':'tool_use'," U0 ",'provider_model':'m'}]");
	expect("glue: an empty body", "anthropic-messages", "",
	    "[" ERR("truncated", "stream ended before its terminal event",
	    "true", "false") "]");

	/* Ceilings: on the body and on one event. */
	dialect_stream_init(&ds, &dialect_openai_completions, target, 0, 20);
	r = dialect_stream_feed(&ds, "data: {\"choices\":[]}\n\n", 22, &ev);
	{
		jv e = jv_array_get(jv_copy(ev), 0);

		ok(r == 1 && jv_array_length(jv_copy(ev)) == 1 &&
		    json_peek_string(e, "type") != NULL &&
		    strcmp(json_peek_string(e, "type"), "error") == 0,
		    "glue: a body over max_body fails");
		jv_free(e);
	}
	r = dialect_stream_feed(&ds, DONE, strlen(DONE), &ev);
	ok(r == 1 && jv_array_length(jv_copy(ev)) == 1,
	    "glue: after the error, feeding adds nothing");
	ok(dialect_stream_finish(&ds, &ev) == 0 &&
	    jv_array_length(jv_copy(ev)) == 1,
	    "glue: nor does finishing");
	dialect_stream_release(&ds);
	jv_free(ev);

	ev = jv_array();
	dialect_stream_init(&ds, &dialect_openai_completions, target, 64, 0);
	big = xmalloc(200);
	memset(big, 'x', 200);
	memcpy(big, "data: ", 6);
	r = dialect_stream_feed(&ds, big, 200, &ev);
	{
		jv e = jv_array_get(jv_copy(ev), 0);
		jv err = json_get(e, "error");

		ok(r == 1 && jv_array_length(jv_copy(ev)) == 1,
		    "glue: an event over max_event fails at the ceiling");
		is_str(json_peek_string(err, "message"),
		    "stream event over 64 bytes", "glue: ...saying so");
		jv_free(err);
		jv_free(e);
	}
	dialect_stream_release(&ds);
	jv_free(ev);
	free(big);

	/* The end goes out once, whatever comes after. */
	ev = jv_array();
	dialect_stream_init(&ds, &dialect_openai_completions, target, 0, 0);
	r = dialect_stream_feed(&ds, DONE DONE, 2 * strlen(DONE), &ev);
	ok(r == 1 && jv_array_length(jv_copy(ev)) == 1 && ds.ended == 1,
	    "glue: [DONE] ends the answer");
	r = dialect_stream_feed(&ds, "garbage", 7, &ev);
	ok(r == 1 && dialect_stream_finish(&ds, &ev) == 1 &&
	    jv_array_length(jv_copy(ev)) == 1,
	    "glue: one end, whatever comes after");
	dialect_stream_release(&ds);
	jv_free(ev);
	jv_free(target);
}

/* The echo provider, through the same path. */
static void
echo(void)
{
	static const char *const prompts[] = {
		"{'messages':[{'role':'user','content':'Hello there, world'}]}",
		"{'messages':[{'role':'user','content':''}]}",
		"{'system':'be nice','messages':[{'role':'user','content':"
		"'\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
		"\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xf0\x9f\x99\x82\xf0"
		"\x9f\x99\x82 ok\\n\\n  x'}]}",
	};
	struct buf body, text;
	size_t i;
	int k, n, ended, good;

	for (i = 0; i < nitems(prompts); i++) {
		char *q = Q(prompts[i]);
		jv canon = jv_parse(q), want, events, e, end = jv_invalid();

		buf_init(&body, 0);
		buf_init(&text, 0);
		ok(dialect_echo_stream(canon, &body) == 0,
		    "echo %zu: the stream is made", i);
		events = run("echo", body.data, body.len, 1, &ended);
		n = jv_array_length(jv_copy(events));
		good = 1;
		for (k = 0; k < n; k++) {
			e = jv_array_get(jv_copy(events), k);
			if (strcmp(json_peek_string(e, "type"), "text") == 0) {
				const char *d = json_peek_string(e, "delta");

				good &= strlen(d) > 0 &&
				    strlen(d) <= ECHO_DELTA_MAX;
				buf_puts(&text, d);
				jv_free(e);
			} else {
				jv_free(end);
				end = e;
			}
		}
		dialect_echo_answer(canon, &want);
		ok(good && ended && strcmp(buf_cstr(&text),
		    json_peek_string(want, "text")) == 0,
		    "echo %zu: deltas of at most %d bytes make the text", i,
		    ECHO_DELTA_MAX);
		end = jv_object_delete(end, jv_string("type"));
		if (!ok(jv_equal(end, jv_copy(want)) == 1,
		    "echo %zu: the end is dialect_echo_answer's", i))
			show("events", events);
		jv_free(want);
		jv_free(events);
		jv_free(canon);
		buf_release(&body);
		buf_release(&text);
		free(q);
	}
}

/* Error words to the status classify.h reads. */
static void
statuses(void)
{
	static const struct {
		const char	*info;
		int		 status;
	} t[] = {
		{ "{'code':'503'}", 503 },
		{ "{'code':'429','type':'server_error'}", 429 },
		{ "{'type':'overloaded_error'}", 529 },
		{ "{'code':'insufficient_quota'}", 429 },
		{ "{'type':'authentication_error'}", 401 },
		{ "{'type':'not_found_error'}", 404 },
		{ "{'type':'RESOURCE_EXHAUSTED'}", 0 },
		{ "{'code':'1234'}", 0 },
		{ "{'message':'rate_limit'}", 0 },
	};
	size_t i;
	double d;

	for (i = 0; i < nitems(t); i++) {
		char *q = Q(t[i].info);
		jv v = dialect_event_status(jv_parse(q));

		if (!json_peek_number(v, "status", &d))
			d = 0;
		is_int((long long)d, t[i].status, "dialect_event_status %s",
		    q);
		jv_free(v);
		free(q);
	}
}

int
main(void)
{
	chat();
	chat_fast();
	anthropic();
	responses();
	gemini();
	glue();
	echo();
	statuses();
	json_release();
	return done();
}
