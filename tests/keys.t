#!/bin/sh
# TAP test of llm-keys: init, set, get, list, rm, passwd, exec, import,
# path, unlock/lock/expiry, the test vectors through the command, bad
# input, concurrent writers, a full disk, and that no secret leaks into
# any output, file or write(2) but the intended one.  Run from the repo
# root: sh tests/keys.t
#
# Every llm-keys runs in a new session without a controlling terminal
# (setsid -w), so nothing here can ever wait for a passphrase.  The
# keyfiles use cheap KDF parameters (-o 1 -m 8M); bench/keys.sh measures
# the real ones.

. tests/lib.sh

plan 115

need bin/llm-keys
if ! command -v setsid >/dev/null 2>&1; then
	echo "Bail out! setsid(1) is needed to keep tests off the terminal"
	exit 1
fi

PP='sk-test-passphrase (fake) 1'
LLM_KEYS_PASSPHRASE=$PP
export LLM_KEYS_PASSPHRASE
KF=$XDG_CONFIG_HOME/llm/keys.llmk
ERR=$T/stderr.all	# every stderr, for the redaction checks
OUT=$T/stdout.all	# every stdout that must hold no secret
: >"$ERR"
: >"$OUT"

# keys ARGS...: llm-keys off the terminal; stderr kept in $T/e and $ERR.
keys() {
	setsid -w llm-keys "$@" 2>"$T/e"
	_rc=$?
	cat "$T/e" >>"$ERR"
	return $_rc
}
# keysq ARGS...: keys, stdout also kept for the redaction checks.
keysq() {
	keys "$@" >"$T/o"
	_rc=$?
	cat "$T/o" >>"$OUT"
	return $_rc
}
# rc CMD...: prints the exit status of CMD (its output discarded).
rc() {
	"$@" >/dev/null 2>&1
	echo $?
}
e() {
	cat "$T/e"
}
o() {
	cat "$T/o"
}
# w VAR=VALUE CMD...: CMD with VAR exported, in a subshell.
w() (
	export "${1?}"
	shift
	"$@"
)
# set_key NAME SECRET: stores SECRET (no newline) under NAME.
set_key() {
	printf '%s' "$2" | keysq set "$1"
}

S1='sk-test-ZAIzaiZAI-0123456789abcdefghij'
S2='sk-test-ZAI2zai2-9876543210zyxwvutsrqp'
S3='sk-test-OPENAIopenai-aaaaBBBBccccDDDD'
SL='sk-test-LEAKCHECK-ff00ee11dd22cc33bb44aa55'

# --- init --------------------------------------------------------------

keysq init -o 1 -m 8M
is "init creates the keyfile" "$? $(test -f "$KF" && echo yes)" "0 yes"
is "the keyfile is mode 600" "$(stat -c %a "$KF")" 600
w LLM_KEYFILE="$T/new/dir/keys.llmk" keysq init -o 1 -m 8M
is "init creates missing directories mode 700" \
    "$(stat -c %a "$T/new/dir" "$T/new/dir/keys.llmk" | tr '\n' ' ')" \
    "700 600 "
keysq init -o 1 -m 8M
is "a second init is refused (1)" "$? $(e)" \
    "1 llm-keys: '$KF' exists; use --force to replace it and lose its entries"
set_key zai "$S1"
keysq init --force -o 1 -m 8M
check "init --force replaces it" [ $? -eq 0 ]
keysq get zai
is "... and its entries are gone" "$? $(e)" "1 llm-keys: no entry 'zai'"
keysq init -f -o 1 -m 8M
check "init -f is --force" [ $? -eq 0 ]
keysq init -f -o 1 -m 2G
is "init refuses absurd KDF parameters (2)" "$? $(e)" "2 llm-keys: KDF \
parameters out of range (opslimit 1, memlimit 2147483648): refusing to derive"
w LLM_KEYS_PASSPHRASE= keysq init -f -o 1 -m 8M
is "init without a passphrase source fails at once" "$? $(e)" \
    "1 llm-keys: no passphrase: set LLM_KEYS_PASSPHRASE_FD or \
LLM_KEYS_PASSPHRASE, or use a terminal"

# --- set, get, list, rm ------------------------------------------------

set_key zai "$S1"
check "set from stdin" [ $? -eq 0 ]
printf '%s\n' "$S2" | keysq set 'zai#2'
check "set from stdin, trailing newline dropped" [ $? -eq 0 ]
printf '%s\r\n' "$S3" | keysq set openai
check "set, CRLF dropped" [ $? -eq 0 ]
is "get prints the secret and a newline" "$(keys get zai; echo .)" \
    "$S1
."
is "get -n prints the secret alone" "$(keys get -n 'zai#2'; echo .)" \
    "$S2."
is "get of a CRLF-terminated secret" "$(keys get -n openai)" "$S3"
keysq list
check "list exits 0" [ $? -eq 0 ]
o >"$T/list.json"
jq -s . "$T/list.json" >"$T/list.all"
check "list is JSONL when piped: name, created, fingerprint, no value" \
    jqf "$T/list.all" 'length == 3 and
	(map(.name) == ["openai", "zai", "zai#2"]) and
	all(.[]; keys == ["created", "fingerprint", "name"] and
	    (.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")) and
	    (.fingerprint | test("^[0-9a-f]{12}$")))'
fp=$(printf '%s' "$S1" | b2sum -l 256 | cut -c 1-12)
check "the fingerprint is BLAKE2b-256's first 12 hex digits" \
    jqf "$T/list.all" ".[1].fingerprint == \"$fp\""
printf 'sk-test-replaced-value-000000' | keysq set zai
is "set replaces an entry" "$(keys get zai)" "sk-test-replaced-value-000000"
set_key zai "$S1"
set_key tmp 'sk-test-temporary-0000000000'
keysq rm tmp
check "rm" [ $? -eq 0 ]
keysq get tmp
is "get after rm fails (1)" "$? $(e)" "1 llm-keys: no entry 'tmp'"
cp "$KF" "$T/before"
keysq rm zai nope
is "rm of a missing entry fails" "$? $(e)" "1 llm-keys: no entry 'nope'"
check "... and changes nothing, not even the present one" \
    cmp -s "$KF" "$T/before"

# --- passphrase sources ------------------------------------------------

w LLM_KEYS_PASSPHRASE=sk-test-wrong keysq get zai
is "a wrong passphrase (1)" "$? $(e)" "1 llm-keys: wrong passphrase"
printf '%s\n' "$PP" >"$T/pp"
is "LLM_KEYS_PASSPHRASE_FD" "$(LLM_KEYS_PASSPHRASE='' \
    LLM_KEYS_PASSPHRASE_FD=3 setsid -w llm-keys get zai 3<"$T/pp")" "$S1"
is "LLM_KEYS_PASSPHRASE_FD wins over LLM_KEYS_PASSPHRASE" \
    "$(LLM_KEYS_PASSPHRASE=sk-test-wrong LLM_KEYS_PASSPHRASE_FD=3 \
    setsid -w llm-keys get zai 3<"$T/pp")" "$S1"
w LLM_KEYS_PASSPHRASE_FD=9 keysq get zai
is "a descriptor that is not open" "$? $(e)" \
    "1 llm-keys: LLM_KEYS_PASSPHRASE_FD: descriptor 9: Bad file descriptor"
start=$(date +%s)
env -u LLM_KEYS_PASSPHRASE timeout 20 setsid -w llm-keys get zai \
    >/dev/null 2>"$T/e" </dev/null
is "no source and no terminal: fails at once with a clear message" \
    "$? $(e)" "1 llm-keys: no passphrase: set LLM_KEYS_PASSPHRASE_FD or \
LLM_KEYS_PASSPHRASE, run 'llm-keys unlock', or use a terminal"
check "... without waiting" [ $(($(date +%s) - start)) -lt 5 ]

# --- the test vectors through the command ------------------------------

mkdir -m 700 "$T/v"
nvec=0
bad=
while IFS="$(printf '\t')" read -r file pass want; do
	case $file in '#'* | '') continue ;; esac
	cp "tests/vectors/$file" "$T/v/$file"
	chmod 600 "$T/v/$file"
	got=$(LLM_KEYFILE=$T/v/$file LLM_KEYS_PASSPHRASE=$pass \
	    setsid -w llm-keys list 2>&1 >/dev/null)
	code=$?
	nvec=$((nvec + 1))
	case $want in
	ok) wcode=0 wgot= ;;
	'wrong passphrase' | 'corrupt keyfile (entries'*)
		wcode=1 wgot="llm-keys: $want" ;;
	*)	wcode=1 wgot="llm-keys: '$T/v/$file': $want" ;;
	esac
	if [ $code -ne $wcode ] || [ "$got" != "$wgot" ]; then
		bad="$bad $file"
		echo "# $file: $code $got"
	fi
done <tests/vectors/expected
is "all $nvec vectors give their exact message through llm-keys" \
    "${bad:-none}" none
is "the valid vector's entries" "$(LLM_KEYFILE=$T/v/valid.llmk \
    LLM_KEYS_PASSPHRASE='correct horse battery staple' \
    setsid -w llm-keys list | jq -r '.name + " " + .created' | tr '\n' ,)" \
    "openai 2023-11-14T22:13:20Z,zai 2023-11-14T22:15:00Z,\
zai#2 2023-11-14T22:16:40Z,"
is "the valid vector's secret" "$(LLM_KEYFILE=$T/v/valid.llmk \
    LLM_KEYS_PASSPHRASE='correct horse battery staple' \
    setsid -w llm-keys get 'zai#2')" sk-test-vector-zai-0002
len=$(wc -c <tests/vectors/valid.llmk)
bad=
for off in 0 1 7 8 9 10 39 40 100 175 176 177 200 $((len - 1)); do
	head -c "$off" tests/vectors/valid.llmk >"$T/v/trunc"
	chmod 600 "$T/v/trunc"
	got=$(LLM_KEYFILE=$T/v/trunc setsid -w llm-keys list 2>&1)
	if [ "$got" != "llm-keys: '$T/v/trunc': truncated keyfile" ]; then
		bad="$bad $off"
	fi
done
is "truncated copies are told as such" "${bad:-none}" none

# --- bad input ----------------------------------------------------------

printf '' | keysq set empty
is "an empty secret is refused" "$? $(e)" "1 llm-keys: empty secret"
printf '\n\n' | keysq set empty
is "a secret of newlines is empty" "$? $(e)" "1 llm-keys: empty secret"
printf 'sk-test-\000nul' | keysq set nul
is "a NUL byte is refused" "$? $(e)" "1 llm-keys: secret contains a NUL byte"
head -c 70000 /dev/zero | tr '\0' k | keysq set huge
is "a secret over 64 KiB is refused" "$? $(e)" \
    "1 llm-keys: secret is longer than 65536 bytes"
printf 'sk-test-x' | keysq set "$(printf 'a\033[31mb')"
is "a name with a control character (2), not echoed" "$? $(e)" \
    "2 llm-keys: entry name contains a control character"
printf 'sk-test-x' | keysq set 'A=B'
is "a name with '=' (2)" "$? $(e)" "2 llm-keys: entry name may hold only \
printable ASCII other than space and '='"
keysq get 'a b'
is "get of a name with a space (2)" "$?" 2
mkdir "$T/adir"
w LLM_KEYFILE="$T/adir" keysq get zai
is "a directory instead of a file" "$? $(e)" \
    "1 llm-keys: '$T/adir' is a directory"
w LLM_KEYFILE="$T/adir" keysq init -f -o 1 -m 8M
is "init over a directory, even with --force" "$? $(e)" \
    "1 llm-keys: '$T/adir' is a directory"
w LLM_KEYFILE="$T/none.llmk" keysq get zai
is "no keyfile" "$? $(e)" \
    "1 llm-keys: no keyfile at '$T/none.llmk'; create one with 'llm-keys init'"
chmod 644 "$KF"
keysq get zai
is "a keyfile readable by others is refused" "$? $(e)" "1 llm-keys: '$KF' \
is accessible by others (mode 0644): refusing; chmod 600 it"
chmod 600 "$KF"
if [ "$(id -u)" = 0 ]; then
	cp "$KF" "$T/other.llmk"
	chown 65534 "$T/other.llmk"
	w LLM_KEYFILE="$T/other.llmk" keysq get zai
	is "a keyfile owned by someone else is refused" "$? $(e)" "1 llm-keys: \
'$T/other.llmk' belongs to uid 65534, not you: refusing"
else
	skip "a keyfile owned by someone else is refused" "not root: no chown"
fi
ln -s "$KF" "$T/link.llmk"
w LLM_KEYFILE="$T/link.llmk" keysq get zai
is "a symbolic link is refused" "$? $(e)" \
    "1 llm-keys: '$T/link.llmk' is a symbolic link: refusing"

# A full disk, by a file size limit: the write fails, the old file stays.
cp "$KF" "$T/before"
head -c 3000 /dev/zero | tr '\0' x | sed 's/^/sk-test-/' >"$T/big"
(
	ulimit -f 1
	trap '' XFSZ
	exec setsid -w llm-keys set big <"$T/big" 2>"$T/e"
)
code=$?
cat "$T/e" >>"$ERR"
check "a write that fails (file size limit) fails the command ($code)" \
    [ $code -eq 1 ]
check "... saying why" grep -q "File too large" "$T/e"
check "... and the old keyfile is intact" cmp -s "$KF" "$T/before"
is "... no temporary file is left" \
    "$(find "$(dirname "$KF")" -name '*.tmp.*' | wc -l | tr -d ' ')" 0
keysq set big <"$T/big"
check "without the limit the same set works" [ $? -eq 0 ]
keysq rm big

# --- usage ---------------------------------------------------------------

is "no command (2)" "$(rc llm-keys)" 2
is "an unknown command (2)" "$(rc llm-keys frob)" 2
is "set without a name (2)" "$(rc llm-keys set)" 2
is "get with two names (2)" "$(rc llm-keys get a b)" 2
is "exec without -e (2)" "$(rc llm-keys exec -- true)" 2
is "exec without a command (2)" "$(rc llm-keys exec -e zai=X)" 2
is "unlock -t 0 (2)" "$(rc llm-keys unlock -t 0)" 2
is "unlock -t 8d (2)" "$(rc llm-keys unlock -t 8d)" 2
llm-keys -h >"$T/h"
check "-h prints the usage to stdout, exit 0" \
    grep -q '^usage: llm-keys init' "$T/h"
is "-V" "$(llm-keys -V)" "llm-keys 0.1.0"
is "path" "$(llm-keys path)" "$KF"
is "path honours LLM_KEYFILE" "$(LLM_KEYFILE=/x/y.llmk llm-keys path)" \
    /x/y.llmk

# --- exec ----------------------------------------------------------------

keys exec -e zai=MY_KEY -e 'zai#2' -- env >"$T/env"
check "exec runs the command" [ $? -eq 0 ]
check "exec: -e NAME=VAR sets VAR" grep -qx "MY_KEY=$S1" "$T/env"
check "exec: -e zai#2 sets the catalog's ZAI_API_KEY" \
    grep -qx "ZAI_API_KEY=$S2" "$T/env"
check "exec: no other key is passed" sh -c \
    "! grep -q -e '$S3' -e 'OPENAI_API_KEY' '$T/env'"
check "exec: the passphrase is not passed" sh -c \
    "! grep -q -e LLM_KEYS_PASSPHRASE -e '$PP' '$T/env'"
is "exec: the command's status" "$(rc keys exec -e zai=K -- sh -c 'exit 7')" 7
is "exec: a missing command (127)" \
    "$(rc keys exec -e zai=K -- /nonexistent/cmd)" 127
keysq exec -e nope=K -- true
is "exec: a missing entry (1)" "$? $(e)" "1 llm-keys: no entry 'nope'"
keysq exec -e mykey -- true
is "exec: a name that is no provider needs =VAR (2)" "$?" 2
keysq exec -e 'zai=1X' -- true
is "exec: a bad variable name (2)" "$?" 2
# shellcheck disable=SC3045 # ulimit -c: dash, bash, ksh and busybox have it
is "exec: core dumps are allowed again in the command" \
    "$(keys exec -e zai=K -- sh -c 'ulimit -c')" "$(ulimit -c)"

# --- import ----------------------------------------------------------------

# env -i: only these variables, whatever the CI runner has set.
env -i PATH="$PATH" HOME="$HOME" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" \
    LLM_KEYS_PASSPHRASE="$PP" Z_AI_API_KEY=sk-test-imported-zai-00000 \
    OPENAI_API_KEY=sk-test-imported-openai-000 \
    MISTRAL_API_KEY=sk-test-imported-mistral-00 \
    setsid -w llm-keys import >"$T/o" 2>"$T/imp"
code=$?
cat "$T/o" >>"$OUT"
cat "$T/imp" >>"$ERR"
check "import exits 0" [ $code -eq 0 ]
is "import keeps existing entries without -f" \
    "$(grep -c 'exists, kept' "$T/imp") $(keys get zai) $(keys get openai)" \
    "2 $S1 $S3"
is "import adds new ones" "$(keys get mistral)" sk-test-imported-mistral-00
is "import says where each came from, never the value" \
    "$(grep imported "$T/imp")" \
    "llm-keys: mistral: imported from MISTRAL_API_KEY"
env -i PATH="$PATH" HOME="$HOME" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" \
    LLM_KEYS_PASSPHRASE="$PP" Z_AI_API_KEY=sk-test-imported-zai-00000 \
    setsid -w llm-keys import -f zai >>"$OUT" 2>>"$ERR"
is "import -f zai takes the legacy alias Z_AI_API_KEY" "$(keys get zai)" \
    sk-test-imported-zai-00000
is "import of an unknown provider (2)" "$(rc keys import nosuch)" 2
set_key zai "$S1"
keysq rm mistral

# --- concurrent writers ----------------------------------------------------

pids=
for i in 1 2 3 4 5 6 7 8; do
	printf 'sk-test-concurrent-%s-0000000' "$i" |
	    setsid -w llm-keys set "c$i" 2>>"$ERR" &
	pids="$pids $!"
done
fails=0
for p in $pids; do
	wait "$p" || fails=$((fails + 1))
done
is "8 concurrent sets all succeed" "$fails" 0
keysq list
is "... and no entry is lost" \
    "$(o | jq -r .name | grep -c '^c[1-8]$')" 8
is "... each with its own value" \
    "$(for i in 1 2 3 4 5 6 7 8; do keys get -n "c$i"; echo; done | sort -u |
    wc -l | tr -d ' ')" 8
keysq rm c1 c2 c3 c4 c5 c6 c7 c8

# --- core dumps off while secrets are held --------------------------------

mkfifo "$T/fifo"
exec 3<>"$T/fifo"
# shellcheck disable=SC3045 # as above
hard=$(ulimit -H -c)
(
	# shellcheck disable=SC3045 # as above
	ulimit -c "$hard"
	exec llm-keys set held <"$T/fifo" 2>>"$ERR" 3>&-
) &
held=$!
i=0
core=
while [ $i -lt 100 ]; do
	core=$(sed -n 's/^Max core file size *\([^ ]*\) .*/\1/p' \
	    "/proc/$held/limits" 2>/dev/null)
	[ "$core" = 0 ] && break
	sleep 0.05
	i=$((i + 1))
done
if [ "$hard" = 0 ]; then
	skip "RLIMIT_CORE is 0 in a running llm-keys" "the hard limit is 0"
else
	is "RLIMIT_CORE is 0 in a running llm-keys (from $hard)" "$core" 0
fi
printf '%s' "$SL" >&3
exec 3>&-
wait "$held"
check "... which then finished its set" [ $? -eq 0 ]

# --- passwd ----------------------------------------------------------------

w LLM_KEYS_NEW_PASSPHRASE='sk-test-new-passphrase 2' keysq passwd
check "passwd" [ $? -eq 0 ]
keysq get zai
is "passwd: the old passphrase fails" "$? $(e)" "1 llm-keys: wrong passphrase"
is "passwd: the new one works" \
    "$(w LLM_KEYS_PASSPHRASE='sk-test-new-passphrase 2' keys get zai)" "$S1"
is "passwd keeps the KDF parameters (still cheap)" \
    "$(od -An -tu4 -j 44 -N 4 "$KF" | tr -d ' ')" 1
w LLM_KEYS_PASSPHRASE='sk-test-new-passphrase 2' \
    w LLM_KEYS_NEW_PASSPHRASE="$PP" keysq passwd -r
check "passwd -r (new data key)" [ $? -eq 0 ]
is "passwd -r: entries kept" "$(keys get 'zai#2')" "$S2"
w LLM_KEYS_NEW_PASSPHRASE= keysq passwd
is "passwd without a new passphrase fails" "$? $(e)" \
    "1 llm-keys: no passphrase: set LLM_KEYS_NEW_PASSPHRASE_FD or \
LLM_KEYS_NEW_PASSPHRASE, or use a terminal"

# --- session unlock: kernel keyring ----------------------------------------

keysq unlock -t 60
code=$?
if grep -q 'kernel keyrings are unavailable' "$T/e"; then
	why="kernel keyrings unavailable here: $(e)"
	echo "# $why"
	for d in "unlock stores the data key" "get with no passphrase" \
	    "list with no passphrase" "lock ends the session" \
	    "an unlock expires at its TTL" "a wrong passphrase stores nothing" \
	    "init --force ends the old session"; do
		skip "$d" "$why"
	done
else
	check "unlock stores the data key" [ $code -eq 0 ]
	is "get with no passphrase" "$(env -u LLM_KEYS_PASSPHRASE \
	    setsid -w llm-keys get zai </dev/null 2>>"$ERR")" "$S1"
	env -u LLM_KEYS_PASSPHRASE setsid -w llm-keys list >"$T/o" \
	    2>>"$ERR" </dev/null
	is "list with no passphrase" "$? $(jq -s length "$T/o")" "0 4"
	keysq lock
	env -u LLM_KEYS_PASSPHRASE setsid -w llm-keys get zai >/dev/null \
	    2>"$T/e" </dev/null
	is "lock ends the session" "$? $(e)" "1 llm-keys: no passphrase: set \
LLM_KEYS_PASSPHRASE_FD or LLM_KEYS_PASSPHRASE, run 'llm-keys unlock', or use \
a terminal"
	keysq unlock -t 1
	sleep 2
	env -u LLM_KEYS_PASSPHRASE setsid -w llm-keys get zai >/dev/null \
	    2>"$T/e" </dev/null
	is "an unlock expires at its TTL" "$?" 1
	w LLM_KEYS_PASSPHRASE=sk-test-wrong keysq unlock -t 60
	env -u LLM_KEYS_PASSPHRASE setsid -w llm-keys get zai >/dev/null \
	    2>"$T/e" </dev/null
	is "a wrong passphrase stores nothing" "$?" 1
	keysq unlock -t 60
	keysq init -f -o 1 -m 8M
	env -u LLM_KEYS_PASSPHRASE setsid -w llm-keys list >/dev/null \
	    2>"$T/e" </dev/null
	is "init --force ends the old session" "$?" 1
	keysq lock
	set_key zai "$S1"
	set_key 'zai#2' "$S2"
	set_key openai "$S3"
fi

# --- redaction: no secret anywhere but where it was asked for ---------------

set_key leak "$SL"
keysq list
keys exec -e leak=LEAK -- true >>"$OUT"
keysq get nope
w LLM_KEYS_PASSPHRASE=sk-test-wrong keysq get leak
keysq rm nope
printf '%s' "$SL" | keysq set 'bad name'
# forms: the bytes, hex both cases, base64 at each of the three alignments
forms=$SL
forms="$forms
$(printf '%s' "$SL" | od -An -tx1 | tr -d ' \n')"
forms="$forms
$(printf '%s' "$SL" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
for pre in '' a ab; do
	forms="$forms
$(printf '%s%s' "$pre" "$SL" | base64 -w0 | cut -c 5-28)"
done
printf '%s\n' "$forms" >"$T/forms"
check "the secret forms to look for are there" \
    [ "$(grep -c . "$T/forms")" -eq 6 ]
leaky() {
	for f in "$@"; do
		grep -q -F -f "$T/forms" "$f" && echo "$f"
	done
	return 0
}
is "no secret in any stderr of the whole test" "$(leaky "$ERR")" ""
is "no secret in any stdout but get's and exec's" "$(leaky "$OUT")" ""
is "no secret in the keyfile or beside it" \
    "$(leaky "$XDG_CONFIG_HOME"/llm/*)" ""
check "the secret is in the keyfile only as ciphertext (it decrypts)" \
    [ "$(keys get leak)" = "$SL" ]

# strace: the secret is written nowhere but the intended descriptor.
if command -v strace >/dev/null 2>&1 &&
    strace -f -qq -o /dev/null true 2>/dev/null; then
	st() {
		_f=$1
		shift
		setsid -w strace -f -qq -e trace=write,execve -s 200000 \
		    -o "$T/$_f" llm-keys "$@" 2>>"$ERR"
	}
	printf '%s' "$SL" | st st.set set leak2
	is "strace set: the secret is in no write(2) and no execve(2)" \
	    "$(grep -c -F -f "$T/forms" "$T/st.set")" 0
	st st.get get leak >"$T/got"
	is "strace get: the secret is written once, to fd 1 only" \
	    "$(grep -F -f "$T/forms" "$T/st.get" | sed 's/^[0-9]* *//' |
	    cut -d ' ' -f 1 | sort | uniq -c | tr -s ' ')" " 1 write(1,"
	st st.list list >/dev/null
	is "strace list: nothing" "$(grep -c -F -f "$T/forms" "$T/st.list")" 0
	# shellcheck disable=SC2016 # $LEAK is the command's
	st st.exec exec -e leak=LEAK -- sh -c 'test -n "$LEAK"'
	is "strace exec: in no write(2) (the environment is not shown)" \
	    "$(grep -c -F -f "$T/forms" "$T/st.exec")" 0
	w LLM_KEYS_PASSPHRASE=sk-test-wrong st st.bad get leak
	is "strace of a failure: nothing" \
	    "$(grep -c -F -f "$T/forms" "$T/st.bad")" 0
	check "strace saw the process write at all (sanity)" \
	    grep -q 'write(2, "llm-keys: wrong passphrase' "$T/st.bad"
else
	for d in "strace set" "strace get" "strace list" "strace exec" \
	    "strace of a failure" "strace sanity"; do
		skip "$d" "strace is not available or cannot trace here"
	done
fi
keysq rm leak leak2

# --- a terminal: prompts without echo (needs python3's pty) -----------------

if command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import pty, termios' 2>/dev/null; then
	cat >"$T/ttydrive.py" <<'EOF'
import os, pty, select, sys, termios, time
# argv: passphrase, then the command; prints what the terminal showed
# and "ECHO-RESTORED" when echo was back on at the end.
pp = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
out = b""
sent = False
echo_off = False
deadline = time.time() + 15
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            b = os.read(fd, 4096)
        except OSError:
            break
        if not b:
            break
        out += b
    if not sent and b"Passphrase for" in out:
        echo_off = not (termios.tcgetattr(fd)[3] & termios.ECHO)
        os.write(fd, pp + b"\n")
        sent = True
    if os.waitpid(pid, os.WNOHANG) != (0, 0):
        try:
            while True:
                b = os.read(fd, 4096)
                if not b:
                    break
                out += b
        except OSError:
            pass
        break
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
if echo_off:
    sys.stdout.write("ECHO-WAS-OFF\n")
if termios.tcgetattr(fd)[3] & termios.ECHO:
    sys.stdout.write("ECHO-RESTORED\n")
EOF
	env -u LLM_KEYS_PASSPHRASE python3 "$T/ttydrive.py" "$PP" \
	    llm-keys get openai >"$T/pty.out" 2>&1
	check "tty: the prompt names the keyfile" \
	    grep -q "^Passphrase for $KF: " "$T/pty.out"
	check "tty: echo is off while the passphrase is typed" \
	    grep -q ECHO-WAS-OFF "$T/pty.out"
	check "tty: the passphrase is not echoed" \
	    sh -c "! grep -q -F '$PP' '$T/pty.out'"
	check "tty: the secret comes out after it" grep -qx "$S3" "$T/pty.out"
	check "tty: echo is restored" grep -q ECHO-RESTORED "$T/pty.out"
else
	for d in "tty: prompt" "tty: echo off" "tty: no echo" "tty: secret" \
	    "tty: echo restored"; do
		skip "$d" "python3 with pty is not available"
	done
fi
