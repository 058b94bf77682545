/*
 * classify: what a failed attempt means (DESIGN.md sections 2 and 5).
 *
 * Every failure becomes one of the error kinds of record.h and a verdict
 * on whether trying again later may help.  Transient: 408, 409, 425, 429,
 * 5xx, 529, connection and receive errors, timeouts, truncated bodies.
 * Final: 400, 401, 403, 404, 413, 422 and quota or billing errors, which
 * arrive as 429 or 402 but are told apart by the provider's error type,
 * code or message (insufficient_quota, zhipu's 1113, ...).  A 429 whose
 * message asks for a short wait or names a rate ("retry in 44s", "per
 * minute") stays a rate limit even when it calls itself a quota, as
 * Gemini's per-minute limits do.  Context length and content filter errors
 * are recognised in 400-class answers by the same means.
 */
#ifndef LLM_CLASSIFY_H
#define LLM_CLASSIFY_H

#include <curl/curl.h>
#include <jv.h>

#include "record.h"

/*
 * Classifies an HTTP answer: status and the provider's error info
 * ({"message","type","code"}, borrowed) give the kind and *retriable.
 */
enum record_kind classify_http(int status, jv info, int *retriable);

/* Classifies a transport failure (no usable HTTP answer). */
enum record_kind classify_transport(CURLcode result, int *retriable);

#endif
