#!/bin/sh
# TAP test of llm-send under a provider that fails a fifth of the time
# with transient faults (500, 502, a reset connection, a truncated body):
# 10,000 records give exactly 10,000 output records, each id once, in
# input order, all answered.  Run from the repository root after
# building: sh tests/failing-chaos.t

. tests/lib.sh

plan 6

need jq tests/mock/mockprov

# jqs FILE FILTER: true when FILTER holds for FILE's records as one array.
jqs() {
	jq -es "$2" "$1" >/dev/null 2>&1
}

# Four faults in every twenty answers, spread out.
cat >"$T/script.json" <<'EOF'
{"routes": [{"match": "/chaos/", "then": "cycle", "responses": [
  {"echo": true}, {"echo": true}, {"echo": true},
  {"status": 500, "body": {"error": {"message": "boom"}}},
  {"echo": true}, {"echo": true}, {"echo": true}, {"echo": true},
  {"status": 502, "body": "<html>bad gateway</html>"},
  {"echo": true}, {"echo": true}, {"echo": true}, {"echo": true},
  {"reset": true},
  {"echo": true}, {"echo": true}, {"echo": true}, {"echo": true},
  {"echo": true, "truncate_at": 7},
  {"echo": true}]}]}
EOF
# No request log: 12,500 files would only cost time.
tests/mock/mockprov -t 120 -s "$T/script.json" -p "$T/mock.port" \
    2>"$T/mock.err" &
_pids="$_pids $!"
i=0
while [ ! -s "$T/mock.port" ] && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
if [ ! -s "$T/mock.port" ]; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi
URL=http://127.0.0.1:$(cat "$T/mock.port")
cat >"$XDG_CONFIG_HOME/llm/config.json" <<EOF
{"providers": {
  "chaos": {"baseUrl": "$URL/chaos/v1", "api": "openai-completions",
    "auth": "none", "anyModel": true}
}}
EOF

awk 'BEGIN { for (i = 1; i <= 10000; i++)
	printf "{\"id\":\"c%d\",\"prompt\":\"n%d\"}\n", i, i }' >"$T/in"
llm-send -j 16 --retry 10 --retry-base 0.01 -m chaos/m <"$T/in" \
    >"$T/out" 2>"$T/err"
rc=$?
is "10,000 records: exit 0" "$rc" 0
is "10,000 records: 10,000 output records" "$(wc -l <"$T/out" |
    tr -d ' ')" 10000
check "each id once, in input order" jqs "$T/out" '[.[].id] ==
    [range(1; 10001) | "c\(.)"]'
check "all answered, each with its own text" jqs "$T/out" 'all(.[];
    (has("error") | not) and .text == "mock: n\(.id[1:])")'
tries=$(jq -s 'map(.attempts) | add' "$T/out")
check "the faults were there and were retried ($tries attempts)" \
    test "$tries" -gt 11000
check "the mock provider printed nothing" test ! -s "$T/mock.err"
