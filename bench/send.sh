#!/bin/sh
# Benchmarks llm-send (issue: llm-send).  nginx from Debian serves a canned
# chat completion on 127.0.0.1; in one run the same N requests at -j C go
# through llm-send, curl --parallel (the floor), the official openai npm
# SDK and pi-ai, and the ratios against curl are printed.  Then peak RSS
# of llm-send over 100,000 records.
# Usage: sh bench/send.sh [N] [C]   (from the repository root, after make)
# Targets: wall <= 1.5x and CPU <= 2x curl; >= 10x faster than the Node
# peers; peak RSS <= 32 MB over 100,000 records at -j 64.

n=${1:-5000}
c=${2:-64}
. bench/lib.sh
bench_init send
need_nginx

completion='{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}'
chunk1='{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello there!"},"finish_reason":null}]}'
chunk2='{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}'
# "return 200" answers any method, POST included, from memory.
server=$(cat <<CONF
		location /sse/ {
			default_type text/event-stream;
			return 200 'data: $chunk1

data: $chunk2

data: [DONE]

';
		}
		location / {
			default_type application/json;
			return 200 '$completion';
		}
CONF
)
nginx_start "" "$server" /chat/completions

# The same N requests for everyone.
cat > "$T/config.json" <<CONF
{"providers": {"bench": {"baseUrl": "$base", "api": "openai-completions",
  "apiKey": "sk-test-bench", "models": [{"id": "gpt-4o-mini"}]}}}
CONF
export LLM_CONFIG="$T/config.json"
awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "{\"id\":\"%d\",\"model\":\"bench/gpt-4o-mini\"," \
		    "\"messages\":[{\"role\":\"user\",\"content\":" \
		    "\"Say hello to number %d\"}],\"max_tokens\":16}\n", i, i
}' > "$T/reqs.jsonl"
awk -v n="$n" -v url="$base/chat/completions" 'BEGIN {
	for (i = 0; i < n; i++) {
		if (i) print "next"
		printf "url = \"%s\"\n", url
		print "header = \"Content-Type: application/json\""
		print "header = \"Authorization: Bearer sk-test-bench\""
		printf "data-binary = \"{\\\"model\\\":\\\"gpt-4o-mini\\\"," \
		    "\\\"messages\\\":[{\\\"role\\\":\\\"user\\\",\\\"content\\\":" \
		    "\\\"Say hello to number %d\\\"}],\\\"max_tokens\\\":16}\"\n", i
		print "output = \"/dev/null\""
		print "write-out = \"%{http_code}\\n\""
	}
}' > "$T/curl.cfg"

measure curl curl -s --parallel --parallel-max "$c" -K "$T/curl.cfg"
ok=$(grep -c '^200$' "$T/out.curl" 2>/dev/null)
[ "$ok" = "$n" ] || echo "curl: only $ok of $n answered 200"
measure llm-send bin/llm-send -j "$c" "$T/reqs.jsonl"
ok=$(grep -c '"text":"Hello there!"' "$T/out.llm-send" 2>/dev/null)
[ "$ok" = "$n" ] || echo "llm-send: only $ok of $n answered"

node_ok=
if command -v npm >/dev/null; then
	mkdir -p bench/node
	if [ ! -d bench/node/node_modules ]; then
		(cd bench/node && npm install --no-audit --no-fund --silent) \
		    > "$T/npm.log" 2>&1 || echo "npm install failed: $(tail -3 "$T/npm.log")"
	fi
	[ -d bench/node/node_modules ] && node_ok=1
fi
if [ -n "$node_ok" ]; then
	measure openai-node node bench/node/openai.mjs "$base" "$n" "$c"
	measure pi-ai node bench/node/pi-ai.mjs "http://127.0.0.1:$port/sse/v1" \
	    "$n" "$c"
else
	echo "Node peers skipped: npm or the packages are not available"
fi

echo "$n requests, $c in flight, nginx on loopback:"
awk '
	{ name[NR] = $1; w[NR] = $2; cpu[NR] = $3; rss[NR] = $4
	  if ($1 == "curl") { cw = $2; cc = $3; cr = $4 } }
	END {
		printf "%-12s %8s %8s %9s %10s %9s\n", "", "wall s", "cpu s",
		    "rss MB", "wall/curl", "cpu/curl"
		for (i = 1; i <= NR; i++)
			printf "%-12s %8.2f %8.2f %9.1f %10.2f %9.2f\n", name[i],
			    w[i], cpu[i], rss[i] / 1024, w[i] / cw, cpu[i] / cc
		for (i = 1; i <= NR; i++) if (name[i] == "llm-send") l = i
		for (i = 1; i <= NR; i++)
			if (name[i] != "curl" && name[i] != "llm-send" && l)
				printf "llm-send is %.1fx faster (wall) than %s\n",
				    w[i] / w[l], name[i]
	}' "$T/results"

big=100000
awk -v n="$big" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "{\"id\":\"%d\",\"model\":\"bench/gpt-4o-mini\"," \
		    "\"prompt\":\"Hello %d\"}\n", i, i
}' > "$T/big.jsonl"
/usr/bin/time -f "%e %M" -o "$T/time.big" bin/llm-send -j 64 "$T/big.jsonl" \
    > /dev/null
read -r w m <<EOF2
$(tail -n 1 "$T/time.big")
EOF2
echo "$big records at -j 64: $w s, peak RSS $(awk -v m="$m" \
    'BEGIN { printf "%.1f", m / 1024 }') MB (target <= 32 MB)"
