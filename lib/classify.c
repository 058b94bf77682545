#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "classify.h"
#include "json.h"

#define F_TYPE		0x1
#define F_CODE		0x2
#define F_MESSAGE	0x4
#define F_ALL		(F_TYPE | F_CODE | F_MESSAGE)

/*
 * Case-insensitive substring search over the fields of info that mask
 * names (a numeric code is read as its decimal digits).
 */
static int
any_in(jv info, int mask, const char *const *needles)
{
	static const char *const fields[] = { "type", "code", "message" };
	const char *const *n;
	char low[1024], num[32];
	size_t f, i;
	const char *s;
	double d;

	for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		if (!(mask & (1 << f)))
			continue;
		if ((s = json_peek_string(info, fields[f])) == NULL) {
			if (!json_peek_number(info, fields[f], &d))
				continue;
			snprintf(num, sizeof(num), "%.0f", d);
			s = num;
		}
		for (i = 0; s[i] && i < sizeof(low) - 1; i++)
			low[i] = (char)tolower((unsigned char)s[i]);
		low[i] = '\0';
		for (n = needles; *n; n++)
			if (strstr(low, *n))
				return 1;
	}
	return 0;
}

static int
any(jv info, const char *const *needles)
{
	return any_in(info, F_ALL, needles);
}

/* Named by type or code: billing for sure, whatever the message says. */
static const char *const billing_codes[] = {
	"insufficient_quota", "billing", "1113", "1112", "payment",
	"credit", "balance", NULL
};

/*
 * A 429 whose message speaks of a short wait or a rate is a rate limit,
 * even when it says "quota": Gemini's free tier and others call their
 * per-minute limits quotas ("Quota exceeded ... Please retry in 44s").
 */
static const char *const rate_words[] = {
	"retry in", "try again in", "retry after", "per min", "permin",
	"per_min", "per second", "persecond", "rate limit", "rate_limit",
	"ratelimit", "too many requests", "concurrency",
	"\xe5\xb9\xb6\xe5\x8f\x91",		/* 并发, concurrency */
	"\xe9\xa2\x91\xe7\x8e\x87",		/* 频率, frequency */
	NULL
};

static const char *const quota_words[] = {
	"insufficient_quota", "quota", "billing", "credit", "balance",
	"exceeded your current", "payment", "spend limit", "spending limit",
	"1113", "1112",
	"\xe4\xbd\x99\xe9\xa2\x9d\xe4\xb8\x8d\xe8\xb6\xb3",	/* 余额不足 */
	"\xe6\xac\xa0\xe8\xb4\xb9",				/* 欠费 */
	NULL
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
	if (status == 402 || ((status == 403 || status == 400) &&
	    any(info, quota_words)))
		return RECORD_QUOTA;
	if (status == 429 && (any_in(info, F_TYPE | F_CODE, billing_codes) ||
	    (!any_in(info, F_MESSAGE, rate_words) && any(info, quota_words))))
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
