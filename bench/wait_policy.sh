#!/bin/bash
# How OpenMP threads wait between parallel regions, and what it costs (performance issue): the median step
# time of a real `pgl pretrain` run (small preset, batch 2, 2 threads, prefetcher on) under each libgomp
# setting, on an idle machine and beside a competing process that keeps one core busy.
# Usage: bench/wait_policy.sh [PGL_BINARY] [REPEATS=2]
# Settings: PASSIVE (no spinning), GOMP_SPINCOUNT=N (spin N iterations, then sleep), libgomp's default
# (spin about 300000 iterations) and ACTIVE (spin). An empty OMP_WAIT_POLICY keeps pgl from re-executing
# itself with its own default, so the environment given here is the one that runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PGL=$(realpath "${1:-build/apps/pgl/pgl}")
REPEATS=${2:-2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; kill $(jobs -p) 2>/dev/null || true' EXIT
"$PGL" phantom --task spleen --cases 4 --seed 3 --out "$WORK/data" >/dev/null 2>&1

step_ms() {  # step_ms ENV...: median step_ms of metrics lines after the first (warm-up excluded)
  rm -rf "$WORK/run"
  env "$@" "$PGL" pretrain --data "$WORK/data" --preset small --steps 12 --log-every 4 --threads 2 \
    --cache "$WORK/cache" --out "$WORK/run" >/dev/null 2>&1
  tail -n +2 "$WORK/run/metrics.jsonl" | sed 's/.*"step_ms":\([0-9.]*\).*/\1/' | sort -n |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

settings=("OMP_WAIT_POLICY=PASSIVE" "OMP_WAIT_POLICY= GOMP_SPINCOUNT=10000" "OMP_WAIT_POLICY= GOMP_SPINCOUNT=100000"
  "OMP_WAIT_POLICY=" "OMP_WAIT_POLICY=ACTIVE")
for load in idle busy; do
  if [ "$load" = busy ]; then (while :; do :; done) & fi
  echo "== $load machine (load average $(cut -d' ' -f1 /proc/loadavg))"
  declare -A results=()
  for ((r = 0; r < REPEATS; r++)); do  # settings alternate, so that drift hits them alike
    for s in "${settings[@]}"; do results[$s]+="$(step_ms $s) "; done
  done
  base=$(echo ${results[OMP_WAIT_POLICY=PASSIVE]} | tr ' ' '\n' | sort -n | head -1)
  for s in "${settings[@]}"; do
    best=$(echo ${results[$s]} | tr ' ' '\n' | sort -n | head -1)
    printf "  %-42s ms/step: %-24s best/PASSIVE %.2f\n" "$s" "${results[$s]}" "$(echo "$best / $base" | bc -l)"
  done
  unset results
  [ "$load" = busy ] && kill %1
done
