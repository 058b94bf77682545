# fish completion for llm-embed(1)
#
# Model references come from `llm-resolve -l`, as in the llm-resolve
# completion, keeping the embedding models ("type":"embedding"); the "ref"
# fields are read with sed, so jq is not needed.

function __llm_embed_refs
    llm-resolve -l 2>/dev/null | string match -e '"type":"embedding"' |
        sed -n 's/^{"ref":"\([^"]*\)".*/\1/p'
end

complete -c llm-embed -s b -x -d 'Texts per request (1-4096)'
complete -c llm-embed -s c -x -d 'Cut texts into chunks of at most N characters'
complete -c llm-embed -l cache -d 'Read and write the per-text cache (the default)'
complete -c llm-embed -s d -x -d 'Ask for vectors of this size'
complete -c llm-embed -l dry-run -d 'Show the HTTP requests instead of sending them'
complete -c llm-embed -s f -x -a 'json base64 f32' -d 'Vector format'
complete -c llm-embed -s g -x -d 'Only files whose name matches a pattern'
complete -c llm-embed -s h -d 'Print the usage and exit'
complete -c llm-embed -s j -x -d 'Requests in flight (1-1024)'
complete -c llm-embed -s k -x -d 'Search: the number of best records'
complete -c llm-embed -s m -x -a '(__llm_embed_refs)' -d 'Embedding model reference'
complete -c llm-embed -l no-cache -d 'Neither read nor write the cache'
complete -c llm-embed -l normalize -d 'Scale vectors to length 1'
complete -c llm-embed -s o -r -F -d 'The f32 matrix file'
complete -c llm-embed -l overlap -x -d 'Characters each chunk repeats of the previous'
complete -c llm-embed -s q -x -d 'Search: the query text'
complete -c llm-embed -s r -x -a '(__fish_complete_directories)' -d 'Embed every file under a directory'
complete -c llm-embed -l rate -x -a '5/m 40/m 60/m 10/s 1000/d' -d 'Requests per time unit per key, shared'
complete -c llm-embed -l retry -x -d 'Retries after transient failures (default 4)'
complete -c llm-embed -l retry-base -x -d 'Backoff base in seconds (default 0.5)'
complete -c llm-embed -l retry-cap -x -d 'Backoff ceiling in seconds (default 30)'
complete -c llm-embed -l retry-max-time -x -d 'Deadline per batch in seconds (default 300)'
complete -c llm-embed -l stats -d 'Print totals on standard error at the end'
complete -c llm-embed -s T -d 'Read each file as one text'
complete -c llm-embed -s t -d 'Read each line as a text'
complete -c llm-embed -l timeout -x -d 'Seconds per HTTP request'
complete -c llm-embed -s V -d 'Print the version and exit'
