#!/usr/bin/env bash
# Runs one picluster command and prints how long each reported step took.
#
# picluster prints one line per step as it finishes ("pi01: root: ok (...)", "shelf: switch: ok")
# and flushes it; this driver stamps each line with $EPOCHREALTIME as it arrives, so a step's time
# is the gap since the previous step line (the first one: since the command started). Detail lines
# (indented) and "note" lines belong to the steps around them.
# Output: "STEP<TAB>SECONDS" per step, then "total<TAB>SECONDS". Exit status: the command's.
# Usage: time_steps.sh PICLUSTER ARGS...
set -uo pipefail
start=$EPOCHREALTIME
prev=$start
"$@" 2>&1 | {
  while IFS= read -r line; do
    now=$EPOCHREALTIME
    case $line in
      " "*|"") continue ;;                        # detail line of the step above
      *": "*": "*) step=${line#*: }; result=${step#*: }; step=${step%%:*} ;;
      *) continue ;;
    esac
    # "note" lines are detail printed while a step runs (fileserver output), not steps: their
    # time belongs to the step that ends next.
    case $result in note*|progress*) continue ;; esac
    us=$(( ${now/./} - ${prev/./} ))
    printf '%s\t%d.%06d\n' "$step" $((us / 1000000)) $((us % 1000000))
    prev=$now
  done
}
status=${PIPESTATUS[0]}
end=$EPOCHREALTIME
us=$(( ${end/./} - ${start/./} ))
printf 'total\t%d.%06d\n' $((us / 1000000)) $((us % 1000000))
exit "$status"
