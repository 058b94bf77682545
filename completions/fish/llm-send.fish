# fish completion for llm-send(1)
#
# Model references come from `llm-resolve -l`, as in the llm-resolve
# completion: it writes JSON Lines when piped, and the "ref" fields are read
# with sed, so jq is not needed.

function __llm_send_refs
    llm-resolve -l 2>/dev/null | sed -n 's/^{"ref":"\([^"]*\)".*/\1/p'
end

# -F takes a comma-separated list: complete its last element.
function __llm_send_fallbacks
    set -l tok (commandline -ct)
    set -l pre (string replace -r '[^,]*$' '' -- "$tok")
    for ref in (__llm_send_refs)
        echo "$pre$ref"
    end
end

# -o key=value: the request fields, then a few values; any other key is a
# provider parameter, which nothing here can list.
function __llm_send_set
    set -l tok (commandline -ct)
    switch "$tok"
        case 'thinking=*'
            printf 'thinking=%s\n' off minimal low medium high xhigh
        case 'tool_choice=*'
            printf 'tool_choice=%s\n' auto none required
        case '*=*'
            return
        case '*'
            printf '%s=\n' max_tokens temperature top_p stop thinking \
                tool_choice response_format system tools
    end
end

# The options llm-send shares with llm-stream, completed for command cmd.
function __llm_send_common -a cmd
    complete -c $cmd -l cache -d 'Answer from and store into the llm-cache store'
    complete -c $cmd -l dry-run -d 'Show the HTTP requests instead of sending them'
    complete -c $cmd -s F -x -a '(__llm_send_fallbacks)' -d 'Append fallback references'
    complete -c $cmd -s h -d 'Print the usage and exit'
    complete -c $cmd -s m -x -a '(__llm_send_refs)' -d 'Default model reference'
    complete -c $cmd -s o -x -a '(__llm_send_set)' -d 'Set a request field or provider parameter'
    complete -c $cmd -l rate -x -a '40/m 60/m 5/m 10/s 1000/d' -d 'Requests per time unit per key, shared'
    complete -c $cmd -l retry-base -x -d 'Backoff base in seconds (default 0.5)'
    complete -c $cmd -l retry-cap -x -d 'Backoff ceiling in seconds (default 30)'
    complete -c $cmd -l retry-max-time -x -d 'Deadline per request in seconds (default 300)'
    complete -c $cmd -s s -x -d 'Default system prompt'
    complete -c $cmd -l stats -d 'Print totals on standard error at the end'
    complete -c $cmd -s V -d 'Print the version and exit'
end

__llm_send_common llm-send
complete -c llm-send -s j -x -d 'Requests in flight (1-1024)'
complete -c llm-send -l retry -x -d 'Retries after transient failures (default 4)'
complete -c llm-send -s T -d 'Read all input as one prompt'
complete -c llm-send -s t -d 'Read each line as a prompt'
complete -c llm-send -l timeout -x -d 'Seconds per HTTP request'
complete -c llm-send -s u -d 'Write records as they are answered'
