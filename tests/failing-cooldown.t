#!/bin/sh
# TAP tests of the cooldowns llm-send shares through the state directory
# (DESIGN.md sections 3 and 5): a candidate that said 429 is skipped by a
# second process started afterwards (the mock sees one request, not two);
# a process with no other candidate waits the cooldown out and then
# probes; when a cooldown ends exactly one of several processes probes;
# llm-resolve --state shows the cooldowns and --state-clear forgets them;
# and bad state (a corrupt or foreign file, a directory that cannot be
# made, a read-only directory, a full disk) is one warning, not a failure.
# Run from the repository root after building: sh tests/failing-cooldown.t

. tests/lib.sh

plan 31

need jq tests/mock/mockprov

cat >"$T/script.json" <<'EOF'
{"routes": [
  {"match": "/c/limited/", "responses": [{"status": 429,
    "body": {"error": {"message": "Rate limit reached", "type": "requests"}}}]},
  {"match": "/c/wait/", "responses": [
    {"status": 429, "headers": {"retry-after": "1"},
     "body": {"error": {"message": "slow down"}}},
    {"echo": true}]},
  {"match": "/c/probe/", "responses": [{"status": 429,
    "headers": {"retry-after": "2"}, "body": {"error": {"message": "no"}}}]}
]}
EOF
if ! mock_start -s "$T/script.json" 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi
C_KEY=sk-test-cool-5e1
export C_KEY
cat >"$XDG_CONFIG_HOME/llm/config.json" <<EOF
{"providers": {
  "c": {"baseUrl": "$MOCK_URL/c", "path": "/{model}/chat/completions",
    "api": "openai-completions", "apiKey": "\$C_KEY", "anyModel": true}
}}
EOF
STATE=$XDG_RUNTIME_DIR/llm

# jqs FILE FILTER: true when FILTER holds for FILE's records as one array.
jqs() {
	jq -es "$2" "$1" >/dev/null 2>&1
}

# jqsa FILE FILTER ARG...: jqs with jq options such as --arg.
jqsa() {
	_f=$1
	_flt=$2
	shift 2
	jq -es "$_flt" "$@" "$_f" >/dev/null 2>&1
}

# hits NAME: the requests the mock got for route NAME.
hits() {
	grep -c " /c/$1/" "$MOCK_LOG/requests.log"
}

# -- skipped by a later process --------------------------------------------

echo '{"id":"s1","prompt":"one"}' |
    llm-send -m c/limited -F c/backup >"$T/s1.out" 2>"$T/s1.err"
check "a 429 with a fallback: the fallback answers at once" \
    jqf "$T/s1.out" '.model == "c/backup" and .attempts == 2'
echo '{"id":"s2","prompt":"two"}' |
    llm-send -m c/limited -F c/backup >"$T/s2.out" 2>"$T/s2.err"
check "a second process: the cooling candidate skipped" jqf "$T/s2.out" '
	.model == "c/backup" and .attempts == 1'
is "the mock saw one request to it, not two" "$(hits limited)" 1
check "the state lives in \$XDG_RUNTIME_DIR/llm, mode 0700" \
    test "$(stat -c %a "$STATE")" = 700
check "its files are 0600" test -z "$(find "$STATE" -type f ! -perm 600)"
! grep -rq "$C_KEY" "$STATE"
check "no key in the state files" [ $? -eq 0 ]

# -- llm-resolve --state and --state-clear ---------------------------------

llm-resolve --state >"$T/state.out" 2>"$T/state.err"
rc=$?
is "--state: exit 0" "$rc" 0
# shellcheck disable=SC2016 # $u is a jq variable
check "--state: the cooldown, its scope, reason and time left" \
    jqsa "$T/state.out" '[.[] | select(.type == "cooldown"
	and .active)] | length == 1 and .[0].endpoint ==
	"\($u)/c/limited/chat/completions" and .[0].model == "limited" and
	.[0].reason == "rate_limited" and .[0].status == 429 and
	.[0].level == 1 and .[0].remaining_s > 50 and
	.[0].remaining_s <= 60 and (.[0].key | test("^[0-9a-f]{12}$"))' \
    --arg u "$MOCK_URL"
! grep -q "$C_KEY" "$T/state.out"
check "--state: a key fingerprint, never the key" [ $? -eq 0 ]
llm-resolve --state-clear >"$T/clear.out" 2>&1
is "--state-clear: exit 0, quiet" "$?$(cat "$T/clear.out")" 0
is "--state-clear: nothing left to show" "$(llm-resolve --state | wc -l |
    tr -d ' ')" 0
echo '{"id":"s3","prompt":"three"}' |
    llm-send -m c/limited -F c/backup >"$T/s3.out" 2>"$T/s3.err"
is "after --state-clear the candidate is tried again" "$(hits limited)" 2
llm-resolve --state --state-clear >/dev/null 2>&1
is "--state with --state-clear: usage error" "$?" 2

# -- no other candidate: wait, then probe ----------------------------------

echo '{"id":"w1","prompt":"w"}' | llm-send --retry 0 -m c/wait \
    >"$T/w1.out" 2>"$T/w1.err"
check "a 429 with Retry-After: 1 and --retry 0: the error" \
    jqf "$T/w1.out" '.error.kind == "rate_limited"'
start=$(date +%s.%N)
echo '{"id":"w2","prompt":"w"}' | llm-send -m c/wait >"$T/w2.out" \
    2>"$T/w2.err"
end=$(date +%s.%N)
check "a later process waits the cooldown out, then is answered" \
    jqf "$T/w2.out" '.text == "mock: w" and .attempts == 1'
check "... having waited ($(echo "$start $end" |
    awk '{ printf "%.2f", $2 - $1 }') s)" \
    awk -v a="$start" -v b="$end" 'BEGIN { exit !(b - a >= 0.5) }'
is "... two requests in all, none while it cooled" "$(hits wait)" 2

# -- when a cooldown ends, exactly one process probes ----------------------

echo '{"id":"p0","prompt":"p"}' | llm-send --retry 0 -m c/probe \
    >/dev/null 2>&1
sleep 2.2
probers=
for i in 1 2 3 4; do
	echo "{\"id\":\"p$i\",\"prompt\":\"p\"}" |
	    llm-send --retry 0 --retry-max-time 1 -m c/probe \
	    >"$T/p$i.out" 2>/dev/null &
	probers="$probers $!"
done
for p in $probers; do
	wait "$p"
done
is "four processes after the cooldown: one request between them" \
    "$(hits probe)" 2
cat "$T/p1.out" "$T/p2.out" "$T/p3.out" "$T/p4.out" >"$T/p.out"
check "... one sent (and failed again), three waited and gave up unsent" \
    jqs "$T/p.out" 'length == 4 and ([.[] | select(.attempts == 1)] |
	length) == 1 and all(.[]; .error.kind == "rate_limited")'

# -- bad state: one warning, and on ---------------------------------------

llm-resolve --state-clear
echo '{"prompt":"x"}' | llm-send -m c/limited -F c/backup >/dev/null 2>&1
for f in "$STATE"/cd-*; do
	printf 'not a state file at all' >"$f"
done
printf '%s\n' '{"prompt":"a"}' '{"prompt":"b"}' |
    llm-send -j 1 -m c/limited -F c/backup >"$T/b1.out" 2>"$T/b1.err"
check "a corrupt state file: answered" jqs "$T/b1.out" 'length == 2 and
	all(.[]; .model == "c/backup")'
is "a corrupt state file: one warning" \
    "$(grep -c 'corrupt or not ours' "$T/b1.err")" 1
for f in "$STATE"/cd-*; do
	rm -f "$f"
	ln -s /etc/passwd "$f"
done
echo '{"prompt":"x"}' | llm-send -m c/limited -F c/backup >"$T/b2.out" \
    2>"$T/b2.err"
check "a symbolic link for a state file: answered" jqf "$T/b2.out" \
    '.model == "c/backup"'
is "... one warning" "$(grep -c 'symbolic link' "$T/b2.err")" 1
check "... and it was not followed" test -s /etc/passwd
rm -f "$STATE"/cd-*
: >"$T/afile"
echo '{"prompt":"x"}' | LLM_STATE_DIR=$T/afile/llm llm-send -m c/backup \
    >"$T/b3.out" 2>"$T/b3.err"
rc=$?
check "a state directory that cannot be made: answered, exit $rc" \
    jqf "$T/b3.out" '.text == "mock: x"'
is "... one warning naming it" "$(grep -c "afile/llm" "$T/b3.err")" 1

# A read-only directory and a full disk: as an ordinary user by
# permissions; as root (permissions do not bind it) in a mount namespace
# of its own, when the system allows one.
if [ "$(id -u)" != 0 ]; then
	mkdir -p "$T/ro"
	chmod 500 "$T/ro"
	echo '{"prompt":"x"}' | LLM_STATE_DIR=$T/ro llm-send --retry 0 \
	    -m c/limited -F c/backup >"$T/b4.out" 2>"$T/b4.err"
	check "a read-only state directory: answered" jqf "$T/b4.out" \
	    '.model == "c/backup"'
	is "... one warning" "$(grep -c "$T/ro" "$T/b4.err")" 1
	skip "a full disk: answered" "needs root for a small tmpfs"
	skip "... one warning" "needs root for a small tmpfs"
elif unshare -m true 2>/dev/null; then
	cat >"$T/ns.sh" <<'EOF'
set -e
mkdir -p "$T/ro" "$T/full"
mount -t tmpfs -o ro,mode=0700,size=64k tmpfs "$T/ro"
mount -t tmpfs -o mode=0700,size=8k tmpfs "$T/full"
dd if=/dev/zero of="$T/full/fill" bs=1k count=64 2>/dev/null || true
set +e
echo '{"prompt":"x"}' | LLM_STATE_DIR=$T/ro llm-send --retry 0 \
    -m c/limited -F c/backup >"$T/b4.out" 2>"$T/b4.err"
echo '{"prompt":"x"}' | LLM_STATE_DIR=$T/full llm-send --retry 0 \
    -m c/limited -F c/backup >"$T/b5.out" 2>"$T/b5.err"
EOF
	export T
	unshare -m sh "$T/ns.sh"
	check "a read-only state directory: answered" jqf "$T/b4.out" \
	    '.model == "c/backup"'
	is "... one warning" "$(grep -c "Read-only" "$T/b4.err")" 1
	check "a full disk: answered" jqf "$T/b5.out" '.model == "c/backup"'
	is "... one warning" "$(grep -c "No space left" "$T/b5.err")" 1
else
	for d in "a read-only state directory: answered" "... one warning" \
	    "a full disk: answered" "... one warning"; do
		skip "$d" "no mount namespace for root"
	done
fi

check "the mock provider printed nothing" test ! -s "$T/mock.err"
