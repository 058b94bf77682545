#!/bin/sh
# TAP tests of llm-cache as a tool: get | llm-send | put with the offline
# echo provider and the mock provider (a second run sends nothing), what
# a hit looks like, what put keeps and what it never keeps, the entry
# format (written here with b2sum, independently of the C code), corrupt,
# foreign and unwritable stores, a full disk, read-only and off modes,
# --max-age, prune (LRU, --max-size, --max-age), clear, show, stats, key,
# exit statuses and usage errors.  Keys themselves: tests/cache-keys.t;
# concurrency and kill -9: tests/cache-stress.t; llm-send --cache:
# tests/cache-send.t.  Run from the repository root after building:
# sh tests/cache.t

. tests/lib.sh

plan 83

need jq b2sum tests/mock/mockprov

C=$T/c
LLM_CACHE_DIR=$C
export LLM_CACHE_DIR

# lines FILE: the number of lines in FILE.
lines() {
	wc -l <"$1" | tr -d ' '
}

# stat_of NAME: one number from llm-cache stats.
stat_of() {
	llm-cache stats 2>/dev/null | jq -r ".$1"
}

# entry KEY: the file of KEY's entry.
entry() {
	printf '%s/v1/%s/%s/%s\n' "$C" "$(printf %s "$1" | cut -c1-2)" \
	    "$(printf %s "$1" | cut -c3-4)" "$1"
}

# plant KEY CREATED BODY: writes an entry as llm-cache(1) describes it.
plant() {
	_f=$(entry "$1")
	mkdir -p "${_f%/*}"
	_len=$(printf '%s' "$3" | wc -c | tr -d ' ')
	_head="LLMC1 $1 $2 $_len "
	_sum=$(printf '%s%s' "$_head" "$3" | b2sum -l 256 | cut -d' ' -f1)
	printf '%s%s\n%s\n' "$_head" "$_sum" "$3" >"$_f"
}

# jqx ARGS...: jq for its exit status only.
jqx() {
	jq "$@" >/dev/null 2>&1
}

# entries: how many entries the store holds.
entries() {
	find "$C/v1" -type f -name '[0-9a-f]*' 2>/dev/null | wc -l | tr -d ' '
}

cat >"$T/req.jsonl" <<'EOF'
{"id":"a","model":"echo","prompt":"alpha","meta":{"n":1}}
{"id":"b","model":"echo","prompt":"beta","temperature":0.5,"x":[1]}
{"id":"c","model":"echo","messages":[{"role":"user","content":"gamma"}]}
EOF

# -- the pipeline --------------------------------------------------------

llm-cache get <"$T/req.jsonl" >"$T/g1" 2>"$T/g1.err"
is "get: exit 0 on misses" "$?" 0
check "get: a miss is the request, annotated with its key and target" \
    jqx -es '.[0] == {"id":"a","model":"echo","prompt":"alpha",
    "meta":{"n":1},"cache_key":.[0].cache_key,"cache_ref":"echo/echo"}
    and all(.[]; .cache_key | test("^[0-9a-f]{64}$"))' "$T/g1"
llm-send <"$T/g1" | llm-cache put >"$T/p1" 2>"$T/p1.err"
is "put: exit 0" "$?" 0
check "put: every record passes through" \
    jqx -es 'length == 3 and all(.[]; .cached == false)' "$T/p1"
is "put: one entry per answer" "$(entries)" 3
K_A=$(jq -r 'select(.id == "a") | .cache_key' "$T/g1")
check "the entry is v1/ab/cd/<key> under LLM_CACHE_DIR" \
    test -f "$(entry "$K_A")"
# shellcheck disable=SC2016
check "an entry is the header line and the body" \
    awk -v k="$K_A" 'NR == 1 && $1 == "LLMC1" && $2 == k &&
    length($5) == 64 { ok = 1 } END { exit !(ok && NR == 2) }' \
    "$(entry "$K_A")"

# The same requests under new ids and meta: all hits.
jq -c '.id = "new-" + .id | .meta = {"run": 2}' "$T/req.jsonl" \
    >"$T/req2.jsonl"
llm-cache get <"$T/req2.jsonl" >"$T/g2" 2>"$T/g2.err"
is "get: exit 0 on hits" "$?" 0
check "get: a hit is the stored response with the incoming id and meta" \
    jqx -es '.[0] | .id == "new-a" and .text == "alpha" and
    .cached == true and .meta == {"run":2} and .model == "echo/echo" and
    .stop_reason == "stop" and .cache_key != null and
    has("prompt") == false' "$T/g2"
check "get: unknown fields come along, request fields do not" \
    jqx -es '.[1] | .x == [1] and .text == "beta" and
    (has("temperature") | not)' "$T/g2"
check "get: messages and prompt forms hit alike" \
    jqx -es '.[2].text == "gamma" and .[2].cached' "$T/g2"
stores=$(stat_of stores)
llm-send <"$T/g2" | llm-cache put >"$T/p2"
check "a hit passes llm-send and put untouched" \
    jqx -es 'length == 3 and all(.[]; .cached == true)' "$T/p2"
is "put does not store a hit again" "$(stat_of stores)" "$stores"
is "stats: hits and misses" "$(stat_of hits)/$(stat_of misses)" "3/3"

# Sensitivity end to end: a changed parameter misses.
jq -c 'select(.id == "a") | .temperature = 0.1' "$T/req.jsonl" |
    llm-cache get >"$T/g3"
check "a changed parameter is a miss" \
    jqx -e '.cached == null and .cache_key != null' "$T/g3"

# The XDG default when LLM_CACHE_DIR is unset.
(unset LLM_CACHE_DIR; llm-cache get <"$T/req.jsonl" | llm-send |
    llm-cache put >/dev/null)
check "without LLM_CACHE_DIR: \$XDG_CACHE_HOME/llm" \
    test -f "$XDG_CACHE_HOME/llm/v1/$(printf %s "$K_A" | cut -c1-2)/$(
    printf %s "$K_A" | cut -c3-4)/$K_A"

# A resolved record (llm-resolve's target) has the same key.
jq -c 'select(.id == "a")' "$T/req.jsonl" | llm-resolve |
    llm-cache get >"$T/g4"
# shellcheck disable=SC2016
check "a record resolved by llm-resolve hits the same entry" \
    jqx -e --arg k "$K_A" '.cached == true and .cache_key == $k' "$T/g4"

# -- with a provider: the second run sends nothing ---------------------

# shellcheck disable=SC2119
if ! mock_start 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi
OK_KEY=sk-test-cache-0b5e11
export OK_KEY
cat >"$XDG_CONFIG_HOME/llm/config.json" <<EOF
{"providers": {"ok": {"baseUrl": "$MOCK_URL/ok/v1",
  "api": "openai-completions", "apiKey": "\$OK_KEY", "anyModel": true}},
 "models": {"fast": {"model": "ok/m1"}}}
EOF
awk 'BEGIN { for (i = 1; i <= 20; i++)
    printf "{\"id\":\"m%d\",\"model\":\"ok/m1\",\"prompt\":\"p%d\"}\n", i, i }' \
    >"$T/m.jsonl"
llm-cache get <"$T/m.jsonl" | llm-send -j 4 | llm-cache put >"$T/m1"
is "mock: the first run sends every request" "$(mock_requests)" 20
llm-cache get <"$T/m.jsonl" | llm-send -j 4 | llm-cache put >"$T/m2"
is "mock: the second run sends nothing" "$(mock_requests)" 20
check "mock: the second run answers all, from the cache" \
    jqx -es 'length == 20 and all(.[]; .cached == true and
    (.text | startswith("mock: p")))' "$T/m2"
jq -c '{id, text}' "$T/m1" >"$T/m1.t"
jq -c '{id, text}' "$T/m2" >"$T/m2.t"
check "mock: the same answers" cmp -s "$T/m1.t" "$T/m2.t"
echo '{"id":"al","model":"fast","prompt":"p1"}' | llm-cache get >"$T/m3"
check "mock: an alias naming the same target hits" \
    jqx -e '.cached == true and .text == "mock: p1"' "$T/m3"
OK_KEY=sk-test-cache-other
check "no record, entry or message holds the key" \
    sh -c "! grep -r -e sk-test-cache-0b5e11 '$C' '$T/m1' '$T/m2' \
    '$T/m3' >/dev/null"

# -- what put keeps and what it never keeps ----------------------------

printf '%s\n' '{"prompt":"keep"}' | llm-cache key -m echo >"$T/k1"
K=$(jq -r .cache_key "$T/k1")
n=$(entries)
{
	printf '{"id":"e1","prompt":"x","cache_key":"%s","error":' "$K"
	printf '{"kind":"server","message":"boom","retriable":true}}\n'
	printf '{"id":"e2","model":"echo/echo","text":"t","stop_reason":'
	printf '"error","cache_key":"%s"}\n' "$K"
	printf '{"id":"e3","type":"end","model":"echo/echo","text":"t",'
	printf '"stop_reason":"stop","partial":true,"cache_key":"%s"}\n' "$K"
	printf '{"id":"e4","model":"echo/echo","text":"t","stop_reason":'
	printf '"content_filter","cache_key":"%s"}\n' "$K"
	printf '{"id":"e5","model":"echo/echo","text":"t","stop_reason":'
	printf '"stop","cache_key":"%s","cache_ref":"other/x"}\n' "$K"
	printf '{"id":"e6","model":"echo/echo","text":"t","stop_reason":'
	printf '"stop"}\n'
	printf '{"id":"e7","model":"echo/echo","text":"t","stop_reason":'
	printf '"stop","cache_key":"nothex"}\n'
} >"$T/bad.jsonl"
llm-cache put <"$T/bad.jsonl" >"$T/bad.out" 2>"$T/bad.err"
rc=$?
is "put: errors, partial, cut, foreign answers, unkeyed: none kept" \
    "$(entries)" "$n"
check "put: every one of them passes through unchanged" \
    cmp -s "$T/bad.jsonl" "$T/bad.out"
is "put: exit 75 when the only failure passing through was transient" \
    "$rc" 75
printf '{"id":"e8","error":{"kind":"auth","retriable":false}}\n' |
    llm-cache put >/dev/null 2>&1
is "put: exit 1 when a failure passing through was not" "$?" 1
printf '{"id":"ok1","model":"echo/echo","text":"kept","stop_reason":'\
'"length","cache_key":"%s","cache_ref":"echo/echo"}\n' "$K" |
    llm-cache put >/dev/null
echo '{"id":"z","prompt":"keep"}' | llm-cache get -m echo >"$T/k2"
check "put: a complete answer is kept, stop_reason length included" \
    jqx -e '.cached == true and .text == "kept" and .id == "z"' "$T/k2"

# -- the entry format, written by hand --------------------------------

printf '{"prompt":"planted"}\n' | llm-cache key -m echo >"$T/k3"
KP=$(jq -r .cache_key "$T/k3")
plant "$KP" "$(date +%s)" '{"model":"echo/echo","text":"by hand","stop_reason":"stop"}'
printf '{"id":"h","prompt":"planted"}\n' | llm-cache get -m echo >"$T/h1"
check "an entry written from the man page's description is a hit" \
    jqx -e '.text == "by hand" and .cached == true and .id == "h"' \
    "$T/h1"
plant "$KP" "$(($(date +%s) - 7200))" '{"model":"echo/echo","text":"old","stop_reason":"stop"}'
printf '{"prompt":"planted"}\n' | llm-cache get -m echo --max-age 1h \
    >"$T/h2"
check "--max-age: an older entry is a miss" jqx -e '.cached == null' "$T/h2"
printf '{"prompt":"planted"}\n' | LLM_CACHE_MAX_AGE=3h \
    llm-cache get -m echo >"$T/h3"
check "LLM_CACHE_MAX_AGE: a younger one is a hit" \
    jqx -e '.text == "old"' "$T/h3"

# -- corrupt entries ---------------------------------------------------

corrupt0=$(stat_of corrupt)
f=$(entry "$K_A")
head -c 40 "$f" >"$f.x" && mv "$f.x" "$f"
llm-cache get <"$T/req.jsonl" >"$T/c1" 2>"$T/c1.err"
check "a truncated entry is a miss" \
    jqx -es '.[0].cached == null and .[0].cache_key != null' "$T/c1"
check "... and is removed" test ! -e "$f"
llm-cache get <"$T/req.jsonl" | llm-send | llm-cache put >/dev/null
sed 's/"text":"alpha"/"text":"alphb"/' "$f" >"$f.x" && mv "$f.x" "$f"
check "the flipped bit is in place" grep -q alphb "$f"
LLM_CACHE=ro llm-cache get <"$T/req.jsonl" >"$T/c2"
check "ro: a bit-flipped entry is a miss" \
    jqx -es '.[0].cached == null' "$T/c2"
check "ro: ... and stays" test -e "$f"
llm-cache get <"$T/req.jsonl" >"$T/c3"
check "a bit-flipped entry is never served" \
    jqx -es '.[0].cached == null and .[1].cached == true' "$T/c3"
check "... and is removed" test ! -e "$f"
is "stats: corrupt entries are counted" "$(stat_of corrupt)" \
    "$((corrupt0 + 2))"
is "get: corrupt entries are not worth a warning" "$(cat "$T/c1.err")" ""

# -- modes -------------------------------------------------------------

LLM_CACHE=off llm-cache get <"$T/req.jsonl" >"$T/o1"
check "off: get passes records unchanged" cmp -s "$T/req.jsonl" "$T/o1"
n=$(entries)
jq -c '.prompt = .prompt + " off"' "$T/req.jsonl" | llm-cache get |
    llm-send | LLM_CACHE=off llm-cache put >"$T/o2"
check "off: put passes records" jqx -es 'length == 3' "$T/o2"
is "off: put stores nothing" "$(entries)" "$n"
hits=$(stat_of hits)
LLM_CACHE=ro llm-cache get <"$T/req2.jsonl" >"$T/r1"
check "ro: get still hits" jqx -es '.[1].cached == true' "$T/r1"
jq -c '.prompt = .prompt + " ro"' "$T/req.jsonl" | LLM_CACHE=ro \
    llm-cache get | llm-send | LLM_CACHE=ro llm-cache put >/dev/null
is "ro: put stores nothing" "$(entries)" "$n"
is "ro: no statistics are written" "$(stat_of hits)" "$hits"
echo '{}' | LLM_CACHE=bogus llm-cache get >/dev/null 2>"$T/bogus.err"
is "an unknown LLM_CACHE is a usage error" "$?" 2

# -- bad input and records without a key -------------------------------

printf '%s\n' '{"id":"n1","prompt":"no model"}' 'not json' \
    '{"id":"n2","prompt":"no model either"}' \
    '{"id":"n3","model":"echo","prompt":"fine"}' >"$T/nm.jsonl"
llm-cache get <"$T/nm.jsonl" >"$T/nm.out" 2>"$T/nm.err"
is "get: exit 1 for the bad line" "$?" 1
check "get: records without a model pass unchanged, the bad line as an error" \
    jqx -es '.[0] == {"id":"n1","prompt":"no model"} and
    .[1].error.kind == "bad_input" and
    .[2] == {"id":"n2","prompt":"no model either"} and
    .[3].cache_key != null' "$T/nm.out"
is "get: one warning for records without a model" \
    "$(grep -c 'not cached' "$T/nm.err")" 1
echo '{"id":"k","prompt":"no model"}' | llm-cache key >"$T/km" 2>/dev/null
is "key: a record without a model is an error record, exit 1" \
    "$?/$(jq -r .error.kind "$T/km")" "1/config"

# -- a store that cannot be used -------------------------------------

: >"$T/afile"
LLM_CACHE_DIR=$T/afile/c llm-cache get <"$T/req.jsonl" 2>"$T/u.err" |
    llm-send | LLM_CACHE_DIR=$T/afile/c llm-cache put >"$T/u.out" \
    2>>"$T/u.err"
is "an unusable directory: put still exits 0" "$?" 0
check "... every record comes through" \
    jqx -es 'length == 3 and all(.[]; .text != null)' "$T/u.out"
check "... with a warning or two, not one per record" \
    test "$(lines "$T/u.err")" -le 3 -a "$(lines "$T/u.err")" -ge 1
# A full disk: no file may grow past 0 bytes (SIGXFSZ ignored, EFBIG).
# Standard output and error are pipes, which the limit does not reach.
jq -c '.prompt = .prompt + " full"' "$T/req.jsonl" | llm-cache get |
    llm-send >"$T/full.in"
{ { LLM_CACHE_DIR=$T/full sh -c 'trap "" XFSZ; ulimit -f 0;
    exec llm-cache put' <"$T/full.in" 2>&1 >&3 3>&-
    echo $? >"$T/full.rc"; } | cat >"$T/full.err"; } 3>&1 |
    cat >"$T/full.out"
is "a full disk: put exits 0" "$(cat "$T/full.rc")" 0
check "... every record comes through" cmp -s "$T/full.in" "$T/full.out"
is "... with one warning about the store" \
    "$(grep -c 'going on uncached' "$T/full.err")" 1
check "... and no entry is left behind" \
    sh -c "! find '$T/full' -type f -name '[0-9a-f]*' -size +0c |
    grep -q ."
# A foreign file in the tree, a directory where an entry should be.
mkdir -p "$C/v1/zz" "$(entry "$K_A")"
echo "not ours" >"$C/v1/README"
stat_of entries >"$T/f.n" 2>/dev/null
llm-cache stats >/dev/null 2>"$T/f.err"
is "stats: a foreign file is one warning" "$(lines "$T/f.err")" 1
llm-cache get <"$T/req.jsonl" 2>"$T/f2.err" | llm-send |
    llm-cache put >"$T/f2.out" 2>>"$T/f2.err"
check "a directory where an entry should be: records come through" \
    jqx -es 'length == 3 and all(.[]; .text != null)' "$T/f2.out"
is "... with a warning from get and one from put" \
    "$(grep -c 'going on uncached' "$T/f2.err")" 2
llm-cache prune >/dev/null 2>&1
check "prune leaves foreign files alone" \
    test -e "$C/v1/README" -a -d "$C/v1/zz" -a -d "$(entry "$K_A")"
rm -rf "$C/v1/zz" "$C/v1/README" "$(entry "$K_A")"

# -- stats, show, prune, clear ----------------------------------------

check "stats: JSON when piped" \
    sh -c "llm-cache stats | jq -e 'has(\"hits\") and has(\"misses\") and
    has(\"corrupt\") and has(\"entries\") and has(\"bytes\") and
    .dir == \"$C\"' >/dev/null"
llm-cache show "$K" >"$T/s1"
# shellcheck disable=SC2016
check "show: the entry and its response" \
    jqx -e --arg k "$K" '.key == $k and .response.text == "kept" and
    .bytes > 0 and .created > 0' "$T/s1"
llm-cache show 0000000000000000000000000000000000000000000000000000000000000000 \
    >/dev/null 2>&1
is "show: no such entry, exit 1" "$?" 1
llm-cache show nothex >/dev/null 2>&1
is "show: not a key, exit 2" "$?" 2

llm-cache clear >/dev/null
is "clear: no entries left" "$(entries)" 0
is "clear: counts start again" "$(stat_of hits)" 0
awk 'BEGIN { for (i = 1; i <= 40; i++)
    printf "{\"id\":\"%d\",\"model\":\"echo\",\"prompt\":\"%0200d\"}\n", i, i }' \
    >"$T/many.jsonl"
llm-cache get <"$T/many.jsonl" | llm-send | llm-cache put >/dev/null
is "40 entries" "$(entries)" 40
total=$(stat_of bytes)
# The first ten were used long ago, the last twenty a while ago, the
# ten between just now.
llm-cache key <"$T/many.jsonl" | jq -r .cache_key >"$T/many.keys"
i=0
while read -r k; do
	i=$((i + 1))
	if [ "$i" -le 10 ]; then
		touch -d '3 hours ago' "$(entry "$k")"
	elif [ "$i" -gt 20 ]; then
		touch -d '2 hours ago' "$(entry "$k")"
	fi
done <"$T/many.keys"
cap=$((total / 2))
llm-cache prune --max-size "$cap" >"$T/pr.out"
check "prune --max-size: the store fits" \
    test "$(stat_of bytes)" -le "$cap"
check "prune: it says what it did" \
    jqx -e '.removed >= 20 and .bytes <= '"$cap" "$T/pr.out"
llm-cache get <"$T/many.jsonl" >"$T/pr.get"
check "prune: the least recently used went, the recently used stayed" \
    jqx -es '(.[0:10] | all(.cached == null)) and
    (.[10:20] | all(.cached == true))' "$T/pr.get"
plant "$KP" "$(($(date +%s) - 90000))" '{"model":"echo/echo","text":"old","stop_reason":"stop"}'
llm-cache prune --max-age 1d >/dev/null
check "prune --max-age: an entry stored longer ago goes" \
    test ! -e "$(entry "$KP")"
LLM_CACHE=ro llm-cache clear >/dev/null 2>&1
is "ro: clear refuses, exit 1" "$?" 1

# put --max-size (or LLM_CACHE_MAX_SIZE): the store prunes itself.
llm-cache clear >/dev/null
llm-cache get <"$T/many.jsonl" | llm-send |
    llm-cache put --max-size 4k >/dev/null
check "put --max-size: the store stays under the cap" \
    test "$(stat_of bytes)" -le 4096

# -- key, -t, usage ---------------------------------------------------

printf 'alpha\n' | llm-cache key -t -m echo >"$T/t1"
# shellcheck disable=SC2016
check "key -t: a line is a prompt" \
    jqx -e --arg k "$K_A" '.id == "1" and .cache_key == $k' "$T/t1"
llm-cache >/dev/null 2>&1
is "no command: exit 2" "$?" 2
llm-cache frob >/dev/null 2>&1
is "an unknown command: exit 2" "$?" 2
llm-cache put -m echo </dev/null >/dev/null 2>&1
is "an option the command does not take: exit 2" "$?" 2
llm-cache prune --max-size lots >/dev/null 2>&1
is "a bad size: exit 2" "$?" 2
llm-cache -h >"$T/h.out"
check "-h: the usage on stdout, exit 0" grep -q 'llm-cache get' "$T/h.out"
check "-V: the version" sh -c 'llm-cache -V | grep -q "^llm-cache "'
llm-cache get -m echo <"$T/many.jsonl" | head -n 1 >"$T/pipe.out"
is "a closed pipe ends get quietly" "$(lines "$T/pipe.out")" 1
