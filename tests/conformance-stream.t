#!/bin/sh
# Conformance of the stream adapters with the recorded transcripts in
# ../shared/fixtures (or $LLM_FIXTURES): every streaming transcript
# (MANIFEST.tsv, a file ending in .sse) is replayed through the SSE
# parser and its dialect's stream adapter by obj/tests/stream_replay,
# whole, byte by byte and in 7-byte chunks, and
#
#  - the three replays must give the same events;
#  - the end record must hold the text, reasoning, tool calls with their
#    arguments, usage numbers and stop reason written in
#    tests/conformance-stream.table, read off the transcripts once (not
#    computed from them at run time), which tests/conformance-stream-cli.t
#    checks llm-stream's end events against too;
#  - the deltas must join into the end's text and reasoning, and each
#    call's arguments deltas into its arguments.
#
# Then bad input: a JSON error body on a stream (Gemini's 404, Anthropic's
# 429), a body that is no SSE, data that is not JSON, a 10 MiB line, a
# stream cut short, events after the terminal event: each one clear error
# (or, for the events after the end, ignored), never a crash or a hang.
#
# codex-reasoning-4turns holds 4 responses one after the other: the
# replay ends at the first response.completed, the terminal event, and
# reads nothing after it, so its end is the first turn's alone (the same
# as codex-reasoning-turn1's).
#
# Run with make check or make conformance, or from the repository root
# after building: sh tests/conformance-stream.t

. tests/lib.sh

NFIX=33
N=$((NFIX * 3 + 12))
plan $N

R=obj/tests/stream_replay
if [ ! -f "$FIX/MANIFEST.tsv" ]; then
	i=0
	while [ "$i" -lt "$N" ]; do
		skip "conformance-stream $((i + 1))" "no fixtures in $FIX"
		i=$((i + 1))
	done
	exit 0
fi
need jq
if [ ! -x "$R" ]; then
	echo "Bail out! $R is not built"
	exit 1
fi

# The dialect of a MANIFEST api.
dialect() {
	case $1 in
	openai-chat)	echo openai-completions ;;
	google-genai)	echo google-generative-ai ;;
	*)		echo "$1" ;;
	esac
}

# jqs FILTER FILE: FILTER holds for the events of FILE as one array.
jqs() {
	jq -e -s "$1" "$2" >/dev/null 2>&1
}

count=0
awk -F'\t' '$1 ~ /\.sse$/ { print $1 "\t" $2 }' "$FIX/MANIFEST.tsv" \
    >"$T/list"
while IFS='	' read -r file api; do
	count=$((count + 1))
	d=$(dialect "$api")
	w=$T/whole.jsonl
	"$R" "$d" "$FIX/$file" >"$w"
	"$R" -n 1 "$d" "$FIX/$file" >"$T/bytes.jsonl"
	"$R" -n 7 "$d" "$FIX/$file" >"$T/seven.jsonl"
	if [ -s "$w" ] && cmp -s "$w" "$T/bytes.jsonl" &&
	    cmp -s "$w" "$T/seven.jsonl"; then
		ok "$file: whole, byte by byte and in 7-byte chunks alike"
	else
		notok "$file: whole, byte by byte and in 7-byte chunks alike"
	fi
	if ! filter=$(stream_want "$file"); then
		notok "$file: no expected values written for it"
	elif tail -n 1 "$w" | jq -e "$filter and (.type == \"end\" or
	    .type == \"error\")" >/dev/null 2>&1; then
		ok "$file: the end record"
	else
		notok "$file: the end record"
		tail -n 1 "$w" | cut -c 1-600 | sed 's/^/# /'
	fi
	check "$file: deltas join into the end's fields" jqs "$STREAM_JOINED" "$w"
done <"$T/list"
[ "$count" -eq "$NFIX" ] ||
	echo "# MANIFEST.tsv lists $count streams, this test expects $NFIX"

# The end after the first terminal event of a body holding four answers.
"$R" openai-responses "$FIX/openai-responses/codex-reasoning-4turns.sse" |
    tail -n 1 >"$T/four"
"$R" openai-responses "$FIX/openai-responses/codex-reasoning-turn1.sse" |
    tail -n 1 >"$T/one"
check "codex 4 turns: the end is the first turn's, the rest unread" \
    cmp -s "$T/four" "$T/one"

# errs FILE KIND PARTIAL: FILE holds one event, an error of KIND.
errs() {
	jq -e -s --arg k "$2" --argjson p "$3" 'length == 1 and
	    .[0].type == "error" and .[0].error.kind == $k and
	    .[0].partial == $p' "$1" >/dev/null 2>&1
}

"$R" google-generative-ai "$FIX/google-genai/stream-error-404.body.json" \
    >"$T/404"
check "Gemini 404 JSON body on a stream: bad_request error" \
    errs "$T/404" bad_request false
AM=$FIX/anthropic-messages
"$R" -n 1 anthropic-messages "$AM/retry-429-stream.1.json" >"$T/429"
check "Anthropic 429 JSON body on a stream: rate_limited error" \
    errs "$T/429" rate_limited false
printf '<html><body>502 Bad Gateway</body></html>\n' >"$T/html"
"$R" openai-completions "$T/html" >"$T/html.out"
check "a body that is no SSE: server error" errs "$T/html.out" server false
is "...saying so" "$(jq -r .error.message "$T/html.out")" \
    "response is not an event stream"
printf 'event: message_start\ndata: {"type":"message_start",\n\n' \
    >"$T/notjson"
"$R" anthropic-messages "$T/notjson" >"$T/notjson.out"
check "event data that is not JSON: server error" \
    errs "$T/notjson.out" server false
{
	printf 'data: '
	head -c 10485760 /dev/zero | tr '\0' x
	printf '\n\ndata: [DONE]\n\n'
} >"$T/huge"
timeout 60 "$R" -n 65536 openai-completions "$T/huge" >"$T/huge.out"
check "a 10 MiB line: one server error, at once" \
    errs "$T/huge.out" server false
is "...saying so" "$(jq -r .error.message "$T/huge.out")" \
    "stream event over 8388608 bytes"

# Streams cut short: a truncated error after the content that came.
head -c 2000 "$FIX/openai-chat/gpt4o-text-stop.sse" >"$T/cut1"
"$R" openai-completions "$T/cut1" | tail -n 1 >"$T/cut1.out"
check "chat stream cut short: truncated, partial" \
    errs "$T/cut1.out" truncated true
head -c 1500 "$FIX/anthropic-messages/tool-use.sse" >"$T/cut2"
"$R" -n 1 anthropic-messages "$T/cut2" | tail -n 1 >"$T/cut2.out"
check "Anthropic stream cut short: truncated, partial" \
    errs "$T/cut2.out" truncated true
grep -v 'response.completed' \
    "$FIX/openai-responses/gpt55-basic-streaming.sse" >"$T/cut3"
"$R" openai-responses "$T/cut3" | tail -n 1 >"$T/cut3.out"
check "Responses stream without response.completed: truncated" \
    errs "$T/cut3.out" truncated true
head -c 1000 "$FIX/google-genai/stream-max-tokens.sse" >"$T/cut4"
"$R" google-generative-ai "$T/cut4" | tail -n 1 >"$T/cut4.out"
check "Gemini stream cut before its finishReason: truncated" \
    errs "$T/cut4.out" truncated true
