# fish completion for llm-resolve(1)
#
# Model references and provider names come from `llm-resolve -l`, which
# writes JSON Lines when piped; the "ref" and "provider" fields are read
# with sed, so jq is not needed.

function __llm_resolve_refs
    llm-resolve -l 2>/dev/null | sed -n 's/^{"ref":"\([^"]*\)".*/\1/p'
end

function __llm_resolve_providers
    llm-resolve -l 2>/dev/null | sed -n 's/.*"provider":"\([^"]*\)".*/\1/p' | uniq
end

# -F takes a comma-separated list: complete its last element.
function __llm_resolve_fallbacks
    set -l tok (commandline -ct)
    set -l pre (string replace -r '[^,]*$' '' -- "$tok")
    for ref in (__llm_resolve_refs)
        echo "$pre$ref"
    end
end

function __llm_resolve_listing
    __fish_contains_opt -s l
end

complete -c llm-resolve -n 'not __llm_resolve_listing' -s e -d 'Add an explain object to each record'
complete -c llm-resolve -n 'not __llm_resolve_listing' -s F -x -a '(__llm_resolve_fallbacks)' -d 'Append fallback references'
complete -c llm-resolve -s h -d 'Print the usage and exit'
complete -c llm-resolve -s l -d 'List the known models and aliases'
complete -c llm-resolve -n 'not __llm_resolve_listing' -s m -x -a '(__llm_resolve_refs)' -d 'Default model reference'
complete -c llm-resolve -n __llm_resolve_listing -s p -x -a '(__llm_resolve_providers)' -d 'List only the models of a provider'
complete -c llm-resolve -n 'not __llm_resolve_listing' -s S -x -d 'Seed the weighted choice of aliases'
complete -c llm-resolve -s V -d 'Print the version and exit'
complete -c llm-resolve -l state -d 'Print the shared cooldowns and rate limits'
complete -c llm-resolve -l state-clear -d 'Forget the shared cooldowns and rate limits'
