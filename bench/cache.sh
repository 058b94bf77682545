#!/bin/sh
# Benchmarks llm-cache (issue: response cache).  Prints, in one run:
#   - the hit path: records/s through `llm-cache get` when every record
#     is a hit, for plain records (resolved in-process) and for records
#     llm-resolve already resolved (target: >= 50,000 records/s);
#   - the miss path: microseconds per record that `llm-cache get` adds
#     when every record misses a populated store, over `cat`
#     (target: <= 20 us);
#   - `llm-send --cache` on the same all-hit input: that it sent nothing,
#     and its time against `llm-cache get` alone (target: within 2x);
#   - for scale, `llm-cache put`'s stores/s.
# Usage: sh bench/cache.sh [records]   (from the repository root, after make)

n=${1:-100000}
distinct=$((n / 10))
PATH=$(pwd)/bin:$PATH
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-cache.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
LLM_CACHE_DIR=$T/cache
LLM_CONFIG=$T/config.json
export LLM_CACHE_DIR LLM_CONFIG
unset LLM_CACHE LLM_CACHE_MAX_AGE LLM_CACHE_MAX_SIZE LLM_MODEL
# A provider nobody listens for: a request that were sent would fail.
cat >"$LLM_CONFIG" <<'EOF'
{"providers": {"bench": {"baseUrl": "http://127.0.0.1:9/v1",
  "api": "openai-completions", "auth": "none", "anyModel": true}}}
EOF

# secs CMD...: wall seconds of CMD, best of three.
secs() {
	best=
	for _ in 1 2 3; do
		t0=$(date +%s.%N)
		"$@"
		t1=$(date +%s.%N)
		best=$(awk -v a="$best" -v t0="$t0" -v t1="$t1" \
		    'BEGIN { b = t1 - t0; print (a == "" || b < a) ? b : a }')
	done
	echo "$best"
}

run_get() {
	llm-cache get <"$1" >"$T/get.out"
}

run_cat() {
	cat <"$1" >"$T/cat.out"
}

run_send() {
	llm-send --cache -j 64 <"$1" >"$T/send.out" 2>"$T/send.err"
}

run_put() {
	llm-cache put <"$1" >/dev/null
}

awk -v n="$n" -v d="$distinct" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"id\":\"%d\",\"model\":\"bench/m\",\"prompt\":" \
    "\"Hello there, record %d\",\"meta\":{\"n\":%d}}\n", i, i % d, i }' \
    >"$T/in.jsonl"
head -n "$distinct" "$T/in.jsonl" | llm-resolve >"$T/res1.jsonl"
i=0
: >"$T/resolved.jsonl"
while [ $i -lt 10 ]; do
	cat "$T/res1.jsonl" >>"$T/resolved.jsonl"
	i=$((i + 1))
done
# The answers, as a sender would write them after a miss.
head -n "$distinct" "$T/in.jsonl" | llm-cache get | jq -c '{id,
    model: .cache_ref, text: ("An answer to " + .prompt + ", as long " +
    "as a short answer from a model tends to be."), stop_reason: "stop",
    usage: {input: 9, output: 24, cache_read: 0, cache_write: 0,
    reasoning: 0}, provider_model: "m", cost: {usd: 0.000021},
    latency_ms: 812, attempts: 1, cached: false, meta, cache_key,
    cache_ref}' >"$T/answers.jsonl"
llm-cache clear >/dev/null

s=$(secs run_put "$T/answers.jsonl")
awk -v n="$distinct" -v s="$s" 'BEGIN {
    printf "put: %d stores in %.2f s, %.0f stores/s\n", n, s, n / s }'

s=$(secs run_get "$T/in.jsonl")
hits=$(grep -c '"cached":true' "$T/get.out")
awk -v n="$n" -v s="$s" -v h="$hits" 'BEGIN {
    printf "get, all hits (%d of %d), plain records: %.2f s, " \
    "%.0f records/s (target >= 50000)\n", h, n, s, n / s }'
s=$(secs run_get "$T/resolved.jsonl")
hits=$(grep -c '"cached":true' "$T/get.out")
awk -v n="$n" -v s="$s" -v h="$hits" 'BEGIN {
    printf "get, all hits (%d of %d), resolved records: %.2f s, " \
    "%.0f records/s (target >= 50000)\n", h, n, s, n / s }'
gets=$(secs run_get "$T/in.jsonl")

if echo '{"model":"echo","prompt":"x"}' | LLM_CACHE=off \
    llm-send --cache >/dev/null 2>&1; then
	s=$(secs run_send "$T/in.jsonl")
	hits=$(grep -c '"cached":true' "$T/send.out")
	awk -v n="$n" -v s="$s" -v g="$gets" -v h="$hits" 'BEGIN {
	    printf "llm-send --cache, all hits: %d of %d answered from " \
	    "the cache (%s), %.2f s, %.0f records/s, %.2fx llm-cache get " \
	    "(target <= 2x)\n", h, n, (h == n ? "nothing sent" : "SOME SENT"),
	    s, n / s, s / g }'
else
	echo "llm-send --cache: not available (llm-send does not take" \
	    "--cache yet)"
fi

# Misses against a populated store: other prompts, same model.
sed 's/Hello there/Good night/' "$T/in.jsonl" >"$T/miss.jsonl"
s=$(secs run_get "$T/miss.jsonl")
misses=$(grep -c '"cache_ref"' "$T/get.out")
c=$(secs run_cat "$T/miss.jsonl")
awk -v n="$n" -v s="$s" -v c="$c" -v m="$misses" 'BEGIN {
    printf "get, all misses (%d of %d): %.2f s, %.1f us per record " \
    "over cat (target <= 20 us)\n", m, n, s, (s - c) * 1e6 / n }'
