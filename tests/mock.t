#!/bin/sh
# TAP test of the mock provider tests/mock/mockprov: default replies,
# request recording, scripted replies and fixture replay.  Run from the repo
# root after building: sh tests/mock.t

MOCK=${MOCK:-tests/mock/mockprov}
FIX=${LLM_FIXTURES:-../shared/fixtures}

echo "1..49"

if [ ! -x "$MOCK" ]; then
	echo "Bail out! $MOCK is not built"
	exit 1
fi
need curl jq cmp

T=$(mktemp -d "${TMPDIR:-/tmp}/mock.t.XXXXXX") || exit 1
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

n=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
notok() {
	n=$((n + 1))
	echo "not ok $n - $1"
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
# check DESC CMD...: one test point from a command's status.
check() {
	desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		notok "$desc"
	fi
}
# jqf FILE FILTER [JQ-OPTION...]: true when FILTER holds for FILE.
jqf() {
	f=$1
	flt=$2
	shift 2
	jq -e "$@" "$flt" "$f" >/dev/null 2>&1
}

# start NAME ARGS...: runs a server logging to $T/NAME.log; sets $url.
start() {
	name=$1
	shift
	"$MOCK" -t 60 -l "$T/$name.log" -p "$T/$name.port" "$@" \
	    2>"$T/$name.err" &
	pids="$pids $!"
	i=0
	while [ ! -s "$T/$name.port" ] && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	url="http://127.0.0.1:$(cat "$T/$name.port" 2>/dev/null)"
	[ -s "$T/$name.port" ]
}

# record NAME: the file recording the last request server NAME got.
record() {
	seq=$(tail -n 1 "$T/$1.log/requests.log" | cut -d ' ' -f 1)
	printf '%s/%06d.json\n' "$T/$1.log" "$seq"
}

# post URL BODY OUT: POSTs BODY, saves the reply, prints the status.
post() {
	curl -s -o "$3" -w '%{http_code}' -H 'Content-Type: application/json' \
	    --data-binary "$2" "$1"
}

chat='{"model":"gpt-mock","messages":[{"role":"system","content":"be brief"},'
chat=$chat'{"role":"user","content":"hello there"}]}'

# --- Default replies ---------------------------------------------------

check "default server writes its port file" start def
d=$url

code=$(post "$d/v1/chat/completions" "$chat" "$T/c1")
check "chat completion answers 200" [ "$code" = 200 ]
check "chat completion echoes the last user message" jqf "$T/c1" '
	.object == "chat.completion" and .model == "gpt-mock" and
	(.id | startswith("chatcmpl-mock-")) and
	.choices[0].message == {role: "assistant", content: "mock: hello there"}
	and .choices[0].finish_reason == "stop"'
# "be brief" + "hello there" = 19 bytes -> 5; "mock: hello there" = 17 -> 5
check "chat completion usage counts bytes / 4 rounded up" jqf "$T/c1" '
	.usage == {prompt_tokens: 5, completion_tokens: 5, total_tokens: 10}'

parts='{"model":"m","messages":[{"role":"user","content":['
parts=$parts'{"type":"text","text":"a"},{"type":"image_url","image_url":{}},'
parts=$parts'{"type":"text","text":"b"}]}]}'
post "$d/v1/chat/completions" "$parts" "$T/c2" >/dev/null
check "text parts are joined" jqf "$T/c2" \
    '.choices[0].message.content == "mock: a\nb"'

rec=$(record def)
# shellcheck disable=SC2016 # $b is a jq variable
check "request is recorded with parsed json" jqf "$rec" '
	.method == "POST" and .path == "/v1/chat/completions" and
	.body == $b and .json == ($b | fromjson) and .seq == 2' --arg b "$parts"

stream='{"model":"gpt-mock","stream":true,'
stream=$stream'"stream_options":{"include_usage":true},'
stream=$stream'"messages":[{"role":"user","content":"one two  three"}]}'
code=$(post "$d/v1/chat/completions?x=1" "$stream" "$T/s1")
check "streaming answers 200" [ "$code" = 200 ]
check "streaming ends with data: [DONE]" \
    [ "$(grep -v '^$' "$T/s1" | tail -n 1)" = "data: [DONE]" ]
grep '^data: {' "$T/s1" | sed 's/^data: //' >"$T/s1.json"
check "streaming chunks rebuild the content" jqf "$T/s1.json" '
	[.[].choices[0].delta.content // empty] | add ==
	"mock: one two  three"' -s
check "streaming sends one chunk per word" [ "$(jq -s \
    '[.[] | select(.choices[0].delta.content)] | length' "$T/s1.json")" = 5 ]
check "streaming ends with a usage chunk" jqf "$T/s1.json" '
	.[-1].choices == [] and .[-1].usage.total_tokens == 9 and
	.[-2].choices[0].finish_reason == "stop" and
	.[0].choices[0].delta.role == "assistant"' -s

curl -s -o /dev/null -H 'X-Mock-Test: Yes' -H 'X-Mock-Test: again' \
    -H 'Authorization: Bearer sk-none' --data-binary '{"a":1' \
    "$d/v1/other?q=2"
rec=$(record def)
check "headers are recorded with lower-cased names" jqf "$rec" '
	.headers["x-mock-test"] == "Yes, again" and
	.headers.authorization == "Bearer sk-none" and
	([.headers | keys[] | test("[A-Z]")] | any | not)'
check "path keeps the query, bad json is null" jqf "$rec" '
	.path == "/v1/other?q=2" and .json == null and .body == "{\"a\":1"'
check "requests.log has one line per request" \
    [ "$(tail -n 1 "$T/def.log/requests.log")" = "4 POST /v1/other?q=2" ]

code=$(curl -s -o "$T/e1" -w '%{http_code}' -d '{}' "$d/v1/moderations")
check "unknown path answers 404 with an error object" [ "$code" = 404 ]
check "404 body is an OpenAI error" jqf "$T/e1" \
    '.error.type == "invalid_request_error" and (.error.message | length > 0)'
check "GET /health answers ok" [ "$(curl -s "$d/health")" = ok ]

printf '%s' "$chat" >"$T/chat.json"
curl -s -o "$T/c3" -H 'Transfer-Encoding: chunked' \
    -H 'Expect: 100-continue' --data-binary @"$T/chat.json" \
    "$d/v1/chat/completions"
check "chunked request body with Expect is read" jqf "$T/c3" \
    '.choices[0].message.content == "mock: hello there"'
# shellcheck disable=SC2016 # $b is a jq variable
check "chunked request body is recorded whole" jqf "$(record def)" \
    '.body == $b' --arg b "$chat"

big=$(head -c 70000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$d/health")
check "a head over 64 KiB gets 413" [ "$code" = 413 ]
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
    -H 'Content-Length: 16777217' -d x "$d/v1/chat/completions")
check "a body over 16 MiB gets 413" [ "$code" = 413 ]

# --- Default replies of the other dialects ------------------------------

msgs='{"model":"claude-mock","system":[{"type":"text","text":"be brief"}],'
msgs=$msgs'"max_tokens":9,"messages":[{"role":"user","content":'
msgs=$msgs'[{"type":"text","text":"hello there"}]},'
msgs=$msgs'{"role":"assistant","content":"x"},{"role":"user","content":"again"}]}'
code=$(post "$d/v1/messages" "$msgs" "$T/m1")
# "be brief" + "hello there" + "x" + "again" = 25 bytes -> 7; "mock: again" -> 3
[ "$code" = 200 ] && jqf "$T/m1" '
	.type == "message" and .role == "assistant" and .model == "claude-mock"
	and (.id | startswith("msg_mock_")) and
	.content == [{type: "text", text: "mock: again"}] and
	.stop_reason == "end_turn" and
	.usage == {input_tokens: 7, output_tokens: 3}'
check "/v1/messages answers an Anthropic message" [ $? -eq 0 ]

code=$(post "$d/v1/projects/p/models/claude-x@1:rawPredict" \
    '{"anthropic_version":"vertex-2023-10-16","messages":[{"role":"user","content":"yo"}]}' "$T/m2")
[ "$code" = 200 ] && jqf "$T/m2" '
	.model == "mock" and .content[0].text == "mock: yo" and
	.usage == {input_tokens: 1, output_tokens: 2}'
check ":rawPredict answers an Anthropic message, model mock" [ $? -eq 0 ]

resp='{"model":"gpt-mock","instructions":"be brief","input":[{"role":"user",'
resp=$resp'"content":[{"type":"input_text","text":"hello there"}]}]}'
code=$(post "$d/v1/responses?x=1" "$resp" "$T/r0")
[ "$code" = 200 ] && jqf "$T/r0" '
	.object == "response" and .status == "completed" and
	.model == "gpt-mock" and (.id | startswith("resp_mock_")) and
	(.output | length) == 1 and .output[0].type == "message" and
	.output[0].role == "assistant" and
	[.output[0].content[] | {type, text}] ==
	[{type: "output_text", text: "mock: hello there"}] and
	.usage == {input_tokens: 5, output_tokens: 5, total_tokens: 10}'
check "/responses answers a Responses object" [ $? -eq 0 ]

post "$d/v1/responses" '{"model":"m","input":"one two"}' "$T/r00" >/dev/null
check "/responses takes a string input" jqf "$T/r00" \
    '.output[0].content[0].text == "mock: one two" and .usage.input_tokens == 2'

gem='{"contents":[{"role":"user","parts":[{"text":"hello"},{"text":"there"}]}],'
gem=$gem'"systemInstruction":{"parts":[{"text":"be brief"}]}}'
code=$(post "$d/v1beta/models/gemini-mock:generateContent" "$gem" "$T/g1")
# "be brief" + "hello" + "there" = 18 bytes -> 5; "mock: hello\nthere" = 17 -> 5
[ "$code" = 200 ] && jqf "$T/g1" '
	.candidates == [{content: {role: "model",
	    parts: [{text: "mock: hello\nthere"}]},
	    finishReason: "STOP", index: 0}] and
	.usageMetadata == {promptTokenCount: 5, candidatesTokenCount: 5,
	    totalTokenCount: 10} and .modelVersion == "gemini-mock"'
check ":generateContent answers a Gemini response" [ $? -eq 0 ]

code=$(post "$d/v1/messages" '{"stream":true,"messages":[]}' "$T/m3")
# shellcheck disable=SC2016 # sh -c expands its own
check "streaming to /v1/messages answers an Anthropic event stream" \
    sh -c '[ "$1" = 200 ] && grep -q "^event: message_stop" "$2"' sh \
    "$code" "$T/m3"
code=$(post "$d/v1beta/models/g:generateContent" '{"x":1}' "$T/g2")
check "a Gemini request without contents gets 400" [ "$code" = 400 ]

# --- Scripted replies --------------------------------------------------

printf '0123456789abcdef' >"$T/sixteen.txt"
cat >"$T/script.json" <<'EOF'
{"routes": [
  {"match": "/retry", "responses": [
    {"status": 429, "headers": {"retry-after": "2"},
     "body": {"error": {"type": "rate_limit_error", "message": "slow down"}}},
    {"echo": true}]},
  {"match": "/trunc", "responses": [
    {"body_file": "sixteen.txt", "content_type": "text/plain",
     "truncate_at": 5}]},
  {"match": "/reset", "responses": [{"reset": true}]},
  {"match": "/echoing/v1/messages", "responses": [
    {"echo": true, "status": 201}]},
  {"match": "/hang", "responses": [{"hang": true}]},
  {"match": "/chunks", "responses": [
    {"body_file": "sixteen.txt", "chunk": 3, "chunk_delay_ms": 5}]},
  {"match": "/cycle", "then": "cycle", "responses": [
    {"status": 201, "body": "a"}, {"status": 202, "body": "b"}]}
]}
EOF
check "scripted server starts" start scr -s "$T/script.json"
s=$url

code=$(curl -s -D "$T/h1" -o "$T/r1" -w '%{http_code}' -d "$chat" "$s/v1/retry")
check "first scripted reply is 429" [ "$code" = 429 ]
check "429 carries retry-after" grep -qi '^retry-after: 2' "$T/h1"
check "429 body is the scripted JSON" jqf "$T/r1" \
    '.error.type == "rate_limit_error"'
code=$(curl -s -o "$T/r2" -w '%{http_code}' -d "$chat" "$s/v1/retry")
[ "$code" = 200 ] &&
    jqf "$T/r2" '.choices[0].message.content == "mock: hello there"'
check "second scripted reply is 200 echo" [ $? -eq 0 ]

code=$(post "$s/echoing/v1/messages" "$msgs" "$T/r3")
[ "$code" = 201 ] && jqf "$T/r3" \
    '.type == "message" and .content[0].text == "mock: again"'
check "scripted echo answers in the dialect of the path" [ $? -eq 0 ]

curl -s -o /dev/null "$s/trunc"
check "truncate_at makes curl report a partial file (18)" [ $? -eq 18 ]

curl -s -o /dev/null "$s/reset"
rc=$?
case $rc in
52 | 56) ok "reset makes curl fail (52 or 56)" ;;
*) notok "reset makes curl fail (52 or 56, got $rc)" ;;
esac

curl -s -o /dev/null -m 1 "$s/hang"
check "hang never answers (curl times out, 28)" [ $? -eq 28 ]

check "chunked scripted body arrives whole" \
    [ "$(curl -s "$s/chunks")" = 0123456789abcdef ]
check "chunked scripted body uses the chunked coding" [ "$(curl -s --raw \
    "$s/chunks" | head -c 8 | od -An -c | tr -d ' \n')" = '3\r\n012\r\n' ]

codes=
for _ in 1 2 3; do
	codes="$codes$(curl -s -o /dev/null -w '%{http_code}' "$s/cycle") "
done
check "then: cycle repeats the list" [ "$codes" = "201 202 201 " ]

# --- Many parallel requests with random delays -------------------------

printf '{"routes": [], "delay_ms": [50, 300]}\n' >"$T/delay.json"
check "delayed server starts" start par -S 7 -s "$T/delay.json"
cpids=
i=1
while [ "$i" -le 40 ]; do
	body="{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
	body="$body\"content\":\"n$i\"}]}"
	post "$url/v1/chat/completions" "$body" "$T/par.$i" >/dev/null &
	cpids="$cpids $!"
	i=$((i + 1))
done
for p in $cpids; do
	wait "$p"
done
good=0
i=1
while [ "$i" -le 40 ]; do
	if jqf "$T/par.$i" ".choices[0].message.content == \"mock: n$i\""; then
		good=$((good + 1))
	fi
	i=$((i + 1))
done
check "40 parallel delayed requests all answered ($good)" [ "$good" = 40 ]
check "40 parallel requests all recorded" \
    [ "$(wc -l <"$T/par.log/requests.log")" -eq 40 ]

# --- Fixture replay ----------------------------------------------------

sse=$FIX/openai-chat/gpt4o-text-stop.sse
if [ -f "$sse" ] && start sse -f "$sse" -c 1; then
	code=$(curl -s -D "$T/sh" -o "$T/sse.out" -w '%{http_code}' \
	    -d "$chat" "$url/v1/chat/completions")
	check "1-byte chunked SSE replay is byte-identical" \
	    cmp -s "$sse" "$T/sse.out"
	[ "$code" = 200 ] && grep -qi '^content-type: text/event-stream' "$T/sh"
	check "SSE replay is 200 text/event-stream" [ $? -eq 0 ]
else
	skip "1-byte chunked SSE replay is byte-identical" "no $sse"
	skip "SSE replay is 200 text/event-stream" "no $sse"
fi

meta=$FIX/anthropic-messages/retry-429-nonstream.meta.json
if [ -f "$meta" ] && start meta -f "$meta"; then
	codes=
	for i in 1 2 3 4; do
		codes="$codes$(curl -s -D "$T/mh.$i" -o "$T/mb.$i" \
		    -w '%{http_code}' -d '{}' "$url/v1/messages") "
	done
	dir=$(dirname "$meta")
	check "meta replay gives 429, 429, 200, then repeats 200" \
	    [ "$codes" = "429 429 200 200 " ]
	check "meta replay sends the recorded headers" \
	    grep -qi '^x-should-retry: true' "$T/mh.1"
	cmp -s "$T/mb.1" "$dir/retry-429-nonstream.1.json" &&
	    cmp -s "$T/mb.3" "$dir/retry-429-nonstream.3.json"
	check "meta replay bodies match the body files" [ $? -eq 0 ]
else
	skip "meta replay gives 429, 429, 200, then repeats 200" "no $meta"
	skip "meta replay sends the recorded headers" "no $meta"
	skip "meta replay bodies match the body files" "no $meta"
fi

check "servers printed nothing" [ -z "$(cat "$T"/*.err)" ]
