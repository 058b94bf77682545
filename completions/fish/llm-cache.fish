# fish completion for llm-cache(1)
#
# The command comes first, then its options.  Model references for -m come
# from `llm-resolve -l`, read with sed, so jq is not needed.  A key for
# `show` is completed from the store once its first four hex digits are
# typed (they name its directory, v1/ab/cd/).

function __llm_cache_refs
    llm-resolve -l 2>/dev/null | sed -n 's/^{"ref":"\([^"]*\)".*/\1/p'
end

function __llm_cache_keys
    set -l tok (commandline -ct)
    test (string length -- "$tok") -ge 4; or return
    set -l dir $LLM_CACHE_DIR
    if test -z "$dir"
        set -l base $XDG_CACHE_HOME
        test -n "$base"; or set base $HOME/.cache
        set dir $base/llm
    end
    set dir $dir/v1/(string sub -l 2 -- $tok)/(string sub -s 3 -l 2 -- $tok)
    test -d $dir; or return
    for f in $dir/$tok*
        basename $f
    end
end

set -l cmds get put key stats prune clear show

complete -c llm-cache -f
complete -c llm-cache -n "not __fish_seen_subcommand_from $cmds" -s h -d 'Print the usage and exit'
complete -c llm-cache -n "not __fish_seen_subcommand_from $cmds" -s V -d 'Print the version and exit'
complete -c llm-cache -n "not __fish_seen_subcommand_from $cmds" -a get -d 'Answer requests from the cache, annotate the others'
complete -c llm-cache -n "not __fish_seen_subcommand_from $cmds" -a put -d 'Store the complete answers to annotated requests'
complete -c llm-cache -n "not __fish_seen_subcommand_from $cmds" -a key -d 'Print the key of each request'
complete -c llm-cache -n "not __fish_seen_subcommand_from $cmds" -a stats -d 'Print the counts and the size of the store'
complete -c llm-cache -n "not __fish_seen_subcommand_from $cmds" -a prune -d 'Remove stale, old and least recently used entries'
complete -c llm-cache -n "not __fish_seen_subcommand_from $cmds" -a clear -d 'Remove every entry'
complete -c llm-cache -n "not __fish_seen_subcommand_from $cmds" -a show -d 'Print one entry'

complete -c llm-cache -n '__fish_seen_subcommand_from get put key' -F
complete -c llm-cache -n '__fish_seen_subcommand_from get key' -s m -x -a '(__llm_cache_refs)' -d 'Default model reference'
complete -c llm-cache -n '__fish_seen_subcommand_from get key' -s t -d 'Each input line is a prompt'
complete -c llm-cache -n '__fish_seen_subcommand_from get key' -s T -d 'The whole input is one prompt'
complete -c llm-cache -n '__fish_seen_subcommand_from get prune' -l max-age -x -d 'Age limit (e.g. 7d)'
complete -c llm-cache -n '__fish_seen_subcommand_from put prune' -l max-size -x -d 'Size limit (e.g. 1G)'
complete -c llm-cache -n '__fish_seen_subcommand_from show' -x -a '(__llm_cache_keys)' -d 'Cache key'
