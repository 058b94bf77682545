#!/bin/sh
# Runs the cache key cases of tests/cache-keys.table through llm-cache
# key, one TAP point per case; the table's head describes its format.
# Each record is keyed by its own process, so a case also checks that a
# key is stable across runs.  Run from the repository root after
# building: sh tests/cache-keys.t

. tests/lib.sh

TABLE=${CACHE_KEYS_TABLE:-tests/cache-keys.table}
CONF=$XDG_CONFIG_HOME/llm/config.json

# The number of cases: paragraphs holding an a: line.
plan "$(awk 'BEGIN { RS = "" } /(^|\n)a:/ { n++ } END { print n + 0 }' \
    "$TABLE")"

need jq

# keyof RECORD OUT: llm-cache key's key for RECORD, in a clean
# environment but for the test's own paths; "" when it gives none.
keyof() {
	printf '%s\n' "$1" >"$T/in"
	set -f
	# shellcheck disable=SC2086
	env -i PATH="$PATH" HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" \
	    XDG_CONFIG_HOME="$XDG_CONFIG_HOME" \
	    XDG_CACHE_HOME="$XDG_CACHE_HOME" \
	    XDG_STATE_HOME="$XDG_STATE_HOME" \
	    XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" \
	    llm-cache key $args <"$T/in" >"$T/$2" 2>>"$T/err"
	set +f
	jq -r '.cache_key // ""' "$T/$2" 2>/dev/null
}

fail() {
	notok "$desc"
	echo "# table line $start: $1"
	[ -n "$config" ] && echo "# config: $config"
	[ -n "$args" ] && echo "# args: $args"
	echo "# a: $a ($ka)"
	[ -n "$b" ] && echo "# b: $b ($kb)"
	sed 's/^/#   /' "$T/err"
}

run_case() {
	if [ -z "$a" ]; then
		reset_case
		return
	fi
	[ -n "$desc" ] || desc="case at line $start"
	: >"$T/err"
	rm -f "$CONF"
	[ -n "$config" ] && printf '%s\n' "$config" >"$CONF"
	ka=$(keyof "$a" a.out)
	kb=
	[ -n "$b" ] && kb=$(keyof "$b" b.out)
	if [ -n "$unknown" ]; then
		fail "a line the format does not know: $unknown"
	elif [ -z "$key" ] && { [ -z "$b" ] || [ -z "$same" ]; }; then
		fail "a case needs key:, or b: and same:"
	elif ! printf '%s' "$ka" | grep -Eq '^[0-9a-f]{64}$'; then
		fail "a has no key"
	elif [ -n "$b" ] && ! printf '%s' "$kb" | grep -Eq '^[0-9a-f]{64}$'
	then
		fail "b has no key"
	elif [ -n "$key" ] && [ "$ka" != "$key" ]; then
		fail "a's key is not $key"
	elif [ "$same" = yes ] && [ "$ka" != "$kb" ]; then
		fail "the keys differ"
	elif [ "$same" = no ] && [ "$ka" = "$kb" ]; then
		fail "the keys are the same"
	else
		ok "$desc"
	fi
	reset_case
}

reset_case() {
	desc=
	config=
	args=
	a=
	b=
	same=
	key=
	start=
	unknown=
}

# table_field NAME VALUE: one field of the case (table_read).
table_field() {
	case $1 in
	config)
		config=$2
		;;
	args)
		args=$2
		;;
	a)
		a=$2
		;;
	b)
		b=$2
		;;
	same)
		same=$2
		;;
	key)
		key=$2
		;;
	*)
		return 1
		;;
	esac
}

table_read "$TABLE"
