#!/bin/sh
# TAP stress test of the cache store: 8 workers run llm-cache get and put
# over the same 40 keys at once while each kills its own runs with
# kill -9 at random moments (300 kills or more in all), over a store
# seeded with truncated, bit-flipped and misfiled entries, which a planter
# keeps copying over good ones during the run.  Then: no crash, no hit
# that is not its request's answer, every entry left verifies, prune
# removes what killed writers left and keeps the size cap.
# Run from the repository root after building: sh tests/cache-stress.t

. tests/lib.sh

plan 12

need jq

WORKERS=8
KILLS_EACH=40		# 8 x 40 = 320 kills at least
C=$T/c
LLM_CACHE_DIR=$C
export LLM_CACHE_DIR

# The 40 requests; echo answers each with its prompt, which meta.want
# repeats so that every output line can be checked on its own.
awk 'BEGIN { for (i = 1; i <= 40; i++)
    printf "{\"id\":\"u%d\",\"model\":\"echo\",\"prompt\":\"prompt %d %s\"," \
    "\"meta\":{\"want\":\"prompt %d %s\"}}\n", i, i,
    substr("abcdefghijklmnopqrstuvwxyz", 1 + i % 26), i,
    substr("abcdefghijklmnopqrstuvwxyz", 1 + i % 26) }' >"$T/u.jsonl"
i=0
: >"$T/r.jsonl"
while [ $i -lt 50 ]; do
	cat "$T/u.jsonl" >>"$T/r.jsonl"
	i=$((i + 1))
done
# The answers, annotated with their keys, from a scratch store.
LLM_CACHE_DIR=$T/scratch llm-cache get <"$T/u.jsonl" | llm-send |
    LLM_CACHE_DIR=$T/scratch llm-cache put >"$T/p1.jsonl"
: >"$T/p.jsonl"
i=0
while [ $i -lt 10 ]; do
	cat "$T/p1.jsonl" >>"$T/p.jsonl"
	i=$((i + 1))
done

# Bad entries for every key: truncated, one byte of the answer changed
# (still valid JSON: only the checksum can tell), another key's entry
# under this key's name.  The store starts with them, and a planter keeps
# copying them over entries (in place, not atomically) during the run.
mkdir -p "$T/bad"
find "$T/scratch/v1" -type f -name '[0-9a-f]*' | sort >"$T/entries"
prev=$(tail -n 1 "$T/entries")
n=0
while read -r f; do
	k=${f##*/}
	head -c 100 "$f" >"$T/bad/$k.0"
	sed 's/"text":"prompt /"text":"prompT /' "$f" >"$T/bad/$k.1"
	cp "$prev" "$T/bad/$k.2"
	prev=$f
	echo "$k" >>"$T/keys"
	rel=${f#"$T/scratch/"}
	mkdir -p "$C/${rel%/*}"
	cp "$T/bad/$k.$((n % 3))" "$C/$rel"
	n=$((n + 1))
done <"$T/entries"
mkdir -p "$C/v1/00"
echo "not ours" >"$C/v1/00/notes.txt"

# planter: until $T/stop exists, copies a random bad entry into place
# every 10 ms or so.
planter() {
	awk 'BEGIN { srand(); for (i = 0; i < 100000; i++)
	    printf "%d %d\n", 1 + int(rand() * 40), int(rand() * 3) }' |
	while read -r _n _m; do
		[ -e "$T/stop" ] && break
		_k=$(sed -n "${_n}p" "$T/keys")
		_d=$C/v1/$(printf %s "$_k" | cut -c1-2)/$(printf %s "$_k" |
		    cut -c3-4)
		mkdir -p "$_d"
		cp "$T/bad/$_k.$_m" "$_d/$_k" 2>/dev/null &&
		    echo >>"$T/planted"
		sleep 0.01
	done
}

# rand N: a pseudo-random integer below N.
rand() {
	awk -v n="$1" -v s="$$$(date +%N 2>/dev/null)$_r" \
	    'BEGIN { srand(s); printf "%d\n", rand() * n }'
	_r=$((_r + 1))
}

# worker W: alternates get and put, kills its run (its own child, not
# yet waited for, so the pid cannot have been reused) at a random moment
# two times in three, until it has killed KILLS_EACH runs.  get writes
# into a FIFO, so that each record leaves at once, as into a pipe.
worker() {
	_w=$1
	_k=0
	_i=0
	_r=$_w
	mkfifo "$T/fifo.$_w"
	while [ $_k -lt $KILLS_EACH ] && [ $_i -lt 400 ]; do
		_i=$((_i + 1))
		_c=
		if [ $(((_i + _w) % 2)) = 0 ]; then
			cat "$T/fifo.$_w" >"$T/out.$_w.$_i" &
			_c=$!
			llm-cache get <"$T/r.jsonl" >"$T/fifo.$_w" \
			    2>"$T/err.$_w.$_i" &
		else
			llm-cache put <"$T/p.jsonl" >/dev/null \
			    2>"$T/err.$_w.$_i" &
		fi
		_p=$!
		if [ $((_i % 3)) != 0 ]; then
			sleep "0.0$(rand 40 | awk '{ printf "%02d", $1 }')"
			kill -9 "$_p" 2>/dev/null
		fi
		wait "$_p"
		_rc=$?
		[ -n "$_c" ] && wait "$_c"
		echo "$_rc" >>"$T/rc.$_w"
		[ "$_rc" = 137 ] && _k=$((_k + 1))
	done
}

planter 2>>"$T/shell.err" &
planter_pid=$!
w=1
while [ $w -le $WORKERS ]; do
	worker "$w" 2>>"$T/shell.err" &
	eval "wpid$w=\$!"
	w=$((w + 1))
done
w=1
while [ $w -le $WORKERS ]; do
	eval "wait \$wpid$w"
	w=$((w + 1))
done
: >"$T/stop"
wait "$planter_pid"

kills=$(cat "$T"/rc.* | grep -c '^137$')
runs=$(cat "$T"/rc.* | wc -l | tr -d ' ')
plants=$(wc -l <"$T/planted" | tr -d ' ')
check "at least 300 runs killed with kill -9 ($kills of $runs), bad entries planted $plants times" \
    test "$kills" -ge 300 -a "$plants" -ge 100
check "no crash: every run exited 0 or was killed" \
    sh -c "! cat '$T'/rc.* | grep -v -e '^0\$' -e '^137\$' | grep -q ."
check "no sanitizer or crash report" \
    sh -c "! cat '$T'/err.* | grep -q -i -e sanitizer -e 'runtime error' \
    -e 'segmentation' -e 'abort'"

# Complete lines only: a killed run may end in half a line.
: >"$T/all.out"
for f in "$T"/out.*; do
	head -n "$(wc -l <"$f")" "$f" >>"$T/all.out"
done
check "every complete output line is a record" \
    sh -c "jq -c . '$T/all.out' >/dev/null 2>&1"
jq -c 'select(.cached == true)' "$T/all.out" >"$T/hits"
hits=$(wc -l <"$T/hits" | tr -d ' ')
check "plenty of hits under fire ($hits)" test "$hits" -ge 1000
check "zero corrupt hits: every hit is its request's answer" \
    sh -c "jq -e -s 'all(.[]; .text == .meta.want and
    (.id | startswith(\"u\")))' '$T/hits' >/dev/null"

# Every entry left verifies: after a pass that mends what the planter
# left, a full pass finds nothing corrupt.
llm-cache get <"$T/u.jsonl" | llm-send | llm-cache put >/dev/null
c0=$(llm-cache stats 2>/dev/null | jq .corrupt)
llm-cache get <"$T/u.jsonl" >"$T/final"
c1=$(llm-cache stats 2>/dev/null | jq .corrupt)
check "afterwards every entry verifies and answers its request" \
    sh -c "test '$c0' = '$c1' && jq -e -s 'length == 40 and
    all(.[]; .cached == true and .text == .meta.want)' '$T/final' \
    >/dev/null"
check "the bad entries are gone" \
    sh -c "test \"\$(find '$C/v1' -type f -name '[0-9a-f]*' | wc -l)\" \
    -eq 40"

temps=$(find "$C/v1" -name '.tmp-*' | wc -l | tr -d ' ')
bytes=$(llm-cache stats 2>/dev/null | jq .bytes)
cap=$((bytes / 2))
llm-cache prune --max-size "$cap" >"$T/prune.out" 2>"$T/prune.err"
check "prune removes what killed writers left ($temps temporary files)" \
    test "$(find "$C/v1" -name '.tmp-*' | wc -l)" -eq 0
after=$(llm-cache stats 2>/dev/null | jq .bytes)
check "prune --max-size keeps the cap within 10% ($after <= $cap)" \
    test "$after" -le $((cap + cap / 10))
disk=$(find "$C/v1" -type f -name '[0-9a-f]*' -exec cat {} + | wc -c)
check "... counting the files themselves ($disk bytes)" \
    test "$disk" -le $((cap + cap / 10))
llm-cache get <"$T/u.jsonl" >"$T/left"
check "what is left still answers right" \
    sh -c "jq -e -s '(map(select(.cached == true)) | length > 0) and
    all(.[]; (.cached | not) or .text == .meta.want)' '$T/left' \
    >/dev/null"
