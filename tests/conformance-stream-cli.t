#!/bin/sh
# Conformance of llm-stream with the recorded transcripts in
# ../shared/fixtures (or $LLM_FIXTURES): every streaming transcript
# (MANIFEST.tsv, a file ending in .sse) is served by the mock provider as
# the answer of a target of its dialect (one provider per transcript), and
# llm-stream reads them all, eight at a time.  For each transcript:
#
#  - the end event (or, for the one that fails, the error event) must hold
#    what tests/conformance-stream.table says: text, reasoning, tool calls
#    with their arguments, usage numbers and stop reason;
#  - the record's events must begin with its start event, end with one end
#    or error, and their deltas must join into the end's fields;
#  - the same run with the transcripts written one byte per write must give
#    the same bytes, record by record, but for latency_ms.
#
# Run with make check or make conformance, or from the repository root
# after building: sh tests/conformance-stream-cli.t

. tests/lib.sh

NFIX=33
N=$((NFIX * 3 + 2))
plan $N

if [ ! -f "$FIX/MANIFEST.tsv" ]; then
	skip_all "$N" "no fixtures in $FIX"
	exit 0
fi
need jq tests/mock/mockprov bin/llm-stream
FIXDIR=$(cd "$FIX" && pwd)

# The dialect of a MANIFEST api.
dialect() {
	case $1 in
	openai-chat)	echo openai-completions ;;
	google-genai)	echo google-generative-ai ;;
	*)		echo "$1" ;;
	esac
}

awk -F'\t' '$1 ~ /\.sse$/ { print $1 "\t" $2 }' "$FIX/MANIFEST.tsv" \
    >"$T/list"
count=$(wc -l <"$T/list" | tr -d ' ')

# Routes /w/N/ (the transcript whole, one write) and /b/N/ (one byte a
# write), and a configuration for each, in which provider fxN is the one
# or the other, so that both runs name the same targets.
printf '{"routes": [\n' >"$T/script.json"
printf '{"providers": {\n' >"$T/config.in"
i=0
while IFS='	' read -r file api; do
	i=$((i + 1))
	sep=,
	[ "$i" -eq "$count" ] && sep=
	{
		printf '  {"match": "/w/%d/", "responses": [{"body_file": "%s"}]},\n' \
		    "$i" "$FIXDIR/$file"
		printf '  {"match": "/b/%d/", "responses": [{"body_file": "%s",' \
		    "$i" "$FIXDIR/$file"
		printf ' "chunk": 1}]}%s\n' "$sep"
	} >>"$T/script.json"
	{
		printf '  "fx%d": {"baseUrl": "@URL@/%d", "api": "%s",' \
		    "$i" "$i" "$(dialect "$api")"
		printf ' "apiKey": "sk-test-fixture", "models": [{"id": "m"}]}%s\n' \
		    "$sep"
	} >>"$T/config.in"
done <"$T/list"
printf ']}\n' >>"$T/script.json"
printf '}}\n' >>"$T/config.in"
if ! mock_start -s "$T/script.json" 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi
for how in w b; do
	sed "s|@URL@|$MOCK_URL/$how|" "$T/config.in" >"$T/config.$how.json"
done
awk '{ printf "{\"id\":\"%d\",\"model\":\"fx%d/m\",\"prompt\":\"replay\"}\n",
    NR, NR }' "$T/list" >"$T/reqs.jsonl"

LLM_CONFIG=$T/config.w.json llm-stream -j 8 --retry 0 "$T/reqs.jsonl" \
    >"$T/whole.jsonl" 2>"$T/whole.err"
LLM_CONFIG=$T/config.b.json llm-stream -j 8 --retry 0 "$T/reqs.jsonl" \
    >"$T/bytes.jsonl" 2>"$T/bytes.err"
# jqs FILTER FILE: FILTER holds for the events of FILE as one array.
jqs() {
	jq -e -s "$1" "$2" >/dev/null 2>&1
}

check "one start and one end or error per transcript" jqs \
    "(map(select(.type == \"start\")) | length) == $count and
    (map(select(.type == \"end\" or .type == \"error\")) | length) ==
    $count" "$T/whole.jsonl"
check "one request per transcript and run, no retry" \
    [ "$(mock_requests)" -eq $((count * 2)) ]

i=0
while IFS='	' read -r file api; do
	i=$((i + 1))
	jq -c --arg id "$i" 'select(.id == $id)' "$T/whole.jsonl" >"$T/w.$i"
	jq -c --arg id "$i" 'select(.id == $id)' "$T/bytes.jsonl" >"$T/b.$i"
	if ! filter=$(stream_want "$file"); then
		notok "$file: no expected values written for it"
	elif tail -n 1 "$T/w.$i" | jq -e "$filter and (.type == \"end\" or
	    .type == \"error\") and .id == \"$i\" and
	    (.type == \"error\" or (.model == \"fx$i/m\" and .attempts == 1 and
	    .cached == false and (.latency_ms | type) == \"number\" and
	    (.cost | type) == \"object\"))" >/dev/null 2>&1; then
		ok "$file: the end event"
	else
		notok "$file: the end event"
		tail -n 1 "$T/w.$i" | cut -c 1-600 | sed 's/^/# /'
	fi
	check "$file: start first, deltas join into the end" jqs \
	    ".[0].type == \"start\" and .[0].model == \"fx$i/m\" and
	    ($STREAM_JOINED)" "$T/w.$i"
	sed 's/"latency_ms":[0-9]*/"latency_ms":0/' "$T/w.$i" >"$T/w.$i.n"
	sed 's/"latency_ms":[0-9]*/"latency_ms":0/' "$T/b.$i" >"$T/b.$i.n"
	if [ -s "$T/w.$i.n" ] && cmp -s "$T/w.$i.n" "$T/b.$i.n"; then
		ok "$file: byte by byte as whole"
	else
		notok "$file: byte by byte as whole"
		diff "$T/w.$i.n" "$T/b.$i.n" | head -n 4 | cut -c 1-300 |
		    sed 's/^/# /'
	fi
done <"$T/list"
[ "$count" -eq "$NFIX" ] ||
	echo "# MANIFEST.tsv lists $count streams, this test expects $NFIX"
