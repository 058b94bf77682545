#!/bin/sh
# TAP tests of llm-embed against the mock provider: records, lines and
# documents in, the three output forms, the real base64/float fixture pair
# end to end, batching and order under concurrency, the per-text cache
# (3 of 300 texts changed: one request of 3 texts, also when read in
# bursts, output as a fresh run's; corrupt entries are misses), faults
# (fewer vectors, wrong sizes, 429 and 500 retried, cut-off answers),
# chunking, Gemini's batchEmbedContents, model checks, f32 matrices and
# search (indexes without ids or vectors, pipes refused).  Run from the
# repository root after building: sh tests/embed.t

# Filters are jq programs and sh -c scripts: their $ are theirs.
# shellcheck disable=SC2016

. tests/lib.sh

plan 82

need jq od tests/mock/mockprov bin/llm-embed

cat >"$T/script.json" <<'EOF'
{"routes": [
  {"match": "/r429/", "responses": [
    {"status": 429, "headers": {"retry-after": "0"},
     "body": {"error": {"message": "slow down", "type": "rate_limit"}}},
    {"echo": true}], "then": "default"},
  {"match": "/r500/", "responses": [
    {"status": 500, "body": {"error": {"message": "oops"}}},
    {"echo": true}], "then": "default"},
  {"match": "/cut/", "responses": [
    {"body": "{\"data\":[{\"index\":0,\"embedding\":\"AACAPwAAAEA"},
    {"body": "<html>502 Bad Gateway</html>"},
    {"body": "{\"data\":[],\"model\":\"emb"}], "then": "repeat-last"},
  {"match": "/zero/", "responses": [
    {"body": {"data": [{"index": 0, "embedding": "AAAAAAAAAAA="}]}}],
    "then": "repeat-last"},
  {"match": "/fixb64/", "responses": [
    {"body_file": "fixb64.json"}], "then": "repeat-last"},
  {"match": "/fixfloat/", "responses": [
    {"body_file": "fixfloat.json"}], "then": "repeat-last"}
]}
EOF
cp "$FIX/embeddings/openai-te3large-base64.json" "$T/fixb64.json" 2>/dev/null
cp "$FIX/embeddings/openai-te3large-float.json" "$T/fixfloat.json" 2>/dev/null
if ! mock_start -s "$T/script.json" 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi

cat >"$T/config.json" <<EOF
{"providers": {
  "mock": {"baseUrl": "$MOCK_URL/v1", "api": "openai-completions",
    "apiKey": "sk-test-embed", "models": [
      {"id": "emb", "type": "embedding", "dims": 8, "contextWindow": 64},
      {"id": "emb16", "type": "embedding", "dims": 16},
      {"id": "chat"}]},
  "r429": {"baseUrl": "$MOCK_URL/r429/v1", "api": "openai-completions",
    "auth": "none", "models": [{"id": "emb", "type": "embedding"}]},
  "r500": {"baseUrl": "$MOCK_URL/r500/v1", "api": "openai-completions",
    "auth": "none", "models": [{"id": "emb", "type": "embedding"}]},
  "cut": {"baseUrl": "$MOCK_URL/cut/v1", "api": "openai-completions",
    "auth": "none", "models": [{"id": "emb", "type": "embedding"}]},
  "zero": {"baseUrl": "$MOCK_URL/zero/v1", "api": "openai-completions",
    "auth": "none", "models": [{"id": "emb", "type": "embedding"}]},
  "fb": {"baseUrl": "$MOCK_URL/fixb64/v1", "api": "openai-responses",
    "auth": "none", "models": [{"id": "te3", "type": "embedding"}]},
  "ff": {"baseUrl": "$MOCK_URL/fixfloat/v1", "api": "openai-completions",
    "auth": "none", "models": [{"id": "te3", "type": "embedding"}]},
  "gm": {"baseUrl": "$MOCK_URL/v1beta", "api": "google-generative-ai",
    "apiKey": "sk-test-gemini", "models": [
      {"id": "gemb", "type": "embedding", "dims": 8}]}},
 "defaults": {"embed_model": "mock/emb"}}
EOF
LLM_CONFIG=$T/config.json
export LLM_CONFIG

# jqe ARGS...: jq -e, quietly.
jqe() {
	jq -e "$@" >/dev/null 2>&1
}

# requests: how many requests the mock has recorded so far.
requests() {
	mock_requests
}

# --- records ---------------------------------------------------------------

printf '%s\n' '{"id":"a","text":"hello","meta":{"k":1},"x":[1]}' \
    '{"text":"world"}' '{"id":"c","prompt":"as prompt"}' >"$T/in.jsonl"
n0=$(requests)
llm-embed <"$T/in.jsonl" >"$T/out" 2>"$T/err"
rc=$?
is "records: exit 0" "$rc" 0
is "records: one request for three texts" $(($(requests) - n0)) 1
check "records: id, model, dims, embedding, carried fields" jqe -s '
    .[0].id == "a" and .[0].model == "mock/emb" and .[0].dims == 8 and
    (.[0].embedding | length) == 8 and .[0].meta == {"k":1} and
    .[0].x == [1] and (.[0] | has("text") | not) and .[1].id == "2" and
    .[2].id == "c"' "$T/out"
check "records: the request asks for base64 and names the model" jqe '
    .json.encoding_format == "base64" and .json.model == "emb" and
    .json.input == ["hello", "world", "as prompt"] and
    .headers.authorization == "Bearer sk-test-embed"' \
    "$(mock_request "$(requests)")"
check "records: nothing on stderr" test ! -s "$T/err"

llm-embed -f base64 <"$T/in.jsonl" >"$T/out64"
check "base64: embedding_b64 of 8 floats" jqf "$T/out64" \
    '(.embedding_b64 | length) == 44 and (has("embedding") | not)'

llm-embed --normalize <"$T/in.jsonl" >"$T/outn"
check "--normalize: unit vectors" jqf "$T/outn" \
    '(.embedding | map(. * .) | add) as $s | $s > 0.99999 and $s < 1.00001'

printf '%s\n' '{"id":"e","text":""}' '{"id":"n","text":3}' \
    '{"id":"m"}' 'not json' '{"id":"ok","text":"fine"}' >"$T/bad.jsonl"
llm-embed <"$T/bad.jsonl" >"$T/out" 2>"$T/err"
rc=$?
is "bad input: exit 1" "$rc" 1
check "bad input: error records, the good one embedded" jqe -s '
    length == 5 and .[0].error.kind == "bad_input" and
    .[0].text == "" and .[1].error.kind == "bad_input" and
    .[2].error.kind == "bad_input" and .[3].error.kind == "bad_input" and
    .[4].dims == 8' "$T/out"
is "bad input: a warning each" "$(wc -l <"$T/err" | tr -d ' ')" 4

long=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "word "; }')
printf '{"id":"L","text":"%s"}\n' "$long" >"$T/long.jsonl"
n0=$(requests)
llm-embed <"$T/long.jsonl" >"$T/out" 2>/dev/null
check "over the input limit: a context_length error, not sent" jqe '
    .error.kind == "context_length" and .id == "L"' "$T/out"
is "over the input limit: no request" $(($(requests) - n0)) 0

# Pass-through and a second try of error records.
printf '%s\n' '{"id":"p","embedding":[1,2]}' \
    '{"id":"r","text":"again","error":{"kind":"server"},"attempts":3}' |
    llm-embed >"$T/out"
check "an embedding passes through, an error record is embedded again" \
    jqe -s '.[0] == {"id":"p","embedding":[1,2]} and .[1].dims == 8 and
    (.[1] | has("error") or has("attempts") | not)' "$T/out"

# --- lines and the model -------------------------------------------------

printf 'one\n\ntwo\n' | llm-embed -t -m gm/gemb -d 8 >"$T/out"
check "-t: ids are line numbers" jqe -s \
    'map(.id) == ["1","3"] and all(.[]; .model == "gm/gemb")' "$T/out"
check "gemini: batchEmbedContents with outputDimensionality and the key" \
    jqe '(.path | endswith("/models/gemb:batchEmbedContents")) and
    .json.requests[1].content.parts[0].text == "two" and
    .json.requests[0].model == "models/gemb" and
    .json.requests[0].outputDimensionality == 8 and
    .headers["x-goog-api-key"] == "sk-test-gemini"' \
    "$(mock_request "$(requests)")"

llm-embed -m mock/chat <"$T/in.jsonl" >"$T/out" 2>"$T/err"
rc=$?
is "a chat model: exit 2" "$rc" 2
check "a chat model: says it is not an embedding model" \
    grep -q "not an embedding model" "$T/err"
check "a chat model: nothing written" test ! -s "$T/out"
llm-embed -m anthropic/claude-sonnet-4-5 </dev/null 2>"$T/err"
is "an API without embeddings: exit 2" "$?" 2
echo '{"id":"q","text":"hi"}' |
    llm-embed --dry-run -m siliconflow/BAAI/bge-large-zh-v1.5 -d 1024 \
    >"$T/out"
check "the catalog's bge-large-zh: SiliconFlow's /embeddings, dimensions" \
    jqe '.dry_run.url == "https://api.siliconflow.cn/v1/embeddings" and
    .dry_run.body.dimensions == 1024 and .ids == ["q"] and
    (.cache_keys[0] | length) == 64 and
    .dry_run.headers.Authorization == "Bearer <redacted>"' "$T/out"
LLM_EMBED_MODEL=mock/emb16 llm-embed -d 16 <"$T/in.jsonl" >"$T/out"
check "LLM_EMBED_MODEL and -d" jqf "$T/out" \
    '.model == "mock/emb16" and .dims == 16'
llm-embed -m mock/emb -f f32 </dev/null 2>/dev/null
is "-f f32 without -o: exit 2" "$?" 2

# --- the fixture pair, end to end ---------------------------------------

if [ -s "$T/fixb64.json" ]; then
	echo '{"id":"h","text":"h"}' | llm-embed -m fb/te3 -d 256 >"$T/fb"
	echo '{"id":"h","text":"h"}' | llm-embed -m ff/te3 -d 256 >"$T/ff"
	tr -s ' ,\n' '\n' <"$T/fixfloat.json" |
	    grep -E '^-?[0-9]+\.[0-9]+(e-?[0-9]+)?$' >"$T/want"
	jq -r '.embedding | map(tostring) | .[]' "$T/fb" >/dev/null
	# The numbers as printed, not as jq would reprint them.
	sed 's/.*"embedding":\[//; s/\].*//' "$T/fb" | tr ',' '\n' >"$T/got"
	check "fixture: -f json prints the recorded floats exactly" \
	    cmp -s "$T/got" "$T/want"
	sed 's/"model":"[^"]*"//' "$T/fb" >"$T/fb.cut"
	sed 's/"model":"[^"]*"//' "$T/ff" >"$T/ff.cut"
	check "fixture: the float form gives the same record" \
	    cmp -s "$T/fb.cut" "$T/ff.cut"
	echo '{"id":"h","text":"h"}' |
	    llm-embed -m ff/te3 -d 256 -f base64 --no-cache >"$T/ff64"
	check "fixture: floats re-encoded are the recorded base64, bit for bit" \
	    jqe --slurpfile r "$T/fixb64.json" \
	    '.embedding_b64 == $r[0].data[0].embedding' "$T/ff64"
	check "fixture: the b64 endpoint swapped /responses for /embeddings" \
	    grep -q 'POST /fixb64/v1/embeddings' "$MOCK_LOG/requests.log"
else
	for _ in 1 2 3 4; do
		notok "fixture: $FIX/embeddings is missing"
	done
fi

# --- batching, order, concurrency ----------------------------------------

awk 'BEGIN { for (i = 1; i <= 1000; i++)
    printf "{\"id\":\"t%d\",\"text\":\"text %d\"}\n", i, i }' >"$T/k.jsonl"
n0=$(requests)
llm-embed -b 7 -j 8 --no-cache "$T/k.jsonl" >"$T/out"
is "-b 7: 143 requests for 1000 texts" $(($(requests) - n0)) 143
check "-j 8: output in input order" jqe -s \
    '[.[].id] == [range(1; 1001) | "t\(.)"]' "$T/out"
check "-b 7: no request holds more than 7 texts" sh -c '
    for f in "$1"/[0-9]*.json; do
        jq -e ".json.input == null or (.json.input | length) <= 7" "$f" \
            >/dev/null || exit 1
    done' sh "$MOCK_LOG"

# Vectors are formatted in two threads when many are ready at once: the
# same text as one at a time.
awk 'BEGIN { for (i = 0; i < 300; i++)
    printf "{\"id\":\"t%d\",\"text\":\"text %d\"}\n", i, i }' \
    >"$T/many.jsonl"
llm-embed --no-cache --normalize -b 100 <"$T/many.jsonl" >"$T/two" &&
    llm-embed --no-cache --normalize -b 1 -j 1 <"$T/many.jsonl" >"$T/one"
check "json: 300 vectors formatted in two threads as one at a time" \
    sh -c 'cmp -s "$1" "$2" && [ "$(wc -l < "$1")" -eq 300 ]' sh \
    "$T/two" "$T/one"

# --- the cache ---------------------------------------------------------------

awk 'BEGIN { for (i = 1; i <= 300; i++)
    printf "{\"id\":\"%d\",\"text\":\"doc %d\",\"meta\":{\"n\":%d}}\n", \
    i, i, i }' >"$T/c1.jsonl"
sed -e 's/"doc 7"/"doc seven"/' -e 's/"doc 150"/"doc 150, edited"/' \
    -e 's/"doc 300"/"the last"/' "$T/c1.jsonl" >"$T/c2.jsonl"
llm-embed -b 400 "$T/c1.jsonl" >"$T/c1.out"
n0=$(requests)
llm-embed -b 400 --stats "$T/c2.jsonl" >"$T/c2.out" 2>"$T/err"
is "cache: 3 of 300 changed, one request" $(($(requests) - n0)) 1
check "cache: the request holds exactly the 3 changed texts" jqe \
    '.json.input == ["doc seven", "doc 150, edited", "the last"]' \
    "$(mock_request "$(requests)")"
XDG_CACHE_HOME=$T/fresh llm-embed -b 400 "$T/c2.jsonl" >"$T/c2.fresh"
check "cache: the output equals a fresh run's" cmp -s "$T/c2.out" \
    "$T/c2.fresh"
check "cache: --stats counts 297 cached, 3 embedded" \
    grep -q '300 texts, 297 cached, 3 embedded' "$T/err"
n0=$(requests)
LLM_CACHE=off llm-embed -b 400 "$T/c1.jsonl" >/dev/null
is "cache: LLM_CACHE=off sends again" $(($(requests) - n0)) 1
n0=$(requests)
echo '{"text":"never stored"}' >"$T/ro.jsonl"
LLM_CACHE=ro llm-embed "$T/ro.jsonl" >/dev/null
LLM_CACHE=ro llm-embed "$T/ro.jsonl" >/dev/null
is "cache: LLM_CACHE=ro stores nothing" $(($(requests) - n0)) 2
n0=$(requests)
llm-embed -d 4 -b 400 "$T/c1.jsonl" >"$T/out"
is "cache: another size is another key" $(($(requests) - n0)) 1
# A producer that writes in bursts (jq, a pipe's 64 KiB, here a pause) is
# read in several stalls; the 3 changed texts still go out together.
XDG_CACHE_HOME=$T/burst llm-embed -b 400 "$T/c1.jsonl" >/dev/null
n0=$(requests)
{ head -n 150 "$T/c2.jsonl"; sleep 0.2; tail -n 150 "$T/c2.jsonl"; } |
    XDG_CACHE_HOME=$T/burst llm-embed -b 400 >"$T/out"
is "cache: 3 changed texts read in two bursts, still one request" \
    $(($(requests) - n0)) 1
check "cache: and the output is the same" cmp -s "$T/out" "$T/c2.fresh"
# But a stall does not hold a text for long: it goes out while the
# producer is still quiet.
# shellcheck disable=SC2094 # reading the output while it is written
{ echo '{"id":"early","text":"sent before the next line"}'; sleep 1.5
    wc -l <"$T/early" >"$T/seen"; echo '{"id":"late","text":"x"}'; } |
    llm-embed --no-cache | cat >"$T/early"
is "a stall: what was read goes out within the pause" "$(tr -d ' ' \
    <"$T/seen")" 1
# A corrupt entry is a miss: sent again, and the output as before.
for f in "$T"/burst/llm/v1/??/??/*; do
	sed 's/"dims":8/"dims":9/' "$f" >"$f.new" && mv "$f.new" "$f"
done
n0=$(requests)
XDG_CACHE_HOME=$T/burst llm-embed -b 400 "$T/c2.jsonl" >"$T/out" 2>"$T/err"
is "cache: corrupt entries are misses, sent again" $(($(requests) - n0)) 1
check "cache: and the output is a fresh run's" cmp -s "$T/out" "$T/c2.fresh"

# --- faults ------------------------------------------------------------------

printf '%s\n' '{"id":"f1","text":"first"}' '{"id":"f2","text":"@fewer"}' \
    '{"id":"f3","text":"third"}' '{"id":"f4","text":"fourth"}' \
    >"$T/fewer.jsonl"
llm-embed -b 2 --retry 0 --no-cache "$T/fewer.jsonl" >"$T/out" 2>"$T/err"
rc=$?
is "fewer vectors: exit 75 (transient)" "$rc" 75
check "fewer vectors: that batch's texts fail, the other batch is fine" \
    jqe -s '.[0].error.kind == "server" and .[1].error.kind == "server" and
    (.[0].error.message | test("1 vectors for 2 texts")) and
    .[0].text == "first" and .[2].dims == 8 and .[3].dims == 8' "$T/out"
n0=$(requests)
printf '%s\n' '{"id":"d1","text":"@dims"}' '{"id":"d2","text":"ok"}' |
    llm-embed --no-cache >"$T/out" 2>/dev/null
rc=$?
check "a vector of the wrong size: the batch fails, none misattributed" \
    jqe -s 'length == 2 and all(.[]; .error.kind == "server" and
    (.error.message | test("9 numbers, expected 8")) and
    .error.retriable == false)' "$T/out"
is "a vector of the wrong size: not retried, exit 1" \
    "$(($(requests) - n0)) $rc" "1 1"
printf '%s\n' '{"id":"x1","text":"@noindex a"}' '{"id":"x2","text":"b"}' |
    llm-embed --no-cache -f base64 >"$T/noidx"
printf '%s\n' '{"id":"x1","text":"@noindex a"}' '{"id":"x2","text":"b"}' |
    llm-embed --no-cache -b 1 -f base64 >"$T/single"
check "items without index are placed by position" cmp -s "$T/noidx" \
    "$T/single"
printf '%s\n' '{"id":"c1","text":"a"}' '{"id":"c2","text":"b"}' \
    '{"id":"c3","text":"c"}' |
    llm-embed -m cut/emb -b 1 -j 1 --retry 0 --no-cache >"$T/out" 2>"$T/err"
rc=$?
is "cut-off and non-JSON answers: exit 75" "$rc" 75
check "cut-off and non-JSON answers: server errors, no vectors" jqe -s '
    length == 3 and all(.[]; .error.kind == "server" and
    (.error.message | startswith("unusable response")) and
    (has("embedding") | not))' "$T/out"
n0=$(requests)
echo '{"id":"r","text":"rate"}' |
    llm-embed -m r429/emb -d 8 --no-cache --retry-base 0.01 >"$T/out"
is "429: retried, one more request" $(($(requests) - n0)) 2
check "429: then answered" jqe '.dims == 8' "$T/out"
n0=$(requests)
echo '{"id":"r","text":"server"}' |
    llm-embed -m r500/emb -d 8 --no-cache --retry-base 0.01 >"$T/out"
is "500: retried, one more request" $(($(requests) - n0)) 2
check "500: then answered" jqe '.dims == 8' "$T/out"

# --- chunks and documents ---------------------------------------------------

printf '{"id":"u","text":"%s","meta":{"src":"x"}}\n' \
    "héllo wörld ünïcode téxt àgain and môre wörds here" >"$T/u.jsonl"
llm-embed --dry-run -c 12 --overlap 3 "$T/u.jsonl" >"$T/out"
check "chunks: ids #chunkN, meta offsets, the text's meta kept" jqe '
    .ids[0] == "u#chunk1" and (.ids | length) > 3' "$T/out"
llm-embed --no-cache -c 12 --overlap 3 "$T/u.jsonl" >"$T/out"
check "chunks: meta bytes and chars, src kept" jqe -s '
    .[0].meta.chunk == 1 and .[0].meta.bytes[0] == 0 and
    .[0].meta.chars[0] == 0 and .[0].meta.src == "x" and
    .[1].meta.chars[0] < .[0].meta.chars[1] and
    all(.[]; .meta.chars[1] - .meta.chars[0] <= 12)' "$T/out"
# Every chunk's text is valid UTF-8 and where meta says it is.
llm-embed --dry-run -c 12 --overlap 3 "$T/u.jsonl" |
    jq -r '.dry_run.body.input[]' >"$T/chunks"
check "chunks: never inside a UTF-8 character" sh -c \
    'iconv -f UTF-8 -t UTF-8 "$1" >/dev/null' sh "$T/chunks"

mkdir -p "$T/docs/sub" "$T/docs/.hidden"
printf 'alpha text\n' >"$T/docs/b.md"
printf 'beta text\n' >"$T/docs/sub/a.md"
printf 'not this\n' >"$T/docs/c.txt"
printf 'bin\000ary' >"$T/docs/bin.md"
: >"$T/docs/empty.md"
printf 'hidden\n' >"$T/docs/.hidden/h.md"
llm-embed -r "$T/docs" -g '*.md' --no-cache >"$T/out" 2>"$T/err"
rc=$?
is "documents: exit 0" "$rc" 0
check "documents: ids are paths in name order, globbed, hidden skipped" \
    jqe -s --arg d "$T/docs" 'map(.id) == [$d + "/b.md", $d + "/sub/a.md"]
    and .[0].meta.path == $d + "/b.md"' "$T/out"
check "documents: the binary and the empty file skipped with warnings" \
    sh -c 'grep -q "bin.md.*binary" "$1" && grep -q "empty.md.*empty" "$1"' \
    sh "$T/err"
printf 'from stdin' | llm-embed -T --no-cache >"$T/out"
check "-T: standard input is one text, id -" jqe '.id == "-"' "$T/out"

# --- f32 and search -------------------------------------------------------------

llm-embed -f f32 -o "$T/m.f32" "$T/c1.jsonl" >"$T/idx.jsonl"
is "f32: a matrix of 300 x 8 floats" "$(wc -c <"$T/m.f32" | tr -d ' ')" 9600
check "f32: the index has rows in order and the matrix name" jqe -s --arg m \
    "$T/m.f32" '[.[].row] == [range(0; 300)] and all(.[]; .matrix == $m
    and .dims == 8 and (has("embedding") | not)) and .[4].meta.n == 5' \
    "$T/idx.jsonl"
# Row 0 of the matrix is the first record's vector, bit for bit.
llm-embed -f base64 "$T/c1.jsonl" | head -n 1 | jq -r .embedding_b64 |
    base64 -d >"$T/row0"
head -c 32 "$T/m.f32" >"$T/m0"
check "f32: row 0 is the first vector, little-endian" cmp -s "$T/row0" \
    "$T/m0"
llm-embed -k 3 -q "doc 42" "$T/idx.jsonl" >"$T/hits" 2>"$T/err"
check "search f32: the text itself first, score 1, three hits" jqe -s '
    length == 3 and .[0].id == "42" and .[0].score > 0.9999 and
    .[0].meta == {"n":42} and .[0].score >= .[1].score and
    .[1].score >= .[2].score' "$T/hits"
llm-embed -f json "$T/c1.jsonl" >"$T/recs.jsonl"
llm-embed -k 3 -q "doc 42" "$T/recs.jsonl" >"$T/hits2"
check "search json: the same hits" cmp -s "$T/hits" "$T/hits2"
llm-embed -f base64 "$T/c1.jsonl" >"$T/recs64.jsonl"
llm-embed -k 3 -q "doc 42" "$T/recs64.jsonl" >"$T/hits3"
check "search base64: the same hits" cmp -s "$T/hits" "$T/hits3"
mkdir -p "$T/elsewhere"
cp "$T/idx.jsonl" "$T/elsewhere/idx.jsonl"
cp "$T/m.f32" "$T/elsewhere/m.f32"
rm -f "$T/m.f32"
llm-embed -k 1 -q "doc 42" "$T/elsewhere/idx.jsonl" >"$T/hits4"
check "search f32: a moved matrix is found beside its index" jqe \
    '.id == "42"' "$T/hits4"
llm-embed -k 2 -q "doc 42" -m mock/emb16 -d 16 "$T/recs.jsonl" >"$T/out" \
    2>"$T/err"
check "search: another model's records are skipped with a warning" sh -c \
    'test ! -s "$1" && grep -q "another model" "$2"' sh "$T/out" "$T/err"
llm-embed -k 2 "$T/recs.jsonl" 2>/dev/null
is "search: -k without -q is a usage error" "$?" 2
# An index not written by llm-embed may lack ids.
printf '%s\n' '{"embedding":[1,0,0,0,0,0,0,0],"meta":{"n":1}}' >"$T/noid.jsonl"
llm-embed -k 1 -q "doc 1" "$T/noid.jsonl" >"$T/out" 2>"$T/err"
rc=$?
is "search: a record without an id, exit 0" "$rc" 0
check "search: it scores, its id null" jqe '.id == null and
    .meta == {"n":1} and (.score | type) == "number"' "$T/out"
printf '%s\n' '{"id":"e","text":"t","error":{"kind":"server"}}' \
    >>"$T/noid.jsonl"
llm-embed -k 1 -q "doc 1" "$T/noid.jsonl" >/dev/null 2>"$T/err"
check "search: a record without a vector is skipped with a warning" \
    grep -q "1 records without a vector" "$T/err"
llm-embed -m zero/emb -k 1 -q "nothing" "$T/recs.jsonl" >"$T/out" 2>"$T/err"
rc=$?
is "search: a zero query vector, exit 1" "$rc" 1
check "search: a zero query vector, said so, no hits" sh -c \
    'test ! -s "$1" && grep -q "vector is zero" "$2"' sh "$T/out" "$T/err"
# An index is mapped: a pipe is refused, not read as an empty index.
jq -c . "$T/recs.jsonl" | llm-embed -k 1 -q "doc 42" /dev/stdin >"$T/out" \
    2>"$T/err"
rc=$?
is "search: an index through a pipe, exit 1" "$rc" 1
check "search: says it is not a regular file" grep -q "not a regular file" \
    "$T/err"

# --- exit paths ---------------------------------------------------------------

llm-embed -b 0 </dev/null 2>/dev/null
is "-b 0: exit 2" "$?" 2
llm-embed -h >"$T/out"
rc=$?
is "-h: exit 0" "$rc" 0
check "-h: the usage on standard output" grep -q '^usage: llm-embed' "$T/out"
echo '{"id":"t","text":"no limit"}' |
    llm-embed --timeout 99999999999999999 --no-cache >"$T/out" 2>"$T/err"
rc=$?
is "--timeout past what milliseconds hold: no limit, exit 0" "$rc" 0
LLM_LOG=$T/log.jsonl llm-embed --no-cache -b 2 "$T/in.jsonl" >/dev/null
check "LLM_LOG: one line per request, no key" sh -c '
    test "$(wc -l <"$1")" -eq 2 && jq -es "all(.[]; .status == \"ok\" and
    .texts >= 1 and .target == \"mock/emb\")" "$1" >/dev/null &&
    ! grep -q sk-test "$1"' sh "$T/log.jsonl"
llm-embed --no-cache "$T/k.jsonl" | head -n 1 >"$T/out"
check "a reader that goes away: the first record is whole" jqe \
    '.id == "t1"' "$T/out"
