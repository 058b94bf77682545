/*
 * Unit tests for lib/classify: HTTP statuses and provider error info to
 * error kinds and retriability (DESIGN.md sections 2 and 5), quota told
 * from rate limits by type, code and message, and transport failures.
 */
#include <string.h>

#include <jv.h>

#include "classify.h"
#include "record.h"
#include "tap.h"

static const struct {
	int		 status;
	const char	*info;		/* {"type","code","message"} */
	enum record_kind kind;
	int		 retriable;
	const char	*what;
} t[] = {
	{ 400, "{}", RECORD_BAD_REQUEST, 0, "400" },
	{ 401, "{}", RECORD_AUTH, 0, "401" },
	{ 402, "{}", RECORD_QUOTA, 0, "402" },
	{ 403, "{}", RECORD_AUTH, 0, "403" },
	{ 404, "{}", RECORD_BAD_REQUEST, 0, "404" },
	{ 408, "{}", RECORD_TIMEOUT, 1, "408" },
	{ 409, "{}", RECORD_SERVER, 1, "409" },
	{ 413, "{}", RECORD_CONTEXT_LENGTH, 0, "413" },
	{ 422, "{}", RECORD_BAD_REQUEST, 0, "422" },
	{ 425, "{}", RECORD_SERVER, 1, "425" },
	{ 429, "{}", RECORD_RATE_LIMITED, 1, "429" },
	{ 500, "{}", RECORD_SERVER, 1, "500" },
	{ 502, "{}", RECORD_SERVER, 1, "502" },
	{ 503, "{}", RECORD_SERVER, 1, "503" },
	{ 504, "{}", RECORD_SERVER, 1, "504" },
	{ 529, "{\"type\":\"overloaded_error\"}", RECORD_SERVER, 1,
	    "529 overloaded" },
	{ 429, "{\"type\":\"insufficient_quota\",\"code\":\"insufficient_quota\","
	    "\"message\":\"You exceeded your current quota, please check your "
	    "plan and billing details.\"}", RECORD_QUOTA, 0,
	    "OpenAI insufficient_quota" },
	{ 429, "{\"code\":\"1113\",\"message\":\"\xe4\xbd\x99\xe9\xa2\x9d"
	    "\xe4\xb8\x8d\xe8\xb6\xb3\"}", RECORD_QUOTA, 0,
	    "Zhipu 1113 (insufficient balance)" },
	{ 429, "{\"code\":1113,\"message\":\"x\"}", RECORD_QUOTA, 0,
	    "Zhipu 1113 as a number" },
	{ 429, "{\"code\":\"1302\",\"message\":\"\xe6\x82\xa8\xe5\xbd\x93"
	    "\xe5\x89\x8d\xe4\xbd\xbf\xe7\x94\xa8\xe8\xaf\xa5" "API\xe7\x9a\x84"
	    "\xe5\xb9\xb6\xe5\x8f\x91\xe6\x95\xb0\xe8\xbf\x87\xe9\xab\x98\"}",
	    RECORD_RATE_LIMITED, 1, "Zhipu 1302 (concurrency too high)" },
	{ 429, "{\"type\":\"RESOURCE_EXHAUSTED\",\"message\":\"You exceeded "
	    "your current quota, please check your plan and billing details. "
	    "Please retry in 44.3s.\"}", RECORD_RATE_LIMITED, 1,
	    "Gemini per-minute quota with a retry delay" },
	{ 429, "{\"type\":\"RESOURCE_EXHAUSTED\",\"message\":\"Quota exceeded "
	    "for metric: generate_content_free_tier_requests per day\"}",
	    RECORD_QUOTA, 0, "a daily quota" },
	{ 429, "{\"type\":\"requests\",\"message\":\"Rate limit reached for "
	    "gpt-4o on requests per min (RPM): Limit 3\"}",
	    RECORD_RATE_LIMITED, 1, "OpenAI rate limit" },
	{ 429, "{\"message\":\"Monthly spending limit reached\"}",
	    RECORD_QUOTA, 0, "a spending limit" },
	{ 400, "{\"type\":\"invalid_request_error\",\"message\":\"Your credit "
	    "balance is too low to access the Anthropic API.\"}",
	    RECORD_QUOTA, 0, "Anthropic credit balance" },
	{ 402, "{\"message\":\"Insufficient Balance\"}", RECORD_QUOTA, 0,
	    "DeepSeek 402" },
	{ 400, "{\"code\":\"context_length_exceeded\",\"message\":\"This "
	    "model's maximum context length is 128000 tokens.\"}",
	    RECORD_CONTEXT_LENGTH, 0, "context length" },
	{ 400, "{\"message\":\"prompt is too long: 210000 tokens > 200000 "
	    "maximum\"}", RECORD_CONTEXT_LENGTH, 0, "Anthropic prompt too long" },
	{ 400, "{\"code\":\"content_filter\",\"message\":\"The response was "
	    "filtered\"}", RECORD_CONTENT_FILTER, 0, "content filter" },
	{ 400, "{\"code\":\"1301\",\"message\":\"unsafe\"}",
	    RECORD_CONTENT_FILTER, 0, "Zhipu 1301" },
};

int
main(void)
{
	size_t i;
	int r;

	for (i = 0; i < nitems(t); i++) {
		jv info = jv_parse(t[i].info);
		enum record_kind k = classify_http(t[i].status, info, &r);

		ok(k == t[i].kind && r == t[i].retriable, "%s: %s, %s",
		    t[i].what, record_kind_name(t[i].kind), t[i].retriable ?
		    "transient" : "final");
		jv_free(info);
	}
	ok(classify_transport(CURLE_OPERATION_TIMEDOUT, &r) ==
	    RECORD_TIMEOUT && r, "a timeout: transient");
	ok(classify_transport(CURLE_PARTIAL_FILE, &r) == RECORD_TRUNCATED &&
	    r, "a truncated body: transient");
	ok(classify_transport(CURLE_RECV_ERROR, &r) == RECORD_NETWORK && r,
	    "a receive error: transient");
	ok(classify_transport(CURLE_COULDNT_CONNECT, &r) == RECORD_NETWORK &&
	    r, "no connection: transient");
	ok(classify_transport(CURLE_UNSUPPORTED_PROTOCOL, &r) ==
	    RECORD_CONFIG && !r, "an unsupported protocol: final");
	return done();
}
