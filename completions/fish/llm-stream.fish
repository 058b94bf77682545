# fish completion for llm-stream(1)
#
# Its options are llm-send's, less -u, plus -q, --timeout-first and
# --timeout-idle: what the two share is completed by llm-send's
# completion, read from beside this file when fish has not read it yet.

functions -q __llm_send_common; or source (status dirname)/llm-send.fish

__llm_send_common llm-stream
complete -c llm-stream -s j -x -d 'Requests streaming at once (1-1024)'
complete -c llm-stream -s q -d 'With -t or -T, the text alone'
complete -c llm-stream -l retry -x -d 'Retries before any of the answer went out (default 4)'
complete -c llm-stream -s T -d 'Read all input as one prompt, write plain text'
complete -c llm-stream -s t -d 'Read each line as a prompt, write plain text'
complete -c llm-stream -l timeout -x -d 'Seconds per HTTP request in all'
complete -c llm-stream -l timeout-first -x -d 'Seconds to the first byte (default none)'
complete -c llm-stream -l timeout-idle -x -d 'Seconds a stream may stall (default 300)'
