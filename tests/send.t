#!/bin/sh
# TAP tests of llm-send as a tool, against the mock provider: the
# normalized response of each dialect, pass-through and re-sending, fallback
# chains as pipelines and with -F, exit statuses, how the key reaches the
# server (and nothing else), --dry-run, -o -s -t -T -u, --stats, LLM_LOG,
# the order of answers under -j 32 with random server delays, SIGPIPE,
# write errors, bounded memory and SIGINT.  What each dialect sends is
# tests/send-golden.t's job; failures and bad input tests/send-errors.t's.
# Run from the repository root after building: sh tests/send.t

. tests/lib.sh

plan 81

need jq mkfifo tests/mock/mockprov

# lines FILE: the number of lines in FILE.
lines() {
	wc -l <"$1" | tr -d ' '
}

# record TEXT: TEXT, written over several lines for reading, as one line.
record() {
	printf '%s' "$1" | tr -d '\n'
	echo
}

# jqs FILE FILTER: true when FILTER holds for FILE's records as one array.
jqs() {
	jq -es "$2" "$1" >/dev/null 2>&1
}

# jqa FILE FILTER ARG...: jqf with jq options such as --arg.
jqa() {
	_f=$1
	_flt=$2
	shift 2
	jq -e -s "length > 0 and all(.[]; $_flt)" "$@" "$_f" >/dev/null 2>&1
}

# last: the file of the last request the mock recorded.
last() {
	mock_request "$(mock_requests)"
}

# finished FILE TENTHS: waits up to TENTHS tenths of a second for FILE
# (a background job's exit status) to appear; false when it has not.
finished() {
	_i=0
	while [ ! -s "$1" ] && [ "$_i" -lt "$2" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -s "$1" ]
}

# A mock answering every request after a random 0 to 60 ms, for -j.
printf '{"routes": [], "delay_ms": [0, 60]}\n' >"$T/delay.json"
tests/mock/mockprov -t 120 -S 42 -s "$T/delay.json" -l "$T/slow.log" \
    -p "$T/slow.port" 2>"$T/slow.err" &
_pids="$_pids $!"

# The main mock: default answers, and scripted failures under /st/.
cat >"$T/script.json" <<'EOF'
{"routes": [
  {"match": "/st/s503/", "responses": [{"status": 503,
    "body": {"error": {"message": "overloaded", "type": "server_error"}}}]},
  {"match": "/st/s500/", "responses": [{"status": 500,
    "body": {"error": {"message": "boom", "type": "server_error"}}}]},
  {"match": "/st/s429/", "responses": [{"status": 429,
    "headers": {"retry-after": "1"},
    "body": {"error": {"message": "slow down", "type": "rate_limit"}}}]},
  {"match": "/st/s400/", "responses": [{"status": 400,
    "body": {"error": {"message": "bad thing",
      "type": "invalid_request_error"}}}]},
  {"match": "/st/s401echo/", "responses": [{"status": 401,
    "body": {"error": {"message": "Incorrect API key provided: sk-test-st-91c4e7.",
      "type": "invalid_request_error", "code": "invalid_api_key"}}}]},
  {"match": "/st/hang/", "responses": [{"hang": true}]},
  {"match": "/st/alt/", "then": "cycle", "responses": [
    {"status": 503, "body": {"error": {"message": "overloaded"}}},
    {"echo": true}]}
]}
EOF
if ! mock_start -s "$T/script.json" 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi
i=0
while [ ! -s "$T/slow.port" ] && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
SLOW_URL=http://127.0.0.1:$(cat "$T/slow.port")

OK_KEY=sk-test-ok-5f2a11
ST_KEY=sk-test-st-91c4e7
MYAZURE_KEY=sk-test-azure-77d0
HDR_SECRET=sk-test-header-3b9e
OPENAI_API_KEY=sk-test-openai-c0ffee
ANTHROPIC_API_KEY=sk-test-anthropic-beef
GEMINI_API_KEY=sk-test-gemini-f00d
export OK_KEY ST_KEY MYAZURE_KEY HDR_SECRET OPENAI_API_KEY \
    ANTHROPIC_API_KEY GEMINI_API_KEY
unset GOOGLE_API_KEY
LLM_OPENAI_BASE_URL=$MOCK_URL/v1
LLM_ANTHROPIC_BASE_URL=$MOCK_URL
LLM_GOOGLE_BASE_URL=$MOCK_URL/v1beta
export LLM_OPENAI_BASE_URL LLM_ANTHROPIC_BASE_URL LLM_GOOGLE_BASE_URL

CONF=$XDG_CONFIG_HOME/llm/config.json
cat >"$CONF" <<EOF
{"providers": {
  "ok": {"baseUrl": "$MOCK_URL/ok/v1", "api": "openai-completions",
    "apiKey": "\$OK_KEY", "anyModel": true,
    "modelDefaults": {"cost": {"input": 1, "output": 2}}},
  "st": {"baseUrl": "$MOCK_URL/st", "path": "/{model}/chat/completions",
    "api": "openai-completions", "apiKey": "\$ST_KEY", "anyModel": true},
  "slow": {"baseUrl": "$SLOW_URL/v1", "api": "openai-completions",
    "auth": "none", "anyModel": true},
  "myazure": {"baseUrl": "$MOCK_URL/openai/deployments/dep-9",
    "api": "openai-completions", "auth": "api-key",
    "query": {"api-version": "2024-10-21"}, "apiKey": "\$MYAZURE_KEY",
    "models": [{"id": "gpt-4o"}]},
  "hdr": {"baseUrl": "$MOCK_URL/hdr/v1", "api": "openai-completions",
    "apiKey": "\$OK_KEY", "anyModel": true,
    "headers": {"X-Custom": "\$HDR_SECRET", "X-Plain": "visible"}}
}}
EOF

# -- the normalized response of each dialect -------------------------------

# The mock counts bytes / 4, rounded up: "hello there" is 3 tokens,
# "mock: hello there" 5, "Be terse." 3 ("Be terse." + "hello there": 5).
record '{"id":"n1","model":"openai/gpt-4o","prompt":"hello there",
 "meta":{"file":"a.md"},"x_extra":[1,2]}' | llm-send >"$T/n1" 2>"$T/n1.err"
check "openai-completions: the answer normalized" jqf "$T/n1" '
	.id == "n1" and .model == "openai/gpt-4o" and
	.text == "mock: hello there" and .stop_reason == "stop" and
	.usage == {input: 3, output: 5, cache_read: 0, cache_write: 0,
	    reasoning: 0} and .attempts == 1 and .cached == false and
	(.latency_ms | type) == "number" and .cost.usd == 0.0000575'
check "the response carries meta and unknown fields, not the request's" \
    jqf "$T/n1" '.meta == {file: "a.md"} and .x_extra == [1, 2] and
	(has("prompt") or has("messages") or has("target") or
	    has("error") | not)'

record '{"id":"n2","model":"anthropic/claude-sonnet-4-5","system":"Be terse.",
 "prompt":"hello there","max_tokens":100}' | llm-send >"$T/n2" 2>>"$T/stderr"
check "anthropic-messages: the answer normalized" jqf "$T/n2" '
	.id == "n2" and .model == "anthropic/claude-sonnet-4-5" and
	.text == "mock: hello there" and .stop_reason == "stop" and
	.usage == {input: 5, output: 5, cache_read: 0, cache_write: 0,
	    reasoning: 0} and .attempts == 1'

record '{"id":"n3","model":"openai/gpt-5-codex","system":"Be terse.",
 "prompt":"hello there"}' | llm-send >"$T/n3" 2>>"$T/stderr"
check "openai-responses: the answer normalized" jqf "$T/n3" '
	.id == "n3" and .model == "openai/gpt-5-codex" and
	.text == "mock: hello there" and .stop_reason == "stop" and
	.usage == {input: 5, output: 5, cache_read: 0, cache_write: 0,
	    reasoning: 0}'

record '{"id":"n4","model":"google/gemini-2.5-flash","system":"Be terse.",
 "prompt":"hello there"}' | llm-send >"$T/n4" 2>>"$T/stderr"
check "google-generative-ai: the answer normalized" jqf "$T/n4" '
	.id == "n4" and .model == "google/gemini-2.5-flash" and
	.text == "mock: hello there" and .stop_reason == "stop" and
	.usage == {input: 5, output: 5, cache_read: 0, cache_write: 0,
	    reasoning: 0}'

# -- pass-through and re-sending -------------------------------------------

resp='{"id":"p1","model":"x/y","text":"done","stop_reason":"stop",'
resp=$resp'"usage":{"input":1,"output":1},"meta":{"k":"v"}}'
before=$(mock_requests)
printf '%s\n' "$resp" | llm-send -m ok/m >"$T/p1" 2>>"$T/stderr"
is "a response record passes through unchanged" "$(cat "$T/p1")" "$resp"
is "a response record sends nothing" "$(mock_requests)" "$before"

err='{"id":"p2","prompt":"again","meta":{"k":1},"error":{"kind":"server",'
err=$err'"status":503,"message":"HTTP 503","provider":"st",'
err=$err'"retriable":true},"attempts":1}'
printf '%s\n' "$err" | llm-send -m ok/m >"$T/p2" 2>>"$T/stderr"
check "an error record is sent again and answered" jqf "$T/p2" '
	.id == "p2" and .model == "ok/m" and .text == "mock: again" and
	.meta == {k: 1} and .attempts == 1 and (has("error") | not)'

# llm-send -m primary | llm-send -m backup
printf '%s\n' '{"id":"c1","prompt":"one"}' '{"id":"c2","prompt":"two"}' \
    >"$T/chain.in"
llm-send --retry 0 -m st/s503 <"$T/chain.in" 2>/dev/null |
    tee "$T/chain.mid" |
    llm-send -m ok/backup >"$T/chain.out" 2>/dev/null
rc=$?
check "chain: the first stage gives retriable error records" \
    jqf "$T/chain.mid" '.error.kind == "server" and .error.status == 503 and
	.error.retriable == true and (.prompt | type) == "string"'
check "chain: the second stage answers them" jqf "$T/chain.out" '
	.model == "ok/backup" and .text == "mock: \(.id | if . == "c1" then
	    "one" else "two" end)" and (has("error") | not)'
is "chain: the second stage exits 0" "$rc" 0

# /st/alt/ fails the first request and answers the second: only the
# failed record goes to the backup.
llm-send --retry 0 -j 1 -m st/alt <"$T/chain.in" 2>/dev/null >"$T/alt.mid"
before=$(mock_requests)
llm-send -m ok/backup <"$T/alt.mid" >"$T/alt.out" 2>/dev/null
is "chain: the second stage sends only what failed" \
    "$(mock_requests)" $((before + 1))
check "chain: the answered record passes, the failed one is answered" \
    jqf "$T/alt.out" 'if .id == "c1" then .model == "ok/backup" else
	.model == "st/alt" and .text == "mock: two" end'

# -- fallbacks with -F -----------------------------------------------------

LLM_LOG=$T/fb.log
export LLM_LOG
record '{"id":"f1","prompt":"fall"}' |
    llm-send -m st/s503 -F ok/backup >"$T/f1" 2>/dev/null
rc=$?
check "-F: the fallback answers when the primary fails" jqf "$T/f1" '
	.model == "ok/backup" and .text == "mock: fall" and .attempts == 2'
check "-F: LLM_LOG has the failed attempt, then the answer" jqs "$T/fb.log" '
	length == 2 and [.[].target] == ["st/s503", "ok/backup"] and
	[.[].status] == ["503", "ok"] and [.[].attempt] == [1, 2] and
	all(.[]; .id == "f1")'
is "-F: exit status 0 when the fallback answers" "$rc" 0
rm -f "$T/fb.log"
record '{"id":"f2","prompt":"fall"}' |
    llm-send -m st/s503 -F st/s500,ok/c >"$T/f2" 2>/dev/null
check "-F: fallbacks are tried in order" jqs "$T/fb.log" '
	[.[].target] == ["st/s503", "st/s500", "ok/c"]'
before=$(mock_requests)
record '{"id":"f3","prompt":"fine"}' |
    llm-send -m ok/m -F ok/backup >"$T/f3" 2>/dev/null
check "-F: unused when the primary answers" jqf "$T/f3" \
    '.model == "ok/m" and .attempts == 1'
is "-F: one request when the primary answers" "$(mock_requests)" \
    $((before + 1))
record '{"id":"f4","prompt":"fall"}' |
    llm-send --retry 0 -m st/s503 -F st/s429 >"$T/f4" 2>/dev/null
rc=$?
check "-F: every candidate failing gives one error record" jqf "$T/f4" '
	.id == "f4" and .error.retriable == true and .attempts == 2 and
	.prompt == "fall"'
is "-F: every candidate failing transiently exits 75" "$rc" 75
unset LLM_LOG

# -- exit statuses ---------------------------------------------------------

printf '%s\n' '{"prompt":"a"}' '{"prompt":"b"}' | llm-send -m ok/m \
    >/dev/null 2>&1
is "exit 0 when every record is answered" "$?" 0
printf '%s\n' '{"prompt":"a"}' '{"prompt":"b","model":"st/s400"}' |
    llm-send -m ok/m >/dev/null 2>&1
is "exit 1 when some records became error records" "$?" 1
printf '%s\n' '{"prompt":"a"}' '{"prompt":"b","model":"st/s503"}' \
    '{"prompt":"c","model":"st/s429"}' | llm-send --retry 0 -m ok/m \
    >/dev/null 2>&1
is "exit 75 when every failure was transient (503, 429)" "$?" 75
printf '%s\n' '{"prompt":"b","model":"st/s503"}' \
    '{"prompt":"c","model":"st/s400"}' | llm-send --retry 0 >/dev/null 2>&1
is "exit 1 when a failure was not transient" "$?" 1

before=$(mock_requests)
echo '{"prompt":"a"}' | llm-send -m ok/m -j 0 >"$T/u1" 2>"$T/u1.err"
is "-j 0: exit 2" "$?" 2
echo '{"prompt":"a"}' | llm-send -m ok/m -o novalue >/dev/null 2>&1
is "-o without '=': exit 2" "$?" 2
echo '{"prompt":"a"}' | llm-send -m ok/m --timeout abc >/dev/null 2>&1
is "--timeout abc: exit 2" "$?" 2
echo '{"prompt":"a"}' | llm-send -m ok/m -Q >/dev/null 2>"$T/u4.err"
rc=$?
[ "$rc" = 2 ] && grep -q '^usage: llm-send' "$T/u4.err"
check "an unknown option: exit 2 and the usage on stderr" [ $? -eq 0 ]
echo '{"prompt":"a"}' | llm-send -m ok/m -F nosuch/thing >/dev/null \
    2>"$T/u5.err"
is "-F naming nothing that resolves: exit 2" "$?" 2
echo '{"providers": [' >"$T/broken.json"
echo '{"prompt":"a"}' | LLM_CONFIG=$T/broken.json llm-send -m ok/m \
    >/dev/null 2>"$T/u6.err"
rc=$?
[ "$rc" = 2 ] && grep -q 'broken.json' "$T/u6.err"
check "a configuration that does not load: exit 2, the file named" \
    [ $? -eq 0 ]
is "usage and configuration errors send nothing" "$(mock_requests)" \
    "$before"
llm-send -h >"$T/h.out" 2>&1
rc=$?
[ "$rc" = 0 ] && grep -q '^usage: llm-send' "$T/h.out"
check "-h: the usage on stdout, exit 0" [ $? -eq 0 ]

# -- the key, per auth scheme, and nowhere else ----------------------------

echo '{"prompt":"k"}' | llm-send -m openai/gpt-4o >"$T/k.out" 2>"$T/k.err"
check "bearer: Authorization: Bearer KEY" jqf "$(last)" \
    '.headers.authorization == "Bearer sk-test-openai-c0ffee"'
echo '{"prompt":"k"}' | llm-send -m anthropic/claude-sonnet-4-5 \
    >>"$T/k.out" 2>>"$T/k.err"
check "anthropic: x-api-key and anthropic-version, no Authorization" \
    jqf "$(last)" '.headers["x-api-key"] == "sk-test-anthropic-beef" and
	.headers["anthropic-version"] == "2023-06-01" and
	(.headers | has("authorization") | not)'
echo '{"prompt":"k"}' | llm-send -m myazure/gpt-4o >>"$T/k.out" \
    2>>"$T/k.err"
check "azure: api-key header and the api-version query" jqf "$(last)" '
	.headers["api-key"] == "sk-test-azure-77d0" and
	.path == "/openai/deployments/dep-9/chat/completions?api-version=2024-10-21"
	and (.headers | has("authorization") | not)'
echo '{"prompt":"k"}' | llm-send -m google/gemini-2.5-flash >>"$T/k.out" \
    2>>"$T/k.err"
check "gemini: x-goog-api-key, no key in the URL" jqf "$(last)" '
	.headers["x-goog-api-key"] == "sk-test-gemini-f00d" and
	(.path | test("key=") | not) and
	(.headers | has("authorization") | not)'
echo '{"prompt":"k"}' | llm-send -m hdr/m >>"$T/k.out" 2>>"$T/k.err"
check "configured headers are sent, values resolved" jqf "$(last)" '
	.headers["x-custom"] == "sk-test-header-3b9e" and
	.headers["x-plain"] == "visible"'
before=$(mock_requests)
echo '{"id":"nokey","prompt":"k"}' | OPENAI_API_KEY='' \
    llm-send -m openai/gpt-4o >"$T/nokey" 2>>"$T/stderr"
check "no key: an auth error record naming the provider" jqf "$T/nokey" '
	.id == "nokey" and .error.kind == "auth" and
	.error.retriable == false and (.error.message | test("openai")) and
	(.error.message | test("llm-keys"))'
is "no key: nothing sent" "$(mock_requests)" "$before"
LLM_LOG=$T/k.log llm-send -m st/s401echo <"$T/chain.in" >"$T/k401.out" \
    2>"$T/k401.err"
check "a 401 is an auth error record with the provider's message" \
    jqf "$T/k401.out" '.error.kind == "auth" and .error.status == 401 and
	.error.retriable == false and
	(.error.message | test("Incorrect API key"))'
LLM_LOG=$T/k.log llm-send -m ok/m <"$T/chain.in" >>"$T/k.out" 2>>"$T/k.err"
for m in openai/gpt-4o anthropic/claude-sonnet-4-5 myazure/gpt-4o \
    google/gemini-2.5-flash hdr/m ok/m; do
	echo '{"prompt":"k"}' | llm-send --dry-run -m "$m"
done >"$T/k.dry" 2>>"$T/k.err"
[ -s "$T/k.log" ] && [ "$(lines "$T/k.dry")" = 6 ] &&
    ! grep -q 'sk-test-' "$T/k.out" "$T/k.err" "$T/k.log" "$T/k.dry"
check "no key in stdout, stderr, LLM_LOG or --dry-run output" [ $? -eq 0 ]
# DESIGN.md section 7: redaction of known secret bytes on every output
# path.  A provider that quotes the key back in its error (as some do)
# must not get it into the error record or the warning.
if grep -q 'sk-test-st-91c4e7' "$T/k401.out" "$T/k401.err"; then
	notok "a key the provider quotes back in an error is redacted"
	echo "# the 401 error message carries ST_KEY verbatim:"
	grep -h 'sk-test-st' "$T/k401.out" "$T/k401.err" | head -n 2 |
	    sed 's/^/#   /'
else
	ok "a key the provider quotes back in an error is redacted"
fi

# -- --dry-run -------------------------------------------------------------

before=$(mock_requests)
rec='{"id":"d1","model":"hdr/m","system":"S","prompt":"dry","max_tokens":9}'
printf '%s\n' "$rec" | llm-send --dry-run >"$T/d1" 2>"$T/d1.err"
rc=$?
[ "$rc" = 0 ] && [ "$(mock_requests)" = "$before" ]
check "--dry-run: sends nothing, exit 0" [ $? -eq 0 ]
# shellcheck disable=SC2016 # $u is a jq variable
check "--dry-run: the request: method, URL" jqa "$T/d1" '
	.id == "d1" and .model == "hdr/m" and .dry_run.method == "POST" and
	.dry_run.url == $u + "/hdr/v1/chat/completions"' --arg u "$MOCK_URL"
check "--dry-run: secrets redacted, literal headers shown" jqf "$T/d1" '
	.dry_run.headers.Authorization == "Bearer <redacted>" and
	.dry_run.headers["X-Custom"] == "<redacted>" and
	.dry_run.headers["X-Plain"] == "visible" and
	.dry_run.headers["Content-Type"] == "application/json"'
printf '%s\n' "$rec" | llm-send >/dev/null 2>&1
# shellcheck disable=SC2016 # $b is a jq variable
check "--dry-run: the body is the one a real run sends" jqa "$T/d1" \
    '.dry_run.body == $b' --argjson b "$(jq -c .json "$(last)")"
echo '{"prompt":"dry"}' | llm-send --dry-run -m anthropic/claude-sonnet-4-5 \
    >"$T/d2" 2>>"$T/stderr"
check "--dry-run: anthropic headers, the key redacted" jqf "$T/d2" '
	.dry_run.headers["x-api-key"] == "<redacted>" and
	.dry_run.headers["anthropic-version"] == "2023-06-01" and
	.dry_run.body.model == "claude-sonnet-4-5"'

# -- -s, -o, -m, -t, -T, -u, operands --------------------------------------

echo '{"prompt":"x"}' | llm-send -m ok/m -s "Be brief." >/dev/null 2>&1
check "-s: the system prompt of a record without one" jqf "$(last)" \
    '.json.messages[0] == {role: "system", content: "Be brief."}'
echo '{"prompt":"x","system":"Mine."}' | llm-send -m ok/m -s "Be brief." \
    >/dev/null 2>&1
check "-s: the record's own system prompt wins" jqf "$(last)" \
    '[.json.messages[] | select(.role == "system")] ==
	[{role: "system", content: "Mine."}]'
echo '{"prompt":"x"}' | llm-send -m ok/m -o max_tokens=5 \
    -o temperature=0.5 -o 'stop=["END"]' >/dev/null 2>&1
check "-o: request fields, values parsed as JSON" jqf "$(last)" '
	.json.max_tokens == 5 and .json.temperature == 0.5 and
	.json.stop == ["END"]'
echo '{"prompt":"x"}' | llm-send -m ok/m -o seed=7 -o user=alice \
    >/dev/null 2>&1
check "-o: other keys go into the body as they are" jqf "$(last)" \
    '.json.seed == 7 and .json.user == "alice"'
echo '{"prompt":"x","max_tokens":9}' | llm-send -m ok/m -o max_tokens=5 \
    >/dev/null 2>&1
check "-o: the record's own field wins" jqf "$(last)" '.json.max_tokens == 9'
printf '%s\n' '{"prompt":"x"}' '{"prompt":"y","model":"ok/other"}' |
    llm-send -m ok/m >"$T/m.out" 2>>"$T/stderr"
check "-m: the default model; a record's own model wins" jqs "$T/m.out" '
	[.[].model] == ["ok/m", "ok/other"]'
printf 'first line\n\n  \nsecond line\n' | llm-send -t -m ok/m >"$T/t.out" \
    2>>"$T/stderr"
check "-t: each non-blank line a prompt, ids the line numbers" jqs "$T/t.out" '
	[.[] | [.id, .text]] == [["1", "mock: first line"],
	    ["4", "mock: second line"]]'
printf 'one\ntwo\n\n' | llm-send -T -m ok/m >"$T/tt.out" 2>>"$T/stderr"
check "-T: all of the input one prompt" jqs "$T/tt.out" '
	length == 1 and .[0].id == "1" and .[0].text == "mock: one\ntwo"'
printf '{"prompt":"a"}\n{"prompt":"b"}\n' >"$T/op1"
printf '{"prompt":"c"}\n' | llm-send -m ok/m "$T/op1" - >"$T/op.out" 2>>"$T/stderr"
check "operands: files in order, - for stdin, ids counted across" \
    jqs "$T/op.out" '[.[] | [.id, .text]] == [["1", "mock: a"], ["2", "mock: b"],
	["3", "mock: c"]]'

# -- --stats and LLM_LOG ---------------------------------------------------

printf '%s\n' '{"prompt":"hello there"}' '{"prompt":"hello there"}' \
    '{"prompt":"x","model":"st/s400"}' |
    llm-send -m ok/m --stats >"$T/s.out" 2>"$T/s.err"
# 2 answers of 3 + 5 tokens at $1 and $2 per million: $0.000026.
# shellcheck disable=SC2016 # a literal $ in the pattern
check "--stats: a summary line on stderr" grep -Eq '^llm-send: 3 requests, 2 ok, 1 errors, 6 input \+ 10 output tokens, \$0\.000026, latency p50 [0-9]+ ms p95 [0-9]+ ms, [0-9.]+ s$' \
    "$T/s.err"
check "--stats: stdout holds the records only" jqs "$T/s.out" '
	length == 3 and ([.[] | select(has("text"))] | length) == 2'

echo 'not json' >"$T/l.log"
printf '%s\n' '{"id":"l1","prompt":"hello there"}' \
    '{"id":"l2","prompt":"x","model":"st/s503"}' |
    LLM_LOG=$T/l.log llm-send --retry 0 -m ok/m >/dev/null 2>&1
tail -n +2 "$T/l.log" >"$T/l.new"
check "LLM_LOG: one JSON line per attempt, appended" jqs "$T/l.new" '
	length == 2 and (map(.id) | sort) == ["l1", "l2"] and
	all(.[]; (.ts | type) == "number" and (.latency_ms | type) ==
	    "number" and .attempt == 1 and (.cost_usd | type) == "number")'
check "LLM_LOG: target, status, usage and cost of each attempt" jqs "$T/l.new" '
	(.[] | select(.id == "l1") | .target == "ok/m" and .status == "ok"
	    and .usage.input == 3 and .usage.output == 5 and
	    .cost_usd == 0.000013) and
	(.[] | select(.id == "l2") | .target == "st/s503" and
	    .status == "503")'

# -- order under -j 32 with random server delays ---------------------------

awk 'BEGIN { for (i = 1; i <= 200; i++)
	printf "{\"id\":\"r%d\",\"prompt\":\"n%d\"}\n", i, i }' >"$T/order.in"
start=$(date +%s)
llm-send -j 32 -m slow/m <"$T/order.in" >"$T/order.out" 2>"$T/order.err"
rc=$?
end=$(date +%s)
check "-j 32: 200 answers in input order" jqs "$T/order.out" '
	length == 200 and [.[].id] == [range(1; 201) | "r\(.)"]'
check "-j 32: each answer is its record's" jqf "$T/order.out" \
    '.text == "mock: n\(.id[1:])" and (has("error") | not)'
is "-j 32: exit 0" "$rc" 0
check "-j 32: requests in parallel (200 x 0-60 ms in $((end - start)) s)" \
    test $((end - start)) -le 3
llm-send -u -j 32 -m slow/m <"$T/order.in" >"$T/u.out" 2>/dev/null
check "-u -j 32: every record answered once" jqs "$T/u.out" '
	([.[].id] | sort) == ([range(1; 201) | "r\(.)"] | sort) and
	all(.[]; .text == "mock: n\(.id[1:])")'

# -- SIGPIPE, write errors, memory, SIGINT ---------------------------------

awk 'BEGIN { for (i = 1; i <= 100000; i++)
	printf "{\"prompt\":\"hello %d\"}\n", i }' >"$T/many"
start=$(date +%s)
{
	llm-send -m echo "$T/many" 2>/dev/null
	echo $? >"$T/pipe.rc"
} | head -n 1 >"$T/head.out"
end=$(date +%s)
is "| head -1: killed by SIGPIPE (status 141)" "$(cat "$T/pipe.rc")" 141
check "| head -1: ends promptly" test $((end - start)) -le 3
check "| head -1: the line read is whole" jqf "$T/head.out" \
    '.id == "1" and .text == "hello 1"'

if [ -w /dev/full ]; then
	echo '{"prompt":"x"}' | llm-send -m ok/m >/dev/full 2>"$T/full.err"
	rc=$?
	is "output to /dev/full: exit status 1" "$rc" 1
	check "output to /dev/full: a write error message" \
	    grep -q '^llm-send: write error' "$T/full.err"
else
	skip "output to /dev/full: exit status 1" "no /dev/full"
	skip "output to /dev/full: a write error message" "no /dev/full"
fi

if [ -x /usr/bin/time ]; then
	/usr/bin/time -o "$T/rss" -f %M llm-send -m echo "$T/many" \
	    >"$T/many.out" 2>/dev/null
	rss=$(tail -n 1 "$T/rss")
	if [ -n "$SANITIZED" ]; then
		skip "100000 records: peak RSS under 32 MB" \
		    "sanitizer build: its shadow memory is no measure"
	else
		check "100000 records: peak RSS under 32 MB ($rss KB)" \
		    test "$rss" -lt 32768
	fi
	is "100000 records: every one answered" "$(lines "$T/many.out")" 100000
else
	skip "100000 records: peak RSS under 32 MB" "no /usr/bin/time"
	skip "100000 records: every one answered" "no /usr/bin/time"
fi

# A FIFO named as an operand (or bash's <(...)) is input like stdin: the
# records it holds are sent and answered while its writer keeps it open.
mkfifo "$T/op.fifo"
{
	llm-send -m ok/m "$T/op.fifo" 2>/dev/null | cat >"$T/opf.out"
	echo finished >"$T/opf.rc"
} &
_pids="$_pids $!"
exec 4<>"$T/op.fifo"
printf '{"id":"o1","prompt":"fifo"}\n' >&4
i=0
while ! grep -q '"o1"' "$T/opf.out" 2>/dev/null && [ "$i" -lt 30 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "a FIFO operand: a record is answered while the writer waits" \
    grep -q '"o1"' "$T/opf.out"
exec 4>&-
finished "$T/opf.rc" 30

mkfifo "$T/in.fifo" "$T/out.fifo"
cat "$T/out.fifo" >"$T/int.out" &
_pids="$_pids $!"
{
	llm-send -m ok/m <"$T/in.fifo" >"$T/out.fifo" 2>"$T/int.err" &
	echo $! >"$T/int.pid"
	wait $!
	echo $? >"$T/int.rc"
} &
_pids="$_pids $!"
# Read-write, so that opening never blocks and a write never gets SIGPIPE.
exec 3<>"$T/in.fifo"
printf '{"id":"i1","prompt":"before"}\n' >&3
i=0
while ! grep -q '"i1"' "$T/int.out" 2>/dev/null && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
# One more that never gets an answer.
printf '{"id":"i2","prompt":"never","model":"st/hang"}\n' >&3
sleep 0.3
kill -s INT "$(cat "$T/int.pid")"
if finished "$T/int.rc" 30; then
	ok "SIGINT: the run ends promptly"
else
	notok "SIGINT: the run ends promptly"
	echo "# still running 3 s after SIGINT; closing its input"
	exec 3>&-
	kill -s TERM "$(cat "$T/int.pid")" 2>/dev/null
	finished "$T/int.rc" 30 || kill -s KILL "$(cat "$T/int.pid")"
	finished "$T/int.rc" 10
fi
exec 3>&-
sleep 0.2
is "SIGINT: exit status 130" "$(cat "$T/int.rc" 2>/dev/null)" 130
check "SIGINT: only the answered record, whole" jqs "$T/int.out" '
	length == 1 and .[0].id == "i1" and .[0].text == "mock: before"'
is "SIGINT: the output ends in a newline" \
    "$(tail -c 1 "$T/int.out" | od -An -c | tr -d ' ')" '\n'

# The input is polled, never made non-blocking: O_NONBLOCK belongs to the
# open file the shell shares, and a tool killed with SIGKILL could not put
# it back.  fdinfo's flags are octal; O_NONBLOCK is 04000.
nonblock() {
	sed -n 's/^flags:[[:space:]]*//p' "$1" |
	    awk '{ print (int(substr($0, length($0) - 3, 1)) % 8 >= 4) }'
}
if [ -r /proc/self/fdinfo/0 ]; then
	mkfifo "$T/nb.fifo"
	exec 4<>"$T/nb.fifo"
	llm-send -m echo/echo <&4 >/dev/null 2>&1 &
	nbpid=$!
	_pids="$_pids $nbpid"
	i=0
	while [ ! -r "/proc/$nbpid/fdinfo/0" ] && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	printf '{"prompt":"x"}\n' >&4
	sleep 0.5
	is "a shared input is never made non-blocking" \
	    "$(nonblock "/proc/$nbpid/fdinfo/0")" 0
	kill -s KILL "$nbpid"
	wait "$nbpid" 2>/dev/null
	is "...and is left as it was after SIGKILL" \
	    "$(nonblock "/proc/$$/fdinfo/4")" 0
	exec 4>&-
else
	skip "a shared input is never made non-blocking" "no /proc"
	skip "...and is left as it was after SIGKILL" "no /proc"
fi

is "the mock providers printed nothing" \
    "$(cat "$T/mock.err" "$T/slow.err")" ""
