#!/bin/sh
# Benchmarks llm-resolve (issue: foundation).  Prints, in one run:
#   - wall time from exec to exit for one record, averaged over N runs
#     (target: <= 3 ms);
#   - throughput over 100,000 records and peak RSS (targets: >= 50,000
#     records/s, memory flat: the same RSS for 10,000 and 100,000 records).
# Usage: sh bench/resolve.sh [runs]   (from the repository root, after make)

runs=${1:-500}
bin=bin/llm-resolve
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-resolve.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
export LLM_CONFIG="$T/none.json"
echo '{}' > "$LLM_CONFIG"

now() {
	date +%s.%N
}

echo '{"model":"zai/glm-4.7","prompt":"Hello"}' > "$T/one.jsonl"
start=$(now)
i=0
while [ $i -lt "$runs" ]; do
	"$bin" "$T/one.jsonl" >/dev/null
	i=$((i + 1))
done
end=$(now)
# The same loop running /bin/true measures the shell's own fork+exec cost.
start0=$(now)
i=0
while [ $i -lt "$runs" ]; do
	/bin/true "$T/one.jsonl" >/dev/null
	i=$((i + 1))
done
end0=$(now)
ms=$(awk -v a="$start" -v b="$end" -v n="$runs" \
    'BEGIN { printf "%.2f", (b - a) * 1000 / n }')
ms0=$(awk -v a="$start0" -v b="$end0" -v n="$runs" \
    'BEGIN { printf "%.2f", (b - a) * 1000 / n }')
echo "one record: $ms ms per run, exec to exit (/bin/true in the same" \
    "loop: $ms0 ms; target <= 3 ms)"

gen() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
	    printf "{\"id\":\"%d\",\"model\":\"zai/glm-4.7\",\"prompt\":" \
	    "\"Hello there, record %d\"}\n", i, i }'
}
for n in 10000 100000; do
	gen $n > "$T/in.jsonl"
	/usr/bin/time -f "%e %M" -o "$T/time" "$bin" "$T/in.jsonl" \
	    > "$T/out.jsonl"
	lines=$(wc -l < "$T/out.jsonl")
	read -r secs kb < "$T/time"
	awk -v n="$n" -v s="$secs" -v kb="$kb" -v l="$lines" 'BEGIN {
	    printf "%d records: %.2f s, %.0f records/s, peak RSS %.1f MB, " \
	    "%d lines out (target >= 50000 records/s)\n", n, s,
	    (s > 0 ? n / s : 0), kb / 1024, l }'
done
