#!/bin/bash
# The runs behind docs/RESULTS.md §7 ("Defaults that work"): fine-tuning from random initialisation with the
# planned defaults and nothing but --data, --init random, --out and a time budget. One job at a time (each
# uses both cores: the budget's step count is measured on them). Rerun to resume: finished runs are kept,
# an interrupted one continues from its checkpoint. Outputs in exp/recipe/; `collect` copies the small
# files into docs/results/recipe/.
#   scripts/recipe_runs.sh spleen     # phantom spleen: 20 training cases, 8 test cases, --time-budget 10
#   scripts/recipe_runs.sh chaos      # CHAOS T2: 5-fold cross-validation over the 14 cases, 30 min per fold
#                                     # (FOLDS="3 4" runs only those; the CV table needs all five)
#   scripts/recipe_runs.sh openkbp    # OpenKBP: train split, tested on the validation split, 60 min
#   scripts/recipe_runs.sh ablation   # what each part of the plan bought (CHAOS fold 0 at 10 min, OpenKBP at 20)
#   scripts/recipe_runs.sh schedule   # the planned ablation runs' held-out cases with the final checkpoint
#                                     # and with best, each without post-processing (after `ablation`)
#   scripts/recipe_runs.sh chaos-cv   # the CV mean Dice from the five folds' committed per-case metrics
#   scripts/recipe_runs.sh collect
set -euo pipefail
cd "$(dirname "$0")/.."
PGL=${PGL:-build/apps/pgl/pgl}
OUT=exp/recipe
CACHE=${CACHE:-exp/cache}

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -gt 0 ] || usage

# schedule RUN DATA: predicts RUN's held-out cases with the final and the best checkpoint, both without
# post-processing, and scores them (RUN/held_out_metrics.csv is best with the stored post-processing).
schedule() {
  local run=$1 data=$2 images=$1/schedule/images
  rm -rf "$images" && mkdir -p "$images"
  awk '/"held_out"/ { on = 1; next } on && /\]/ { exit } on { gsub(/[ ",]/, ""); print }' "$run/cases.json" |
    while read -r id; do ln -s "$(realpath "$data/imagesTr/$id.nii.gz")" "$images/$id.nii.gz"; done
  for checkpoint in final best; do
    "$PGL" predict --model "$run" --checkpoint "$checkpoint" --postprocessing none --input "$images" \
      --out "$run/schedule/$checkpoint-none"
    "$PGL" evaluate --pred "$run/schedule/$checkpoint-none" --ref "$data" --allow-missing \
      --out "$run/schedule_${checkpoint}_none_metrics.csv"
  done
}

# finetune RUN ARGS...: a fine-tuning run that resumes when it was interrupted and is skipped when done.
finetune() {
  local run=$1
  shift
  if [ -e "$run/checkpoints/final.pt" ] && { [ ! -e "$run/cases.json" ] ||
    ! grep -q held_out "$run/cases.json" || [ -e "$run/held_out_metrics.csv" ]; }; then
    return 0
  fi
  local resume=()
  [ -e "$run/config.json" ] && resume=(--resume)
  /usr/bin/time -f "$run: %e s wall" "$PGL" finetune "$@" --cache "$CACHE" --out "$run" "${resume[@]}"
}

for name in "$@"; do
  case "$name" in
    spleen)
      [ -e "$OUT/data/spleen/dataset.json" ] || "$PGL" phantom --task spleen --cases 20 --seed 21 --out "$OUT/data/spleen"
      [ -e "$OUT/data/spleen-test/dataset.json" ] ||
        "$PGL" phantom --task spleen --cases 8 --seed 1021 --out "$OUT/data/spleen-test"
      finetune "$OUT/spleen" --data "$OUT/data/spleen" --init random --time-budget 10
      "$PGL" predict --model "$OUT/spleen" --input "$OUT/data/spleen-test/imagesTr" --out "$OUT/spleen/test"
      "$PGL" evaluate --pred "$OUT/spleen/test" --ref "$OUT/data/spleen-test" --out "$OUT/spleen/test_metrics.csv" ;;
    chaos)
      for fold in ${FOLDS:-0 1 2 3 4}; do
        finetune "$OUT/chaos-f$fold" --data ../shared/data/chaos_t2 --init random --folds 5 --fold "$fold" \
          --time-budget 30
      done
      [ "$(ls -d "$OUT"/chaos-f?/held_out 2> /dev/null | wc -l)" -eq 5 ] || continue  # not all folds here
      mkdir -p "$OUT/chaos-cv"
      cp "$OUT"/chaos-f?/held_out/*.nii.gz "$OUT/chaos-cv/"
      "$PGL" evaluate --pred "$OUT/chaos-cv" --ref ../shared/data/chaos_t2 --out "$OUT/chaos-cv_metrics.csv" ;;
    openkbp)
      finetune "$OUT/openkbp" --data ../shared/data/openkbp --init random --test-split validation --time-budget 60 ;;
    ablation)
      # Session-5 defaults, then one part of the plan at a time. Spacing and patch on CHAOS fold 0 (small
      # preset, 10 min): native 1.25 x 1.25 x 7.7 mm with a 48^3 cube; planned spacing with the cube; the
      # whole plan. Normalisation on OpenKBP (20 min): the old fixed window [-1000, 1000], then the planned
      # foreground percentiles. The schedule (best checkpoint, post-processing) is read from the planned runs.
      chaos=(--data ../shared/data/chaos_t2 --init random --folds 5 --fold 0 --time-budget 10)
      finetune "$OUT/ablate-chaos-s5" "${chaos[@]}" --spacing 1.25,1.25,7.7 --patch 48 --levels 4
      finetune "$OUT/ablate-chaos-spacing" "${chaos[@]}" --patch 48 --levels 4
      finetune "$OUT/ablate-chaos-planned" "${chaos[@]}"
      openkbp=(--data ../shared/data/openkbp --init random --test-split validation --time-budget 20)
      finetune "$OUT/ablate-openkbp-window" "${openkbp[@]}" --normalization ct-window --ct-window=-1000,1000
      finetune "$OUT/ablate-openkbp-planned" "${openkbp[@]}" ;;
    schedule)
      schedule "$OUT/ablate-chaos-planned" ../shared/data/chaos_t2
      schedule "$OUT/ablate-openkbp-planned" ../shared/data/openkbp ;;
    chaos-cv)
      # Per case: the mean over its classes; then the mean over the 14 cases (each held out in one fold).
      awk -F, 'FNR > 1 { sum[$1] += $4; n[$1]++ }
        END { for (c in sum) { total += sum[c] / n[c]; cases++ }; printf "%d cases, mean Dice %.3f\n", cases, total / cases }' \
        docs/results/recipe/chaos-f?/held_out_metrics.csv ;;
    collect)
      for run in "$OUT"/*/; do
        run=${run%/}
        [ -e "$run/config.json" ] || continue
        dest=docs/results/recipe/$(basename "$run")
        mkdir -p "$dest"
        for f in config.json plan.json cases.json metrics.jsonl postprocessing.json held_out_metrics.csv \
          held_out_metrics_summary.json test_metrics.csv test_metrics_summary.json \
          schedule_{final,best}_none_metrics{.csv,_summary.json}; do
          [ -e "$run/$f" ] && cp "$run/$f" "$dest/"
        done
      done
      cp "$OUT"/chaos-cv_metrics*.* docs/results/recipe/ 2>/dev/null || true ;;
    *) echo "unknown run '$name'" >&2; usage ;;
  esac
done
