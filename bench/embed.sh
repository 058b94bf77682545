#!/bin/sh
# Benchmarks llm-embed (issue: llm-embed).  nginx from Debian answers
# POST /v1/embeddings on 127.0.0.1 with canned OpenAI answers: 128 vectors
# of 1536 float32 as base64 (rows 0..127 of bench/embgen.c), or as many as
# the last, short batch holds.  In one run the same N texts in batches of
# B, J batches in flight, go through llm-embed (-f base64, -f json, -f f32),
# curl --parallel (the floor) and the official openai npm SDK; every output
# is checked vector by vector, and texts/s, ratios and peak RSS (for N and
# N/10 texts) are printed.  Then search: a 1,000,000 x 1024 float32 matrix
# and its index, and llm-embed -k 10 -q TEXT INDEX with nginx answering the
# query's embedding (a row of the matrix, which must come out on top).
# Usage: sh bench/embed.sh [N] [ROWS]   (from the repository root, after make)
# Targets: >= 20,000 texts/s and >= 10x the openai SDK; peak RSS the same
# for N and N/10 texts; search over 1,000,000 x 1024 <= 2 s.
# Needs about 5 GB free under ${TMPDIR:-/tmp} for the search matrix.

n=${1:-100000}
rows=${2:-1000000}
b=128
j=4
dims=1536
qdims=1024
qrow=$((rows * 7 / 10))
. bench/lib.sh
bench_init embed
need_nginx
fail=0
if [ ! -x bin/llm-embed ]; then
	echo "bench/embed.sh: bin/llm-embed is not built (make)"
	exit 1
fi
${CC:-cc} -std=c99 -O2 -D_POSIX_C_SOURCE=200809L -o "$T/embgen" \
    bench/embgen.c || exit 1

# Texts of 100 characters, so that a full batch's body is far longer than
# the short last batch's: nginx tells them apart by Content-Length.
rest=$((n % b))
rest10=$((n / 10 % b))
awk -v n="$n" 'BEGIN {
	f = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do " \
	    "eiusmod tempor incididunt"
	for (i = 0; i < n; i++)
		printf "{\"id\":\"d%d\",\"text\":\"%s\"}\n", i,
		    substr(sprintf("Document %07d: %s", i, f), 1, 100)
}' > "$T/texts.jsonl"
head -n $((n / 10)) "$T/texts.jsonl" > "$T/texts10.jsonl"
"$T/embgen" resp "$b" "$dims" > "$T/full.json" || exit 1
"$T/embgen" resp 1 "$qdims" "$qrow" > "$T/query.json" || exit 1
# canned_rest K: the answer to the short last batch, K vectors.
canned_rest() {
	"$T/embgen" resp "$1" "$dims" > "$T/rest.json" && chmod 644 "$T/rest.json"
}
canned_rest "$rest" || exit 1
chmod 644 "$T/full.json" "$T/query.json"

# A regular expression matching the decimal numbers >= $1, for nginx's map.
ge() {
	awk -v t="$1" 'BEGIN {
		k = length(t); re = "^[1-9][0-9]{" k ",}$"
		for (i = 1; i <= k; i++) {
			lo = substr(t, i, 1) + (i < k)
			if (lo > 9)
				continue
			r = k - i
			re = re "|^" substr(t, 1, i - 1) "[" lo "-9]" \
			    (r ? "[0-9]{" r "}" : "") "$"
		}
		print re
	}'
}
# Bodies are about 80 + 103 bytes a text; split halfway between the longer
# short batch and a full one.
short=$rest
[ "$rest10" -gt "$short" ] && short=$rest10
if [ "$short" -gt 120 ]; then
	echo "bench/embed.sh: N % $b and N/10 % $b must be at most 120"
	exit 1
fi
split=$((80 + (b + short) * 103 / 2))

# nginx's "return" takes at most 4 KB, and an answer is 1 MB, so they are
# files: the static module answers a POST with 405, which error_page turns
# into a GET of the same file with status 200 (page cache, open_file_cache).
nginx_start "	client_max_body_size 64m;
	client_body_buffer_size 1m;
	map \$content_length \$canned {
		\"~$(ge "$split")\" $T/full.json;
		default $T/rest.json;
	}" "		default_type application/json;
		location = /v1/embeddings {
			alias \$canned;
			error_page 405 =200 \$uri;
		}
		location = /q/v1/embeddings {
			alias $T/query.json;
			error_page 405 =200 \$uri;
		}" /embeddings

# Provider q answers every query with row $qrow of the search matrix.
cat > "$T/config.json" <<CONF
{"providers": {
  "bench": {"baseUrl": "$base", "api": "openai-completions",
    "apiKey": "sk-test-bench", "models": [{"id": "text-embedding-3-small",
      "type": "embedding", "dims": $dims, "context_window": 8191}]},
  "q": {"baseUrl": "http://127.0.0.1:$port/q/v1", "api": "openai-completions",
    "apiKey": "sk-test-bench", "models": [{"id": "bge-large-zh-v1.5",
      "type": "embedding", "dims": $qdims, "context_window": 512}]}}}
CONF
export LLM_CONFIG="$T/config.json"
export LLM_CACHE_DIR="$T/cache" LLM_STATE_DIR="$T/state"
qmodel=q/bge-large-zh-v1.5

# The same batches for curl: one POST per batch, the SDK's body.
awk -v b="$b" -v url="$base/embeddings" '
	{
		t = $0
		sub(/.*"text":"/, "", t)
		sub(/"}$/, "", t)
		batch = batch (k++ ? "," : "") "\\\"" t "\\\""
		if (k == b)
			flush()
	}
	function flush() {
		if (nb++)
			print "next"
		printf "url = \"%s\"\n", url
		print "header = \"Content-Type: application/json\""
		print "header = \"Authorization: Bearer sk-test-bench\""
		printf "data-binary = \"{\\\"model\\\":\\\"text-embedding-3-small\\\"," \
		    "\\\"input\\\":[%s],\\\"encoding_format\\\":\\\"base64\\\"}\"\n",
		    batch
		print "output = \"/dev/null\""
		print "write-out = \"%{http_code} %{size_download}\\n\""
		batch = ""
		k = 0
	}
	END { if (batch != "") flush() }' "$T/texts.jsonl" > "$T/curl.cfg"
nbatch=$(((n + b - 1) / b))


measure curl curl -s --parallel --parallel-max "$j" -K "$T/curl.cfg"
awk -v nb="$nbatch" '$1 == 200 && $2 > 0 { ok++ }
    END { if (ok != nb) { print ok + 0 " of " nb " batches answered"; exit 1 } }' \
    "$T/out.curl" > "$T/check.curl"
verdict curl $?

node_ok=
if command -v npm >/dev/null; then
	if [ ! -d bench/node/node_modules ]; then
		(cd bench/node && npm install --no-audit --no-fund --silent) \
		    > "$T/npm.log" 2>&1 || echo "npm install failed: $(tail -3 "$T/npm.log")"
	fi
	[ -d bench/node/node_modules ] && node_ok=1
fi
if [ -n "$node_ok" ]; then
	measure openai-node node bench/node/openai-embed.mjs "$base" \
	    "$T/texts.jsonl" "$b" "$j" "$dims"
else
	echo "openai SDK skipped: npm or the packages are not available"
fi

# The formats with --no-cache: every batch is sent and nothing else is
# done, as the SDK does.  Then the default, the cache on: a first run over
# an empty cache (every batch sent, every vector written to the cache) and
# a second one over the full cache (nothing sent, the same output).
emodel=bench/text-embedding-3-small
measure base64 bin/llm-embed -m "$emodel" -b "$b" -j "$j" -f base64 \
    --no-cache "$T/texts.jsonl"
"$T/embgen" check base64 "$dims" "$n" "$b" "$T/out.base64" > "$T/check.base64"
verdict base64 $?
measure json bin/llm-embed -m "$emodel" -b "$b" -j "$j" -f json --no-cache \
    "$T/texts.jsonl"
"$T/embgen" check json "$dims" "$n" "$b" "$T/out.json" > "$T/check.json"
verdict json $?
measure f32 bin/llm-embed -m "$emodel" -b "$b" -j "$j" -f f32 \
    -o "$T/emb.f32" --no-cache "$T/texts.jsonl"
"$T/embgen" check-f32 "$dims" "$n" "$b" "$T/emb.f32" "$T/out.f32" \
    > "$T/check.f32" 2>&1
verdict f32 $?
rm -f "$T/emb.f32"
export LLM_CACHE_DIR="$T/cache.run"
measure cold bin/llm-embed -m "$emodel" -b "$b" -j "$j" -f base64 \
    "$T/texts.jsonl"
"$T/embgen" check base64 "$dims" "$n" "$b" "$T/out.cold" > "$T/check.cold"
st=$?
mv "$T/out.cold" "$T/first.cold"
verdict cold $st
measure warm bin/llm-embed -m "$emodel" -b "$b" -j "$j" -f base64 \
    "$T/texts.jsonl"
cmp "$T/first.cold" "$T/out.warm" > "$T/check.warm" 2>&1
verdict warm $?
rm -rf "$T/first.cold" "$LLM_CACHE_DIR"
canned_rest "$rest10"
measure small bin/llm-embed -m "$emodel" -b "$b" -j "$j" -f base64 \
    --no-cache "$T/texts10.jsonl"
"$T/embgen" check base64 "$dims" $((n / 10)) "$b" "$T/out.small" \
    > "$T/check.small" 2>&1
verdict small $?
measure small-cold bin/llm-embed -m "$emodel" -b "$b" -j "$j" -f base64 \
    "$T/texts10.jsonl"
"$T/embgen" check base64 "$dims" $((n / 10)) "$b" "$T/out.small-cold" \
    > "$T/check.small-cold" 2>&1
verdict small-cold $?
rm -rf "$LLM_CACHE_DIR"
export LLM_CACHE_DIR="$T/cache"

echo "$n texts of 100 chars, batches of $b ($nbatch), $j in flight," \
    "$dims-dim base64 answers from nginx on loopback:"
awk -v n="$n" '
	{ name[NR] = $1; w[NR] = $2; cpu[NR] = $3; rss[NR] = $4
	  if ($1 == "curl") cw = $2
	  if ($1 == "openai-node") nw = $2 }
	END {
		printf "%-16s %8s %8s %9s %10s %9s %9s\n", "", "wall s", "cpu s",
		    "rss MB", "texts/s", "wall/curl", "sdk/this"
		for (i = 1; i <= NR; i++) {
			label = name[i]
			k = n
			if (label ~ /^small/)
				k = n / 10
			if (label == "base64")
				label = "llm-embed"
			else if (label == "small")
				label = "  N/10 texts"
			else if (label == "cold")
				label = "  cache, cold"
			else if (label == "warm")
				label = "  cache, warm"
			else if (label == "small-cold")
				label = "  N/10, cold"
			else if (label == "json" || label == "f32")
				label = "  -f " label
			rc = rn = "-"
			if (cw && k == n)
				rc = sprintf("%.2f", w[i] / cw)
			if (nw && k == n && w[i] > 0)
				rn = sprintf("%.1f", nw / w[i])
			printf "%-16s %8.3f %8.2f %9.1f %10.0f %9s %9s\n", label,
			    w[i], cpu[i], rss[i] / 1024, (w[i] > 0 ? k / w[i] : 0),
			    rc, rn
			if (name[i] == "base64") l = i
			if (name[i] == "small") sm = i
		}
		print "llm-embed: -f base64 --no-cache unless said; cache: the" \
		    " default, over an empty cache, then over the full cache"
		if (!l)
			exit
		printf "targets: %.0f texts/s >= 20000 %s", n / w[l],
		    (n / w[l] >= 20000 ? "met" : "MISSED")
		if (nw)
			printf ", sdk/this %.1f >= 10 %s", nw / w[l],
			    (nw / w[l] >= 10 ? "met" : "MISSED")
		if (sm)
			printf ", peak RSS %.1f MB for N, %.1f MB for N/10 %s",
			    rss[l] / 1024, rss[sm] / 1024,
			    (rss[l] <= rss[sm] * 1.5 ? "(flat)" : "(GROWS)")
		printf "\n"
	}' "$T/results"

# Search: the matrix, its index, and the query answered with row $qrow.
sz=$((rows * qdims * 4 / 1000000))
echo "search: writing a $rows x $qdims float32 matrix ($sz MB)"
if "$T/embgen" matrix "$rows" "$qdims" "$qmodel" "$T/vec.f32" \
    "$T/vec.jsonl"; then
	for run in 1 2; do
		t0=$(date +%s%N)
		bin/llm-embed -m "$qmodel" -k 10 \
		    -q "which row is this" "$T/vec.jsonl" > "$T/search.out" \
		    2> "$T/search.err"
		st=$?
		t1=$(date +%s%N)
		top=$(head -n 1 "$T/search.out")
		if [ "$st" != 0 ] || [ "$(wc -l < "$T/search.out")" != 10 ] ||
		    ! echo "$top" | grep -q "\"id\":\"v$qrow\""; then
			echo "search: wrong answer (status $st): $top" \
			    "$(head -c 300 "$T/search.err")"
			fail=1
			break
		fi
		ms=$(((t1 - t0) / 1000000))
		verdict=met
		[ "$ms" -le 2000 ] || verdict=MISSED
		echo "search run $run: $ms ms for the top 10 of $rows x $qdims" \
		    "(target <= 2000 ms $verdict); best: $top"
	done
else
	echo "search: could not write the matrix"
	fail=1
fi
rm -f "$T/vec.f32" "$T/vec.jsonl"

[ "$fail" = 0 ] ||
    echo "bench/embed.sh: some output was wrong or a run failed (see above)"
# The status of the script: 0 only when every output was right.
[ "$fail" = 0 ]
