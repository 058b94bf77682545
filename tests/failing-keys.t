#!/bin/sh
# TAP tests of key rotation and fallbacks in llm-send (DESIGN.md section
# 5): a revoked first key (401) then the second answering, from apiKeys
# and from keyfile entries NAME, NAME#2; a 429 on one key moving to the
# next at once; a quota 429 not retried but failed over; fallbacks from an
# alias and from -F; the response naming who answered after how many
# attempts; and a later process skipping the key that cools down.
# Run from the repository root after building: sh tests/failing-keys.t

. tests/lib.sh

plan 24

need jq setsid tests/mock/mockprov

K1=sk-test-key1-revoked-0a1
K2=sk-test-key2-good-0b2
Q1=sk-test-q1-limited-1c3
Q2=sk-test-q2-good-1d4
KF1=sk-test-kf1-revoked-2e5
KF2=sk-test-kf2-good-2f6
OK_KEY=sk-test-ok-3a7
export K1 K2 Q1 Q2 OK_KEY

cat >"$T/script.json" <<EOF
{"routes": [
  {"match": "/kr/", "header": "authorization: Bearer $K1",
   "responses": [{"status": 401, "body": {"error": {"message":
     "Incorrect API key provided", "code": "invalid_api_key"}}}]},
  {"match": "/kq/", "header": "authorization: Bearer $Q1",
   "responses": [{"status": 429, "body": {"error": {"message":
     "Rate limit reached for requests", "type": "requests"}}}]},
  {"match": "/kf/", "header": "authorization: Bearer $KF1",
   "responses": [{"status": 403, "body": {"error": {"message":
     "key disabled"}}}]},
  {"match": "/dead/", "responses": [{"status": 503, "body": {"error":
     {"message": "down"}}}]},
  {"match": "/quota/", "responses": [{"status": 429, "body": {"error": {
     "message": "You exceeded your current quota, please check your plan and billing details.",
     "type": "insufficient_quota", "code": "insufficient_quota"}}}]}
]}
EOF
if ! mock_start -s "$T/script.json" 2>"$T/mock.err"; then
	echo "Bail out! the mock provider did not start"
	exit 1
fi
cat >"$XDG_CONFIG_HOME/llm/config.json" <<EOF
{"providers": {
  "kr": {"baseUrl": "$MOCK_URL/kr/v1", "api": "openai-completions",
    "apiKeys": ["\$K1", "\$K2"], "anyModel": true},
  "kq": {"baseUrl": "$MOCK_URL/kq/v1", "api": "openai-completions",
    "apiKeys": ["\$Q1", "\$Q2"], "anyModel": true},
  "kf": {"baseUrl": "$MOCK_URL/kf/v1", "api": "openai-completions",
    "anyModel": true},
  "ok": {"baseUrl": "$MOCK_URL/ok/v1", "api": "openai-completions",
    "apiKey": "\$OK_KEY", "anyModel": true},
  "dead": {"baseUrl": "$MOCK_URL/dead/v1", "api": "openai-completions",
    "apiKey": "\$OK_KEY", "anyModel": true},
  "quota": {"baseUrl": "$MOCK_URL/quota/v1", "api": "openai-completions",
    "apiKey": "\$OK_KEY", "anyModel": true}
},
 "models": {"sturdy": {"model": "dead/m", "fallbacks": ["ok/backup"]}}
}
EOF

# jqs FILE FILTER: true when FILTER holds for FILE's records as one array.
jqs() {
	jq -es "$2" "$1" >/dev/null 2>&1
}

# auths FROM: the authorization headers of requests FROM.. to the last.
auths() {
	_i=$1
	_n=$(mock_requests)
	while [ "$_i" -le "$_n" ]; do
		jq -r '.headers.authorization // .headers["x-api-key"]' \
		    "$(mock_request "$_i")"
		_i=$((_i + 1))
	done | tr '\n' ' '
}

# -- apiKeys: the first revoked, the second answers ------------------------

n0=$(($(mock_requests) + 1))
echo '{"id":"r1","prompt":"rotate"}' |
    LLM_LOG=$T/r1.log llm-send -m kr/m >"$T/r1.out" 2>"$T/r1.err"
rc=$?
check "apiKeys: the second key answers after a 401 on the first" \
    jqf "$T/r1.out" '.text == "mock: rotate" and .attempts == 2 and
	.model == "kr/m"'
is "apiKeys: key 1, then key 2" "$(auths "$n0")" "Bearer $K1 Bearer $K2 "
# shellcheck disable=SC2016 # $K1 and $K2 are the sources, not expansions
check "apiKeys: LLM_LOG names the key sources, never the keys" \
    jqs "$T/r1.log" '[.[] | [.key, .status]] ==
	[["$K1", "401"], ["$K2", "ok"]]'
! grep -q "sk-test-key" "$T/r1.log" "$T/r1.out" "$T/r1.err"
check "apiKeys: no key in the log, the output or the warnings" [ $? -eq 0 ]
is "apiKeys: exit 0" "$rc" 0
n0=$(($(mock_requests) + 1))
echo '{"id":"r2","prompt":"again"}' | llm-send -m kr/m >"$T/r2.out" \
    2>"$T/r2.err"
check "a later process: the revoked key cools down, key 2 at once" \
    jqf "$T/r2.out" '.attempts == 1 and .text == "mock: again"'
is "a later process: one request, with key 2" "$(auths "$n0")" \
    "Bearer $K2 "

# -- a 429 on one key moves to the next at once -----------------------------

n0=$(($(mock_requests) + 1))
start=$(date +%s)
echo '{"id":"q1","prompt":"limited"}' | llm-send -m kq/m >"$T/q1.out" \
    2>"$T/q1.err"
end=$(date +%s)
check "a 429 on key 1: key 2 answers" jqf "$T/q1.out" '
	.text == "mock: limited" and .attempts == 2'
is "a 429 on key 1: key 1, then key 2" "$(auths "$n0")" \
    "Bearer $Q1 Bearer $Q2 "
check "a 429 on key 1: no backoff sleep ($((end - start)) s)" \
    test $((end - start)) -le 1

# -- keyfile entries NAME, NAME#2 ------------------------------------------

LLM_KEYS_PASSPHRASE='sk-test-passphrase (fake) 9'
export LLM_KEYS_PASSPHRASE
setsid -w llm-keys init -f -o 1 -m 8M >/dev/null 2>&1
printf '%s' "$KF1" | setsid -w llm-keys set kf >/dev/null 2>&1
printf '%s' "$KF2" | setsid -w llm-keys set 'kf#2' >/dev/null 2>&1
n0=$(($(mock_requests) + 1))
echo '{"id":"f1","prompt":"keyfile"}' |
    LLM_LOG=$T/f1.log setsid -w llm-send -m kf/m >"$T/f1.out" 2>"$T/f1.err"
check "keyfile kf, kf#2: the second entry answers after a 403" \
    jqf "$T/f1.out" '.text == "mock: keyfile" and .attempts == 2'
is "keyfile kf, kf#2: in that order" "$(auths "$n0")" \
    "Bearer $KF1 Bearer $KF2 "
check "keyfile: LLM_LOG names the entries" jqs "$T/f1.log" '
	[.[].key] == ["keyfile:kf", "keyfile:kf#2"]'
unset LLM_KEYS_PASSPHRASE

# -- quota: not retried, failed over ---------------------------------------

n0=$(mock_requests)
echo '{"id":"u1","prompt":"pay"}' |
    LLM_LOG=$T/u1.log llm-send -m quota/m -F ok/backup >"$T/u1.out" 2>&1
check "a quota 429: the fallback answers" jqf "$T/u1.out" '
	.model == "ok/backup" and .text == "mock: pay" and .attempts == 2'
check "a quota 429: not retried" jqs "$T/u1.log" '
	[.[] | [.target, .status]] == [["quota/m", "429"], ["ok/backup", "ok"]]'
is "a quota 429: two requests in all" "$(mock_requests)" $((n0 + 2))
echo '{"id":"u2","prompt":"pay"}' | llm-send -m quota/m >"$T/u2.out" \
    2>"$T/u2.err"
rc=$?
check "a later process, no fallback: a quota error, not sent" \
    jqf "$T/u2.out" '.error.kind == "quota" and .error.status == 429 and
	.error.retriable == false and (has("attempts") | not) and
	(.error.message | test("cooling down") and test("quota"))'
is "... exit 1" "$rc" 1
is "... nothing sent" "$(mock_requests)" $((n0 + 2))

# -- fallbacks from an alias, and who answered -----------------------------

echo '{"id":"a1","model":"sturdy","prompt":"alias"}' |
    llm-send >"$T/a1.out" \
    2>"$T/a1.err"
check "an alias's fallback answers a 503: model and attempts say so" \
    jqf "$T/a1.out" '.model == "ok/backup" and .attempts == 2 and
	.text == "mock: alias"'
# A state of its own, where quota/m is not cooling down yet.
echo '{"id":"a2","model":"dead/m","prompt":"all"}' |
    LLM_STATE_DIR=$T/fresh llm-send --retry 0 -F quota/m >"$T/a2.out" \
    2>"$T/a2.err"
rc=$?
check "every candidate failing: one exhausted error naming the last" \
    jqf "$T/a2.out" '.error.kind == "exhausted" and
	(.error.message | test("all 2 candidates failed; last, quota/m"))'
is "... a quota failure among them: exit 1" "$rc" 1
echo '{"id":"a3","model":"dead/m","prompt":"x"}' |
    llm-send --retry 0 -F ok/other >"$T/a3.out" 2>"$T/a3.err"
check "-F after a 503: the fallback at once" jqf "$T/a3.out" '
	.model == "ok/other" and .attempts == 2'

check "the mock provider printed nothing" test ! -s "$T/mock.err"
