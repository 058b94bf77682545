# Shared helpers for the TAP shell tests; sourced by tests/*.t, which run
# from the repository root (tests/run makes sure of that).
#
#	plan N			print the TAP plan
#	ok DESC / notok DESC	one test point
#	check DESC CMD...	a point from CMD's exit status
#	is DESC GOT WANT	a point from a string comparison
#	jqf FILE FILTER		true when FILTER holds for every value in FILE
#				(and there is at least one)
#	need CMD...		bail out unless each CMD is on the PATH (a name)
#				or built (a path)
#	skip_all N WHY		N points skipped for WHY: a test that cannot run
#	mock_start [ARGS...]	start the mock provider; sets MOCK_PORT, MOCK_URL
#				and MOCK_LOG (its request log directory)
#	mock_requests		how many requests the mock has recorded
#	mock_request N		the file recording request N
#	stream_want FILE	the jq test the end event of streamed transcript
#				FILE must pass, from tests/conformance-stream.table
#				(its definitions, then the test in parentheses, so
#				that "and ..." may follow); false when it has none
#	STREAM_JOINED		a jq test of the events of one streamed answer as
#				one array: exactly one end or error, last, and the
#				deltas joined make the end's text, reasoning and
#				each call's arguments
#
# Every test gets a private $T directory and its own XDG and LLM_* paths,
# so nothing in the user's home is read or written; all are removed at exit.

PATH=$(pwd)/bin:$PATH
export PATH
FIX=${LLM_FIXTURES:-../shared/fixtures}
export FIX
# Set when the tools were built with sanitizers, whose memory overhead
# makes peak-RSS checks meaningless.
SANITIZED=
grep -q fsanitize obj/.flags 2>/dev/null && SANITIZED=1
export SANITIZED

# STREAM_JOINED: joined deltas == the end's text, reasoning and each
# call's arguments (as parsed; arguments_raw when they did not parse).
# shellcheck disable=SC2016,SC2034 # jq variables; for the tests
STREAM_JOINED='(map(select(.type == "text") | .delta) | join("")) as $t |
    (map(select(.type == "reasoning") | .delta) | join("")) as $r |
    (map(select(.type == "tool_call")) | group_by(.index) |
    map(map(.arguments_delta) | join(""))) as $a |
    last as $e |
    (map(select(.type == "end" or .type == "error")) | length == 1) and
    ($e.type == "end" or $e.type == "error") and
    ($e.type == "error" or (
    $t == ($e.text // "") and $r == ($e.reasoning // "") and
    ($a | length) == ($e.tool_calls // [] | length) and
    ([range(0; $a | length) as $i | $e.tool_calls[$i] |
    if .arguments_raw then .arguments_raw == $a[$i]
    else .arguments == ($a[$i] | if . == "" then {} else fromjson end)
    end] | all)))'

T=$(mktemp -d "${TMPDIR:-/tmp}/llm-test.XXXXXX") || exit 1
HOME=$T/home
XDG_CONFIG_HOME=$T/config
XDG_CACHE_HOME=$T/cache
XDG_STATE_HOME=$T/state
XDG_RUNTIME_DIR=$T/run
export HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_RUNTIME_DIR
mkdir -p "$HOME" "$XDG_CONFIG_HOME/llm" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
unset LLM_CONFIG LLM_CACHE_DIR LLM_STATE_DIR LLM_KEYFILE LLM_CATALOG \
    LLM_MODEL LLM_LOG LLM_CACHE LLM_KEYS_PASSPHRASE LLM_KEYS_PASSPHRASE_FD \
    NO_COLOR

_pids=
_cleanup() {
	for _p in $_pids; do
		kill "$_p" 2>/dev/null
	done
	for _p in $_pids; do
		wait "$_p" 2>/dev/null
	done
	rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 1' HUP INT TERM

_n=0
plan() {
	echo "1..$1"
}
ok() {
	_n=$((_n + 1))
	echo "ok $_n - $1"
}
notok() {
	_n=$((_n + 1))
	echo "not ok $_n - $1"
}
skip() {
	_n=$((_n + 1))
	echo "ok $_n - $1 # SKIP $2"
}
check() {
	_desc=$1
	shift
	if "$@"; then
		ok "$_desc"
	else
		notok "$_desc"
	fi
}
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		notok "$1"
		printf '# got:  %s\n# want: %s\n' "$2" "$3"
	fi
}
need() {
	for _c; do
		case $_c in
		*/*)	[ -x "$_c" ] && continue
			echo "Bail out! $_c is not built" ;;
		*)	command -v "$_c" >/dev/null 2>&1 && continue
			echo "Bail out! $_c is not installed" ;;
		esac
		exit 1
	done
}
skip_all() {
	_i=0
	while [ "$_i" -lt "$1" ]; do
		skip "$(basename "$0" .t) $((_i + 1))" "$2"
		_i=$((_i + 1))
	done
}
jqf() {
	# jq -e judges only the last output; slurp so every value counts.
	jq -e -s "length > 0 and all(.[]; $2)" "$1" >/dev/null 2>&1
}

mock_start() {
	MOCK_LOG=$T/mock.$$.${_n}
	mkdir -p "$MOCK_LOG"
	rm -f "$T/mock.port"
	tests/mock/mockprov -t 120 -l "$MOCK_LOG" -p "$T/mock.port" "$@" &
	_pids="$_pids $!"
	_i=0
	while [ ! -s "$T/mock.port" ] && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	MOCK_PORT=$(cat "$T/mock.port" 2>/dev/null)
	MOCK_URL=http://127.0.0.1:$MOCK_PORT
	export MOCK_PORT MOCK_URL MOCK_LOG
	[ -n "$MOCK_PORT" ]
}
mock_requests() {
	_c=0
	for _f in "$MOCK_LOG"/[0-9]*.json; do
		[ -e "$_f" ] && _c=$((_c + 1))
	done
	echo "$_c"
}
mock_request() {
	printf '%s/%06d.json\n' "$MOCK_LOG" "$1"
}
stream_want() {
	awk -v f="$1" '
	/^def: / { defs = defs substr($0, 6) "\n"; next }
	/^file: / { cur = substr($0, 7); next }
	/^expect: / && cur == f { body = body substr($0, 9) "\n" }
	END {
		if (body == "")
			exit 1
		printf "%s(\n%s)\n", defs, body
	}' tests/conformance-stream.table
}

# table_read FILE: reads a table of cases, blank lines between them: a
# case's first "# text" line is its $desc, each "name: value" line goes
# to the test's table_field NAME VALUE (a non-zero status: a name the
# format does not know, kept in $unknown), $start is the case's first
# line; the test's run_case runs it (and calls reset_case) at each blank
# line and at the end of the file.
# shellcheck disable=SC2034  # $desc, $start, $unknown are the test's
table_read() {
	reset_case
	lineno=0
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		[ -n "$start" ] || [ -z "$line" ] || start=$lineno
		case $line in
		'')
			run_case
			;;
		'#'*)
			if [ -z "$desc" ]; then
				desc=${line#\#}
				desc=${desc# }
			fi
			;;
		*:*)
			value=${line#*:}
			table_field "${line%%:*}" "${value# }" ||
			    unknown="line $lineno: $line"
			;;
		*)
			unknown="line $lineno: $line"
			;;
		esac
	done <"$1"
	run_case
}
