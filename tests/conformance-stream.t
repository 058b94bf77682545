#!/bin/sh
# Conformance of the stream adapters with the recorded transcripts in
# ../shared/fixtures (or $LLM_FIXTURES): every streaming transcript
# (MANIFEST.tsv, a file ending in .sse) is replayed through the SSE
# parser and its dialect's stream adapter by obj/tests/stream_replay,
# whole, byte by byte and in 7-byte chunks, and
#
#  - the three replays must give the same events;
#  - the end record must hold the text, reasoning, tool calls with their
#    arguments, usage numbers and stop reason written below, read off the
#    transcripts once (not computed from them at run time);
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
if ! command -v jq >/dev/null 2>&1; then
	echo "Bail out! jq is not installed"
	exit 1
fi
if [ ! -x "$R" ]; then
	echo "Bail out! $R is not built"
	exit 1
fi

# The usage object from five numbers.
u() {
	printf '{"input":%s,"output":%s,"cache_read":%s,"cache_write":%s,' \
	    "$1" "$2" "$3" "$4"
	printf '"reasoning":%s}' "$5"
}

# long TEXT LENGTH HEAD TAIL: a jq test of a long string by its length in
# characters and its first and last words.
long() {
	printf '((%s | length) == %s and (%s | startswith(%s)) and ' \
	    "$1" "$2" "$1" "$3"
	printf '(%s | endswith(%s)))' "$1" "$4"
}

# want FILE: the jq test the end record of FILE must pass, printed one
# piece a line (no jq string spans two).
want() {
	case $1 in
	openai-chat/deepseek-reasoning.sse) printf '%s\n' \
	    '.text == "The word \"strawberry\" contains three \"r\"s."' \
	    'and' "$(long .reasoning 606 '"We need to count the number"' \
	    '"es, 3.\n\nThus, the answer is 3."')" \
	    'and .tool_calls == null and .stop_reason == "stop"' \
	    'and .usage ==' "$(u 18 219 0 0 205)" \
	    'and .provider_model == "deepseek-reasoner"' ;;
	openai-chat/deepseek-tool-call.sse) printf '%s\n' \
	    '.text == null and' "$(long .reasoning 191 \
	    '"The user is asking for the wea"' \
	    '"parameter set to \"San Francisco\"."')" \
	    'and .tool_calls == [{"id": "call_00_ioIn7yN9p1ZOMNpDLwd4MgAF",' \
	    '"name": "weather", "arguments": {"location": "San Francisco"}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 19 83 320 0 39)" ;;
	openai-chat/gpt41nano-text.sse) printf '%s\n' \
	    "$(long .text 1724 '"**Holiday Name:** Harmony Day\n"' \
	    '"experiences and mutual respect."')" \
	    'and .reasoning == null and .stop_reason == "stop"' \
	    'and .usage ==' "$(u 16 300 0 0 0)" \
	    'and .provider_model == "gpt-4.1-nano-2025-04-14"' ;;
	openai-chat/gpt4o-finish-length.sse) printf '%s\n' \
	    '.text == "{\"" and .stop_reason == "length"' \
	    'and .usage ==' "$(u 79 1 0 0 0)" ;;
	openai-chat/gpt4o-n3-choices.sse) printf '%s\n' \
	    '.text == "{\"city\":\"San Francisco\",\"temperature\":65,"' \
	    '+ "\"units\":\"f\"}" and .stop_reason == "stop"' \
	    'and .usage ==' "$(u 79 42 0 0 0)" ;;
	openai-chat/gpt4o-parallel-tool-calls.sse) printf '%s\n' \
	    '.text == null and .tool_calls ==' \
	    '[{"id": "call_JMW1whyEaYG438VE1OIflxA2",' \
	    '"name": "GetWeatherArgs", "arguments":' \
	    '{"city": "Edinburgh", "country": "GB", "units": "c"}},' \
	    '{"id": "call_DNYTawLBoN8fj3KN6qU9N1Ou",' \
	    '"name": "get_stock_price", "arguments":' \
	    '{"ticker": "AAPL", "exchange": "NASDAQ"}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 149 60 0 0 0)" ;;
	openai-chat/gpt4o-refusal.sse) printf '%s\n' \
	    '.text == null and .stop_reason == "refusal"' \
	    'and .usage ==' "$(u 79 11 0 0 0)" ;;
	openai-chat/gpt4o-text-stop.sse) printf '%s\n' \
	    "$(long .text 159 '"I'"'"'m unable to provide real-tim"' \
	    '"weather website or a weather app."')" \
	    'and .stop_reason == "stop" and .usage ==' "$(u 14 30 0 0 0)" ;;
	openai-chat/gpt4o-tool-call.sse) printf '%s\n' \
	    '.text == null and .tool_calls ==' \
	    '[{"id": "call_c91SqDXlYFuETYv8mUHzz6pp",' \
	    '"name": "GetWeatherArgs", "arguments":' \
	    '{"city": "Edinburgh", "country": "UK", "units": "c"}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 76 24 0 0 0)" ;;
	openai-chat/groq-reasoning.sse) printf '%s\n' \
	    "$(long .text 347 '"The word **\"strawberry\"** is s"' \
	    '"**Final Answer**: $\\boxed{3}$"')" 'and' \
	    "$(long .reasoning 2952 '"Okay, let me try to figure out"' \
	    '"R'"'"'s in \"strawberry\" is three.\n"')" \
	    'and .stop_reason == "stop"' \
	    'and .usage ==' "$(u 17 1107 0 0 963)" \
	    'and .provider_model == "qwen/qwen3-32b"' ;;
	openai-chat/groq-tool-call.sse) printf '%s\n' \
	    '.text == null and .tool_calls == [{"id": "tk85n1k4m",' \
	    '"name": "weather", "arguments": {}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 210 15 0 0 0)" ;;
	openai-chat/openrouter-kimi-tool-call.1.sse) printf '%s\n' \
	    '.text == null and .tool_calls == [{"id": "0",' \
	    '"name": "llm_version", "arguments": {}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 57 17 0 0 0)" ;;
	openai-chat/openrouter-kimi-tool-call.2.sse) printf '%s\n' \
	    '.text == "The current version of *llm* is "' \
	    '+ "**0.fixed-version**." and .stop_reason == "stop"' \
	    'and .usage ==' "$(u 107 15 0 0 0)" ;;
	anthropic-messages/basic-text.sse) printf '%s\n' \
	    '.text == "Hello there!" and .stop_reason == "stop"' \
	    'and .usage ==' "$(u 11 6 0 0 0)" \
	    'and .provider_model == "claude-opus-4-8"' ;;
	anthropic-messages/haiku45-json-tool.sse) printf '%s\n' \
	    '.text == null and .tool_calls ==' \
	    '[{"id": "toolu_01KFbKqPYSuAKujiL6mTfzYA", "name": "json",' \
	    '"arguments": {"elements": [{"location": "San Francisco",' \
	    '"temperature": 58, "condition": "sunny"}]}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 849 47 0 0 0)" ;;
	anthropic-messages/max-tokens-padded-partial-json.sse) printf '%s\n' \
	    "$(long .text 135 '"I'"'"'ll create a comprehensive ta"' \
	    '"Let me do that for you now."')" \
	    'and .tool_calls[0].id == "toolu_01EKqbqmZrGRXy18eN7m9kvY"' \
	    'and .tool_calls[0].name == "make_file"' \
	    'and .tool_calls[0].arguments == {}' \
	    'and (.tool_calls[0].arguments_raw |' \
	    'startswith("{\"filename\": \"taxes.txt\", " +' \
	    '"\"lines_of_text\": [\n") and' \
	    'endswith("\"\",\n\"Filing taxes"))' \
	    'and .stop_reason == "length"' \
	    'and .usage ==' "$(u 450 124 0 0 0)" ;;
	anthropic-messages/refusal-stop-details.sse) printf '%s\n' \
	    '.text == null and .stop_reason == "refusal"' \
	    'and .usage ==' "$(u 18 5 0 0 0)" \
	    'and .provider_model == "claude-fable-5"' ;;
	anthropic-messages/retry-429-stream.3.sse) printf '%s\n' \
	    '.text == "[12345,67890]" and .stop_reason == "stop"' \
	    'and .usage ==' "$(u 135 10 0 0 0)" ;;
	anthropic-messages/sonnet45-text.sse) printf '%s\n' \
	    "$(long .text 108 '"Hello! I'"'"'m doing well, thank y"' \
	    '"anything I can help you with?"')" \
	    'and .stop_reason == "stop" and .usage ==' "$(u 12 30 0 0 0)" ;;
	anthropic-messages/sonnet45-thinking.sse) printf '%s\n' \
	    '.text == "925 ÷ 5 = 185" and .reasoning ==' \
	    '"The previous result was 925. Now I need to divide that by" +' \
	    '" 5.\n\n925 ÷ 5 = 185"' \
	    'and (.reasoning_signature | length) == 332' \
	    'and (.reasoning_signature | startswith("EvQBCkYICxgC"))' \
	    'and .stop_reason == "stop" and .usage ==' "$(u 69 53 0 0 0)" ;;
	anthropic-messages/tool-use.sse) printf '%s\n' \
	    '.text == "I'"'"'ll check the current weather in Paris for you."' \
	    'and .tool_calls == [{"id": "toolu_01NRLabsLyVHZPKxbKvkfSMn",' \
	    '"name": "get_weather", "arguments": {"location": "Paris"}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 377 65 0 0 0)" ;;
	openai-responses/codex-reasoning-4turns.sse | \
	openai-responses/codex-reasoning-turn1.sse) printf '%s\n' \
	    '.text == null and' "$(long .reasoning 163 \
	    '"**Calculating step-by-step usi"' \
	    '"reporting the final product."')" \
	    'and (.reasoning_signature | fromjson | length == 1' \
	    'and .[0].type == "reasoning"' \
	    'and (.[0].encrypted_content | startswith("gAAAAABpPDIV")))' \
	    'and .tool_calls == [{"id": "call_AB6AaRZ1FYZB2RwS6A5vbdqn",' \
	    '"name": "calculator", "arguments": {"a": 12, "b": 7,' \
	    '"op": "add"}}] and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 134 28 0 0 0)" \
	    'and .provider_model == "gpt-5.1-codex-max"' ;;
	openai-responses/gpt55-basic-streaming.sse) printf '%s\n' \
	    '.text == "pong" and .stop_reason == "stop"' \
	    'and .usage ==' "$(u 11 5 0 0 0)" \
	    'and .provider_model == "gpt-5.5-2026-04-23"' ;;
	openai-responses/gpt55-tool-use-streaming.1.sse) printf '%s\n' \
	    '.text == null and .tool_calls ==' \
	    '[{"id": "call_sVidsfFJ6zlzRpelrPkTPlpd", "name": "multiply",' \
	    '"arguments": {"a": 1231, "b": 2331}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 58 23 0 0 0)" ;;
	openai-responses/gpt55-tool-use-streaming.2.sse) printf '%s\n' \
	    '.text == "1231 × 2331 = **2,869,461**"' \
	    'and .stop_reason == "stop" and .usage ==' "$(u 94 18 0 0 0)" ;;
	openai-responses/gpt5nano-error-insufficient-quota.sse) printf '%s\n' \
	    '.type == "error" and .partial == false' \
	    'and .error.kind == "quota" and .error.retriable == false' \
	    'and (.error.message | startswith("insufficient_quota: " +' \
	    '"You exceeded your current quota"))' ;;
	google-genai/chat-text-stream.sse) printf '%s\n' \
	    "$(long .text 1879 '"The sky is blue due to a pheno"' \
	    '"or even a hazy appearance."')" \
	    'and .stop_reason == "stop" and .usage ==' "$(u 6 377 0 0 0)" \
	    'and .provider_model == "gemini-2.0-flash"' ;;
	google-genai/function-calling-stream.1.sse) printf '%s\n' \
	    '.text == null and .tool_calls == [{"id": "call_0",' \
	    '"name": "customDivide",' \
	    '"arguments": {"denominator": 2, "numerator": 100}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 21 6 0 0 0)" ;;
	google-genai/function-calling-stream.2.sse) printf '%s\n' \
	    '.text == null and .tool_calls == [{"id": "call_0",' \
	    '"name": "customDivide",' \
	    '"arguments": {"denominator": 2, "numerator": 50}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 38 6 0 0 0)" ;;
	google-genai/gemini3-text.sse) printf '%s\n' \
	    '.text == "There are **3** \"r\"s in strawberry.\n\n" +' \
	    '"st**r**awbe**rr**y" and .reasoning == null' \
	    'and (.reasoning_signature | length) == 916' \
	    'and (.reasoning_signature | startswith("EqsFCqgFAb4+"))' \
	    'and .stop_reason == "stop" and .usage ==' "$(u 9 208 0 0 185)" ;;
	google-genai/gemini3-tool-call.sse) printf '%s\n' \
	    '.text == null and (.reasoning_signature | length) == 396' \
	    'and (.reasoning_signature | startswith("EqUCCqICAb4+"))' \
	    'and .tool_calls == [{"id": "call_0", "name": "weather",' \
	    '"arguments": {"location": "San Francisco"}}]' \
	    'and .stop_reason == "tool_use"' \
	    'and .usage ==' "$(u 29 60 0 0 45)" ;;
	google-genai/stream-max-tokens.sse) printf '%s\n' \
	    "$(long .text 653 '"The sky is blue primarily due "' \
	    '"with these gas molecules and particles."')" \
	    'and .stop_reason == "length" and .usage ==' "$(u 7 198 0 0 45)" ;;
	*)
		return 1 ;;
	esac
}

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

# Joined deltas == the end's text, reasoning and each call's arguments
# (as parsed; arguments_raw when they did not parse), on an events file.
# shellcheck disable=SC2016 # $t is a jq variable
JOINED='(map(select(.type == "text") | .delta) | join("")) as $t |
    (map(select(.type == "reasoning") | .delta) | join("")) as $r |
    (map(select(.type == "tool_call")) | group_by(.index) |
    map(map(.arguments_delta) | join(""))) as $a |
    last as $e |
    map(select(.type == "end" or .type == "error")) | length == 1 and
    ($e.type == "error" or (
    $t == ($e.text // "") and $r == ($e.reasoning // "") and
    ($a | length) == ($e.tool_calls // [] | length) and
    ([range(0; $a | length) as $i | $e.tool_calls[$i] |
    if .arguments_raw then .arguments_raw == $a[$i]
    else .arguments == ($a[$i] | if . == "" then {} else fromjson end)
    end] | all)))'

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
	if ! filter=$(want "$file"); then
		notok "$file: no expected values written for it"
	elif tail -n 1 "$w" | jq -e "(.type == \"end\" or .type ==
	    \"error\") and ($filter)" >/dev/null 2>&1; then
		ok "$file: the end record"
	else
		notok "$file: the end record"
		tail -n 1 "$w" | cut -c 1-600 | sed 's/^/# /'
	fi
	check "$file: deltas join into the end's fields" jqs "$JOINED" "$w"
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
