#!/bin/sh
# Runs the resolution cases of tests/resolve.table through llm-resolve, one
# TAP point per case; the table's head describes its format.  A failing
# case prints its description, how it was run, the output and the
# expression that did not hold.  Run from the repository root after
# building: sh tests/resolve-table.t

. tests/lib.sh

TABLE=${RESOLVE_TABLE:-tests/resolve.table}
CONF=$XDG_CONFIG_HOME/llm/config.json

# The number of cases: paragraphs holding an in: or an expect: line.
plan "$(awk 'BEGIN { RS = "" } /(^|\n)(in|expect):/ { n++ } END { print n + 0 }' \
    "$TABLE")"

need jq

# diag FILE: FILE's first lines as TAP comments.
diag() {
	head -c 4000 "$1" | awk '{ print "#   " $0 }'
}

# fail WHY: the current case's point, failed, with everything needed to
# reproduce it.
fail() {
	notok "$desc"
	echo "# table line $start: $1"
	[ -n "$config" ] && echo "# config: $config"
	[ -n "$envs" ] && echo "# env: $envs"
	[ -n "$args" ] && echo "# args: $args"
	echo "# in: $input"
	echo "# status: $rc (want $status)"
	echo "# stdout:"
	diag "$T/out"
	echo "# stderr:"
	diag "$T/err"
	echo "# expect: $expect"
}

# run_case: runs the case gathered so far, if there is one, and resets.
run_case() {
	if [ -z "$input$expect" ]; then
		reset_case
		return
	fi
	[ -n "$desc" ] || desc="case at line $start"
	: >"$T/out"
	: >"$T/err"
	rc=-
	if [ -n "$unknown" ]; then
		fail "a line the format does not know: $unknown"
		reset_case
		return
	fi
	if [ -z "$input" ] || [ -z "$expect" ]; then
		fail "a case needs an in: and an expect: line"
		reset_case
		return
	fi
	rm -f "$CONF"
	[ -n "$config" ] && printf '%s\n' "$config" >"$CONF"
	printf '%s\n' "$input" >"$T/in"
	# A clean environment but for the test's own paths, plus the case's
	# variables: a key or base URL set in the caller's shell must not
	# change the outcome.  $envs and $args split on blanks on purpose.
	set -f
	# shellcheck disable=SC2086
	env -i PATH="$PATH" HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" \
	    XDG_CONFIG_HOME="$XDG_CONFIG_HOME" \
	    XDG_CACHE_HOME="$XDG_CACHE_HOME" \
	    XDG_STATE_HOME="$XDG_STATE_HOME" \
	    XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" \
	    $envs llm-resolve $args <"$T/in" >"$T/out" 2>"$T/err"
	rc=$?
	# The secrets: every value in env: that starts with "sk-".
	secrets=
	for e in $envs; do
		case ${e#*=} in
		sk-*)
			secrets="$secrets ${e#*=}"
			;;
		esac
	done
	set +f
	lines=$(wc -l <"$T/out" | tr -d ' ')
	leaked=
	for s in $secrets; do
		if grep -qF -e "$s" "$T/out" "$T/err"; then
			leaked=$s
		fi
	done
	if [ "$rc" != "$status" ]; then
		fail "exit status $rc, want $status"
	elif [ "$lines" != 1 ]; then
		fail "$lines output lines, want 1"
	elif [ -n "$leaked" ]; then
		fail "the secret '$leaked' was printed"
	else
		jq -e "$expect" "$T/out" >/dev/null 2>"$T/jqerr"
		case $? in
		0)
			ok "$desc"
			;;
		1)
			fail "the expression does not hold"
			;;
		*)
			cat "$T/jqerr" >>"$T/err"
			fail "the expression does not run (see stderr)"
			;;
		esac
	fi
	reset_case
}

reset_case() {
	desc=
	config=
	envs=
	args=
	input=
	expect=
	status=0
	start=
	unknown=
}

# table_field NAME VALUE: one field of the case (table_read).
table_field() {
	case $1 in
	config)
		config=$2
		;;
	env)
		envs=$2
		;;
	args)
		args=$2
		;;
	in)
		input=$2
		;;
	expect)
		expect=$2
		;;
	status)
		status=$2
		;;
	*)
		return 1
		;;
	esac
}

table_read "$TABLE"
