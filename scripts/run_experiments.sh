#!/bin/bash
# The experiment grids behind docs/RESULTS.md, sized for a 2-core machine (one thread per job, two jobs side
# by side). Rerun the same line to resume: finished cells are kept, an interrupted run continues from its
# checkpoint. Outputs go to exp/<name>/.
#   scripts/run_experiments.sh data                 # phantom data sets (20 labelled + 20 unlabeled per task)
#   scripts/run_experiments.sh spleen liver         # one job: these phantom grids, one after the other
#   scripts/run_experiments.sh openkbp              # the OpenKBP grid (../shared/data/openkbp)
#   scripts/run_experiments.sh openkbp-enc openkbp-seeds   # OpenKBP at 10%: encoder-only transfer; random, 2 seeds
#   METHODS=random,pgl scripts/run_experiments.sh spleen-long   # spleen with 2000 pretraining steps, not 400
#   scripts/run_experiments.sh collect spleen ...   # copy the small outputs into docs/results/experiment-<name>/
#   METHODS=random,genesis,byol,pgl,pgl-crop,pgl-flip scripts/run_experiments.sh spleen   # + the prior ablation
set -euo pipefail
cd "$(dirname "$0")/.."
PGL=${PGL:-build/apps/pgl/pgl}
THREADS=${THREADS:-1}
METHODS=${METHODS:-random,genesis,byol,pgl}  # a rerun may add pgl-crop,pgl-flip: finished cells are kept

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -gt 0 ] || usage

if [ "$1" = collect ]; then
  shift
  [ $# -gt 0 ] || usage
  for name in "$@"; do
    if ! grep -q '"missing_cells": \[\]' "exp/$name/summary.json" 2>/dev/null; then
      echo "exp/$name is not finished (no summary, or cells missing): rerun its grid first" >&2
      exit 1
    fi
  done
  for name in "$@"; do
    dest="docs/results/experiment-$name"
    mkdir -p "$dest/plots"
    cp "exp/$name"/{experiment.json,results.csv,summary.md,summary.json} "$dest/"
    cp "exp/$name"/plots/*.{png,svg} "$dest/plots/"
  done
  exit 0
fi

for name in "$@"; do  # every name before hours of work
  case "$name" in
    data | spleen | liver | kidney | multiorgan | spleen-long | openkbp | openkbp-enc | openkbp-seeds) ;;
    *) echo "unknown experiment '$name' (data, spleen, liver, kidney, multiorgan, spleen-long, openkbp," \
         "openkbp-enc, openkbp-seeds)" >&2
       usage ;;
  esac
done

for name in "$@"; do
  case "$name" in
    data)
      for t in spleen liver kidney multiorgan; do
        "$PGL" phantom --task "$t" --cases 20 --seed 11 --threads "$THREADS" --out "exp/data/$t"
        "$PGL" phantom --task "$t" --cases 20 --seed 12 --unlabeled --threads "$THREADS" --out "exp/data/$t-unlabeled"
      done ;;
    spleen | liver | kidney | multiorgan | spleen-long)
      task=${name%-long}
      steps=400
      [ "$name" = "$task" ] || steps=2000  # -long: 5x the pretraining, the same fine-tuning
      "$PGL" experiment --data "exp/data/$task" --pretrain-data "exp/data/$task-unlabeled" \
        --methods "$METHODS" --label-fractions 0.1,0.25,1 --seeds 1 \
        --preset tiny --base 8 --pretrain-steps "$steps" --finetune-steps 800 --val-max-cases 2 \
        --test-fraction 0.2 --spacing 6,6,6 --ct-window=-200,300 --threads "$THREADS" --cache exp/cache \
        --out "exp/$name" ;;
    openkbp | openkbp-enc | openkbp-seeds)
      # shared: the runs this grid has in common with exp/openkbp. They are deterministic, so copying them
      # only saves their time.
      fractions=0.1,0.25,1 seeds=1 methods=$METHODS extra=() shared=()
      case "$name" in
        openkbp-enc) fractions=0.1 methods=random,pgl extra=(--transfer encoder)
          shared=(pretrain/pgl-s0 finetune/random-f0.1-s0 predictions/random-f0.1-s0) ;;
        openkbp-seeds) fractions=0.1 seeds=2 methods=random
          shared=(finetune/random-f0.1-s0 predictions/random-f0.1-s0) ;;
      esac
      for run in "${shared[@]}"; do
        if [ -d "exp/openkbp/$run" ] && [ ! -e "exp/$name/$run" ]; then
          mkdir -p "exp/$name/$(dirname "$run")"
          cp -r "exp/openkbp/$run" "exp/$name/$run"
        fi
      done
      "$PGL" experiment --data ../shared/data/openkbp --test-split validation \
        --methods "$methods" --label-fractions "$fractions" --seeds "$seeds" "${extra[@]}" \
        --preset tiny --base 8 --pretrain-steps 1000 --finetune-steps 2000 --val-max-cases 4 \
        --ct-window=-200,300 --threads "$THREADS" --cache exp/cache --out "exp/$name" ;;
  esac
done
