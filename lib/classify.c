#include <ctype.h>
#include <string.h>

#include "classify.h"
#include "json.h"

/* Case-insensitive substring search over the message, type and code. */
static int
any(jv info, const char *const *needles)
{
	static const char *const fields[] = { "type", "code", "message" };
	const char *const *n;
	char low[1024];
	size_t f, i;
	const char *s;

	for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		if ((s = json_peek_string(info, fields[f])) == NULL)
			continue;
		for (i = 0; s[i] && i < sizeof(low) - 1; i++)
			low[i] = (char)tolower((unsigned char)s[i]);
		low[i] = '\0';
		for (n = needles; *n; n++)
			if (strstr(low, *n))
				return 1;
	}
	return 0;
}

static const char *const quota_words[] = {
	"insufficient_quota", "quota", "billing", "credit", "balance",
	"exceeded your current", "payment", "spend limit", "spending limit",
	"1113", "1112", NULL
};

static const char *const context_words[] = {
	"context_length", "context length", "context window",
	"maximum context", "too many tokens", "prompt is too long",
	"input is too long", "reduce the length", "token limit",
	"exceeds the maximum", NULL
};

static const char *const filter_words[] = {
	"content_filter", "content filter", "content management policy",
	"safety", "content_policy", "moderation", "1301", NULL
};

enum record_kind
classify_http(int status, jv info, int *retriable)
{
	*retriable = 0;
	if (status == 402 || ((status == 429 || status == 403 ||
	    status == 400) && any(info, quota_words)))
		return RECORD_QUOTA;
	switch (status) {
	case 401:
	case 403:
		return RECORD_AUTH;
	case 408:
		*retriable = 1;
		return RECORD_TIMEOUT;
	case 409:
	case 425:
		*retriable = 1;
		return RECORD_SERVER;
	case 429:
		*retriable = 1;
		return RECORD_RATE_LIMITED;
	case 413:
		return RECORD_CONTEXT_LENGTH;
	}
	if (status >= 500 || status == 529) {
		*retriable = 1;
		return RECORD_SERVER;
	}
	if (any(info, context_words))
		return RECORD_CONTEXT_LENGTH;
	if (any(info, filter_words))
		return RECORD_CONTENT_FILTER;
	return RECORD_BAD_REQUEST;
}

enum record_kind
classify_transport(CURLcode result, int *retriable)
{
	*retriable = 1;
	switch (result) {
	case CURLE_OPERATION_TIMEDOUT:
		return RECORD_TIMEOUT;
	case CURLE_PARTIAL_FILE:
		return RECORD_TRUNCATED;
	case CURLE_WRITE_ERROR:		/* body over our ceiling */
		*retriable = 0;
		return RECORD_SERVER;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		*retriable = 0;
		return RECORD_CONFIG;
	default:
		return RECORD_NETWORK;
	}
}
