#!/bin/sh
# Benchmarks llm-stream (issue: llm-stream).  nginx from Debian serves a
# canned OpenAI chat.completion.chunk stream on 127.0.0.1 (a role chunk, 18
# content deltas, a finish chunk with usage, [DONE]: 21 events); in one run
# the same N streaming requests at -j C go through llm-stream, curl -N
# --parallel (the floor) and pi-ai, every output is checked, and the ratios
# are printed.  Then the time from a delta's arrival to its event line on
# llm-stream's stdout, against a small server (bench/sse-latency.py).
# Usage: sh bench/stream.sh [N] [C]   (from the repository root, after make)
# Targets: wall <= 1.5x and CPU <= 2x curl; >= 10x faster than pi-ai;
# delta-to-line latency <= 1 ms.

n=${1:-2000}
c=${2:-64}
. bench/lib.sh
bench_init stream
need_nginx
fail=0
if [ ! -x bin/llm-stream ]; then
	echo "bench/stream.sh: bin/llm-stream is not built (make)"
	exit 1
fi

# The canned stream: the text in 18 deltas.
set -- The " quick" " brown" " fox" " jumps" " over" " the" " lazy" " dog" \
    " while" " the" " cat" " watches" " from" " the" " warm" " window" "."
want=
pre='data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":'
{
	printf '%s{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n' "$pre"
	for w in "$@"; do
		printf '%s{"content":"%s"},"logprobs":null,"finish_reason":null}]}\n\n' \
		    "$pre" "$w"
		want=$want$w
	done
	printf '%s{},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":18,"total_tokens":30}}\n\n' "$pre"
	printf 'data: [DONE]\n\n'
} > "$T/stream.sse"
ndelta=$#

chmod 644 "$T/stream.sse"

# nginx's "return" takes at most 4 KB, so the stream is a file: the static
# module answers a POST with 405, which error_page turns into a GET of the
# same file with status 200, all in memory (open_file_cache, page cache).
nginx_start "	open_file_cache max=16;" "
		location = /v1/chat/completions {
			alias $T/stream.sse;
			default_type text/event-stream;
			error_page 405 =200 \$uri;
		}" /chat/completions
lport=$((port + 1))

cat > "$T/config.json" <<CONF
{"providers": {
  "bench": {"baseUrl": "$base", "api": "openai-completions",
    "apiKey": "sk-test-bench", "models": [{"id": "gpt-4o-mini"}]},
  "lat": {"baseUrl": "http://127.0.0.1:$lport/v1", "api": "openai-completions",
    "apiKey": "sk-test-bench", "models": [{"id": "gpt-4o-mini"}]}}}
CONF
export LLM_CONFIG="$T/config.json"
export LLM_CACHE_DIR="$T/cache" LLM_STATE_DIR="$T/state"

# The same N requests for everyone.
awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "{\"id\":\"%d\",\"messages\":[{\"role\":\"user\"," \
		    "\"content\":\"Tell story number %d\"}],\"max_tokens\":64}\n",
		    i, i
}' > "$T/reqs.jsonl"
awk -v n="$n" -v url="$base/chat/completions" 'BEGIN {
	for (i = 0; i < n; i++) {
		if (i) print "next"
		printf "url = \"%s\"\n", url
		print "header = \"Content-Type: application/json\""
		print "header = \"Accept: text/event-stream\""
		print "header = \"Authorization: Bearer sk-test-bench\""
		printf "data-binary = \"{\\\"model\\\":\\\"gpt-4o-mini\\\"," \
		    "\\\"messages\\\":[{\\\"role\\\":\\\"user\\\",\\\"content\\\":" \
		    "\\\"Tell story number %d\\\"}],\\\"max_tokens\\\":64," \
		    "\\\"stream\\\":true}\"\n", i
	}
}' > "$T/curl.cfg"



measure curl curl -sN --parallel --parallel-max "$c" -K "$T/curl.cfg"
got=$(grep -c '^data: \[DONE\]' "$T/out.curl")
deltas=$(grep -c '"delta":{"content":"[^"]' "$T/out.curl")
if [ "$got" != "$n" ] || [ "$deltas" != $((n * ndelta)) ]; then
	echo "curl: $got of $n streams complete, $deltas of $((n * ndelta)) deltas"
	verdict curl 1
fi

measure llm-stream bin/llm-stream -j "$c" -m bench/gpt-4o-mini "$T/reqs.jsonl"
# Per id: exactly one end, no error, the text deltas assembled and the end
# record's text both equal to the canned text.
awk -v n="$n" -v want="$want" -v nd="$ndelta" '
	function str(k,   s) {
		if (!match($0, "\"" k "\":\"[^\"]*\""))
			return ""
		s = substr($0, RSTART, RLENGTH)
		sub("^\"" k "\":\"", "", s)
		return substr(s, 1, length(s) - 1)
	}
	{ id = str("id"); ty = str("type") }
	ty == "text" { text[id] = text[id] str("delta"); nt++ }
	ty == "end" { ends[id]++; if (str("text") == want) good[id]++ }
	ty == "error" { bad++; if (bad <= 3) print "llm-stream: " $0 }
	END {
		for (i = 0; i < n; i++) {
			if (ends[i] == 1 && good[i] == 1 && text[i] == want)
				ok++
			else if (++wrong <= 3)
				print "llm-stream: stream " i " wrong: " ends[i] \
				    " end, text \"" text[i] "\""
		}
		if (ok != n || bad || nt != n * nd) {
			print "llm-stream: " ok + 0 " of " n " streams right, " \
			    bad + 0 " errors, " nt + 0 " text events"
			exit 1
		}
	}' "$T/out.llm-stream"
verdict llm-stream $?

node_ok=
if command -v npm >/dev/null; then
	if [ ! -d bench/node/node_modules ]; then
		(cd bench/node && npm install --no-audit --no-fund --silent) \
		    > "$T/npm.log" 2>&1 || echo "npm install failed: $(tail -3 "$T/npm.log")"
	fi
	[ -d bench/node/node_modules ] && node_ok=1
fi
if [ -n "$node_ok" ]; then
	measure pi-ai node bench/node/pi-ai-stream.mjs "$base" "$n" "$c" "$want"
else
	echo "pi-ai skipped: npm or the packages are not available"
fi

lat=
if command -v python3 >/dev/null; then
	printf '{"id":"lat","prompt":"Count."}\n' > "$T/lat.jsonl"
	if python3 bench/sse-latency.py "$lport" 500 2 bin/llm-stream \
	    -m lat/gpt-4o-mini "$T/lat.jsonl" > "$T/lat.out" 2> "$T/lat.err"; then
		lat=$(cat "$T/lat.out")
	else
		echo "latency run failed: $(head -c 600 "$T/lat.err")"
		fail=1
	fi
else
	echo "latency skipped: python3 is not installed"
fi

echo "$n streams of $((ndelta + 3)) events, $c in flight, nginx on loopback:"
awk '
	{ name[NR] = $1; w[NR] = $2; cpu[NR] = $3; rss[NR] = $4
	  if ($1 == "curl") { cw = $2; cc = $3 } }
	END {
		if (!cw) { cw = 1; print "(no curl floor: ratios are meaningless)" }
		if (!cc) cc = 0.01
		printf "%-12s %8s %8s %9s %10s %9s\n", "", "wall s", "cpu s",
		    "rss MB", "wall/curl", "cpu/curl"
		for (i = 1; i <= NR; i++)
			printf "%-12s %8.3f %8.2f %9.1f %10.2f %9.2f\n", name[i],
			    w[i], cpu[i], rss[i] / 1024, w[i] / cw, cpu[i] / cc
		for (i = 1; i <= NR; i++) {
			if (name[i] == "llm-stream") l = i
			if (name[i] == "pi-ai") p = i
		}
		if (l && p)
			printf "llm-stream is %.1fx faster (wall) and uses " \
			    "%.1fx less CPU than pi-ai\n", w[p] / w[l],
			    cpu[p] / (cpu[l] ? cpu[l] : 0.01)
		if (!l)
			exit
		printf "targets: wall/curl %.2f <= 1.5 %s, cpu/curl %.2f <= 2 %s",
		    w[l] / cw, (w[l] / cw <= 1.5 ? "met" : "MISSED"),
		    cpu[l] / cc, (cpu[l] / cc <= 2 ? "met" : "MISSED")
		if (p)
			printf ", pi-ai/llm-stream %.1f >= 10 %s", w[p] / w[l],
			    (w[p] / w[l] >= 10 ? "met" : "MISSED")
		printf "\n"
	}' "$T/results"
if [ -n "$lat" ]; then
	echo "$lat"
	p99=$(echo "$lat" | sed -n 's/.*p99 \([0-9]*\) us.*/\1/p')
	if [ "${p99:-1000000}" -le 1000 ]; then
		echo "target: latency p99 <= 1000 us met"
	else
		echo "target: latency p99 <= 1000 us MISSED"
	fi
fi
[ "$fail" = 0 ] ||
    echo "bench/stream.sh: some output was wrong or a run failed (see above)"
# The status of the script: 0 only when every output was right.
[ "$fail" = 0 ]
