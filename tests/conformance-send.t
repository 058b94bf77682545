#!/bin/sh
# Conformance of llm-send with the recorded provider transcripts in
# ../shared/fixtures (or $LLM_FIXTURES): every non-streaming transcript
# (MANIFEST.tsv, streaming "no"; the embeddings are llm-embed's) is
# replayed by the mock provider (mockprov -f) and must normalize to what
# the SDK that recorded it got.  The expected values are written here,
# read off the transcripts once, not computed from them at run time.  The
# Gemini 404 body of a streaming transcript is replayed too: it is a plain
# JSON error body.
#
# The 429, 429, 200 sequence of retry-429-nonstream (x-should-retry: true,
# no Retry-After) is retried after a short backoff and answered on the
# third attempt, as the SDK that recorded it was.
#
# Run with make conformance, or from the repository root after building:
# sh tests/conformance-send.t

. tests/lib.sh

N=22
plan $N

AM=$FIX/anthropic-messages
GG=$FIX/google-genai
if [ ! -f "$FIX/MANIFEST.tsv" ]; then
	i=0
	while [ "$i" -lt "$N" ]; do
		skip "conformance $((i + 1))" "no fixtures in $FIX"
		i=$((i + 1))
	done
	exit 0
fi
need jq tests/mock/mockprov

ANTHROPIC_API_KEY=sk-test-conformance-a1
GEMINI_API_KEY=sk-test-conformance-g1
export ANTHROPIC_API_KEY GEMINI_API_KEY
unset GOOGLE_API_KEY

# jqa FILE FILTER ARG...: FILTER holds for every record of FILE; jq
# options such as --arg may follow.
jqa() {
	_f=$1
	_flt=$2
	shift 2
	jq -e -s "length > 0 and all(.[]; $_flt)" "$@" "$_f" >/dev/null 2>&1
}

# jqs FILE FILTER: true when FILTER holds for FILE's records as one array.
jqs() {
	jq -es "$2" "$1" >/dev/null 2>&1
}

# replay ARGS...: a fresh mock provider run with ARGS (-f FIXTURE, -s
# SCRIPT); sets URL and LOG (its request log directory).
_r=0
replay() {
	_r=$((_r + 1))
	LOG=$T/replay.$_r
	tests/mock/mockprov -t 60 -l "$LOG" -p "$T/replay.$_r.port" "$@" \
	    2>>"$T/mock.err" &
	_pids="$_pids $!"
	_i=0
	while [ ! -s "$T/replay.$_r.port" ] && [ "$_i" -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	URL=http://127.0.0.1:$(cat "$T/replay.$_r.port")
	LLM_ANTHROPIC_BASE_URL=$URL
	LLM_GOOGLE_BASE_URL=$URL/v1beta
	export LLM_ANTHROPIC_BASE_URL LLM_GOOGLE_BASE_URL
}

# sent: how many requests the last replay got.
sent() {
	grep -c . "$LOG/requests.log" 2>/dev/null || echo 0
}

# The request the SDK made, as a record: structured output of an order.
jq -c '.[0].request.body | {id: "o1", model: "anthropic/claude-sonnet-4-5",
	max_tokens, prompt: .messages[0].content,
	response_format: {type: "json_schema", json_schema: {
	    name: .output_config.format.schema.title,
	    schema: .output_config.format.schema}}}' \
    "$AM/retry-429-nonstream.transcript.json" >"$T/order.in"

# The 200 body's answer, byte for byte as the model wrote it.
TEXT='{"items":[{"product_name":"Green Tea","price":5.50,"quantity":2},'
TEXT=$TEXT'{"product_name":"Coffee","price":3.00,"quantity":1}],"total":14.0}'

# -- anthropic-messages/retry-429-nonstream: 429, 429, 200 -----------------

replay -f "$AM/retry-429-nonstream.meta.json"
LLM_LOG=$T/a.log llm-send <"$T/order.in" >"$T/a.out" 2>"$T/a.err"
rc=$?
# shellcheck disable=SC2016 # $t is a jq variable
check "retry-429-nonstream: answered on the third attempt" jqa "$T/a.out" '
	.id == "o1" and .text == $t and .attempts == 3 and
	(has("error") | not)' --arg t "$TEXT"
check "retry-429-nonstream: two 429s, then the answer, in LLM_LOG" \
    jqs "$T/a.log" '[.[].status] == ["429", "429", "ok"] and
	[.[].attempt] == [1, 2, 3]'
is "retry-429-nonstream: exit 0" "$rc" 0
is "retry-429-nonstream: three requests" "$(sent)" 3
check "retry-429-nonstream: the same request each time" \
    test "$(for i in 1 2 3; do jq -c .json "$LOG/00000$i.json"; done |
	sort -u | wc -l)" -eq 1
# What the SDK sent (the transcript's request) against what we sent.
jq -c '.json' "$LOG/000001.json" >"$T/a.body"
jq -c '.[0].request.body' "$AM/retry-429-nonstream.transcript.json" \
    >"$T/sdk.body"
check "retry-429-nonstream: POST /v1/messages, anthropic-version 2023-06-01" \
    jqf "$LOG/000001.json" '.method == "POST" and .path == "/v1/messages"
	and .headers["anthropic-version"] == "2023-06-01" and
	.headers["x-api-key"] == "sk-test-conformance-a1"'
# shellcheck disable=SC2016 # $sdk is a jq variable
check "retry-429-nonstream: the body says what the SDK's said" jqa \
    "$T/a.body" '.model == $sdk.model and .max_tokens == $sdk.max_tokens and
	.output_config.format == $sdk.output_config.format and
	[.messages[] | {role, text: [.content[].text] | join("")}] ==
	[$sdk.messages[] | {role, text: .content}]' \
    --argjson sdk "$(cat "$T/sdk.body")"

# The whole sequence, one record at a time: the first record gets the
# two 429s and the answer, the others the answer the mock repeats.
jq -c '.id = "o1", .id = "o2", .id = "o3"' "$T/order.in" >"$T/order3.in"
replay -f "$AM/retry-429-nonstream.meta.json"
llm-send -j 1 <"$T/order3.in" >"$T/b.out" 2>/dev/null
rc=$?
# shellcheck disable=SC2016 # $t is a jq variable
check "retry-429-nonstream: one at a time, 429, 429, then every answer" \
    jqa "$T/b.out" '.text == $t and (has("error") | not) and
	.attempts == (if .id == "o1" then 3 else 1 end)' --arg t "$TEXT"
is "retry-429-nonstream: all answered: exit 0" "$rc" 0

# -- anthropic-messages/retry-429-nonstream.3.json alone -------------------

replay -f "$AM/retry-429-nonstream.3.json"
llm-send <"$T/order.in" >"$T/c.out" 2>"$T/c.err"
rc=$?
# shellcheck disable=SC2016 # $t is a jq variable
check "retry-429-nonstream.3: the text, as the model wrote it" jqa \
    "$T/c.out" '.id == "o1" and .text == $t' --arg t "$TEXT"
check "retry-429-nonstream.3: usage input 406, output 50" jqf "$T/c.out" '
	.usage == {input: 406, output: 50, cache_read: 0, cache_write: 0,
	    reasoning: 0}'
check "retry-429-nonstream.3: stop_reason stop (end_turn)" jqf "$T/c.out" \
    '.stop_reason == "stop"'
check "retry-429-nonstream.3: provider_model claude-sonnet-4-5-20250929" \
    jqf "$T/c.out" '.provider_model == "claude-sonnet-4-5-20250929"'
check "retry-429-nonstream.3: no tool calls, no reasoning, one attempt" \
    jqf "$T/c.out" '(has("tool_calls") or has("reasoning") | not) and
	.attempts == 1 and .model == "anthropic/claude-sonnet-4-5"'
is "retry-429-nonstream.3: exit 0" "$rc" 0

# -- anthropic-messages/retry-429-stream: its two 429 bodies ---------------

# Both records at once and no retries (--retry 0), so that each gets one
# of the two 429 bodies.
replay -f "$AM/retry-429-stream.meta.json"
jq -c '.id = "s1", .id = "s2"' "$T/order.in" >"$T/order2.in"
llm-send -j 2 --retry 0 <"$T/order2.in" >"$T/d.out" 2>/dev/null
rc=$?
check "retry-429-stream.1, .2: rate_limited with the provider's message" \
    jqf "$T/d.out" '.error.kind == "rate_limited" and
	.error.status == 429 and .error.retriable == true and
	(.error.message | test("rate_limit_error") and
	    test("organization.s rate limit"))'
is "retry-429-stream.1, .2: one record each" "$(grep -c . "$T/d.out")" 2
is "retry-429-stream.1, .2: exit 75" "$rc" 75

# -- google-genai/stream-error-404: the 404 body, not streamed -------------

replay -f "$GG/stream-error-404.meta.json"
echo '{"id":"g1","model":"google/gemini-2.0-flash","prompt":"hi"}' |
    llm-send >"$T/g.out" 2>/dev/null
rc=$?
check "stream-error-404: a bad_request error record, status 404" \
    jqf "$T/g.out" '.error.kind == "bad_request" and .error.status == 404 and
	.error.retriable == false and .error.provider == "google"'
check "stream-error-404: the message is Google's, with its status" \
    jqf "$T/g.out" '.error.message | test("NOT_FOUND") and
	test("models/custom-gemini-2.0-flash is not found for API version v1beta")'
is "stream-error-404: exit 1" "$rc" 1

check "the mock providers printed nothing" test ! -s "$T/mock.err"
