# fish completion for llm-keys(1)
#
# Entry names come from `llm-keys list`, which writes JSON Lines when piped,
# run with setsid(1) away from the terminal and with no passphrase
# descriptor: names complete only while the keyfile opens without a prompt
# (a session unlock, LLM_KEYS_PASSPHRASE), and completion never asks for a
# passphrase.  Providers come from `llm-resolve -l`.

function __llm_keys_names
    env LLM_KEYS_PASSPHRASE_FD= setsid -w llm-keys list </dev/null 2>/dev/null |
        sed -n 's/^{"name":"\([^"]*\)".*/\1/p'
end

function __llm_keys_providers
    llm-resolve -l 2>/dev/null | sed -n 's/.*"provider":"\([^"]*\)".*/\1/p' | uniq
end

function __llm_keys_in_exec_command
    set -l tokens (commandline -opc)
    contains -- -- $tokens
end

set -l cmds init set get list rm passwd unlock lock exec import path

complete -c llm-keys -f
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -s h -d 'Print the usage and exit'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -s V -d 'Print the version and exit'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a init -d 'Create an empty keyfile'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a set -d 'Store a secret from stdin or the terminal'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a get -d 'Print a secret'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a list -d 'List names, times and fingerprints'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a rm -d 'Remove entries'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a passwd -d 'Change the passphrase'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a unlock -d 'Keep the keyfile open in the kernel keyring'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a lock -d 'End the session unlock'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a exec -d 'Run a command with keys in its environment'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a import -d 'Store keys found in provider variables'
complete -c llm-keys -n "not __fish_seen_subcommand_from $cmds" -a path -d 'Print the path of the keyfile'

complete -c llm-keys -n "__fish_seen_subcommand_from init" -s f -l force -d 'Replace an existing keyfile'
complete -c llm-keys -n "__fish_seen_subcommand_from init passwd" -s m -x -d 'Argon2id memory (bytes, K, M or G)'
complete -c llm-keys -n "__fish_seen_subcommand_from init passwd" -s o -x -d 'Argon2id passes'
complete -c llm-keys -n "__fish_seen_subcommand_from passwd" -s r -d 'Replace the data key too'
complete -c llm-keys -n "__fish_seen_subcommand_from set get rm" -a '(__llm_keys_names)' -d 'Entry'
complete -c llm-keys -n "__fish_seen_subcommand_from get" -s n -d 'No newline after the secret'
complete -c llm-keys -n "__fish_seen_subcommand_from unlock" -s t -x -a '15m 1h 8h 1d' -d 'How long the unlock lasts'
complete -c llm-keys -n "__fish_seen_subcommand_from exec; and not __llm_keys_in_exec_command" -s e -x -a '(__llm_keys_names)' -d 'Pass an entry as a variable'
complete -c llm-keys -n "__fish_seen_subcommand_from exec; and __llm_keys_in_exec_command" -x -a '(__fish_complete_subcommand --fcs-skip=2 -e)'
complete -c llm-keys -n "__fish_seen_subcommand_from import" -s f -l force -d 'Replace existing entries'
complete -c llm-keys -n "__fish_seen_subcommand_from import" -a '(__llm_keys_providers)' -d 'Provider'
