/*
 * Unit tests for lib/request: every loose form request.h accepts maps to
 * the one canonical shape, and every check fails with its message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jv.h>

#include "errbuf.h"
#include "request.h"
#include "tap.h"

static const char *target_plain = "{\"provider\":\"x\",\"model\":\"m\"}";

/*
 * Normalizes rec for target; want is the canonical JSON, or "error:" and
 * a substring of the expected message.
 */
static void
check(const char *rec, const char *target, const char *want,
    const char *name)
{
	char err[ERRBUF_MAX] = "";
	jv r = jv_parse(rec), t = jv_parse(target ? target : target_plain);
	jv out, w;
	int rc;

	rc = request_normalize(r, t, &out, err);
	if (strncmp(want, "error:", 6) == 0) {
		if (!ok(rc == -1 && strstr(err, want + 6) != NULL, "%s", name))
			diag("rc %d, err '%s'", rc, err);
		if (rc == 0)
			jv_free(out);
	} else if (rc == -1) {
		ok(0, "%s", name);
		diag("unexpected error: %s", err);
	} else {
		w = jv_parse(want);
		if (!ok(jv_equal(jv_copy(out), jv_copy(w)), "%s", name)) {
			jv d = jv_dump_string(jv_copy(out), 0);

			diag("got:  %s", jv_string_value(d));
			jv_free(d);
			d = jv_dump_string(jv_copy(w), 0);
			diag("want: %s", jv_string_value(d));
			jv_free(d);
		}
		jv_free(w);
		jv_free(out);
	}
	jv_free(r);
	jv_free(t);
}

static char *
tmpfile_with(const void *data, size_t n)
{
	char path[] = "/tmp/llm-request-test.XXXXXX", *p;
	int fd = mkstemp(path);

	if (fd == -1 || write(fd, data, n) != (ssize_t)n)
		return NULL;
	close(fd);
	p = malloc(sizeof(path));
	memcpy(p, path, sizeof(path));
	return p;
}

static void
test_basic(void)
{
	check("{\"prompt\":\"Hi\"}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":"
	    "[{\"type\":\"text\",\"text\":\"Hi\"}]}]}",
	    "prompt is one user message");
	check("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":"
	    "[{\"type\":\"text\",\"text\":\"Hi\"}]}]}",
	    "string content is one text part");
	check("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
	    "{\"role\":\"assistant\",\"content\":\"b\"}],\"prompt\":\"c\"}",
	    NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":"
	    "[{\"type\":\"text\",\"text\":\"a\"}]},{\"role\":\"assistant\","
	    "\"content\":[{\"type\":\"text\",\"text\":\"b\"}]},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\","
	    "\"text\":\"c\"}]}]}",
	    "prompt appended after messages");
	check("{\"id\":\"q1\",\"meta\":{\"a\":1},\"model\":\"x\","
	    "\"prompt\":\"Hi\",\"temperature\":null}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":"
	    "[{\"type\":\"text\",\"text\":\"Hi\"}]}]}",
	    "id, meta, model and nulls do not reach the canonical form");
	check("{}", NULL, "error:no \"prompt\" or \"messages\"",
	    "a request without messages is an error");
	check("{\"messages\":[{\"role\":\"system\",\"content\":\"s\"}]}",
	    NULL, "error:no \"prompt\"", "only a system message is an error");
	check("[1]", NULL, "error:not an object", "a non-object request");
	check("{\"prompt\":5}", NULL, "error:prompt",
	    "a number prompt is an error");
	check("{\"messages\":{}}", NULL, "error:messages is not a list",
	    "messages must be a list");
}

static void
test_system(void)
{
	check("{\"system\":\"A\",\"messages\":[{\"role\":\"system\","
	    "\"content\":\"B\"},{\"role\":\"developer\",\"content\":"
	    "[{\"type\":\"text\",\"text\":\"C\"}]},{\"role\":\"user\","
	    "\"content\":\"u\"}]}", NULL,
	    "{\"system\":\"A\\n\\nB\\n\\nC\",\"messages\":[{\"role\":\"user\","
	    "\"content\":[{\"type\":\"text\",\"text\":\"u\"}]}]}",
	    "record system, system and developer messages joined");
	check("{\"system\":\"\",\"prompt\":\"x\"}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":"
	    "[{\"type\":\"text\",\"text\":\"x\"}]}]}",
	    "empty system is absent");
	check("{\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":"
	    "\"image\",\"url\":\"https://x/i.png\"}]},{\"role\":\"user\","
	    "\"content\":\"u\"}]}", NULL, "error:can only be text",
	    "an image in a system message is an error");
	check("{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}",
	    NULL, "error:messages[0]: unknown role 'wizard'",
	    "unknown role");
	check("{\"messages\":[{\"content\":\"x\"}]}", NULL,
	    "error:has no \"role\"", "missing role");
	check("{\"messages\":[{\"role\":\"user\"}]}", NULL,
	    "error:no \"content\"", "user message without content");
	check("{\"messages\":[{\"role\":\"user\",\"content\":5}]}", NULL,
	    "error:content is a number", "number content is an error");
}

static void
test_parts(void)
{
	check("{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"image_url\","
	    "\"image_url\":{\"url\":\"https://x/i.png\",\"detail\":\"low\"}},"
	    "{\"type\":\"image\",\"url\":\"https://y/j.jpg\"}]}]}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"text\",\"text\":\"a\"},"
	    "{\"type\":\"image\",\"url\":\"https://x/i.png\"},"
	    "{\"type\":\"image\",\"url\":\"https://y/j.jpg\"}]}]}",
	    "OpenAI image_url and our url form");
	check("{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image_url\",\"image_url\":"
	    "{\"url\":\"data:image/png;base64,iVBORw0KGgo=\"}}]}]}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image\",\"mime\":\"image/png\","
	    "\"data\":\"iVBORw0KGgo=\"}]}]}",
	    "data: URL split into mime and data");
	check("{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image\",\"data\":\"/9j/4AAQSkZJRg==\"}]}]}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image\",\"mime\":\"image/jpeg\","
	    "\"data\":\"/9j/4AAQSkZJRg==\"}]}]}",
	    "raw base64 data: MIME sniffed (jpeg)");
	check("{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image\",\"data\":\"R0lG\\nODlh\",\"mime\":"
	    "\"image/gif\"}]}]}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image\",\"mime\":\"image/gif\","
	    "\"data\":\"R0lGODlh\"}]}]}",
	    "base64 line breaks dropped, given mime kept");
	check("{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image\",\"data\":\"not base64!\"}]}]}", NULL,
	    "error:not base64", "bad base64 is an error");
	check("{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image\",\"data\":\"aGVsbG8gd29ybGQ=\"}]}]}", NULL,
	    "error:not a png, jpeg, gif or webp",
	    "base64 of a non-image without mime is an error");
	check("{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image\",\"url\":\"data:text/plain,hello\"}]}]}",
	    NULL, "error:not base64", "a non-base64 data: URL is an error");
	check("{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image\",\"source\":{\"type\":\"base64\","
	    "\"media_type\":\"image/webp\",\"data\":\"UklGRg==\"}}]}]}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"image\",\"mime\":\"image/webp\","
	    "\"data\":\"UklGRg==\"}]}]}",
	    "Anthropic's base64 source");
	check("{\"messages\":[{\"role\":\"user\",\"content\":["
	    "{\"type\":\"audio\",\"data\":\"x\"}]}]}", NULL,
	    "error:messages[0]: content[0]: unknown part type 'audio'",
	    "an unknown part type names its place");
}

static void
test_image_files(void)
{
	static const unsigned char png[] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13
	};
	static const unsigned char webp[] = {
		'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'E', 'B', 'P'
	};
	char *pp = tmpfile_with(png, sizeof(png));
	char *wp = tmpfile_with(webp, sizeof(webp));
	char *tp = tmpfile_with("hello", 5);
	char rec[512], want[512];

	if (pp == NULL || wp == NULL || tp == NULL) {
		ok(0, "temporary files");
		return;
	}
	snprintf(rec, sizeof(rec), "{\"messages\":[{\"role\":\"user\","
	    "\"content\":[{\"type\":\"image\",\"path\":\"%s\"}]}]}", pp);
	snprintf(want, sizeof(want), "{\"messages\":[{\"role\":\"user\","
	    "\"content\":[{\"type\":\"image\",\"mime\":\"image/png\","
	    "\"data\":\"iVBORw0KGgoAAAAN\"}]}]}");
	check(rec, NULL, want, "png file read, base64, MIME from magic");
	snprintf(rec, sizeof(rec), "{\"messages\":[{\"role\":\"user\","
	    "\"content\":[{\"type\":\"image\",\"path\":\"%s\"}]}]}", wp);
	snprintf(want, sizeof(want), "{\"messages\":[{\"role\":\"user\","
	    "\"content\":[{\"type\":\"image\",\"mime\":\"image/webp\","
	    "\"data\":\"UklGRgQAAABXRUJQ\"}]}]}");
	check(rec, NULL, want, "webp file");
	snprintf(rec, sizeof(rec), "{\"messages\":[{\"role\":\"user\","
	    "\"content\":[{\"type\":\"image\",\"path\":\"%s\"}]}]}", tp);
	check(rec, NULL, "error:not a png, jpeg, gif or webp file",
	    "a text file is not an image");
	check("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"image\",\"path\":\"/nonexistent/x.png\"}]}]}", NULL,
	    "error:No such file or directory",
	    "a missing image file is an error");
	check("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"image\",\"path\":\"/tmp\"}]}]}", NULL,
	    "error:image", "a directory is not an image");
	unlink(pp);
	unlink(wp);
	unlink(tp);
	free(pp);
	free(wp);
	free(tp);
}

static void
test_tool_calls(void)
{
	check("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},"
	    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
	    "{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":"
	    "\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"r\"}]}",
	    NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"q\"}]},{\"role\":\"assistant\",\"content\":"
	    "[],\"tool_calls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":"
	    "{\"a\":1}}]},{\"role\":\"tool\",\"tool_call_id\":\"c1\","
	    "\"name\":\"f\",\"content\":[{\"type\":\"text\",\"text\":\"r\"}]}"
	    "]}",
	    "OpenAI tool call, arguments parsed, tool result gets the name");
	check("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},"
	    "{\"role\":\"assistant\",\"content\":\"\",\"reasoning\":\"hm\","
	    "\"reasoning_signature\":\"sig\",\"tool_calls\":["
	    "{\"id\":\"c1\",\"name\":\"f\",\"arguments\":{\"a\":1}}]},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"name\":\"g\","
	    "\"content\":{\"ok\":true}}]}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"q\"}]},{\"role\":\"assistant\",\"content\":"
	    "[],\"reasoning\":\"hm\",\"reasoning_signature\":\"sig\","
	    "\"tool_calls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":"
	    "{\"a\":1}}]},{\"role\":\"tool\",\"tool_call_id\":\"c1\","
	    "\"name\":\"g\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"{\\\"ok\\\":true}\"}]}]}",
	    "our tool call form, reasoning kept, JSON tool result as text");
	check("{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\","
	    "\"reasoning_content\":\"think\"}]}", NULL,
	    "{\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}],\"reasoning\":\"think\"}]}",
	    "reasoning_content reads as reasoning");
	check("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":["
	    "{\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":"
	    "\"\"}}]}]}", NULL,
	    "{\"messages\":[{\"role\":\"assistant\",\"content\":[],"
	    "\"tool_calls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":"
	    "{}}]}]}",
	    "empty arguments text is {}");
	check("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"c9\",\"content\":\"r\"}]}",
	    NULL, "error:tool result 'c9' answers no earlier tool call",
	    "a tool result without its call");
	check("{\"messages\":[{\"role\":\"tool\",\"content\":\"r\"}]}", NULL,
	    "error:no \"tool_call_id\"", "a tool result without an id");
	check("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":["
	    "{\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":"
	    "\"{oops\"}}]}]}", NULL,
	    "error:tool_calls[0]: tool call 'c1': arguments are not a JSON",
	    "unparsable arguments are an error");
	check("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":["
	    "{\"name\":\"f\"}]}]}", NULL, "error:no \"id\"",
	    "a tool call without an id");
	check("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":["
	    "{\"id\":\"c1\"}]}]}", NULL, "error:no \"name\"",
	    "a tool call without a name");
}

static void
test_tools(void)
{
	check("{\"prompt\":\"x\",\"tools\":[{\"type\":\"function\","
	    "\"function\":{\"name\":\"a\",\"description\":\"A\","
	    "\"parameters\":{\"type\":\"object\"},\"strict\":true}},"
	    "{\"name\":\"b\",\"parameters\":{\"type\":\"object\"}},"
	    "{\"name\":\"c\",\"description\":\"C\",\"input_schema\":"
	    "{\"type\":\"object\",\"properties\":{\"x\":{}}}},"
	    "{\"name\":\"d\"}],\"tool_choice\":\"any\"}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"tools\":["
	    "{\"name\":\"a\",\"description\":\"A\",\"parameters\":"
	    "{\"type\":\"object\"},\"strict\":true},"
	    "{\"name\":\"b\",\"parameters\":{\"type\":\"object\"}},"
	    "{\"name\":\"c\",\"description\":\"C\",\"parameters\":"
	    "{\"type\":\"object\",\"properties\":{\"x\":{}}}},"
	    "{\"name\":\"d\",\"parameters\":{\"type\":\"object\","
	    "\"properties\":{}}}],\"tool_choice\":\"required\"}",
	    "OpenAI, bare and Anthropic tools; any reads as required");
	check("{\"prompt\":\"x\",\"tools\":[{\"name\":\"f\"}],\"tool_choice\":"
	    "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"tools\":[{\"name\":\"f\","
	    "\"parameters\":{\"type\":\"object\",\"properties\":{}}}],"
	    "\"tool_choice\":{\"name\":\"f\"}}",
	    "OpenAI named tool_choice");
	check("{\"prompt\":\"x\",\"tools\":[{\"name\":\"f\"}],\"tool_choice\":"
	    "{\"type\":\"tool\",\"name\":\"g\"}}", NULL,
	    "error:tool_choice names unknown tool 'g'",
	    "tool_choice naming a missing tool");
	check("{\"prompt\":\"x\",\"tool_choice\":{\"type\":\"auto\"}}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"tool_choice\":\"auto\"}",
	    "{\"type\":\"auto\"} reads as auto");
	check("{\"prompt\":\"x\",\"tool_choice\":\"sometimes\"}", NULL,
	    "error:unknown tool_choice 'sometimes'", "bad tool_choice");
	check("{\"prompt\":\"x\",\"tools\":[{\"description\":\"nameless\"}]}",
	    NULL, "error:tools[0]: tool has no \"name\"",
	    "a tool without a name");
	check("{\"prompt\":\"x\",\"tools\":[{\"name\":\"f\"},{\"name\":"
	    "\"f\"}]}", NULL, "error:duplicate tool name 'f'",
	    "duplicate tool names");
	check("{\"prompt\":\"x\",\"tools\":[{\"type\":\"web_search\"}]}",
	    NULL, "error:unsupported tool type 'web_search'",
	    "a non-function tool type");
	check("{\"prompt\":\"x\",\"tools\":[]}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}]}", "an empty tools list is absent");
}

static void
test_knobs(void)
{
	check("{\"prompt\":\"x\",\"max_tokens\":256,\"temperature\":0.2,"
	    "\"top_p\":0.9,\"stop\":\"\\n\\n\"}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"max_tokens\":256,"
	    "\"temperature\":0.2,\"top_p\":0.9,\"stop\":[\"\\n\\n\"]}",
	    "max_tokens, temperature, top_p, stop string as a list");
	check("{\"prompt\":\"x\",\"max_tokens\":0}", NULL,
	    "error:max_tokens is not a positive integer", "max_tokens 0");
	check("{\"prompt\":\"x\",\"max_tokens\":1.5}", NULL,
	    "error:max_tokens is not a positive integer",
	    "fractional max_tokens");
	check("{\"prompt\":\"x\",\"temperature\":\"hot\"}", NULL,
	    "error:temperature is not a number", "string temperature");
	check("{\"prompt\":\"x\",\"stop\":[\"a\",1]}", NULL,
	    "error:stop[1] is not a string", "a number in stop");
	check("{\"prompt\":\"x\"}",
	    "{\"max_tokens\":131072}",
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}]}",
	    "the target's max_tokens is not copied");
}

static void
test_response_format(void)
{
	check("{\"prompt\":\"x\",\"response_format\":{\"type\":"
	    "\"json_schema\",\"json_schema\":{\"name\":\"n\",\"strict\":true,"
	    "\"schema\":{\"type\":\"object\"}}}}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"response_format\":{\"type\":"
	    "\"json_schema\",\"name\":\"n\",\"schema\":{\"type\":\"object\"},"
	    "\"strict\":true}}",
	    "Chat Completions json_schema flattened");
	check("{\"prompt\":\"x\",\"response_format\":{\"type\":"
	    "\"json_schema\",\"schema\":{\"type\":\"object\"}}}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"response_format\":{\"type\":"
	    "\"json_schema\",\"name\":\"response\",\"schema\":"
	    "{\"type\":\"object\"}}}",
	    "flat json_schema, default name");
	check("{\"prompt\":\"x\",\"response_format\":{\"type\":"
	    "\"json_object\"}}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"response_format\":{\"type\":"
	    "\"json_object\"}}", "json_object");
	check("{\"prompt\":\"x\",\"response_format\":{\"type\":\"text\"}}",
	    NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}]}", "text format is dropped");
	check("{\"prompt\":\"x\",\"response_format\":{\"type\":\"yaml\"}}",
	    NULL, "error:unknown response_format type 'yaml'",
	    "unknown response_format");
	check("{\"prompt\":\"x\",\"response_format\":{\"type\":"
	    "\"json_schema\",\"json_schema\":{\"name\":\"n\"}}}", NULL,
	    "error:no \"schema\"", "json_schema without a schema");
}

static void
test_thinking(void)
{
	const char *zai = "{\"thinking_map\":{\"off\":\"disabled\","
	    "\"high\":\"enabled\",\"xhigh\":null}}";

	check("{\"prompt\":\"x\",\"thinking\":\"high\"}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"thinking\":\"high\","
	    "\"thinking_value\":\"high\"}",
	    "no map: the level itself");
	check("{\"prompt\":\"x\",\"thinking\":\"off\"}", zai,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"thinking\":\"off\","
	    "\"thinking_value\":\"disabled\"}", "mapped value");
	check("{\"prompt\":\"x\",\"thinking\":\"xhigh\"}", zai,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"thinking\":\"xhigh\","
	    "\"thinking_value\":null}", "null in the map: unsupported");
	check("{\"prompt\":\"x\",\"thinking\":\"low\"}", zai,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"thinking\":\"low\","
	    "\"thinking_value\":\"low\"}",
	    "a level the map lacks: the level itself");
	check("{\"prompt\":\"x\",\"thinking\":\"max\"}", NULL,
	    "error:unknown thinking level 'max'", "unknown level");
	check("{\"prompt\":\"x\",\"thinking\":true}", NULL,
	    "error:thinking is not a string", "boolean thinking");
}

static void
test_params(void)
{
	check("{\"prompt\":\"x\",\"params\":{\"a\":1,\"o\":{\"p\":2}}}",
	    "{\"params\":{\"a\":0,\"b\":3,\"o\":{\"q\":4}}}",
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"params\":{\"a\":1,\"b\":3,"
	    "\"o\":{\"q\":4,\"p\":2}}}",
	    "target params merged with record params, record wins");
	check("{\"prompt\":\"x\",\"params\":{\"a\":1}}", NULL,
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"params\":{\"a\":1}}",
	    "record params alone");
	check("{\"prompt\":\"x\"}", "{\"params\":{\"b\":2}}",
	    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"x\"}]}],\"params\":{\"b\":2}}",
	    "target params alone");
	check("{\"prompt\":\"x\",\"params\":[1]}", NULL,
	    "error:params is not an object", "params must be an object");
}

static void
test_text(void)
{
	jv c = jv_parse("[{\"type\":\"text\",\"text\":\"a\"},{\"type\":"
	    "\"image\",\"url\":\"u\"},{\"type\":\"text\",\"text\":\"b\"}]");
	jv t = request_text(c);

	is_str(jv_string_value(t), "a\nb", "request_text joins with \\n");
	jv_free(t);
	jv_free(c);
	c = jv_array();
	t = request_text(c);
	is_str(jv_string_value(t), "", "request_text of [] is \"\"");
	jv_free(t);
	jv_free(c);
}

int
main(void)
{
	test_basic();
	test_system();
	test_parts();
	test_image_files();
	test_tool_calls();
	test_tools();
	test_knobs();
	test_response_format();
	test_thinking();
	test_params();
	test_text();
	return done();
}
