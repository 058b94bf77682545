#!/bin/sh
# TAP tests of llm-send's retries (DESIGN.md section 5) against scripted
# mock failures: 429, 429, 200 with Retry-After: 1 answered on the third
# attempt after two seconds; bursts of 500s; a reset connection; a
# truncated body; an answer slower than --timeout; retry-after-ms;
# x-should-retry both ways; --retry 0 and the retry budget; a Retry-After
# past --retry-max-time failing at once; the deadline bounding waits.
# Run from the repository root after building: sh tests/failing-retry.t

. tests/lib.sh

plan 34

need jq tests/mock/mockprov

# One route per scenario under /fr/NAME/: provider "fr" sends model NAME
# to /fr/NAME/chat/completions.
cat >"$T/script.json" <<'EOF'
{"routes": [
  {"match": "/fr/ra1/", "responses": [
    {"status": 429, "headers": {"retry-after": "1"},
     "body": {"error": {"message": "slow down", "type": "rate_limit"}}},
    {"status": 429, "headers": {"retry-after": "1"},
     "body": {"error": {"message": "slow down", "type": "rate_limit"}}},
    {"echo": true}]},
  {"match": "/fr/burst/", "responses": [
    {"status": 500, "body": {"error": {"message": "boom"}}},
    {"status": 500, "body": {"error": {"message": "boom"}}},
    {"status": 502, "body": "<html>bad gateway</html>"},
    {"status": 503, "body": {"error": {"message": "overloaded"}}},
    {"echo": true}]},
  {"match": "/fr/reset/", "responses": [{"reset": true}, {"echo": true}]},
  {"match": "/fr/trunc/", "responses": [
    {"echo": true, "truncate_at": 10}, {"echo": true}]},
  {"match": "/fr/slow/", "responses": [
    {"echo": true, "delay_ms": 4000}, {"echo": true}]},
  {"match": "/fr/ms/", "responses": [
    {"status": 503, "headers": {"retry-after-ms": "700"},
     "body": {"error": {"message": "busy"}}},
    {"echo": true}]},
  {"match": "/fr/noretry/", "responses": [
    {"status": 500, "headers": {"x-should-retry": "false"},
     "body": {"error": {"message": "do not"}}},
    {"echo": true}]},
  {"match": "/fr/yesretry/", "responses": [
    {"status": 400, "headers": {"x-should-retry": "true"},
     "body": {"error": {"message": "try again"}}},
    {"echo": true}]},
  {"match": "/fr/always500/", "responses": [
    {"status": 500, "body": {"error": {"message": "down"}}}]},
  {"match": "/fr/far/", "responses": [
    {"status": 429, "headers": {"retry-after": "3600"},
     "body": {"error": {"message": "come back in an hour"}}}]},
  {"match": "/fr/bad/", "responses": [
    {"status": 400, "body": {"error": {"message": "bad request"}}}]}
]}
EOF
if ! mock_start -s "$T/script.json" 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi
FR_KEY=sk-test-retry-4d1
export FR_KEY
cat >"$XDG_CONFIG_HOME/llm/config.json" <<EOF
{"providers": {
  "fr": {"baseUrl": "$MOCK_URL/fr", "path": "/{model}/chat/completions",
    "api": "openai-completions", "apiKey": "\$FR_KEY", "anyModel": true}
}}
EOF

# jqs FILE FILTER: true when FILTER holds for FILE's records as one array.
jqs() {
	jq -es "$2" "$1" >/dev/null 2>&1
}

# hits NAME: the requests the mock got for route NAME.
hits() {
	grep -c " /fr/$1/" "$MOCK_LOG/requests.log"
}

# send NAME ARGS...: one record to model fr/NAME, output in $T/NAME.out,
# exit status in $T/NAME.rc, seconds taken in $T/NAME.s.
send() {
	_name=$1
	shift
	_t0=$(date +%s.%N)
	printf '{"id":"%s","model":"fr/%s","prompt":"hi %s"}\n' \
	    "$_name" "$_name" "$_name" |
	    LLM_LOG=$T/$_name.log llm-send --retry-base 0.05 "$@" \
	    >"$T/$_name.out" 2>"$T/$_name.err"
	echo $? >"$T/$_name.rc"
	_t1=$(date +%s.%N)
	echo "$_t0 $_t1" | awk '{ printf "%.2f\n", $2 - $1 }' >"$T/$_name.s"
}

# secs NAME OP N: whether the run of NAME took OP N seconds (awk).
secs() {
	awk -v s="$(cat "$T/$1.s")" -v n="$3" "BEGIN { exit !(s $2 n) }"
}

# -- 429, 429, 200 with Retry-After: 1 ------------------------------------

send ra1
check "429, 429, 200: answered on attempt 3" jqf "$T/ra1.out" '
	.text == "mock: hi ra1" and .attempts == 3 and (has("error") | not)'
check "429, 429, 200: after at least 2 s (Retry-After: 1, twice)" \
    secs ra1 '>=' 2
check "429, 429, 200: and not much more ($(cat "$T/ra1.s") s)" \
    secs ra1 '<' 4
is "429, 429, 200: three requests" "$(hits ra1)" 3
check "429, 429, 200: LLM_LOG has 429, 429, ok" jqs "$T/ra1.log" '
	[.[].status] == ["429", "429", "ok"]'
is "429, 429, 200: exit 0" "$(cat "$T/ra1.rc")" 0

# -- transient failures ----------------------------------------------------

send burst
check "a burst of 500, 500, 502, 503: answered on attempt 5" \
    jqf "$T/burst.out" '.text == "mock: hi burst" and .attempts == 5'
is "a burst: five requests" "$(hits burst)" 5
send reset
check "a reset connection: answered on attempt 2" jqf "$T/reset.out" '
	.text == "mock: hi reset" and .attempts == 2'
send trunc
check "a truncated body: answered on attempt 2" jqf "$T/trunc.out" '
	.text == "mock: hi trunc" and .attempts == 2'
send slow --timeout 1
check "an answer slower than --timeout 1: answered on attempt 2" \
    jqf "$T/slow.out" '.text == "mock: hi slow" and .attempts == 2'
check "... within about the timeout ($(cat "$T/slow.s") s)" secs slow '<' 3
send ms
check "retry-after-ms: 700: answered on attempt 2" jqf "$T/ms.out" '
	.attempts == 2 and .text == "mock: hi ms"'
check "... after at least 0.7 s" secs ms '>=' 0.7

# -- what is not retried ---------------------------------------------------

send noretry
check "x-should-retry: false on a 500: not retried" jqf "$T/noretry.out" '
	.error.status == 500 and .error.retriable == false and .attempts == 1'
is "x-should-retry: false: exit 1" "$(cat "$T/noretry.rc")" 1
send yesretry
check "x-should-retry: true on a 400: retried and answered" \
    jqf "$T/yesretry.out" '.text == "mock: hi yesretry" and .attempts == 2'
send bad
check "a 400: not retried" jqf "$T/bad.out" '
	.error.kind == "bad_request" and .attempts == 1'
is "a 400: one request" "$(hits bad)" 1

# -- the budget and the deadline -------------------------------------------

send always500 --retry 2
check "--retry 2: three attempts, then the error" jqf "$T/always500.out" '
	.error.kind == "server" and .error.retriable == true and
	.attempts == 3'
is "--retry 2: exit 75 (transient)" "$(cat "$T/always500.rc")" 75
before=$(hits always500)
send always500 --retry 0
check "--retry 0: one attempt" jqf "$T/always500.out" '.attempts == 1'
is "--retry 0: one request" "$(hits always500)" $((before + 1))
before=$(hits always500)
send always500 --retry 1000 --retry-base 0.2 --retry-max-time 1.5
check "--retry-max-time 1.5: the deadline ends the retries" \
    jqf "$T/always500.out" '.error.kind == "server" and .attempts >= 2 and
	.attempts <= 12'
check "... in about 1.5 s ($(cat "$T/always500.s") s)" secs always500 '<' 3
send far --retry-max-time 10
check "Retry-After past the deadline: no wait, the error at once" \
    jqf "$T/far.out" '.error.kind == "rate_limited" and .attempts == 1 and
	.error.retriable == true'
check "... in well under the deadline ($(cat "$T/far.s") s)" secs far '<' 2
is "... exit 75" "$(cat "$T/far.rc")" 75

# -- option errors ---------------------------------------------------------

before=$(wc -l <"$MOCK_LOG/requests.log")
for bad in "--retry -1" "--retry x" "--retry-base 0" "--retry-cap -2" \
    "--retry-max-time x" "--rate 0/m" "--rate 4/w"; do
	# shellcheck disable=SC2086 # word splitting wanted
	echo '{"prompt":"x"}' | llm-send -m fr/bad $bad >/dev/null 2>&1
	echo "$?"
done >"$T/opt.rc"
is "bad --retry, --retry-base, --retry-cap, --retry-max-time, --rate: exit 2" \
    "$(sort -u "$T/opt.rc")" 2
is "... and nothing sent" "$(wc -l <"$MOCK_LOG/requests.log")" "$before"
llm-send -h >"$T/h.out"
check "usage names the new options" grep -q -- '--retry-max-time' "$T/h.out"

# -- many records, one slow server -----------------------------------------

# Ten records, each failing once: the retries of one record do not hold
# up the others.
awk 'BEGIN { for (i = 1; i <= 10; i++)
	printf "{\"id\":\"m%d\",\"model\":\"fr/many%d\",\"prompt\":\"m\"}\n",
	    i, i }' >"$T/many.in"
{
	echo '{"routes": ['
	i=1
	while [ $i -le 10 ]; do
		printf '{"match": "/fr/many%d/",' $i
		printf ' "responses": [{"status": 503,'
		printf ' "headers": {"retry-after": "1"}, "body": "busy"},'
		printf ' {"echo": true}]}%s\n' "$([ $i -lt 10 ] && echo ,)"
		i=$((i + 1))
	done
	echo ']}'
} >"$T/many.json"
mock_start -s "$T/many.json" 2>>"$T/mock.err"
sed "s|http://127.0.0.1:[0-9]*/fr|$MOCK_URL/fr|" \
    "$XDG_CONFIG_HOME/llm/config.json" >"$T/c2" &&
    mv "$T/c2" "$XDG_CONFIG_HOME/llm/config.json"
start=$(date +%s)
llm-send -j 10 <"$T/many.in" >"$T/many.out" 2>/dev/null
end=$(date +%s)
check "ten records retried in parallel: all answered on attempt 2" \
    jqs "$T/many.out" 'length == 10 and all(.[]; .attempts == 2)'
check "... in about one Retry-After ($((end - start)) s)" \
    test $((end - start)) -le 3

check "the mock providers printed nothing" test ! -s "$T/mock.err"
