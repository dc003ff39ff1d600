# bash completion for picluster. Every candidate (verbs, options, choices, and the Pi names of
# the current inventory) comes from `picluster __complete`, which reads the CLI and the
# inventory itself; nothing here parses JSON. No candidates: complete file names.
_picluster() {
  local cur words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion -n =: || return
  else
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
    cur=${COMP_WORDS[COMP_CWORD]}
  fi
  local candidates
  candidates=$("${words[0]}" __complete -- "${words[@]:1:cword}" 2>/dev/null)
  if [[ -z $candidates ]]; then
    compopt -o default 2>/dev/null
    COMPREPLY=()
    return
  fi
  local IFS=$'\n'
  # shellcheck disable=SC2207
  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -F _picluster picluster
