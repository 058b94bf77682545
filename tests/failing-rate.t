#!/bin/sh
# TAP tests of the rate limits llm-send enforces across processes
# (DESIGN.md section 5): four concurrent processes sharing a limit of 120
# requests a minute finish 60 requests in no less than about 25 s, never
# more than 25 in any 10 s, and the mock, enforcing 25 per 10 s itself,
# never answers 429; --rate; concurrency 1 across processes; a provider's
# rate limit headers saying nothing is left pause everyone until the
# reset; a tokens-per-minute limit settles its estimate with the usage.
# Takes about 35 s, by design.  Run from the repository root after
# building: sh tests/failing-rate.t

. tests/lib.sh

plan 14

need jq tests/mock/mockprov

cat >"$T/script.json" <<'EOF'
{"rate_limit": {"limit": 25, "window_ms": 10000, "match": "/r/v1/"},
 "routes": [
  {"match": "/one/", "responses": [{"echo": true, "delay_ms": 300}]},
  {"match": "/hdr/", "responses": [
    {"echo": true, "headers": {"x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "2s"}},
    {"echo": true}]}
]}
EOF
if ! mock_start -s "$T/script.json" 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi
R_KEY=sk-test-rate-7c2
export R_KEY
cat >"$XDG_CONFIG_HOME/llm/config.json" <<EOF
{"providers": {
  "r": {"baseUrl": "$MOCK_URL/r/v1", "api": "openai-completions",
    "apiKey": "\$R_KEY", "anyModel": true, "limits": {"rpm": 120}},
  "free": {"baseUrl": "$MOCK_URL/free/v1", "api": "openai-completions",
    "apiKey": "\$R_KEY", "anyModel": true},
  "one": {"baseUrl": "$MOCK_URL/one/v1", "api": "openai-completions",
    "apiKey": "\$R_KEY", "anyModel": true,
    "models": [{"id": "m", "limits": {"concurrency": 1}}]},
  "hdr": {"baseUrl": "$MOCK_URL/hdr/v1", "api": "openai-completions",
    "apiKey": "\$R_KEY", "anyModel": true},
  "tok": {"baseUrl": "$MOCK_URL/tok/v1", "api": "openai-completions",
    "apiKey": "\$R_KEY", "anyModel": true}
},
 "limits": {"tok": {"tpm": 300}}}
EOF

# jqs FILE FILTER: true when FILTER holds for FILE's records as one array.
jqs() {
	jq -es "$2" "$1" >/dev/null 2>&1
}

# now: seconds since the epoch, to the millisecond.
now() {
	date +%s.%N | cut -c1-14
}

# requests PATH: the mock's records of requests to PATH, as one array.
requests() {
	for _f in "$MOCK_LOG"/[0-9]*.json; do
		cat "$_f"
	done | jq -cs --arg p "$1" '[.[] | select(.path | startswith($p))]'
}

# -- 4 processes, 60 requests, 120 a minute --------------------------------

i=1
while [ $i -le 4 ]; do
	awk -v p=$i 'BEGIN { for (j = 1; j <= 15; j++)
		printf "{\"id\":\"p%d-%d\",\"prompt\":\"r\"}\n", p, j }' \
	    >"$T/r$i.in"
	i=$((i + 1))
done
start=$(now)
senders=
for i in 1 2 3 4; do
	llm-send -j 4 -m r/m <"$T/r$i.in" >"$T/r$i.out" 2>"$T/r$i.err" &
	senders="$senders $!"
done
rcs=
for p in $senders; do
	wait "$p"
	rcs="$rcs$?"
done
end=$(now)
took=$(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }')
is "4 processes: all exit 0" "$rcs" 0000
cat "$T"/r[1-4].out >"$T/r.out"
check "4 processes: 60 answers, each id once" jqs "$T/r.out" '
	length == 60 and ([.[].id] | unique | length) == 60 and
	all(.[]; has("text") and .attempts == 1)'
check "4 processes: no sooner than 25 s ($took s)" \
    awk -v t="$took" 'BEGIN { exit !(t >= 25) }'
check "4 processes: no later than 40 s either" \
    awk -v t="$took" 'BEGIN { exit !(t <= 40) }'
requests /r/v1 >"$T/r.json"
check "the mock got 60 requests and refused none (no 429)" jqs \
    "$T/r.json" '.[0] | length == 60 and all(.[]; .limited != true)'
most=$(jq '[.[].time_ms] | sort as $t | [range(0; $t | length) as $i |
    [$t[] | select(. >= $t[$i] and . < $t[$i] + 10000)] | length] | max' \
    "$T/r.json")
check "never more than 25 in any 10 s ($most)" test "$most" -le 25
llm-resolve --state >"$T/state.out"
check "llm-resolve --state shows the shared bucket" jqs "$T/state.out" '
	[.[] | select(.type == "rate" and .kind == "rpm" and
	    (.scope | test("/r/v1|r key")))] | length == 1'

# -- --rate ----------------------------------------------------------------

awk 'BEGIN { for (j = 1; j <= 11; j++) printf "{\"prompt\":\"f\"}\n" }' \
    >"$T/f.in"
start=$(now)
llm-send -j 8 --rate 10/s -m free/m <"$T/f.in" >"$T/f1.out" 2>&1 &
a=$!
llm-send -j 8 --rate 10/s -m free/m <"$T/f.in" >"$T/f2.out" 2>&1 &
b=$!
wait "$a"
wait "$b"
end=$(now)
took=$(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }')
check "--rate 10/s shared by two processes: 22 requests in >= 2 s ($took)" \
    awk -v t="$took" 'BEGIN { exit !(t >= 2 && t < 5) }'

# -- concurrency 1 across processes ----------------------------------------

printf '%s\n' '{"prompt":"c"}' '{"prompt":"c"}' '{"prompt":"c"}' >"$T/c.in"
llm-send -j 3 -m one/m <"$T/c.in" >"$T/c1.out" 2>&1 &
a=$!
llm-send -j 3 -m one/m <"$T/c.in" >"$T/c2.out" 2>&1 &
b=$!
wait "$a"
wait "$b"
requests /one/ >"$T/c.json"
gap=$(jq '[.[].time_ms] | sort | [range(1; length) as $i | .[$i] -
    .[$i - 1]] | min' "$T/c.json")
check "concurrency 1 across two processes: one request at a time" \
    test "$gap" -ge 280
check "... and all six answered" test "$(cat "$T"/c[12].out |
    jq -s 'map(select(has("text"))) | length')" -eq 6

# -- rate limit headers ----------------------------------------------------

echo '{"prompt":"h"}' | llm-send -m hdr/m >"$T/h1.out" 2>&1
start=$(now)
echo '{"prompt":"h"}' | llm-send -m hdr/m >"$T/h2.out" 2>&1
end=$(now)
took=$(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }')
check "remaining-requests 0: the next process waits for the reset" \
    awk -v t="$took" 'BEGIN { exit !(t >= 1.5 && t < 4) }'
check "... and is answered ($took s)" jqf "$T/h2.out" '.text == "mock: h"'

# -- tokens per minute -----------------------------------------------------

# 300 tokens a minute, 100 each by the estimate (max_tokens) but a few
# by the usage: one after the other, the estimate is given back and the
# records are not held up.
awk 'BEGIN { for (j = 1; j <= 5; j++)
	printf "{\"prompt\":\"t\",\"max_tokens\":100}\n" }' >"$T/t.in"
start=$(now)
llm-send -j 1 -m tok/m <"$T/t.in" >"$T/t.out" 2>&1
end=$(now)
took=$(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }')
check "tpm: five records under a limit of three by estimate ($took s)" \
    awk -v t="$took" 'BEGIN { exit !(t < 3) }'

check "the mock provider printed nothing" test ! -s "$T/mock.err"
