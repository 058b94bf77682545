#!/bin/sh
# TAP tests of llm-resolve as a tool: input lines good and bad, exit
# statuses, configuration and catalog errors, signals, write errors, -l,
# -e, ids, options.  What a reference resolves to is tests/resolve.table's
# job.  Run from the repository root after building: sh tests/resolve.t

. tests/lib.sh

plan 103

need jq

CONF=$XDG_CONFIG_HOME/llm/config.json

# lines FILE: the number of lines in FILE.
lines() {
	wc -l <"$1" | tr -d ' '
}

# compact FILE: every line of FILE is one JSON object, with no blank
# outside its strings.
compact() {
	[ -s "$1" ] &&
	    [ "$(jq -r type "$1" 2>/dev/null | grep -cx object)" = \
	    "$(lines "$1")" ] &&
	    ! sed -E 's/"([^"\\]|\\.)*"//g' "$1" | grep -q '[[:space:]]'
}

# rec FILE ID FILTER: FILE holds one record with this id, and FILTER holds
# for it.  (jq 1.6's -e looks only at the last input's output, hence -s.)
rec() {
	jq -es --arg id "$2" \
	    "[.[] | select(.id == \$id)] | length == 1 and (.[0] | $3)" \
	    "$1" >/dev/null 2>&1
}

# none PATTERN FILE...: no line of the files matches PATTERN.
none() {
	_p=$1
	shift
	! grep -q -e "$_p" -- "$@"
}

# nlines FILE N: FILE has N lines.
nlines() {
	[ "$(lines "$1")" -eq "$2" ]
}

# differ A B: the files differ.
differ() {
	! cmp -s "$1" "$2"
}

# jqs FILE FILTER: true when FILTER holds for FILE's records as one array.
jqs() {
	jq -es "$2" "$1" >/dev/null 2>&1
}

# alive PID: whether the process still runs.
alive() {
	kill -0 "$1" 2>/dev/null
}

# gone PID TENTHS: waits up to TENTHS tenths of a second for PID to end;
# false when it still runs.
gone() {
	_i=0
	while alive "$1" && [ "$_i" -lt "$2" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	! alive "$1"
}

# -- input lines -----------------------------------------------------------

printf '%s\n' '{"model":"zai/glm-4.7"}' '{"model": bad' \
    '{"model":"zai/glm-4.6"}' >"$T/badjson"
llm-resolve "$T/badjson" >"$T/out" 2>"$T/err"
rc=$?
is "invalid JSON: exit status 1" "$rc" 1
is "invalid JSON: every line answered" "$(lines "$T/out")" 3
check "invalid JSON: a bad_input record naming line 2" rec "$T/out" 2 \
    '.error.kind == "bad_input" and (.error.message | startswith("line 2:"))
    and (.error.message | contains("invalid JSON"))'
check "invalid JSON: the run goes on to line 3" \
    rec "$T/out" 3 '.target.ref == "zai/glm-4.6"'
check "invalid JSON: a warning naming line 2 on stderr" \
    grep -q 'line 2' "$T/err"

{
	printf '{"model":"zai/glm-4.7","prompt":"'
	head -c 17000000 /dev/zero | tr '\0' a
	printf '"}\n{"model":"zai/glm-4.6"}\n'
} >"$T/long"
llm-resolve <"$T/long" >"$T/out" 2>"$T/err"
rc=$?
is "over-long line: exit status 1" "$rc" 1
check "over-long line: a bad_input record for line 1" rec "$T/out" 1 \
    '.error.kind == "bad_input" and
    (.error.message | startswith("line 1:"))'
check "over-long line: the next line is still resolved" rec "$T/out" 2 \
    '.target.ref == "zai/glm-4.6"'
is "over-long line: two records out" "$(lines "$T/out")" 2
rm -f "$T/long"

printf '%s\r\n' '{"model":"zai/glm-4.7"}' \
    '{"model":"zai/glm-4.6","prompt":"a\r\n"}' |
    llm-resolve >"$T/out" 2>"$T/err"
rc=$?
is "CRLF line ends: exit status 0" "$rc" 0
check "CRLF line ends: both records resolved" jqs "$T/out" \
    '[.[].target.ref] == ["zai/glm-4.7","zai/glm-4.6"] and
    .[1].prompt == "a\r\n"'
check "CRLF line ends: no carriage return in the output" \
    none "$(printf '\r')" "$T/out"

printf '{"model":"zai/glm-4.7"}\n{"model":"zai/glm-4.6"}' |
    llm-resolve >"$T/out" 2>"$T/err"
rc=$?
is "missing final newline: exit status 0" "$rc" 0
check "missing final newline: the last record is resolved" rec "$T/out" 2 \
    '.target.ref == "zai/glm-4.6"'
is "missing final newline: the output ends in a newline" \
    "$(tail -c 1 "$T/out" | od -An -c | tr -d ' ')" '\n'

printf '{"model":"zai/glm-4.7","prompt":"\377\376"}\n%s\n' \
    '{"model":"zai/glm-4.6"}' | llm-resolve >"$T/out" 2>"$T/err"
rc=$?
is "invalid UTF-8: exit status 1" "$rc" 1
check "invalid UTF-8: a bad_input record for line 1" rec "$T/out" 1 \
    '.error.kind == "bad_input" and
    (.error.message | test("^line 1: invalid UTF-8"))'
check "invalid UTF-8: the next line is still resolved" rec "$T/out" 2 \
    '.target.ref == "zai/glm-4.6"'

llm-resolve </dev/null >"$T/out" 2>"$T/err"
rc=$?
is "empty input: exit status 0" "$rc" 0
check "empty input: no output at all" test ! -s "$T/out"

printf '\n   \n{"model":"zai/glm-4.7"}\n\t\n\n{"model":"zai/glm-4.6"}\n\n' |
    llm-resolve >"$T/out" 2>"$T/err"
rc=$?
is "blank lines: exit status 0" "$rc" 0
check "blank lines: skipped, ids still follow the line numbers" jqs "$T/out" \
    'map(.id) == ["3","6"]'

printf '%s\n' '[{"model":"zai/glm-4.7"}]' '"zai/glm-4.7"' '42' |
    llm-resolve >"$T/out" 2>"$T/err"
rc=$?
is "non-object lines: exit status 1" "$rc" 1
check "non-object lines: each a bad_input 'not a JSON object'" jqs "$T/out" \
    'length == 3 and all(.[]; .error.kind == "bad_input" and
    (.error.message | contains("not a JSON object")))'

# -- exit statuses ---------------------------------------------------------

printf '%s\n' '{"model":"zai/glm-4.7"}' '{"model":"openai/gpt-4o"}' >"$T/good"
llm-resolve "$T/good" >"$T/out" 2>"$T/err"
rc=$?
is "all resolved: exit status 0" "$rc" 0
check "all resolved: nothing on stderr" test ! -s "$T/err"

printf '%s\n' '{"model":"zai/glm-4.7"}' '{"model":"no-such-model-anywhere"}' |
    llm-resolve >"$T/out" 2>"$T/err"
rc=$?
is "some failed: exit status 1" "$rc" 1
check "some failed: the failure is a config error record" rec "$T/out" 2 \
    '.error.kind == "config"'
check "some failed: a one-line warning naming the record" \
    grep -q '^llm-resolve: record "2": unknown model' "$T/err"

# config_fails NAME: runs llm-resolve on $CONF; rc, $T/out and $T/err.
config_fails() {
	echo '{"model":"zai/glm-4.7"}' | llm-resolve >"$T/out" 2>"$T/err"
	rc=$?
}

cat >"$CONF" <<'EOF'
{
  "models": {
    "a": "zai/glm-4.7",
    "b": 5
  }
}
EOF
config_fails
is "config schema error: exit status 2" "$rc" 2
check "config schema error: nothing on stdout" test ! -s "$T/out"
is "config schema error: FILE: line 4: where: what" "$(cat "$T/err")" \
    "llm-resolve: $CONF: line 4: models.b: expected a model reference or an\
 object, got number"

printf '{\n  "defaults": {},\n  "models": {\n    "a": nope\n  }\n}\n' >"$CONF"
config_fails
is "config syntax error: exit status 2" "$rc" 2
check "config syntax error: the line of the bad token (4)" \
    grep -q "^llm-resolve: $CONF: line 4: " "$T/err"

printf '{\n  "models": {\n    "a": "x" "b"\n  }\n}\n' >"$CONF"
config_fails
check "config syntax error mid-line: line 3" \
    grep -q "^llm-resolve: $CONF: line 3: " "$T/err"

cat >"$CONF" <<'EOF'
{
"providers": {
 "x": {
  "models": [
   {"id": "a"},
   {"id": "b", "contextWindow": "big"}
  ]
 }
}
}
EOF
config_fails
is "config error in an array: exit status 2" "$rc" 2
check "config error in an array: line 6 and the index in the path" grep -qF \
    "$CONF: line 6: providers.x.models[1].contextWindow: expected number" \
    "$T/err"

printf '{"limits": {"zai": {"rpm": 0}}}\n' >"$CONF"
config_fails
is "config limit of 0: exit status 2" "$rc" 2
rm -f "$CONF"

LLM_CONFIG=$T/missing.json
export LLM_CONFIG
config_fails
is "LLM_CONFIG naming a missing file: exit status 2" "$rc" 2
check "LLM_CONFIG naming a missing file: the message names it" \
    grep -qF "$T/missing.json" "$T/err"
unset LLM_CONFIG

printf '{"version": 1, "providers": {"x": {"baseUrl": "u"}}}\n' >"$T/cat.json"
LLM_CATALOG=$T/cat.json
export LLM_CATALOG
config_fails
is "bad catalog override: exit status 2" "$rc" 2
check "bad catalog override: the message names the file and the field" \
    grep -qF "$T/cat.json: line 1: providers.x" "$T/err"
printf '{"version": 1,\n "providers": {"ZZMARK": \n' >"$T/cat.json"
config_fails
is "catalog override that is not JSON: exit status 2" "$rc" 2
check "catalog override that is not JSON: a one-line message" \
    nlines "$T/err" 1
check "catalog override that is not JSON: without the file's text" \
    none ZZMARK "$T/err"
unset LLM_CATALOG

llm-resolve -Q </dev/null >"$T/out" 2>"$T/err"
rc=$?
is "bad option: exit status 2" "$rc" 2
check "bad option: usage on stderr" grep -q '^usage: llm-resolve' "$T/err"
check "bad option: nothing on stdout" test ! -s "$T/out"
llm-resolve -S seven </dev/null >/dev/null 2>"$T/err"
is "-S that is not a number: exit status 2" "$?" 2
llm-resolve -S -1 </dev/null >/dev/null 2>"$T/err"
is "-S negative: exit status 2" "$?" 2
llm-resolve -F zai/glm-4.7,nope/nothing </dev/null >/dev/null 2>"$T/err"
rc=$?
is "-F with an unknown ref: exit status 2" "$rc" 2
check "-F with an unknown ref: the message names it" \
    grep -q -- '-F: .*nope/nothing' "$T/err"
llm-resolve -p zai </dev/null >/dev/null 2>&1
is "-p without -l: exit status 2" "$?" 2
llm-resolve -l -m zai/glm-4.7 </dev/null >/dev/null 2>&1
is "-l with -m: exit status 2" "$?" 2

# -- value expressions are never evaluated ---------------------------------

cat >"$CONF" <<EOF
{"providers": {
  "zai": {"apiKey": "!touch $T/ran", "headers": {"X-A": "!touch $T/ran2"}},
  "openai": {"apiKey": "!exit 3"}
}}
EOF
printf '%s\n' '{"model":"zai/glm-4.7"}' '{"model":"openai/gpt-4o"}' |
    llm-resolve -e >"$T/out" 2>"$T/err"
rc=$?
is "!command keys: resolution succeeds (exit status 0)" "$rc" 0
check "!command apiKey and header are never run" \
    test ! -e "$T/ran" -a ! -e "$T/ran2"
check "a failing !command is kept as the key source, unrun" rec "$T/out" 2 \
    '.target.auth.keys == ["!exit 3"] and
    .explain.keys[0].status == "checked when sending"'
rm -f "$CONF"

# -- output errors and signals ---------------------------------------------

if [ -w /dev/full ]; then
	llm-resolve "$T/good" >/dev/full 2>"$T/err"
	rc=$?
	is "output to /dev/full: exit status 1" "$rc" 1
	check "output to /dev/full: a write error message" \
	    grep -q '^llm-resolve: write error' "$T/err"
else
	skip "output to /dev/full: exit status 1" "no /dev/full"
	skip "output to /dev/full: a write error message" "no /dev/full"
fi

i=0
: >"$T/many"
while [ "$i" -lt 10 ]; do
	cat "$T/good" "$T/good" "$T/good" "$T/good" "$T/good" >>"$T/many"
	i=$((i + 1))
done
i=0
while [ "$i" -lt 9 ]; do
	cat "$T/many" "$T/many" >"$T/many2"
	mv "$T/many2" "$T/many"
	i=$((i + 1))
done
# $T/many: 51200 records.
start=$(date +%s)
{
	llm-resolve "$T/many" 2>/dev/null
	echo $? >"$T/pipe.rc"
} | head -n 1 >"$T/out"
end=$(date +%s)
is "| head -1: killed by SIGPIPE (status 141)" "$(cat "$T/pipe.rc")" 141
check "| head -1: ends promptly" test $((end - start)) -le 3
check "| head -1: the line read is whole" \
    jqf "$T/out" '.target.ref == "zai/glm-4.7"'

mkfifo "$T/in.fifo" "$T/out.fifo"
# The file exists before the reader starts, so that polling it below
# never races the background job's redirection.
: >"$T/int.out"
cat "$T/out.fifo" >>"$T/int.out" &
_pids="$_pids $!"
llm-resolve "$T/in.fifo" >"$T/out.fifo" 2>"$T/int.err" &
pid=$!
_pids="$_pids $pid"
# Read-write, so that opening never blocks and a write never gets SIGPIPE.
exec 3<>"$T/in.fifo"
printf '{"model":"zai/glm-4.7"}\n' >&3
# Until the record is out, the tool may not have installed its handler
# yet (and an asynchronous list of sh starts with SIGINT ignored): wait
# for it, up to 30 s on a loaded machine.
i=0
while [ "$(lines "$T/int.out")" -lt 1 ] && [ "$i" -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -s INT "$pid"
if gone "$pid" 30; then
	ok "SIGINT while waiting for input: the run ends promptly"
else
	notok "SIGINT while waiting for input: the run ends promptly"
	echo "# still running 3 s after SIGINT; closing its input"
fi
exec 3>&-
gone "$pid" 30 || kill -s KILL "$pid"
wait "$pid"
rc=$?
is "SIGINT: exit status 130" "$rc" 130
sleep 0.2
is "SIGINT: the record read before is out, whole" \
    "$(jq -c '.target.ref' "$T/int.out" 2>/dev/null)" '"zai/glm-4.7"'
is "SIGINT: the output ends in a newline" \
    "$(tail -c 1 "$T/int.out" | od -An -c | tr -d ' ')" '\n'

# -- -l --------------------------------------------------------------------

cat >"$CONF" <<'EOF'
{"models": {"fast": "zai/glm-4.7-flash"},
 "providers": {"mine": {"baseUrl": "http://127.0.0.1:9/v1",
   "api": "openai-completions",
   "models": [{"id": "m1", "contextWindow": 5000}]}}}
EOF
llm-resolve -l >"$T/list" 2>"$T/err"
rc=$?
is "-l: exit status 0" "$rc" 0
check "-l: at least 300 models" \
    test "$(jq -s '[.[] | select(.alias != true)] | length' "$T/list")" -ge 300
check "-l: JSONL with provider, model, api, context_window and cost" \
    jqs "$T/list" \
    'all(.[] | select(.alias != true); (.provider | type) == "string" and
    (.model | type) == "string" and (.api | type) == "string" and
    (.context_window | type) == "number" and (.cost | type) == "object" and
    .ref == .provider + "/" + .model)'
check "-l: zai/glm-4.7 with its window and prices" jqs "$T/list" \
    'any(.[]; .ref == "zai/glm-4.7" and .context_window == 204800 and
    .cost.input == 0.6 and .api == "openai-completions")'
check "-l: configured providers and aliases are listed" jqs "$T/list" \
    'any(.[]; .ref == "mine/m1" and .context_window == 5000) and
    any(.[]; .ref == "fast" and .alias == true and
    .model == "zai/glm-4.7-flash")'
check "-l: one compact object per line" compact "$T/list"
llm-resolve -l -p zai >"$T/list" 2>"$T/err"
rc=$?
is "-l -p zai: exit status 0" "$rc" 0
check "-l -p zai: only zai models, glm-4.7 and glm-5.2 among them" \
    jqs "$T/list" \
    'length >= 10 and all(.[]; .provider == "zai") and
    any(.[]; .model == "glm-4.7") and any(.[]; .model == "glm-5.2")'
llm-resolve -l -p mine >"$T/list" 2>"$T/err"
check "-l -p of a configured provider" jqs "$T/list" \
    'map(.ref) == ["mine/m1"]'
llm-resolve -l -p no-such-provider >"$T/out" 2>"$T/err"
rc=$?
is "-l -p unknown: exit status 2" "$rc" 2
check "-l -p unknown: the message names it" \
    grep -q "no-such-provider" "$T/err"
rm -f "$CONF"

# -- -e --------------------------------------------------------------------

echo '{"model":"zai/glm-4.7"}' | LLM_ZAI_BASE_URL=http://127.0.0.1:9/v4 \
    ZAI_API_KEY=sk-test-explain-1 llm-resolve -e >"$T/out" 2>"$T/err"
rc=$?
is "-e: exit status 0" "$rc" 0
check "-e: url from the environment variable" jqf "$T/out" \
    '.explain.url == "environment LLM_ZAI_BASE_URL" and
    .target.url == "http://127.0.0.1:9/v4/chat/completions"'
check "-e: key status set and unset" jqf "$T/out" \
    '[.explain.keys[] | select(.source != "keyfile:zai") | .status] ==
    ["set", "unset"]'
check "-e: the key itself appears nowhere" \
    none sk-test-explain-1 "$T/out" "$T/err"
check "-e: explain fields name every part" jqf "$T/out" \
    '.explain | has("model") and has("api") and has("url") and has("auth")
    and has("keys") and has("headers") and has("compat") and
    has("limits") and has("ref")'
echo '{"model":"zai/glm-4.7"}' | llm-resolve >"$T/out" 2>"$T/err"
check "without -e: no explain, no internal fields" jqf "$T/out" \
    'has("explain") == false and (.target | has("_explain") | not) and
    (tostring | contains("_origin") | not)'

# -- ids, files, format ----------------------------------------------------

printf '%s\n' '{"model":"zai/glm-4.7"}' '{"model":"zai/glm-4.6"}' >"$T/a"
printf '%s\n' '{"model":"zai/glm-4.5"}' '{"id":"x","model":"zai/glm-4.5"}' \
    '{"model":"zai/glm-5"}' >"$T/b"
llm-resolve "$T/a" "$T/b" >"$T/out" 2>"$T/err"
rc=$?
is "two files: exit status 0" "$rc" 0
is "two files: ids continue from line numbers across files" \
    "$(jq -r .id "$T/out" | tr '\n' ' ')" "1 2 3 x 5 "
llm-resolve "$T/a" - <"$T/b" >"$T/out" 2>"$T/err"
is "'-' operand is stdin, numbered after the file" \
    "$(jq -r .id "$T/out" | tr '\n' ' ')" "1 2 3 x 5 "
llm-resolve "$T/a" "$T/missing" "$T/b" >"$T/out" 2>"$T/err"
rc=$?
is "a missing input file: exit status 1" "$rc" 1
check "a missing input file: named on stderr" grep -q "open .*missing" "$T/err"
check "a missing input file: the other files resolved" nlines "$T/out" 5

printf '%s\n' '{"model":"zai/glm-4.7","prompt":"é ü \u2603 \"q\""}' \
    '{"model":"nope-nope"}' '{bad' \
    '{"id":"r","text":"hi","stop_reason":"stop"}' >"$T/mixed"
llm-resolve "$T/mixed" >"$T/out" 2>/dev/null
check "output: one compact JSON object per line" compact "$T/out"
cat >"$T/values" <<'EOF'
{"model":"zai/glm-4.7","n":[0.1,0.11,1e-7,123456789012345,-0.5,1e300,-0,3.14159],"s":"\u00e9\u2603\u0001\u007f\"\\/\t\n","o":{"":null,"k":[{}]}}
EOF
llm-resolve "$T/values" >"$T/out" 2>/dev/null
check "output: numbers and strings read back as they were" jqs "$T/out" \
    '.[0] | .n == [0.1,0.11,1e-7,123456789012345,-0.5,1e300,-0,3.14159] and
    .s == "\u00e9\u2603\u0001\u007f\"\\/\t\n" and .o == {"":null,"k":[{}]}'
check "output: prices printed as written in the catalog" \
    grep -q '"cost":{"input":0.6,"output":2.2,"cache_read":0.11,' "$T/out"
check "output: a compact line for these values too" compact "$T/out"
llm-resolve "$T/many" >"$T/tofile" 2>/dev/null
llm-resolve "$T/many" 2>/dev/null | cat >"$T/topipe"
check "output: the same to a file as to a pipe" \
    cmp -s "$T/tofile" "$T/topipe"
check "output to a file: one line per record" nlines "$T/tofile" 51200
rm -f "$T/tofile" "$T/topipe"

llm-resolve -h >"$T/out" 2>"$T/err"
rc=$?
is "-h: exit status 0" "$rc" 0
check "-h: usage on stdout" grep -q '^usage: llm-resolve' "$T/out"
check "-h: nothing on stderr" test ! -s "$T/err"
llm-resolve -V >"$T/out" 2>"$T/err"
rc=$?
is "-V: exit status 0" "$rc" 0
check "-V: name and version" grep -Eq '^llm-resolve [0-9]+\.[0-9]+' "$T/out"

# -- weighted aliases with a seed ------------------------------------------

echo '{"models": {"w": {"weights": {"zai/glm-4.7": 3, "openai/gpt-4o": 1}}}}' \
    >"$CONF"
i=0
: >"$T/w"
while [ "$i" -lt 200 ]; do
	echo '{"model":"w"}'
	i=$((i + 1))
done >"$T/w"
llm-resolve -S 42 "$T/w" | jq -r .target.ref >"$T/w1"
llm-resolve -S 42 "$T/w" | jq -r .target.ref >"$T/w2"
llm-resolve -S 43 "$T/w" | jq -r .target.ref >"$T/w3"
check "-S: the same seed gives the same picks" cmp -s "$T/w1" "$T/w2"
check "-S: another seed gives other picks" differ "$T/w1" "$T/w3"
n=$(grep -c '^openai/gpt-4o$' "$T/w1")
check "-S 42: 200 picks split about 3:1 (got $n of 200 for weight 1)" \
    test "$n" -ge 30 -a "$n" -le 70 -a \
    "$(grep -c '^zai/glm-4.7$' "$T/w1")" -eq $((200 - n))
rm -f "$CONF"
