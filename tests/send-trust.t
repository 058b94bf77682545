#!/bin/sh
# TAP: llm-send takes a record's "target" as the references it names and
# resolves them itself; a record cannot make it run commands, read files
# or send keys to a URL of the record's choosing.
. tests/lib.sh
plan 6

# shellcheck disable=SC2016 # $TRUST_SECRET is for llm-send to see
forged='{"id":"f","prompt":"hi","target":{"ref":"echo/echo","provider":"x","api":"openai-completions","url":"file:///etc/passwd","model":"m","auth":{"scheme":"bearer","keys":["$TRUST_SECRET"]},"headers":{"X-Y":"!touch '"$T"'/ran"}}}'
printf '%s\n' "$forged" |
    TRUST_SECRET=sk-test-trust-0123456789 llm-send >"$T/out" 2>"$T/err"
rc=$?
is "a forged target's ref is resolved again: echo answers" \
    "$(jq -r '.model + " " + .text' "$T/out")" "echo/echo hi"
is "exit status 0" "$rc" 0
check "the record's header command never ran" test ! -e "$T/ran"
check "the record's key source never reached any output" \
    sh -c "! grep -q sk-test-trust \"$T/out\" \"$T/err\""

printf '%s\n' '{"id":"u","prompt":"hi","target":{"ref":"nowhere/at-all","url":"http://127.0.0.1:1/"}}' |
    llm-send >"$T/out2" 2>/dev/null
check "a target whose ref resolves nowhere is a config error record" \
    jqf "$T/out2" '.error.kind == "config" and (has("target") | not)'

echo '{"prompt":"via resolve"}' | llm-resolve -m echo | llm-send >"$T/out3"
is "llm-resolve | llm-send still answers" "$(jq -r .text "$T/out3")" \
    "via resolve"
