#!/bin/sh
# TAP tests of llm-send --cache against the mock provider: a second run
# sends nothing and answers from the cache with the incoming ids and
# meta; the store is the one llm-cache get and put use, both ways; errors
# and a fallback's answers are never stored; -o counts in the key; off and
# ro modes; an unusable store costs a warning, not a record.  While
# llm-send rejects --cache as an unknown option, every point is skipped.
# Run from the repository root after building: sh tests/cache-send.t

. tests/lib.sh

N=18
plan $N

need jq tests/mock/mockprov

echo '{"model":"echo","prompt":"probe"}' |
    LLM_CACHE=off llm-send --cache >/dev/null 2>"$T/probe.err"
if [ $? = 2 ] && grep -q -e 'unrecognized option' -e 'invalid option' \
    -e 'usage:' "$T/probe.err"; then
	i=0
	while [ "$i" -lt "$N" ]; do
		skip "llm-send --cache" "llm-send --cache not wired yet"
		i=$((i + 1))
	done
	exit 0
fi

cat >"$T/script.json" <<'EOF'
{"routes": [
  {"match": "/st/s500/", "then": "repeat-last", "responses": [{"status": 500,
    "body": {"error": {"message": "boom", "type": "server_error"}}}]}
]}
EOF
if ! mock_start -s "$T/script.json" 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi
OK_KEY=sk-test-cache-send-4d2a
export OK_KEY
cat >"$XDG_CONFIG_HOME/llm/config.json" <<EOF
{"providers": {
  "ok": {"baseUrl": "$MOCK_URL/ok/v1", "api": "openai-completions",
    "apiKey": "\$OK_KEY", "anyModel": true},
  "st": {"baseUrl": "$MOCK_URL/st", "path": "/{model}/chat/completions",
    "api": "openai-completions", "apiKey": "\$OK_KEY", "anyModel": true}}}
EOF
LLM_CACHE_DIR=$T/c
export LLM_CACHE_DIR

entries() {
	find "$T/c/v1" -type f -name '[0-9a-f]*' 2>/dev/null | wc -l |
	    tr -d ' '
}

jqx() {
	jq "$@" >/dev/null 2>&1
}

awk 'BEGIN { for (i = 1; i <= 10; i++)
    printf "{\"id\":\"r%d\",\"model\":\"ok/m\",\"prompt\":\"q%d\",\"meta\":{\"i\":%d}}\n",
    i, i, i }' >"$T/req.jsonl"

llm-send --cache -j 4 <"$T/req.jsonl" >"$T/o1" 2>"$T/o1.err"
is "first run: exit 0" "$?" 0
is "first run: every request is sent" "$(mock_requests)" 10
check "first run: answers, not from the cache" \
    jqx -es 'length == 10 and all(.[]; .cached == false)' "$T/o1"
is "first run: one entry per answer" "$(entries)" 10

jq -c '.id = "again-" + .id | .meta = {"run": 2}' "$T/req.jsonl" \
    >"$T/req2.jsonl"
llm-send --cache -j 4 <"$T/req2.jsonl" >"$T/o2" 2>"$T/o2.err"
is "second run: exit 0" "$?" 0
is "second run: nothing is sent" "$(mock_requests)" 10
check "second run: every answer from the cache, with the new ids and meta" \
    jqx -es 'length == 10 and all(.[]; .cached == true and
    (.id | startswith("again-r")) and .meta == {"run":2} and
    .cache_key != null) and .[0].text == "mock: q1"' "$T/o2"

llm-cache get <"$T/req.jsonl" >"$T/g1"
check "llm-cache get hits what llm-send --cache stored" \
    jqx -es 'length == 10 and all(.[]; .cached == true)' "$T/g1"

jq -c '.prompt = .prompt + " staged"' "$T/req.jsonl" >"$T/req3.jsonl"
llm-cache get <"$T/req3.jsonl" | llm-send | llm-cache put >/dev/null
n=$(mock_requests)
llm-send --cache <"$T/req3.jsonl" >"$T/o3"
is "llm-send --cache hits what get | llm-send | put stored" \
    "$(mock_requests)" "$n"
check "... answering every record" \
    jqx -es 'all(.[]; .cached == true)' "$T/o3"

n=$(mock_requests)
e=$(entries)
echo '{"id":"f1","model":"st/s500","prompt":"fails"}' >"$T/err.jsonl"
llm-send --cache --retry 0 <"$T/err.jsonl" >/dev/null 2>&1
llm-send --cache --retry 0 <"$T/err.jsonl" >"$T/o4" 2>/dev/null
is "an error is never stored: it is sent again" \
    "$(mock_requests)/$(entries)" "$((n + 2))/$e"
check "... and stays an error record" jqx -e '.error.kind == "server"' \
    "$T/o4"

echo '{"id":"fb","model":"st/s500","prompt":"fallback"}' >"$T/fb.jsonl"
llm-send --cache -F ok/m <"$T/fb.jsonl" >"$T/o5" 2>/dev/null
check "a fallback answers" jqx -e '.text == "mock: fallback"' "$T/o5"
is "... but its answer is not stored as the primary's" "$(entries)" "$e"

n=$(mock_requests)
llm-send --cache -o temperature=0.3 <"$T/req.jsonl" >/dev/null
is "-o is part of the request, so of the key" "$(mock_requests)" \
    "$((n + 10))"

n=$(mock_requests)
LLM_CACHE=off llm-send --cache <"$T/req.jsonl" >/dev/null
is "LLM_CACHE=off: everything is sent" "$(mock_requests)" "$((n + 10))"

n=$(mock_requests)
e=$(entries)
jq -c '.prompt = .prompt + " ro"' "$T/req.jsonl" | head -n 3 |
    cat - "$T/req.jsonl" | LLM_CACHE=ro llm-send --cache >"$T/o6"
is "LLM_CACHE=ro: hits are used, misses sent, nothing stored" \
    "$(mock_requests)/$(entries)" "$((n + 3))/$e"

: >"$T/afile"
n=$(mock_requests)
LLM_CACHE_DIR=$T/afile/c llm-send --cache <"$T/req.jsonl" >"$T/o7" \
    2>"$T/o7.err"
check "an unusable store: every record answered, one warning" \
    test "$?" = 0 -a "$(wc -l <"$T/o7" | tr -d ' ')" = 10 -a \
    "$(grep -c 'going on uncached' "$T/o7.err")" = 1
