#!/bin/bash
# Keeps a background queue of time-budgeted runs off a shared 2-core machine's busy moments: while any
# other heavy process runs (a compiler, a linker, ninja, ctest, a test or bench binary, a fuzzer, another
# pgl, which re-executes itself and then shows as 'exe'), the queue's process group is stopped (SIGSTOP);
# once they are gone it continues (SIGCONT). Budgets count only running time (train/time_budget.h,
# BudgetClock), so a paused run still times an idle machine.
#   setsid scripts/recipe_runs.sh chaos > exp/logs/queue.log 2>&1 &   # the queue, in its own group
#   scripts/queue_guard.sh PGID &                                      # PGID: the queue's process group
# The guard exits when the group is gone. It never stops a process outside the group.
set -uo pipefail
pgid=${1:?usage: queue_guard.sh PGID [INTERVAL_S]}
interval=${2:-2}
heavy='^(cc1plus|cc1|c\+\+|g\+\+|gcc|clang|clang\+\+|clang-[0-9]+|ld|ld\.gold|ld\.lld|ninja|make|cmake|ctest|pgl|exe|pgl_.*|bench_.*|fuzz_.*|farm-bench|python3)$'
stopped=0
trap 'kill -CONT -- "-$pgid" 2> /dev/null' EXIT  # never leave the queue stopped
trap 'exit 0' INT TERM
while pgrep -g "$pgid" > /dev/null; do
  busy=0
  while read -r pid group comm; do
    [ "$group" = "$pgid" ] && continue
    [[ "$comm" =~ $heavy ]] || continue
    # python3 counts only when it computes (bench/ references, torchrun), not an idle helper or this tool.
    if [ "$comm" = python3 ] && ! grep -qE 'bench/|torch.distributed|kill_resume' "/proc/$pid/cmdline" 2> /dev/null; then
      continue
    fi
    busy=1
    break
  done < <(ps -eo pid=,pgid=,comm=)
  if [ $busy -eq 1 ] && [ $stopped -eq 0 ]; then
    kill -STOP -- "-$pgid" 2> /dev/null && stopped=1 && echo "$(date +%T) queue paused"
  elif [ $busy -eq 0 ] && [ $stopped -eq 1 ]; then
    kill -CONT -- "-$pgid" 2> /dev/null
    stopped=0
    echo "$(date +%T) queue continues"
  fi
  sleep "$interval"
done
