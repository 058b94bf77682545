#!/bin/sh
# catalog-check.sh: assert the schema rules of the built-in catalog.
#
# Usage: tests/catalog-check.sh [catalog.json]
# Exit status: 0 valid; 1 a rule is broken (the first violation is named on
# stderr); 2 usage error (jq missing, file unreadable).

set -u

here=$(dirname "$0")
file=${1:-"$here/../share/llm/catalog.json"}

if ! command -v jq >/dev/null 2>&1; then
	echo "catalog-check: jq not found" >&2
	exit 2
fi
if [ ! -r "$file" ]; then
	echo "catalog-check: cannot read $file" >&2
	exit 2
fi
if ! jq empty "$file" 2>/dev/null; then
	echo "catalog-check: $file: not valid JSON" >&2
	exit 1
fi

# The jq program prints one line per violation, in document order.
prog=$(cat <<'EOF'
def pos_int: type == "number" and . == floor and . > 0;
def nestr: type == "string" and length > 0;
def isbool: type == "boolean";
def one_of($l): . as $x | any($l[]; . == $x);
def url_ok: type == "string" and (endswith("/") | not)
	and (length == 0 or test("^https?://[^ ]+$"));
def apis: ["openai-completions", "openai-responses", "anthropic-messages",
	"google-generative-ai", "echo"];
def auths: ["bearer", "x-api-key", "api-key", "x-goog-api-key", "none"];
def levels: ["off", "minimal", "low", "medium", "high", "xhigh"];
def compat_bools: ["supportsDeveloperRole", "supportsReasoningEffort",
	"supportsUsageInStreaming", "requiresToolResultName",
	"requiresAssistantAfterToolResult", "requiresThinkingAsText",
	"supportsStrictMode", "supportsEagerToolInputStreaming",
	"supportsLongCacheRetention", "forceAdaptiveThinking",
	"allowEmptySignature", "zaiToolStream",
	"requiresReasoningContentOnAssistantMessages"];
def compat_other: ["maxTokensField", "thinkingFormat", "cacheControlFormat",
	"openRouterRouting", "vercelGatewayRouting", "stripParams"];
def thinking_formats: ["reasoning_effort", "openrouter", "deepseek",
	"together", "zai", "qwen", "qwen-chat-template"];
def provider_keys: ["name", "baseUrl", "endpoints", "api", "auth", "env",
	"apiKey", "headers", "query", "compat", "limits", "anyModel",
	"modelDefaults", "families", "models", "path"];
def model_keys: ["id", "name", "api", "reasoning", "input", "contextWindow",
	"maxTokens", "cost", "type", "dims", "thinkingLevelMap", "compat",
	"limits", "headers", "baseUrl", "path"];
def required: ["openai", "anthropic", "google", "google-vertex",
	"azure-openai", "openrouter", "xai", "deepseek", "moonshot", "zai",
	"zhipu", "groq", "mistral", "together", "perplexity", "cerebras", "qwen",
	"nvidia", "minimax", "venice", "avian", "longcat", "modelscope", "novita",
	"vivgrid", "shengsuanyun", "xiaomi", "volcengine", "hunyuan",
	"siliconflow", "gitlab-duo", "github-copilot", "chatgpt-codex", "ollama",
	"lmstudio", "vllm", "litellm", "llamacpp", "echo"];

def input_ok: type == "array" and length > 0
	and all(.[]; one_of(["text", "image"]));

def strmap($w):
	if type != "object" then "\($w): must be an object of strings"
	else (to_entries[] | select(.value | type != "string")
		| "\($w).\(.key): value must be a string")
	end;

def check_compat($w):
	if type != "object" then "\($w): must be an object"
	else
		(keys[] | select(one_of(compat_bools + compat_other) | not)
			| "\($w).\(.): unknown compat flag"),
		(to_entries[] | select(.key | one_of(compat_bools))
			| select(.value | isbool | not)
			| "\($w).\(.key): must be a boolean"),
		(select(has("thinkingFormat")) | .thinkingFormat
			| select(one_of(thinking_formats) | not)
			| "\($w).thinkingFormat: unknown value \(tojson)"),
		(select(has("maxTokensField")) | .maxTokensField
			| select(one_of(["max_tokens", "max_completion_tokens"]) | not)
			| "\($w).maxTokensField: unknown value \(tojson)"),
		(select(has("stripParams")) | .stripParams
			| select(type != "array" or any(.[]; nestr | not))
			| "\($w).stripParams: must be an array of names")
	end;

def check_limits($w):
	if type != "object" then "\($w): must be an object"
	else
		(keys[] | select(one_of(["rpm", "tpm", "concurrency"]) | not)
			| "\($w).\(.): unknown limit"),
		(to_entries[] | select(.value | pos_int | not)
			| "\($w).\(.key): must be a positive integer")
	end;

def check_model($w):
	(keys[] | select(one_of(model_keys) | not) | "\($w): unknown key \(tojson)"),
	(select(.id | nestr | not) | "\($w): id must be a non-empty string"),
	(select(.name | nestr | not) | "\($w): name must be a non-empty string"),
	(select(.reasoning | isbool | not) | "\($w): reasoning must be a boolean"),
	(select(.input | input_ok | not)
		| "\($w): input must be a non-empty array of \"text\"/\"image\""),
	(select(.contextWindow | pos_int | not)
		| "\($w): contextWindow must be a positive integer"),
	(select(.maxTokens | pos_int | not)
		| "\($w): maxTokens must be a positive integer"),
	(if (.cost | type) != "object" then "\($w): cost must be an object"
	 else
		(["input", "output", "cacheRead", "cacheWrite"][] as $k
			| select(.cost[$k] | (type == "number" and . >= 0) | not)
			| "\($w): cost.\($k) must be a number >= 0"),
		(.cost | keys[]
			| select(one_of(["input", "output", "cacheRead", "cacheWrite"]) | not)
			| "\($w): cost has unknown key \(tojson)")
	 end),
	(select(has("api")) | .api | select(one_of(apis) | not)
		| "\($w): unknown api \(tojson)"),
	(select(has("type")) | .type | select(. != "embedding")
		| "\($w): type must be \"embedding\" when present"),
	(select(.type == "embedding") | select(.dims | pos_int | not)
		| "\($w): embedding model needs dims (positive integer)"),
	(select(has("dims") and .type != "embedding")
		| "\($w): dims is only for embedding models"),
	(select(has("thinkingLevelMap")) | .thinkingLevelMap
		| if type != "object" then "\($w).thinkingLevelMap: must be an object"
		  else
			(keys[] | select(one_of(levels) | not)
				| "\($w).thinkingLevelMap: unknown level \(tojson)"),
			(to_entries[] | select(.value | (type == "string" or type == "null") | not)
				| "\($w).thinkingLevelMap.\(.key): must be a string or null")
		  end),
	(select(has("compat")) | .compat | check_compat("\($w).compat")),
	(select(has("limits")) | .limits | check_limits("\($w).limits")),
	(select(has("headers")) | .headers | strmap("\($w).headers")),
	(select(has("baseUrl")) | .baseUrl | select(url_ok | not)
		| "\($w).baseUrl: bad URL (no trailing slash)");

def check_provider($n):
	"providers.\($n)" as $w
	| (keys[] | select(one_of(provider_keys) | not) | "\($w): unknown key \(tojson)"),
	(select(.name | nestr | not) | "\($w): name must be a non-empty string"),
	(select(.baseUrl | url_ok | not) | "\($w): baseUrl must be a URL without a trailing slash"),
	(select(.baseUrl == "" and .api != "echo") | "\($w): baseUrl is empty"),
	(select(.api | one_of(apis) | not) | "\($w): unknown api \(.api | tojson)"),
	(select(.auth | one_of(auths) | not) | "\($w): unknown auth \(.auth | tojson)"),
	(if (.env | type) != "array" then "\($w): env must be an array"
	 else
		(.env[] | select(type != "string" or (test("^[A-Z][A-Z0-9_]*$") | not))
			| "\($w).env: \(tojson) is not an environment variable name"),
		(select(.auth == "none" and (.env | length) > 0)
			| "\($w): env must be [] when auth is none"),
		(select(.auth != "none" and (.env | length) == 0)
			| "\($w): env is empty but auth is \(.auth)")
	 end),
	(select(has("apiKey")) | .apiKey
		| select(type != "string" or (test("^(!|\\$|keyfile:)") | not))
		| "\($w).apiKey: only \"!command\", \"$VAR\" or \"keyfile:NAME\" defaults are allowed"),
	(select(has("endpoints")) | .endpoints
		| if type != "object" or length == 0 then "\($w).endpoints: must be a non-empty object"
		  else to_entries[] | select(.value | (nestr and url_ok) | not)
			| "\($w).endpoints.\(.key): bad URL"
		  end),
	(select(has("headers")) | .headers | strmap("\($w).headers")),
	(select(has("query")) | .query | strmap("\($w).query")),
	(select(has("compat")) | .compat | check_compat("\($w).compat")),
	(select(has("limits")) | .limits | check_limits("\($w).limits")),
	(select(has("anyModel")) | .anyModel | select(isbool | not)
		| "\($w).anyModel: must be a boolean"),
	(select(.anyModel == true) |
		if (.modelDefaults | type) != "object" then "\($w): anyModel needs modelDefaults"
		else .modelDefaults
			| (select(.contextWindow | pos_int | not)
				| "\($w).modelDefaults.contextWindow: must be a positive integer"),
			(select(.maxTokens | pos_int | not)
				| "\($w).modelDefaults.maxTokens: must be a positive integer"),
			(select(.reasoning | isbool | not)
				| "\($w).modelDefaults.reasoning: must be a boolean"),
			(select(.input | input_ok | not)
				| "\($w).modelDefaults.input: must be a non-empty array of \"text\"/\"image\"")
		end),
	(if (.models | type) != "array" then "\($w): models must be an array"
	 else
		(select((.models | length) == 0 and .anyModel != true)
			| "\($w): models is empty but anyModel is not true"),
		(.models | to_entries[]
			| "\($w).models[\(.value.id // .key)]" as $mw
			| if (.value | type) != "object" then "\($mw): must be an object"
			  else .value | check_model($mw) end),
		([.models[] | objects | .id] | group_by(.) | map(select(length > 1))[]
			| "\($w).models: duplicate id \(.[0] | tojson)")
	 end),
	(select(has("families")) | [(.models // [])[] | objects | .id] as $ids
		| .families
		| if type != "array" then "\($w).families: must be an array"
		  else .[]
			| (select(.match | nestr | not) | "\($w).families: match must be a non-empty glob"),
			(select(.template | one_of($ids) | not)
				| "\($w).families: template \(.template | tojson) is not a model of this provider")
		  end);

(select(type != "object") | "top level: must be an object"),
(select(.version != 1) | "version: must be 1"),
(if (.providers | type) != "object" or (.providers | length) == 0
 then "providers: must be a non-empty object"
 else
	(.providers | keys_unsorted) as $order
	| (required[] | select(one_of($order) | not) | "providers: missing required provider \(tojson)"),
	(select($order[0:3] != ["openai", "anthropic", "google"])
		| "providers: order must start with openai, anthropic, google"),
	(select($order[-1] != "echo") | "providers: \"echo\" must be the last provider"),
	(["ollama", "lmstudio", "vllm", "llamacpp"][] as $local
		| ["openrouter", "together", "nvidia"][] as $agg
		| select(($local | one_of($order)) and ($agg | one_of($order)))
		| select(($order | index($local)) < ($order | index($agg)))
		| "providers: local server \($local) must come after aggregator \($agg)"),
	(.providers | to_entries[]
		| .key as $n
		| if (.value | type) != "object" then "providers.\($n): must be an object"
		  else .value | check_provider($n) end),
	(.providers.echo | select(. != null)
		| (select(.api != "echo") | "providers.echo: api must be \"echo\""),
		  (select(.auth != "none") | "providers.echo: auth must be \"none\""))
 end),
([.. | strings
	| select(test("(^|[^A-Za-z0-9])(sk-[A-Za-z0-9_-]{16,}|sk-ant-|sk-or-|AIza[0-9A-Za-z_-]{20,}|xai-[A-Za-z0-9]{20,}|gsk_[A-Za-z0-9]{20,}|nvapi-|ghp_|gho_|github_pat_|glpat-|pplx-[A-Za-z0-9]{20,})")
		or test("^(Bearer|Basic) [A-Za-z0-9]"))][0]
	| select(. != null)
	| "secrets: string looks like a credential: \(.[0:12])...")
EOF
)

out=$(jq -r "$prog" "$file") || {
	echo "catalog-check: jq failed on $file" >&2
	exit 2
}
first=$(printf '%s\n' "$out" | sed -n '1p')
if [ -n "$first" ]; then
	echo "catalog-check: $file: $first" >&2
	n=$(printf '%s\n' "$out" | grep -c .)
	if [ "$n" -gt 1 ]; then
		echo "catalog-check: ($((n - 1)) more violation(s))" >&2
	fi
	exit 1
fi

np=$(jq '.providers | length' "$file")
nm=$(jq '[.providers[].models | length] | add' "$file")
echo "catalog-check: $file: ok ($np providers, $nm models)"
