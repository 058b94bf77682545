#!/bin/sh
# Benchmarks the shared rate limit and the state directory (issue: failing
# well).  Four llm-send processes share a limit of R requests a minute
# (default 60) for about S seconds (default 120) against the mock
# provider, which enforces the same limit itself (a sliding window of one
# minute) and answers 429 past it.  Prints the rate achieved between the
# first and the last request, as a share of the limit, and the 429s.  Then
# the cost of the state directory per request (tests/unit/state).
# Usage: sh bench/ratelimit.sh [R] [S]   (from the repository root, after
# make check has built the mock and the unit tests)
# Targets: >= 95% of the allowed rate with zero 429s; <= 50 us of state
# per request.

rpm=${1:-60}
secs=${2:-120}
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-ratelimit.XXXXXX") || exit 1
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
PATH=$(pwd)/bin:$PATH
if [ ! -x tests/mock/mockprov ] || [ ! -x bin/llm-send ]; then
	echo "bench/ratelimit.sh: build first (make check builds the mock)"
	exit 1
fi

cat >"$T/script.json" <<EOF
{"rate_limit": {"limit": $rpm, "window_ms": 60000}, "routes": []}
EOF
tests/mock/mockprov -t 600 -s "$T/script.json" -l "$T/log" \
    -p "$T/port" 2>"$T/mock.err" &
pids="$pids $!"
mkdir -p "$T/log"
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
URL=http://127.0.0.1:$(cat "$T/port")
HOME=$T
XDG_CONFIG_HOME=$T/config
LLM_STATE_DIR=$T/state
LLM_CONFIG=$T/config.json
export HOME XDG_CONFIG_HOME LLM_STATE_DIR LLM_CONFIG
cat >"$LLM_CONFIG" <<EOF
{"providers": {"bench": {"baseUrl": "$URL/v1", "api": "openai-completions",
  "auth": "none", "anyModel": true}},
 "limits": {"bench": {"rpm": $rpm}}}
EOF

# One request more than the period holds, shared out among four.
total=$((rpm * secs / 60 + 1))
per=$(((total + 3) / 4))
i=1
while [ $i -le 4 ]; do
	awk -v n="$per" -v p="$i" 'BEGIN { for (j = 1; j <= n; j++)
		printf "{\"id\":\"%d-%d\",\"prompt\":\"b\"}\n", p, j }' \
	    >"$T/in.$i"
	i=$((i + 1))
done
echo "4 processes, $((per * 4)) requests, limit $rpm a minute" \
    "(about $(((per * 4 - 1) * 60 / rpm)) s)..."
senders=
for i in 1 2 3 4; do
	llm-send -j 8 --retry 0 -m bench/m <"$T/in.$i" >"$T/out.$i" \
	    2>"$T/err.$i" &
	senders="$senders $!"
done
for p in $senders; do
	wait "$p"
done
for f in "$T"/log/[0-9]*.json; do
	cat "$f"
done | jq -s --argjson rpm "$rpm" '
	(map(select(.limited != true)) | map(.time_ms) | sort) as $ok |
	($ok | length) as $n |
	(($ok[$n - 1] - $ok[0]) / 60000) as $min |
	{requests: length, answered: $n,
	 refused_429: map(select(.limited == true)) | length,
	 minutes: ($min * 1000 | round / 1000),
	 rate_per_min: (($n - 1) / $min * 100 | round / 100),
	 share_of_limit: (($n - 1) / $min / $rpm * 1000 | round / 10 |
	     tostring + "%")}'
cat "$T"/out.* | jq -s '{records: length,
    answered: map(select(has("text"))) | length,
    errors: map(select(has("error"))) | length}'

if [ -x obj/tests/state ]; then
	obj/tests/state | sed -n 's/^# per request: /state per request: /p'
fi
