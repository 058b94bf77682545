#!/bin/sh
# TAP tests of how llm-send fails: every HTTP status and transport failure
# to its error kind and retriability (DESIGN.md section 5), and bad input
# (an unknown dialect, a model that resolves nowhere, a tool result without
# its call, a missing image, a body that is not JSON, a 200 with no
# choices, a line that is no JSON): each becomes an error record with a
# clear message, and the run goes on.
# Run from the repository root after building: sh tests/send-errors.t

. tests/lib.sh

plan 43

need jq tests/mock/mockprov

# jqa FILE FILTER ARG...: FILTER holds for every record of FILE; jq
# options such as --arg may follow.
jqa() {
	_f=$1
	_flt=$2
	shift 2
	jq -e -s "length > 0 and all(.[]; $_flt)" "$@" "$_f" >/dev/null 2>&1
}

# One route per failure, under /st/NAME/: provider "st" sends model NAME
# to /st/NAME/chat/completions.
err() {
	printf '{"match": "/st/%s/", "responses": [{"status": %s, "body": %s}]},\n' \
	    "$1" "$2" "$3"
}
{
	echo '{"routes": ['
	for s in 400 401 402 403 404 408 409 413 422 425 429 500 502 503 \
	    504 529; do
		err "s$s" "$s" \
		    '{"error": {"message": "status '"$s"'", "type": "some_error"}}'
	done
	err s429quota 429 '{"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "code": "insufficient_quota"}}'
	err s400ctx 400 '{"error": {"message": "This model maximum context length is 128000 tokens.", "type": "invalid_request_error", "code": "context_length_exceeded"}}'
	err s400filter 400 '{"error": {"message": "The response was filtered due to the prompt triggering the content management policy.", "type": null, "code": "content_filter"}}'
	err s403quota 403 '{"error": {"message": "Your credit balance is too low.", "type": "billing_error"}}'
	err s500text 500 '"<html>Internal Server Error</html>"'
	cat <<'EOF'
  {"match": "/st/notjson/", "responses": [{"status": 200,
    "content_type": "text/html", "body": "<html>hello</html>"}]},
  {"match": "/st/emptychoices/", "responses": [{"status": 200,
    "body": {"id": "c1", "object": "chat.completion", "created": 0,
      "model": "m", "choices": []}}]},
  {"match": "/st/reset/", "responses": [{"reset": true}]},
  {"match": "/st/hang/", "responses": [{"hang": true}]},
  {"match": "/st/trunc/", "responses": [{"body": {"id": "c1",
    "object": "chat.completion", "choices": [{"index": 0, "message":
    {"role": "assistant", "content": "cut short"},
    "finish_reason": "stop"}]}, "truncate_at": 20}]}
]}
EOF
} >"$T/script.json"
if ! mock_start -s "$T/script.json" 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi

ST_KEY=sk-test-errors-0b1
export ST_KEY
cat >"$XDG_CONFIG_HOME/llm/config.json" <<EOF
{"providers": {
  "st": {"baseUrl": "$MOCK_URL/st", "path": "/{model}/chat/completions",
    "api": "openai-completions", "apiKey": "\$ST_KEY", "anyModel": true},
  "ok": {"baseUrl": "$MOCK_URL/ok/v1", "api": "openai-completions",
    "apiKey": "\$ST_KEY", "anyModel": true}
}}
EOF

# -- status and transport failure -> kind ----------------------------------

# name kind status retriable
cat >"$T/table" <<'EOF'
s400 bad_request 400 false
s401 auth 401 false
s402 quota 402 false
s403 auth 403 false
s404 bad_request 404 false
s408 timeout 408 true
s409 server 409 true
s413 context_length 413 false
s422 bad_request 422 false
s425 server 425 true
s429 rate_limited 429 true
s500 server 500 true
s502 server 502 true
s503 server 503 true
s504 server 504 true
s529 server 529 true
s429quota quota 429 false
s400ctx context_length 400 false
s400filter content_filter 400 false
s403quota quota 403 false
s500text server 500 true
reset network null true
hang timeout null true
trunc truncated 200 true
EOF
while read -r name _; do
	printf '{"id":"%s","model":"st/%s","prompt":"p %s","meta":{"n":"%s"}}\n' \
	    "$name" "$name" "$name" "$name"
done <"$T/table" >"$T/table.in"
# One attempt each (--retry 0): the table is about the verdicts, and
# tests/failing-*.t about what llm-send does with them.
start=$(date +%s)
llm-send -j 32 --timeout 1 --retry 0 <"$T/table.in" >"$T/table.out" \
    2>"$T/table.err"
rc=$?
end=$(date +%s)
while read -r name kind status retriable; do
	jq -c --arg id "$name" 'select(.id == $id)' "$T/table.out" \
	    >"$T/one.out"
	# shellcheck disable=SC2016 # $-names are jq variables
	if jqa "$T/one.out" '.error.kind == $k and .error.status == $s and
	    .error.retriable == $r and .error.provider == "st" and
	    (.error.message | length > 0) and .model == "st/" + $id and
	    .prompt == "p " + $id and .meta == {n: $id} and .attempts == 1' \
	    --arg id "$name" --arg k "$kind" --argjson s "$status" \
	    --argjson r "$retriable"; then
		ok "$name: $kind, retriable $retriable"
	else
		notok "$name: $kind, retriable $retriable"
		sed 's/^/# got: /' "$T/one.out"
	fi
done <"$T/table"
is "a failing record each, none lost" "$(grep -c . "$T/table.out")" 24
is "some failures not transient: exit 1" "$rc" 1
check "--timeout 1: the hanging request ends within 3 s" \
    test $((end - start)) -le 3
check "an HTTP error message names the status and the provider's words" \
    jqa "$T/table.out" 'if .id == "s429" then
	.error.message | test("429") and test("status 429") else true end'
check "one warning per failed record on stderr" \
    test "$(grep -c '^llm-send: record ' "$T/table.err")" -eq 24

# -- bad input: an error record each, and the run goes on ------------------

mkdir -p "$T/img"
{
	echo '{"id":"b1","target":{"ref":"x/y","provider":"x","api":"martian",'
	echo '"url":"'"$MOCK_URL"'/x","model":"y","auth":{"scheme":"none",'
	echo '"keys":[]}},"prompt":"hi"}'
} | tr -d '\n' >"$T/bad.in"
echo >>"$T/bad.in"
cat >>"$T/bad.in" <<EOF
{"id":"b2","model":"nosuchprovider/model-x","prompt":"hi"}
{"id":"b3","model":"ok/m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"c9","content":"42"}]}
{"id":"b4","model":"ok/m","messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image","path":"$T/img/missing.png"}]}]}
{"id":"b5","model":"st/notjson","prompt":"hi"}
{"id":"b6","model":"st/emptychoices","prompt":"hi"}
{"id":"b7", "model": oops
{"id":"b8","model":"ok/m","prompt":"still here"}
EOF
llm-send --retry 0 <"$T/bad.in" >"$T/bad.out" 2>"$T/bad.err"
rc=$?

# by_id ID: the output record of ID.
by_id() {
	jq -c --arg id "$1" 'select(.id == $id)' "$T/bad.out"
}
by_id b1 >"$T/b1"
# A record's target counts only by its ref, resolved again: an unknown
# dialect can only come from there (a configuration naming one is refused
# when it is loaded, see resolve.t).
check "a target with an unknown dialect: its ref resolved again, a config error" jqf "$T/b1" '
	.error.kind == "config" and .error.retriable == false and
	(.error.message | test("x/y")) and .prompt == "hi"'
by_id b2 >"$T/b2"
check "a model that resolves nowhere: a config error naming it" jqf "$T/b2" '
	.error.kind == "config" and .error.retriable == false and
	(.error.message | test("nosuchprovider/model-x")) and
	.model == "nosuchprovider/model-x"'
by_id b3 >"$T/b3"
check "a tool result without its call: bad_input naming the call" \
    jqf "$T/b3" '.error.kind == "bad_input" and
	(.error.message | test("c9")) and (.error.message | test("messages"))'
by_id b4 >"$T/b4"
# shellcheck disable=SC2016 # $p is a jq variable
check "an image path that does not exist: bad_input naming it" \
    jqa "$T/b4" '.error.kind == "bad_input" and
	(.error.message | contains($p)) and
	(.error.message | test("No such file"))' --arg p "$T/img/missing.png"
by_id b5 >"$T/b5"
check "a body that is not JSON: an error record that says so" jqf "$T/b5" '
	(.error.kind == "server" or .error.kind == "bad_request") and
	.error.status == 200 and (.error.message | test("JSON")) and
	.prompt == "hi"'
by_id b6 >"$T/b6"
check "a 200 with empty choices: an error record that says so" jqf "$T/b6" '
	.error.status == 200 and (.error.message | test("choices")) and
	.prompt == "hi"'
check "a line that is not JSON: bad_input with its line number" \
    jqf "$(sed -n 7p "$T/bad.out" | jq -c . >"$T/b7"; echo "$T/b7")" '
	.id == "7" and .error.kind == "bad_input"'
by_id b8 >"$T/b8"
check "the run goes on: the good record after them is answered" \
    jqf "$T/b8" '.text == "mock: still here" and (has("error") | not)'
is "one output line per input line, in order" \
    "$(jq -r .id "$T/bad.out" | tr '\n' ' ')" "b1 b2 b3 b4 b5 b6 7 b8 "
is "bad input: exit 1" "$rc" 1
check "bad input: sent only what the records could make" \
    test "$(grep -c ' POST /' "$MOCK_LOG/requests.log")" -eq \
    "$(($(grep -c . "$T/table.in") + 3))"
check "bad input: a warning per bad record, none for the good one" \
    test "$(grep -c '^llm-send: ' "$T/bad.err")" -eq 7
! grep -q 'oops' "$T/bad.err"
check "bad input: the warnings quote no record text" [ $? -eq 0 ]

check "the mock provider printed nothing" test ! -s "$T/mock.err"
