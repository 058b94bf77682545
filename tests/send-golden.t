#!/bin/sh
# TAP test of what llm-send sends: for each dialect and representative
# compat flag, one request record goes through llm-send to the mock
# provider, and the request the mock recorded (method, path with query,
# the headers that matter, body) must equal tests/golden/send/NAME.json,
# compared as compact JSON with sorted keys (jq -S -c).  The catalog's
# providers are pointed at the mock with LLM_<PROVIDER>_BASE_URL, so their
# real compat flags apply; keys are obviously fake (sk-test-...).
#
# UPDATE_GOLDEN=1 sh tests/run tests/send-golden.t rewrites the golden
# files from what was sent.  Review every change against the provider's
# API documentation before committing it: a golden file that enshrines a
# bug is worse than none.
#
# Run from the repository root after building: sh tests/send-golden.t

. tests/lib.sh

plan 20

need jq tests/mock/mockprov
# shellcheck disable=SC2119 # no arguments: the default answers
if ! mock_start 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi

GOLDEN=tests/golden/send

# The catalog's providers, at the mock.
LLM_OPENAI_BASE_URL=$MOCK_URL/v1
LLM_ANTHROPIC_BASE_URL=$MOCK_URL
LLM_GOOGLE_BASE_URL=$MOCK_URL/v1beta
LLM_GOOGLE_VERTEX_BASE_URL=$MOCK_URL/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models
LLM_AZURE_OPENAI_BASE_URL=$MOCK_URL/openai/deployments/dep-1
LLM_ZAI_BASE_URL=$MOCK_URL/api/paas/v4
LLM_DEEPSEEK_BASE_URL=$MOCK_URL
LLM_OPENROUTER_BASE_URL=$MOCK_URL/api/v1
LLM_QWEN_BASE_URL=$MOCK_URL/compatible-mode/v1
LLM_NVIDIA_BASE_URL=$MOCK_URL/v1
LLM_MISTRAL_BASE_URL=$MOCK_URL/v1
export LLM_OPENAI_BASE_URL LLM_ANTHROPIC_BASE_URL LLM_GOOGLE_BASE_URL \
    LLM_GOOGLE_VERTEX_BASE_URL LLM_AZURE_OPENAI_BASE_URL LLM_ZAI_BASE_URL \
    LLM_DEEPSEEK_BASE_URL LLM_OPENROUTER_BASE_URL LLM_QWEN_BASE_URL \
    LLM_NVIDIA_BASE_URL LLM_MISTRAL_BASE_URL
OPENAI_API_KEY=sk-test-openai
ANTHROPIC_API_KEY=sk-test-anthropic
GEMINI_API_KEY=sk-test-gemini
GOOGLE_VERTEX_ACCESS_TOKEN=sk-test-vertex
AZURE_OPENAI_API_KEY=sk-test-azure
ZAI_API_KEY=sk-test-zai
DEEPSEEK_API_KEY=sk-test-deepseek
OPENROUTER_API_KEY=sk-test-openrouter
DASHSCOPE_API_KEY=sk-test-dashscope
NVIDIA_API_KEY=sk-test-nvidia
MISTRAL_API_KEY=sk-test-mistral
PLAIN_KEY=sk-test-plain
export OPENAI_API_KEY ANTHROPIC_API_KEY GEMINI_API_KEY \
    GOOGLE_VERTEX_ACCESS_TOKEN AZURE_OPENAI_API_KEY ZAI_API_KEY \
    DEEPSEEK_API_KEY OPENROUTER_API_KEY DASHSCOPE_API_KEY NVIDIA_API_KEY \
    MISTRAL_API_KEY PLAIN_KEY
unset GOOGLE_API_KEY QWEN_API_KEY Z_AI_API_KEY

# A provider with no compat flags at all: what any OpenAI-compatible
# server gets.
cat >"$XDG_CONFIG_HOME/llm/config.json" <<EOF
{"providers": {"plain": {"baseUrl": "$MOCK_URL/v1",
  "api": "openai-completions", "apiKey": "\$PLAIN_KEY", "anyModel": true}}}
EOF

# The request headers a golden file holds: content type and auth.
HEADERS='["content-type","authorization","x-api-key","api-key",
    "x-goog-api-key","anthropic-version","anthropic-beta"]'

# sent N: request N as the mock recorded it, in golden form.
sent() {
	jq -S -c --argjson h "$HEADERS" '{method, path,
	    headers: (.headers | with_entries(select(.key as $k |
		$h | index($k)))),
	    body: .json}' "$(mock_request "$1")"
}

# record TEXT: TEXT, written over several lines for reading, as one line.
record() {
	printf '%s' "$1" | tr -d '\n'
	echo
}

# golden NAME RECORD: sends RECORD and compares the request with
# $GOLDEN/NAME.json (rewritten first under UPDATE_GOLDEN=1).
golden() {
	_before=$(mock_requests)
	record "$2" | llm-send >"$T/$1.out" 2>"$T/$1.err"
	_after=$(mock_requests)
	if [ "$_after" -ne $((_before + 1)) ]; then
		notok "$1: one request sent"
		sed 's/^/# /' "$T/$1.out" "$T/$1.err"
		return
	fi
	sent "$_after" >"$T/$1.got"
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		jq -S . "$T/$1.got" >"$GOLDEN/$1.json"
	fi
	if [ -f "$GOLDEN/$1.json" ] &&
	    [ "$(jq -S -c . "$GOLDEN/$1.json")" = "$(cat "$T/$1.got")" ]; then
		ok "$1: request as $GOLDEN/$1.json"
	else
		notok "$1: request as $GOLDEN/$1.json"
		jq -S . "$T/$1.got" >"$T/$1.pretty"
		if [ -f "$GOLDEN/$1.json" ]; then
			diff "$GOLDEN/$1.json" "$T/$1.pretty" | sed 's/^/# /'
		else
			echo "# no golden file; run with UPDATE_GOLDEN=1"
		fi
	fi
}

TOOL='{"type":"function","function":{"name":"get_weather",'
TOOL=$TOOL'"description":"Current weather in a city","parameters":'
TOOL=$TOOL'{"type":"object","properties":{"city":{"type":"string"},'
TOOL=$TOOL'"unit":{"type":"string","enum":["c","f"]}},'
TOOL=$TOOL'"required":["city"],"additionalProperties":false}}}'
# A user turn, the assistant's call, its result: a tool loop to continue.
LOOP='{"role":"user","content":"Weather in Paris?"},'
LOOP=$LOOP'{"role":"assistant","content":null,"tool_calls":[{"id":"call_1",'
LOOP=$LOOP'"type":"function","function":{"name":"get_weather",'
LOOP=$LOOP'"arguments":"{\"city\":\"Paris\"}"}}]},'
LOOP=$LOOP'{"role":"tool","tool_call_id":"call_1","content":"18 C, sunny"}'
# The first bytes of a PNG are all the sniffer needs.
PNG=iVBORw0KGgoAAAANSUhEUg==

# -- openai-completions ----------------------------------------------------

golden openai-completions-plain '{"id":"g1","model":"plain/local-model",
 "system":"Be terse.","messages":['"$LOOP"',{"role":"user","content":[
 {"type":"text","text":"And this picture?"},
 {"type":"image","mime":"image/png","data":"'"$PNG"'"}]}],
 "tools":['"$TOOL"'],"tool_choice":"auto","max_tokens":200,
 "temperature":0.2,"top_p":0.9,"stop":["END"],"params":{"seed":7}}'

golden openai-max-completion-tokens '{"id":"g2","model":"openai/gpt-4o",
 "system":"Answer in JSON.","prompt":"List two colours.","max_tokens":300,
 "response_format":{"type":"json_schema","json_schema":{"name":"colours",
 "strict":true,"schema":{"type":"object","properties":{"colours":
 {"type":"array","items":{"type":"string"}}},"required":["colours"],
 "additionalProperties":false}}}}'

golden openai-developer-role '{"id":"g3","model":"openai/o3",
 "system":"Be terse.","prompt":"2+2?","thinking":"low","max_tokens":500}'

golden zai-thinking '{"id":"g4","model":"zai/glm-4.7","system":"Be terse.",
 "messages":[{"role":"user","content":"Weather in Paris?"},
 {"role":"assistant","content":"","reasoning_content":"Call the tool.",
 "tool_calls":[{"id":"call_1","type":"function","function":{"name":
 "get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
 {"role":"tool","tool_call_id":"call_1","content":"18 C, sunny"}],
 "tools":['"$TOOL"'],"thinking":"high","max_tokens":1000}'

golden deepseek-reasoning-replay '{"id":"g5",
 "model":"deepseek/deepseek-reasoner","messages":[
 {"role":"user","content":"Weather in Paris?"},
 {"role":"assistant","content":"","reasoning_content":"Call the tool.",
 "tool_calls":[{"id":"call_1","type":"function","function":{"name":
 "get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
 {"role":"tool","tool_call_id":"call_1","content":"18 C, sunny"}],
 "tools":['"$TOOL"'],"thinking":"high"}'

golden openrouter-reasoning '{"id":"g6","model":"openrouter/openai/gpt-5.5",
 "system":"Be terse.","messages":[{"role":"user","content":"Pick a number."},
 {"role":"assistant","content":"7","reasoning":"Any will do."},
 {"role":"user","content":"Another?"}],"thinking":"medium",
 "max_tokens":400}'

golden qwen-enable-thinking '{"id":"g7","model":"qwen/qwen-plus",
 "system":"Be terse.","prompt":"2+2?","thinking":"low","max_tokens":50}'

golden nvidia-chat-template-kwargs '{"id":"g8",
 "model":"nvidia/qwen/qwen3-235b-a22b","prompt":"2+2?","thinking":"high",
 "max_tokens":50}'

# Mistral: tool results carry the function name, an assistant turn
# bridges a tool result and the next user turn, no "strict".  The call
# id is one Mistral itself would issue (9 letters and digits).
golden mistral-tool-result-name '{"id":"g9",
 "model":"mistral/mistral-large-latest","messages":[
 {"role":"user","content":"Weather in Paris?"},
 {"role":"assistant","content":null,"tool_calls":[{"id":"D681PevKs",
 "type":"function","function":{"name":"get_weather",
 "arguments":"{\"city\":\"Paris\"}"}}]},
 {"role":"tool","tool_call_id":"D681PevKs","content":"18 C, sunny"},
 {"role":"user","content":"And in Lyon?"}],
 "tools":[{"type":"function","function":{"name":"get_weather",
 "strict":true,"parameters":{"type":"object","properties":{"city":
 {"type":"string"}},"required":["city"]}}}],"max_tokens":100}'

# Mistral refuses any tool call id but 9 letters and digits ("Tool call
# id was call_1 but must be a-z, A-Z, 0-9, with a length of 9"): ids
# from elsewhere must be mapped, the same way on the call and its result.
record '{"id":"g9b","model":"mistral/mistral-large-latest",
 "messages":['"$LOOP"'],"tools":['"$TOOL"']}' | llm-send >/dev/null 2>&1
# shellcheck disable=SC2016 # $ids is a jq variable
jqf "$(mock_request "$(mock_requests)")" '
	[.json.messages[] | (.tool_calls // [])[].id, .tool_call_id //
	    empty] as $ids |
	($ids | length) == 2 and $ids[0] == $ids[1] and
	($ids[0] | test("^[A-Za-z0-9]{9}$"))'
check "mistral: a foreign tool call id is sent as 9 letters and digits" \
    [ $? -eq 0 ]

golden azure-openai '{"id":"g10","model":"azure-openai/gpt-4o",
 "system":"Be terse.","prompt":"Hi","max_tokens":100}'

# -- openai-responses ------------------------------------------------------

golden openai-responses '{"id":"g11","model":"openai/gpt-5-codex",
 "system":"Be terse.","messages":['"$LOOP"'],"tools":['"$TOOL"'],
 "thinking":"high","max_tokens":2000,"stop":["END"]}'

# -- anthropic-messages ----------------------------------------------------

# Budget thinking, with the signed thinking of the tool-calling turn
# replayed first, as the API requires while a tool loop goes on.
golden anthropic-thinking-budget '{"id":"g12",
 "model":"anthropic/claude-sonnet-4-5","system":"Be terse.","messages":[
 {"role":"user","content":"Weather in Paris?"},
 {"role":"assistant","content":"","reasoning":"Call the tool.",
 "reasoning_signature":"c2lnbmF0dXJl","tool_calls":[{"id":"toolu_01A",
 "name":"get_weather","arguments":{"city":"Paris"}}]},
 {"role":"tool","tool_call_id":"toolu_01A","content":"18 C, sunny"}],
 "tools":['"$TOOL"'],"tool_choice":"auto","thinking":"medium",
 "max_tokens":1024,"temperature":0.3,"stop":["END"]}'

golden anthropic-adaptive '{"id":"g13","model":"anthropic/claude-opus-4-6",
 "system":"Be terse.","prompt":"Hi","thinking":"high","max_tokens":2000}'

golden google-vertex-anthropic '{"id":"g14",
 "model":"google-vertex/claude-sonnet-4-5@20250929","system":"Be terse.",
 "prompt":"Hi","max_tokens":200}'

# -- google-generative-ai --------------------------------------------------

golden gemini-thinking-budget '{"id":"g15","model":"google/gemini-2.5-flash",
 "system":"Be terse.","messages":['"$LOOP"'],"tools":['"$TOOL"'],
 "tool_choice":"auto","thinking":"medium","max_tokens":1024,
 "temperature":0.3,"stop":["END"]}'

# Gemini 3 validates thought signatures on function calls; history
# without one gets the documented stand-in.
golden gemini3-thinking-level '{"id":"g16",
 "model":"google/gemini-3-pro-preview","system":"Be terse.",
 "messages":['"$LOOP"'],"tools":['"$TOOL"'],"thinking":"high"}'

# -- the answers: every golden request above was answered --------------

for f in "$T"/*.out; do
	cat "$f"
done >"$T/all.out"
check "every golden request got a response record" jqf "$T/all.out" \
    'has("error") | not'
is "16 response records" "$(grep -c . "$T/all.out")" 16
is "the mock provider printed nothing" "$(cat "$T/mock.err")" ""
