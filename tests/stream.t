#!/bin/sh
# TAP tests of llm-stream as a tool, against the mock provider: the events
# of each dialect and their end against llm-send's answer, ids and
# interleaving under -j, -t/-T/-q plain text, the three timeouts, retries
# before the first content event and none after, fallbacks, --cache replay
# and store, --dry-run, pass-through, exit statuses, SIGPIPE and SIGINT,
# LLM_LOG and --stats, every bad input of the issue (each a clear error
# event, never a hang), events written as they arrive, and memory flat over
# a stream of 100,000 events.  The recorded transcripts are
# tests/conformance-stream-cli.t's job.
# Run from the repository root after building: sh tests/stream.t

. tests/lib.sh

plan 67

need jq script timeout tests/mock/mockprov bin/llm-stream bin/llm-send

# jqs FILE FILTER: FILTER holds for FILE's records as one array.
jqs() {
	jq -es "$2" "$1" >/dev/null 2>&1
}

# chat TEXT...: one chat completion chunk per TEXT, as SSE.
chat() {
	for _t; do
		printf 'data: {"choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n' \
		    "$_t"
	done
}

# done_chat: the end of a chat completion stream.
done_chat() {
	printf 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
	printf 'data: [DONE]\n\n'
}

# waitfor FILE PATTERN TENTHS: waits up to TENTHS tenths of a second for
# PATTERN in FILE; false when it did not come.
waitfor() {
	_i=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ "$_i" -lt "$3" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	grep -q "$2" "$1" 2>/dev/null
}

# run1 ID ARGS...: the request {"id": ID, "prompt": "x"} through
# llm-stream ARGS, cut after 30 s: its events in $T/ID, its stderr in
# $T/ID.err, the exit status in $rc.
run1() {
	_id=$1
	shift
	echo "{\"id\":\"$_id\",\"prompt\":\"x\"}" |
	    timeout 30 llm-stream "$@" >"$T/$_id" 2>"$T/$_id.err"
	rc=$?
}

# The bodies the scripted routes serve.
{ chat "Hi" " there"; } >"$T/cut.sse"
{ chat "Hi" " there" " again"; } >"$T/stall.sse"
{
	printf 'data: {"choices":[{"index":0,"delta":'
	printf '{"reasoning_content":"Let me think."}}]}\n\n'
	chat "Answer."
	done_chat
} >"$T/reason.sse"
{ chat "kept"; done_chat; chat " IGNORED"; i=0; while [ $i -lt 40 ]; do
	chat " more"; i=$((i + 1)); done; } >"$T/after.sse"
printf 'data: {"choices":[{"index":0,"delta":{"content":\n\n' >"$T/notjson.sse"
{
	printf 'data: '
	head -c 10485760 /dev/zero | tr '\0' x
	printf '\n\n'
	done_chat
} >"$T/huge.sse"
printf 'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n' \
    >"$T/early.sse"
{
	printf 'event: message_start\ndata: {"type":"message_start","message":'
	printf '{"id":"m","model":"c","usage":{"input_tokens":3}}}\n\n'
	printf 'event: error\ndata: {"type":"error","error":'
	printf '{"type":"invalid_request_error","message":"bad stream"}}\n\n'
} >"$T/anterr.sse"
for n in 1000 100000; do
	awk -v n="$n" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "data: {\"choices\":[{\"index\":0,\"delta\":" \
			    "{\"content\":\"x\"}}]}\n\n"
	}' >"$T/long$n.sse"
	done_chat >>"$T/long$n.sse"
done

cat >"$T/script.json" <<EOF
{"routes": [
  {"match": "/st/slow/", "responses": [{"echo": true, "chunk": 100,
    "chunk_delay_ms": 50}]},
  {"match": "/st/drip/", "responses": [{"echo": true, "chunk": 60,
    "chunk_delay_ms": 250}]},
  {"match": "/st/firstslow/", "responses": [{"echo": true,
    "delay_ms": 20000}]},
  {"match": "/st/stall/", "responses": [{"body_file": "$T/stall.sse",
    "chunk": 80, "chunk_delay_ms": 20000}]},
  {"match": "/st/hang/", "responses": [{"hang": true}]},
  {"match": "/st/cut/", "responses": [{"body_file": "$T/cut.sse"}]},
  {"match": "/st/reason/", "responses": [{"body_file": "$T/reason.sse"}]},
  {"match": "/st/after/", "responses": [{"body_file": "$T/after.sse",
    "chunk": 300, "chunk_delay_ms": 300}]},
  {"match": "/st/notjson/", "responses": [{"body_file": "$T/notjson.sse"}]},
  {"match": "/st/huge/", "responses": [{"body_file": "$T/huge.sse"}]},
  {"match": "/st/long1000/", "responses": [{"body_file": "$T/long1000.sse"}]},
  {"match": "/st/long100000/",
    "responses": [{"body_file": "$T/long100000.sse"}]},
  {"match": "/st/html/", "responses": [{"status": 200,
    "content_type": "text/html", "body": "<html><body>hello</body></html>"}]},
  {"match": "/st/s503/", "responses": [{"status": 503,
    "body": {"error": {"message": "overloaded", "type": "server_error"}}}]},
  {"match": "/st/s400/", "responses": [{"status": 400,
    "body": {"error": {"message": "bad thing",
      "type": "invalid_request_error"}}}]},
  {"match": "/st/s429/", "responses": [{"status": 429,
    "body": {"error": {"message": "slow down", "type": "rate_limit"}}}]},
  {"match": "/st/alt/", "then": "cycle", "responses": [
    {"status": 503, "body": {"error": {"message": "overloaded"}}},
    {"echo": true}]},
  {"match": "/st/early/", "then": "cycle", "responses": [
    {"body_file": "$T/early.sse"}, {"echo": true}]},
  {"match": "/sta/err/", "responses": [{"body_file": "$T/anterr.sse"}]},
  {"match": "/st/order/", "then": "cycle", "responses": [
    {"echo": true, "delay_ms": 400}, {"echo": true},
    {"echo": true, "delay_ms": 200}, {"echo": true, "delay_ms": 50}]}
]}
EOF
if ! mock_start -s "$T/script.json" 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi

OK_KEY=sk-test-ok-41c2aa
OPENAI_API_KEY=sk-test-openai-9e01
ANTHROPIC_API_KEY=sk-test-anthropic-77ab
GEMINI_API_KEY=sk-test-gemini-5d3c
export OK_KEY OPENAI_API_KEY ANTHROPIC_API_KEY GEMINI_API_KEY
unset GOOGLE_API_KEY
LLM_OPENAI_BASE_URL=$MOCK_URL/v1
LLM_ANTHROPIC_BASE_URL=$MOCK_URL
LLM_GOOGLE_BASE_URL=$MOCK_URL/v1beta
export LLM_OPENAI_BASE_URL LLM_ANTHROPIC_BASE_URL LLM_GOOGLE_BASE_URL
cat >"$XDG_CONFIG_HOME/llm/config.json" <<EOF
{"providers": {
  "ok": {"baseUrl": "$MOCK_URL/ok/v1", "api": "openai-completions",
    "apiKey": "\$OK_KEY", "anyModel": true},
  "st": {"baseUrl": "$MOCK_URL/st", "path": "/{model}/chat/completions",
    "api": "openai-completions", "apiKey": "\$OK_KEY", "anyModel": true},
  "sta": {"baseUrl": "$MOCK_URL/sta", "path": "/{model}/v1/messages",
    "api": "anthropic-messages", "apiKey": "\$OK_KEY", "anyModel": true}
}}
EOF

# -- the events of each dialect --------------------------------------------

for m in openai/gpt-4o anthropic/claude-sonnet-4-5 openai/gpt-5-codex \
    google/gemini-2.5-flash; do
	req='{"id":"d1","prompt":"one two three","meta":{"k":1}}'
	printf '%s\n' "$req" | llm-stream -m "$m" >"$T/ev" 2>"$T/ev.err"
	printf '%s\n' "$req" | llm-send -m "$m" >"$T/resp" 2>>"$T/ev.err"
	if jq -es --slurpfile r "$T/resp" --arg m "$m" '
	    .[0] == {id: "d1", type: "start", model: $m} and
	    (.[1:-1] | length >= 3 and all(.[]; .id == "d1" and
	    .type == "text" and (.delta | length) > 0)) and
	    ((.[1:-1] | map(.delta) | join("")) == "mock: one two three") and
	    (.[-1] | .type == "end" and keys_unsorted[0] == "id") and
	    (.[-1] | del(.type, .latency_ms)) == ($r[0] | del(.latency_ms))' \
	    "$T/ev" >/dev/null 2>&1; then
		ok "$m: start, text deltas, an end that is llm-send's answer"
	else
		notok "$m: start, text deltas, an end that is llm-send's answer"
		sed 's/^/# /' "$T/ev" "$T/resp" | cut -c 1-300
	fi
done
check "every event line is tagged with the record's id first" \
    jqs "$T/ev" 'all(.[]; keys_unsorted[0] == "id")'

printf '%s\n' '{"prompt":"a"}' '{"prompt":"b","id":"x"}' |
    llm-stream -m ok/m >"$T/ids" 2>/dev/null
check "records without an id get their line number" jqs "$T/ids" '
	(map(select(.id == "1")) | length) >= 3 and
	(map(select(.id == "x")) | length) >= 3 and
	map(select(.type == "end") | .id) == ["1", "x"]'

# -- -j: concurrent streams, interleaved -----------------------------------

# The number of runs of equal ids against the number of ids.
# shellcheck disable=SC2016 # $a is a jq variable
RUNS='[.[].id] as $a | ([range(1; $a | length) | select($a[.] != $a[. - 1])]
    | length + 1) as $runs | ($a | unique | length) as $ids'
awk 'BEGIN { for (i = 1; i <= 6; i++)
	printf "{\"id\":\"j%d\",\"prompt\":\"w1 w2 w3 w4 w5 w6 w7 w8\"}\n", i }' \
    >"$T/six.jsonl"
llm-stream -j 6 -m st/slow "$T/six.jsonl" >"$T/j6" 2>"$T/j6.err"
check "-j 6: six streams at once, their events interleaved" jqs "$T/j6" "
	$RUNS | \$ids == 6 and \$runs > 6"
check "-j 6: each record start first, one end last, deltas whole" jqs \
    "$T/j6" 'group_by(.id) | length == 6 and all(.[];
	.[0].type == "start" and .[-1].type == "end" and
	(map(select(.type == "end" or .type == "error")) | length) == 1 and
	(map(select(.type == "text") | .delta) | join("")) == .[-1].text)'
llm-stream -j 1 -m st/slow "$T/six.jsonl" >"$T/j1" 2>/dev/null
check "-j 1: one stream after the other" jqs "$T/j1" "
	$RUNS | \$ids == 6 and \$runs == 6"

# -- events go out as they arrive ------------------------------------------

echo '{"prompt":"a b c d e f g h i j k l"}' >"$T/drip.in"
llm-stream -m st/drip "$T/drip.in" >"$T/drip.out" 2>/dev/null &
drip=$!
if waitfor "$T/drip.out" '"type":"text"' 100 &&
    ! grep -q '"type":"end"' "$T/drip.out"; then
	ok "a text event is on stdout (a file) while the stream goes on"
else
	notok "a text event is on stdout (a file) while the stream goes on"
fi
wait "$drip"

# -- -t, -T, -q: plain text -------------------------------------------------

printf 'hello world\n' | llm-stream -t -m ok/m >"$T/t1" 2>"$T/t1.err"
is "-t: the answer as plain text" "$(cat "$T/t1")" "mock: hello world"
# /st/order/ answers the first of each four last and the second first.
printf 'p1\np2\np3\np4\np5\np6\np7\np8\n' |
    llm-stream -t -j 8 -m st/order >"$T/t8" 2>/dev/null
is "-t -j 8: answers one after the other, in input order" \
    "$(tr '\n' ' ' <"$T/t8")" \
    "mock: p1 mock: p2 mock: p3 mock: p4 mock: p5 mock: p6 mock: p7 mock: p8 "
printf 'line one\nline two\n' | llm-stream -T -m ok/m >"$T/tT" 2>/dev/null
is "-T: all the input is one prompt" "$(cat "$T/tT")" \
    "mock: line one
line two"
echo q | llm-stream -t -m st/reason >"$T/r1" 2>"$T/r1.err"
is "-t: reasoning is not on stdout" "$(cat "$T/r1")" "Answer."
# shellcheck disable=SC2016 # sh -c expands its own
check "-t: reasoning on stderr, not dimmed off a terminal" \
    sh -c 'grep -qx "Let me think." "$1" && ! grep -q "$(printf "\033")" "$1"' \
    sh "$T/r1.err"
echo q | llm-stream -t -q -m st/reason >"$T/r2" 2>"$T/r2.err"
# shellcheck disable=SC2016 # sh -c expands its own
check "-q: no reasoning at all" sh -c '[ "$(cat "$1")" = Answer. ] &&
    [ ! -s "$2" ]' sh "$T/r2" "$T/r2.err"
# shellcheck disable=SC2016 # expanded by the inner shell
script -qec 'echo q | llm-stream -t -m st/reason >'"$T"'/r3 2>/dev/tty' \
    /dev/null >"$T/r3.tty" 2>&1
check "-t: reasoning dimmed on a terminal" \
    grep -q "$(printf '\033')\[2mLet me think" "$T/r3.tty"
# shellcheck disable=SC2016
NO_COLOR=1 script -qec 'echo q | llm-stream -t -m st/reason >/dev/null 2>/dev/tty' \
    /dev/null >"$T/r4.tty" 2>&1
# shellcheck disable=SC2016 # sh -c expands its own
check "-t: NO_COLOR leaves it plain" sh -c 'grep -q "Let me think" "$1" &&
    ! grep -q "$(printf "\033")\[2m" "$1"' sh "$T/r4.tty"
printf 'x\n' | llm-stream -t -m st/s400 --retry 0 >"$T/t4" 2>"$T/t4.err"
rc=$?
# shellcheck disable=SC2016 # sh -c expands its own
check "-t: a failure on stderr and in the exit status" sh -c '
    [ "$1" -eq 1 ] && [ ! -s "$2" ] && grep -q "bad thing" "$3"' sh \
    "$rc" "$T/t4" "$T/t4.err"

# -- timeouts ----------------------------------------------------------------

run1 f1 --timeout-first 0.5 --retry 0 -m st/firstslow
is "--timeout-first: no first byte is a timeout, a transient failure" \
    "$rc" 75
check "...not partial, saying so" jqf "$T/f1" 'select(.type == "error") |
	.error.kind == "timeout" and .partial == false and
	(.error.message | test("no first byte in 0.5 s"))'
before=$(mock_requests)
run1 f2 --timeout-idle 0.5 --retry 3 -m st/stall
is "--timeout-idle: a stalled stream is a transient failure" "$rc" 75
check "...partial, after the content that came" jqs "$T/f2" '
	.[0].type == "start" and .[1] == {id: "f2", type: "text",
	    delta: "Hi"} and (.[-1] | .type == "error" and
	.error.kind == "timeout" and .partial == true and
	(.error.message | test("stalled: no byte for 0.5 s")))'
is "...and is not sent again once content went out" \
    "$(($(mock_requests) - before))" 1
run1 f3 --timeout 1 --retry 0 -m st/hang
is "--timeout: the whole transfer is bounded" "$rc" 75
check "...a timeout error" jqf "$T/f3" 'select(.type == "error") |
	.error.kind == "timeout" and .partial == false'

# -- retries, fallbacks ------------------------------------------------------

before=$(mock_requests)
echo '{"id":"r1","prompt":"once more"}' |
    llm-stream --retry 2 --retry-base 0.05 -m st/alt >"$T/r" 2>"$T/r.err"
check "a 503 before the first byte is retried: one start, one answer" \
    jqs "$T/r" '(map(select(.type == "start")) | length) == 1 and
	(map(select(.type == "text") | .delta) | join("")) ==
	    "mock: once more" and
	.[-1].type == "end" and .[-1].attempts == 2 and
	.[-1].text == "mock: once more"'
is "...in two requests" "$(($(mock_requests) - before))" 2
echo '{"id":"r2","prompt":"after an error chunk"}' |
    llm-stream --retry 2 --retry-base 0.05 -m st/early >"$T/r2" 2>/dev/null
check "an error in the stream before any content is retried" jqs "$T/r2" '
	.[-1].type == "end" and .[-1].attempts == 2 and
	.[-1].text == "mock: after an error chunk"'
before=$(mock_requests)
echo '{"id":"r3","prompt":"x"}' |
    llm-stream --retry 3 --retry-base 0.05 -m st/cut >"$T/r3" 2>"$T/r3.err"
rc=$?
check "a stream cut after content: truncated, partial, exit 75" jqs "$T/r3" "
	$rc == 75 and (map(select(.type == \"text\") | .delta) | join(\"\")) ==
	    \"Hi there\" and (.[-1] | .type == \"error\" and
	.error.kind == \"truncated\" and .partial == true and
	.error.retriable == true)"
is "...never sent again" "$(($(mock_requests) - before))" 1
echo '{"id":"r4","prompt":"fall back"}' |
    llm-stream --retry 0 -m st/s503 -F ok/m >"$T/fb" 2>"$T/fb.err"
rc=$?
check "-F: a failing target falls back before the first byte" jqs "$T/fb" "
	$rc == 0 and .[0] == {id: \"r4\", type: \"start\", model: \"st/s503\"} and
	(map(select(.type == \"text\") | .delta) | join(\"\")) ==
	    \"mock: fall back\" and .[-1].type == \"end\" and
	.[-1].model == \"ok/m\" and .[-1].attempts == 2"

# -- --cache ------------------------------------------------------------------

LLM_CACHE_DIR=$T/cache
export LLM_CACHE_DIR
echo '{"id":"c1","prompt":"cache me","meta":{"n":1}}' >"$T/c.in"
before=$(mock_requests)
llm-stream --cache -m ok/m "$T/c.in" >"$T/c1" 2>"$T/c1.err"
check "--cache: a miss streams and is stored" jqs "$T/c1" '
	.[-1].type == "end" and .[-1].cached == false'
echo '{"id":"c2","prompt":"cache me","meta":{"n":2}}' |
    llm-stream --cache -m ok/m >"$T/c2" 2>"$T/c2.err"
check "--cache: a hit is replayed as events" jqs "$T/c2" '
	map(.type) == ["start", "text", "end"] and
	.[0] == {id: "c2", type: "start", model: "ok/m"} and
	.[1] == {id: "c2", type: "text", delta: "mock: cache me"} and
	(.[2] | .id == "c2" and .cached == true and .meta == {n: 2} and
	.text == "mock: cache me")'
is "...without a request" "$(($(mock_requests) - before))" 1
before=$(mock_requests)
echo '{"prompt":"x"}' | llm-stream --cache --retry 0 -m st/cut >/dev/null \
    2>&1
echo '{"prompt":"x"}' | llm-stream --cache --retry 0 -m st/cut >"$T/c3" \
    2>/dev/null
# shellcheck disable=SC2016 # sh -c expands its own
check "--cache: a partial stream is not stored" sh -c '[ "$1" -eq 2 ] &&
    grep -q "\"partial\":true" "$2"' sh "$(($(mock_requests) - before))" \
    "$T/c3"
unset LLM_CACHE_DIR

# -- --dry-run, pass-through, re-sending --------------------------------------

before=$(mock_requests)
echo '{"id":"y1","prompt":"hi"}' | llm-stream --dry-run -m ok/m >"$T/dr" \
    2>"$T/dr.err"
rc=$?
check "--dry-run: the streaming request, nothing sent" jqf "$T/dr" "
	$rc == 0 and .id == \"y1\" and .model == \"ok/m\" and
	.dry_run.url == \"$MOCK_URL/ok/v1/chat/completions\" and
	.dry_run.body.stream == true and
	.dry_run.headers.Authorization == \"Bearer <redacted>\""
echo '{"id":"y2","prompt":"hi"}' |
    llm-stream --dry-run -m google/gemini-2.5-flash >"$T/dr2" 2>/dev/null
check "--dry-run: Gemini's streaming endpoint" jqf "$T/dr2" \
    '.dry_run.url | endswith(":streamGenerateContent?alt=sse")'
is "...nothing was sent" "$(mock_requests)" "$before"
# shellcheck disable=SC2016 # sh -c expands its own
check "--dry-run never shows the key" sh -c '! grep -q "$1" "$2" "$3"' sh \
    "$OK_KEY" "$T/dr" "$T/dr.err"

resp='{"model":"x/y","text":"done","stop_reason":"stop","id":"p1"}'
ev='{"type":"text","delta":"hey","id":"p2"}'
printf '%s\n%s\n' "$resp" "$ev" | llm-stream -m ok/m >"$T/pt" 2>/dev/null
is "records that hold an answer pass through unchanged" "$(cat "$T/pt")" \
    "$resp
$ev"
err='{"id":"p3","prompt":"again","error":{"kind":"server","message":"x",'
err=$err'"retriable":true},"attempts":1}'
printf '%s\n' "$err" | llm-stream -m ok/m >"$T/p3" 2>/dev/null
check "an error record is streamed again" jqs "$T/p3" '
	.[-1] | .type == "end" and .id == "p3" and .text == "mock: again" and
	.attempts == 1'

# -- exit statuses ----------------------------------------------------------

echo '{"prompt":"x"}' | llm-stream -m st/s400 >"$T/e1" 2>/dev/null
is "a bad_request failure exits 1" "$?" 1
check "...its error event" jqf "$T/e1" 'select(.type == "error") |
	.error.kind == "bad_request" and .error.status == 400 and
	.partial == false and (.error.message | test("bad thing"))'
echo '{"prompt":"x"}' | llm-stream --retry 0 -m st/s429 >"$T/e2" 2>/dev/null
is "only transient failures exit 75" "$?" 75
check "...a 429 is rate_limited" jqf "$T/e2" 'select(.type == "error") |
	.error.kind == "rate_limited" and .error.retriable == true'
# usage_error DESC PATTERN ARGS...: llm-stream ARGS exits 2, nothing read,
# with PATTERN on stderr.
usage_error() {
	_d=$1
	_p=$2
	shift 2
	llm-stream "$@" </dev/null >"$T/u.out" 2>"$T/u.err"
	if [ $? -eq 2 ] && [ ! -s "$T/u.out" ] && grep -q "$_p" "$T/u.err"; then
		ok "$_d"
	else
		notok "$_d"
	fi
}
usage_error "-j 0 is a usage error" "^llm-stream: -j: expected 1 to 1024" -j 0
usage_error "a bad --timeout-idle is a usage error, saying so" \
    "^llm-stream: --timeout-idle: expected seconds, got .soon.$" \
    --timeout-idle soon
usage_error "a bad --timeout-first too" "^llm-stream: --timeout-first: " \
    --timeout-first -1
usage_error "an unknown option prints the usage" "^usage: llm-stream" -Z
usage_error "so does -u, llm-send's alone" "^usage: llm-stream" -u
llm-stream -h >"$T/h"
# shellcheck disable=SC2016 # sh -c expands its own
check "-h: the usage on stdout, every option in it" sh -c '
    grep -q "^usage: llm-stream \[-hqTtV\] " "$1" || exit 1
    for o in -F -j -m -o -s --cache --dry-run --rate --retry \
        --retry-base --retry-cap --retry-max-time --stats --timeout \
        --timeout-first --timeout-idle; do
	grep -q -- "\\[$o[] ]" "$1" || exit 1
    done' sh "$T/h"

# -- SIGPIPE, SIGINT -----------------------------------------------------------

{ llm-stream -j 6 -m st/slow "$T/six.jsonl" 2>/dev/null; echo $? >"$T/pipe.rc"; } |
    head -n 1 >"$T/pipe.out"
# shellcheck disable=SC2016 # sh -c expands its own
check "| head -1: one whole line, killed by SIGPIPE" sh -c '
    [ "$(cat "$1")" -eq 141 ] && jq -e ".type == \"start\"" "$2" >/dev/null' \
    sh "$T/pipe.rc" "$T/pipe.out"
echo '{"id":"i1","prompt":"x"}' >"$T/int.in"
llm-stream -m st/hang "$T/int.in" >"$T/int.out" 2>/dev/null &
pid=$!
waitfor "$T/int.out" start 50
kill -INT "$pid"
wait "$pid"
is "SIGINT: exit 130" "$?" 130
# A signal that comes just before a long wait (here raised by a poll(2)
# shim at the first wait of 10 s or more, standard input open and idle)
# ends the wait at once, not when input or a timer comes.
cat >"$T/sigshim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>

int
poll(struct pollfd *p, nfds_t n, int ms)
{
	static int (*real)(struct pollfd *, nfds_t, int);
	static int fired;

	if (real == NULL)
		real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT,
		    "poll");
	if (ms >= 10000 && !fired) {
		fired = 1;
		raise(SIGINT);
	}
	return real(p, n, ms);
}
EOF
if [ -n "$SANITIZED" ] ||
    ! ${CC:-cc} -shared -fPIC -o "$T/sigshim.so" "$T/sigshim.c" 2>/dev/null ||
    ! mkfifo "$T/idle"; then
	skip "a signal just before a wait ends it at once" \
	    "sanitized build, or no cc or mkfifo"
	skip "...llm-send's too" "sanitized build, or no cc or mkfifo"
else
	exec 3<>"$T/idle"
	LD_PRELOAD=$T/sigshim.so timeout 5 llm-stream -m ok/m <"$T/idle" \
	    >/dev/null 2>&1
	is "a signal just before a wait ends it at once" "$?" 130
	LD_PRELOAD=$T/sigshim.so timeout 5 llm-send -m ok/m <"$T/idle" \
	    >/dev/null 2>&1
	is "...llm-send's too" "$?" 130
	exec 3>&-
fi

# -- a request field named like an event's ----------------------------------

echo '{"id":"ty","prompt":"x","type":"question"}' |
    llm-stream -m ok/m >"$T/ty" 2>/dev/null
check "a request's own \"type\" does not replace the end's" jqs "$T/ty" '
	map(.type) == ["start", "text", "text", "end"] and
	.[-1].text == "mock: x"'

# -- bad input -------------------------------------------------------------------

printf 'not json\n{"id":"b2","prompt":"fine"}\n' | llm-stream -m ok/m \
    >"$T/b1" 2>"$T/b1.err"
rc=$?
check "a line that is not JSON: a bad_input error event, then on" jqs \
    "$T/b1" "$rc == 1 and .[0].id == \"1\" and .[0].type == \"error\" and
	.[0].error.kind == \"bad_input\" and .[0].partial == false and
	.[-1].id == \"b2\" and .[-1].type == \"end\""
run1 html --retry 0 -m st/html
check "a non-SSE body on a 200: a server error event" jqs "$T/html" '
	.[-1] | .type == "error" and .error.kind == "server" and
	.partial == false and .error.message == "response is not an event stream"'
run1 notjson --retry 0 -m st/notjson
check "event data that is not JSON: a server error event" jqs "$T/notjson" '
	.[-1] | .type == "error" and .error.kind == "server" and
	(.error.message | test("not JSON"))'
run1 huge --retry 0 -m st/huge
check "a 10 MiB line: an error event, no hang" jqs "$T/huge" "
	$rc == 1 and (.[-1] | .type == \"error\" and
	.error.kind == \"server\" and .partial == false and
	.error.message == \"stream event over 8388608 bytes\")"
run1 ant --retry 0 -m sta/err
check "an error event in an Anthropic stream: its kind, not partial" \
    jqs "$T/ant" '.[-1] | .type == "error" and
	.error.kind == "bad_request" and .partial == false and
	(.error.message | test("bad stream"))'
# The server keeps sending for 4 s after [DONE]: the end is at once, and the
# rest is not waited for.
echo '{"id":"b5","prompt":"x"}' |
    timeout 4 llm-stream -m st/after >"$T/b.after" 2>"$T/b.after.err"
rc=$?
check "events after the terminal event are ignored, the end is at once" \
    jqs "$T/b.after" "$rc == 0 and .[-1].type == \"end\" and
	.[-1].text == \"kept\" and
	(map(select(.type == \"text\") | .delta) | join(\"\")) == \"kept\""

# -- LLM_LOG, --stats ------------------------------------------------------------

echo '{"id":"l1","prompt":"log me"}' |
    LLM_LOG=$T/attempts.log llm-stream --stats -m ok/m >/dev/null \
    2>"$T/stats.err"
check "LLM_LOG: the attempt, with the time to its first byte" \
    jqf "$T/attempts.log" '.id == "l1" and .status == "ok" and
	.target == "ok/m" and (.first_byte_ms | type) == "number" and
	.first_byte_ms <= .latency_ms'
check "--stats: a summary line on stderr" grep -Eq \
    '^llm-stream: 1 requests, 1 ok, 0 errors, [0-9]+ input \+ [0-9]+ output tokens, \$[0-9.]+, latency p50 [0-9]+ ms p95 [0-9]+ ms, [0-9.]+ s$' \
    "$T/stats.err"

# -- memory: a long stream -------------------------------------------------------

if [ -n "$SANITIZED" ] || [ ! -x /usr/bin/time ]; then
	skip "memory flat over 100,000 events" "sanitized build or no GNU time"
	skip "...the whole text in the end" "sanitized build or no GNU time"
else
	for n in 1000 100000; do
		echo '{"id":"m1","prompt":"x"}' | /usr/bin/time -f %M \
		    -o "$T/rss.$n" llm-stream -m "st/long$n" >"$T/long.$n" \
		    2>/dev/null
	done
	small=$(cat "$T/rss.1000")
	big=$(cat "$T/rss.100000")
	echo "# peak RSS: $small KiB at 1,000 events, $big KiB at 100,000"
	check "memory flat over 100,000 events (within 4 MiB of 1,000)" \
	    [ "$big" -le $((small + 4096)) ]
	check "...the whole text in the end" jqs "$T/long.100000" '
	    length == 100002 and (.[-1].text | length) == 100000'
fi
