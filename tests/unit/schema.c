/*
 * Unit tests for lib/schema, table-driven: each case changes one value of
 * a valid catalog (or of an empty configuration) and gives what the
 * strict catalog check and the lenient configuration check must say: the
 * result, the key path in where, and a part of the message.  JSON in the
 * tables uses ' for " to stay readable.
 */
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "schema.h"
#include "tap.h"
#include "xalloc.h"

#define CAT	"{'version':1,'providers':{'zai':{'name':'Z.ai'," \
		"'baseUrl':'https://api.z.ai','api':'openai-completions'," \
		"'auth':'bearer','env':['ZAI_API_KEY'],'models':[{'id':'glm'," \
		"'name':'GLM','reasoning':true,'input':['text','image']," \
		"'contextWindow':128000,'maxTokens':4096,'cost':{'input':1," \
		"'output':2,'cacheRead':0,'cacheWrite':0}}]}}}"
#define CONF	"{}"
#define M0	"'providers','zai','models',0"
#define SKIP	2	/* the check is not asked about */

static const struct {
	const char	*base;
	const char	*path;	/* a jq path as a JSON array */
	const char	*value;	/* NULL deletes the path */
	int		 cr;	/* schema_catalog */
	const char	*cwhere, *cmsg;
	int		 fr;	/* schema_config */
	const char	*fwhere, *fmsg;
	const char	*what;
} tests[] = {
	{ CAT, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, "a valid catalog" },
	{ CAT, "['version']", NULL, -1, "version", "missing version",
	    0, NULL, NULL, "no version" },
	{ CAT, "['version']", "0", -1, "version", "positive integer",
	    0, NULL, NULL, "version 0" },
	{ CAT, "['providers','zai','name']", NULL,
	    -1, "providers.zai.name", "missing name", 0, NULL, NULL,
	    "provider without a name" },
	{ CAT, "['providers','zai','auth']", NULL,
	    -1, "providers.zai.auth", "missing auth", 0, NULL, NULL,
	    "provider without auth" },
	{ CAT, "['providers','zai','models']", NULL,
	    -1, "providers.zai.models", "missing models", 0, NULL, NULL,
	    "provider without models" },
	{ CAT, "[" M0 ",'cost']", NULL,
	    -1, "providers.zai.models[0].cost", "missing cost", 0, NULL, NULL,
	    "model without cost" },
	{ CAT, "[" M0 ",'cost','cacheWrite']", NULL,
	    -1, "providers.zai.models[0].cost.cacheWrite", "missing cacheWrite",
	    0, NULL, NULL, "cost without cacheWrite" },
	{ CAT, "[" M0 ",'contextWindow']", NULL,
	    -1, "providers.zai.models[0].contextWindow", "missing",
	    0, NULL, NULL, "model without contextWindow" },
	{ CAT, "[" M0 ",'id']", NULL,
	    -1, "providers.zai.models[0].id", "missing id",
	    -1, "providers.zai.models[0].id", "missing id",
	    "model without an id" },
	{ CAT, "['providers','zai','baseUrl']", "42",
	    -1, "providers.zai.baseUrl", "expected string, got number",
	    -1, "providers.zai.baseUrl", "expected string, got number",
	    "baseUrl a number" },
	{ CAT, "['providers','zai','api']", "'foo'",
	    -1, "providers.zai.api", "unknown value 'foo'",
	    -1, "providers.zai.api", "unknown value 'foo'", "unknown api" },
	{ CAT, "['providers','zai','auth']", "'basic'",
	    -1, "providers.zai.auth", "unknown value 'basic'",
	    -1, "providers.zai.auth", "unknown value 'basic'",
	    "unknown auth scheme" },
	{ CAT, "['providers','zai','env']", "'ZAI_API_KEY'",
	    -1, "providers.zai.env", "expected array",
	    -1, "providers.zai.env", "expected array", "env a string" },
	{ CAT, "['providers','zai','env',1]", "1",
	    -1, "providers.zai.env[1]", "expected string",
	    -1, "providers.zai.env[1]", "expected string",
	    "env with a number" },
	{ CAT, "['providers','zai','models']", "{}",
	    -1, "providers.zai.models", "expected array, got object",
	    -1, "providers.zai.models", "expected array, got object",
	    "models an object" },
	{ CAT, "[" M0 "]", "'glm'",
	    -1, "providers.zai.models[0]", "expected object",
	    -1, "providers.zai.models[0]", "expected object",
	    "a model that is a string" },
	{ CAT, "['providers','zai','models',1]", "{'id':'b','maxTokens':-5}",
	    -1, "providers.zai.models[1].name", "missing name",
	    -1, "providers.zai.models[1].maxTokens", "positive integer",
	    "the second model" },
	{ CAT, "[" M0 ",'contextWindow']", "'big'",
	    -1, "providers.zai.models[0].contextWindow", "expected number",
	    -1, "providers.zai.models[0].contextWindow", "expected number",
	    "contextWindow a string" },
	{ CAT, "[" M0 ",'maxTokens']", "1.5",
	    -1, "providers.zai.models[0].maxTokens", "positive integer",
	    -1, "providers.zai.models[0].maxTokens", "positive integer",
	    "maxTokens a fraction" },
	{ CAT, "[" M0 ",'cost','input']", "-1",
	    -1, "providers.zai.models[0].cost.input", "must not be negative",
	    -1, "providers.zai.models[0].cost.input", "must not be negative",
	    "a negative price" },
	{ CAT, "[" M0 ",'reasoning']", "'yes'",
	    -1, "providers.zai.models[0].reasoning",
	    "expected true or false, got string",
	    -1, "providers.zai.models[0].reasoning",
	    "expected true or false, got string", "reasoning a string" },
	{ CAT, "[" M0 ",'reasoning']", "false", 0, NULL, NULL, 0, NULL, NULL,
	    "reasoning false" },
	{ CAT, "[" M0 ",'input',1]", "'audio'",
	    -1, "providers.zai.models[0].input[1]", "unknown value 'audio'",
	    -1, "providers.zai.models[0].input[1]", "unknown value 'audio'",
	    "an unknown input kind" },
	{ CAT, "[" M0 ",'thinkingLevelMap']", "{'high':'h','off':null}",
	    0, NULL, NULL, 0, NULL, NULL, "a thinking map, null allowed" },
	{ CAT, "[" M0 ",'thinkingLevelMap']", "{'ultra':'u'}",
	    -1, "providers.zai.models[0].thinkingLevelMap.ultra",
	    "unknown thinking level 'ultra'",
	    -1, "providers.zai.models[0].thinkingLevelMap.ultra",
	    "unknown thinking level 'ultra'", "an unknown thinking level" },
	{ CAT, "[" M0 ",'thinkingLevelMap']", "{'high':1}",
	    -1, "providers.zai.models[0].thinkingLevelMap.high",
	    "expected string",
	    -1, "providers.zai.models[0].thinkingLevelMap.high",
	    "expected string", "a thinking level mapped to a number" },
	{ CAT, "[" M0 ",'type']", "'rerank'",
	    -1, "providers.zai.models[0].type", "unknown value 'rerank'",
	    -1, "providers.zai.models[0].type", "unknown value 'rerank'",
	    "an unknown model type" },
	{ CAT, "[" M0 ",'limits','tpm']", "0",
	    -1, "providers.zai.models[0].limits.tpm", "positive integer",
	    -1, "providers.zai.models[0].limits.tpm", "positive integer",
	    "a model limit of 0" },
	{ CAT, "['providers','zai','headers']", "{'X-A':'a','X-B':1}",
	    -1, "providers.zai.headers.X-B", "expected string",
	    -1, "providers.zai.headers.X-B", "expected string",
	    "a header value that is a number" },
	{ CAT, "['providers','zai','limits']", "{'rpm':0}",
	    -1, "providers.zai.limits.rpm", "positive integer",
	    -1, "providers.zai.limits.rpm", "positive integer",
	    "a provider limit of 0" },
	{ CAT, "['providers','zai','limits']", "{'rpm':60,'concurrency':4}",
	    0, NULL, NULL, 0, NULL, NULL, "provider limits" },
	{ CAT, "['providers','zai','families']",
	    "[{'match':'glm-*','template':'glm'}]",
	    0, NULL, NULL, 0, NULL, NULL, "a family" },
	{ CAT, "['providers','zai','families']",
	    "[{'match':'glm-*','template':'glm'},"
	    "{'match':'x-*','template':'nope'}]",
	    -1, "providers.zai.families[1].template", "'nope' is not listed",
	    -1, "providers.zai.families[1].template", "'nope' is not listed",
	    "a family template that is not listed" },
	{ CAT, "['providers','zai','families']", "[{'match':1}]",
	    -1, "providers.zai.families[0].match", "expected string",
	    -1, "providers.zai.families[0].match", "expected string",
	    "a family match that is a number" },
	{ CAT, "['providers','zai','endpoint']", "'chat'",
	    -1, "providers.zai.endpoint", "unknown endpoint 'chat'",
	    0, NULL, NULL, "an endpoint not in endpoints (the catalog's "
	    "may define it)" },
	{ CAT, "['providers','zai','endpoint']", "1",
	    -1, "providers.zai.endpoint", "expected string",
	    -1, "providers.zai.endpoint", "expected string",
	    "an endpoint that is a number" },
	{ CAT, "['providers','zai','endpoints']", "{'chat':'/v1/chat'}",
	    0, NULL, NULL, 0, NULL, NULL, "endpoints" },
	{ CAT, "['providers','zai','anyModel']", "true",
	    -1, "providers.zai.modelDefaults", "missing modelDefaults",
	    0, NULL, NULL, "anyModel without modelDefaults" },
	{ CAT, "['providers','zai','anyModel']", "'yes'",
	    -1, "providers.zai.anyModel", "expected true or false",
	    -1, "providers.zai.anyModel", "expected true or false",
	    "anyModel a string" },
	{ CAT, "['providers','zai','modelOverrides']", "{'glm':{'name':'G'}}",
	    0, NULL, NULL, 0, NULL, NULL, "an override needs no id" },
	{ CAT, "['providers','zai','modelOverrides']",
	    "{'glm':{'maxTokens':0}}",
	    -1, "providers.zai.modelOverrides.glm.maxTokens",
	    "positive integer",
	    -1, "providers.zai.modelOverrides.glm.maxTokens",
	    "positive integer", "an override with a bad field" },
	{ CAT, "['providers','zai','modelOverrides']", "{'glm':5}",
	    -1, "providers.zai.modelOverrides.glm", "expected object",
	    -1, "providers.zai.modelOverrides.glm", "expected object",
	    "an override that is a number" },
	{ CAT, "['providers','a/b']", "{}",
	    -1, "providers.a/b", "provider name",
	    -1, "providers.a/b", "provider name", "a provider name with '/'" },
	{ CAT, "['providers','zai','whatever']", "true",
	    SKIP, NULL, NULL, 0, NULL, NULL, "an unknown provider key" },
	{ CAT, "['providers']", "[]",
	    -1, "providers", "expected object",
	    -1, "providers", "expected object", "providers an array" },
	{ CAT, "['providers','zai']", "'zai'",
	    -1, "providers.zai", "expected object",
	    -1, "providers.zai", "expected object", "a provider string" },
	{ "[]", NULL, NULL, -1, "", NULL, -1, "", NULL,
	    "a document that is an array" },
	{ CONF, NULL, NULL, -1, "version", "missing version",
	    0, NULL, NULL, "an empty document" },
	{ CONF, "['foo']", "1", SKIP, NULL, NULL, 0, NULL, NULL,
	    "an unknown top-level key" },
	{ CONF, "['providers','zai']", "{'baseUrl':'http://localhost'}",
	    SKIP, NULL, NULL, 0, NULL, NULL, "a provider with one field" },
	{ CONF, "['providers','zai']", "{'models':[{'id':'m'}]}",
	    SKIP, NULL, NULL, 0, NULL, NULL, "a model with only an id" },
	{ CONF, "['providers','zai']", "{'apiKey':'$K','apiKeys':['a','b']}",
	    SKIP, NULL, NULL, 0, NULL, NULL, "apiKey and apiKeys" },
	{ CONF, "['providers','zai']", "{'apiKey':5}",
	    SKIP, NULL, NULL, -1, "providers.zai.apiKey", "expected string",
	    "apiKey a number" },
	{ CONF, "['providers','zai']", "{'apiKeys':['a',2]}",
	    SKIP, NULL, NULL, -1, "providers.zai.apiKeys[1]", "expected string",
	    "apiKeys with a number" },
	{ CONF, "['models','fast']", "'zai/glm'",
	    SKIP, NULL, NULL, 0, NULL, NULL, "an alias to a model" },
	{ CONF, "['models','fast']",
	    "{'model':'zai/glm','fallbacks':['x/y'],'params':{'t':1}}",
	    SKIP, NULL, NULL, 0, NULL, NULL, "an alias object" },
	{ CONF, "['models','fast']", "{'weights':{'a/x':5,'b/y':0}}",
	    SKIP, NULL, NULL, 0, NULL, NULL, "a weighted alias" },
	{ CONF, "['models','fast']", "{'fallbacks':['a/b']}",
	    SKIP, NULL, NULL, -1, "models.fast", "needs",
	    "an alias without model or weights" },
	{ CONF, "['models','fast']", "{'model':'m','fallbacks':'x'}",
	    SKIP, NULL, NULL, -1, "models.fast.fallbacks", "expected array",
	    "fallbacks a string" },
	{ CONF, "['models','fast']", "{'weights':{'a/x':5,'b/y':-1}}",
	    SKIP, NULL, NULL, -1, "models.fast.weights", "non-negative",
	    "a negative weight" },
	{ CONF, "['models','fast']", "{'weights':{}}",
	    SKIP, NULL, NULL, -1, "models.fast.weights", "no weights",
	    "no weights" },
	{ CONF, "['models','fast']", "{'weights':{'a/x':'5'}}",
	    SKIP, NULL, NULL, -1, "models.fast.weights.a/x", "expected number",
	    "a weight that is a string" },
	{ CONF, "['models','fast']", "5",
	    SKIP, NULL, NULL, -1, "models.fast", "expected a model reference",
	    "an alias that is a number" },
	{ CONF, "['models']", "[]",
	    SKIP, NULL, NULL, -1, "models", "expected object",
	    "models an array" },
	{ CONF, "['defaults']", "{'model':'fast','embed_model':'e'}",
	    SKIP, NULL, NULL, 0, NULL, NULL, "defaults" },
	{ CONF, "['defaults','model']", "1",
	    SKIP, NULL, NULL, -1, "defaults.model", "expected string",
	    "a default model that is a number" },
	{ CONF, "['defaults']", "5",
	    SKIP, NULL, NULL, -1, "defaults", "expected object",
	    "defaults a number" },
	{ CONF, "['limits']", "{'zai':{'rpm':10,'concurrency':2}}",
	    SKIP, NULL, NULL, 0, NULL, NULL, "limits" },
	{ CONF, "['limits']", "{'zai':{'rpm':0}}",
	    SKIP, NULL, NULL, -1, "limits.zai.rpm", "positive integer",
	    "a limit of 0" },
	{ CONF, "['limits']", "{'zai':5}",
	    SKIP, NULL, NULL, -1, "limits.zai", "expected object",
	    "a limit that is a number" },
};

/* Returns s with every ' turned into " (caller frees). */
static char *
dq(const char *s)
{
	char *p = xstrdup(s), *q;

	for (q = p; *q; q++)
		if (*q == '\'')
			*q = '"';
	return p;
}

static jv
parse(const char *s)
{
	char *t = dq(s);
	jv v = jv_parse(t);

	if (!jv_is_valid(v))
		diag("bad test JSON: %s", t);
	free(t);
	return v;
}

static void
check(int (*fn)(jv, struct schema_where *, char *), const char *name,
    jv doc, int r, const char *where, const char *msg, const char *what)
{
	struct schema_where w;
	char err[ERRBUF_MAX], ws[256];
	int got;

	if (r == SKIP)
		return;
	err[0] = '\0';
	memset(&w, 0, sizeof(w));
	got = fn(doc, &w, err);
	is_int(got, r, "%s: %s: returns %d", name, what, r);
	if (r != -1 || got != -1)
		return;
	schema_where_string(&w, ws, sizeof(ws));
	is_str(ws, where, "%s: %s: where", name, what);
	if (msg)
		ok(strstr(err, msg) != NULL, "%s: %s: message \"%s\" has "
		    "\"%s\"", name, what, err, msg);
}

static void
test_table(void)
{
	size_t i;
	jv doc;

	for (i = 0; i < nitems(tests); i++) {
		doc = parse(tests[i].base);
		if (tests[i].path && tests[i].value)
			doc = jv_setpath(doc, parse(tests[i].path),
			    parse(tests[i].value));
		else if (tests[i].path)
			doc = jv_delpaths(doc, jv_array_append(jv_array(),
			    parse(tests[i].path)));
		if (!jv_is_valid(doc)) {
			ok(0, "%s: test document", tests[i].what);
			jv_free(doc);
			continue;
		}
		check(schema_catalog, "catalog", doc, tests[i].cr,
		    tests[i].cwhere, tests[i].cmsg, tests[i].what);
		check(schema_config, "config", doc, tests[i].fr,
		    tests[i].fwhere, tests[i].fmsg, tests[i].what);
		is_int(jv_get_refcnt(doc), 1, "%s: the document is borrowed",
		    tests[i].what);
		jv_free(doc);
	}
}

static void
test_where(void)
{
	struct schema_where w;
	char out[64];

	memset(&w, 0, sizeof(w));
	strcpy(w.key[0], "providers");
	strcpy(w.key[1], "zai");
	strcpy(w.key[2], "models");
	strcpy(w.key[3], "12");
	strcpy(w.key[4], "cost");
	w.depth = 5;
	schema_where_string(&w, out, sizeof(out));
	is_str(out, "providers.zai.models[12].cost",
	    "where: keys and a position");
	schema_where_string(&w, out, 8);
	is_str(out, "provide", "where: cut to the buffer");
	schema_where_string(&w, out, 15);
	is_str(out, "providers.zai.", "where: cut inside a key");
	w.depth = 0;
	strcpy(out, "junk");
	schema_where_string(&w, out, sizeof(out));
	is_str(out, "", "where: depth 0 is the empty string");
	w.depth = 2;
	strcpy(w.key[0], "0");
	strcpy(w.key[1], "x");
	schema_where_string(&w, out, sizeof(out));
	is_str(out, "[0].x", "where: a position first");

	ok(schema_in("bearer", schema_auth_schemes), "schema_in: bearer");
	ok(!schema_in("basic", schema_auth_schemes), "schema_in: basic");
	ok(schema_in("anthropic-messages", schema_apis),
	    "schema_in: anthropic-messages");
	ok(!schema_in("", schema_apis), "schema_in: the empty string");
	ok(schema_in("off", schema_thinking_levels) &&
	    schema_in("xhigh", schema_thinking_levels),
	    "schema_in: thinking levels");
}

int
main(void)
{
	test_table();
	test_where();
	return done();
}
