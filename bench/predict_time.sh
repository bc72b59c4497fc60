#!/bin/bash
# Sliding-window inference time of `pgl predict` (issue 5): one OpenKBP case and a 512x512x100 volume.
# Usage: bench/predict_time.sh MODEL_RUN [PGL_BINARY]
#   MODEL_RUN: a fine-tuning run folder (e.g. the small preset fine-tuned on OpenKBP).
# Prints wall seconds per configuration and the ratio to the 2-thread, no-TTA run of the same input with the
# automatic window batch (the baseline, measured in this script); "--window-batch 1" is one window per forward
# pass, as before session 4. Run it on an otherwise idle machine.
set -euo pipefail
MODEL=${1:?model run folder}
PGL=${2:-build/apps/pgl/pgl}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
KBP=../shared/data/openkbp/imagesTr/pt_201.nii.gz
"$PGL" phantom --task spleen --cases 1 --seed 7 --size 512,512,100 --spacing 0.8,0.8,2.5 --out "$WORK/ct512" \
  >/dev/null 2>&1
BIG=$(ls "$WORK"/ct512/imagesTr/*.nii.gz)

seconds() {  # seconds INPUT ARGS...: wall time of one prediction
  local input=$1; shift
  local t0=$(date +%s.%N)
  "$PGL" predict --model "$MODEL" --input "$input" --out "$WORK/pred" "$@" >/dev/null 2>&1
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'
}

for input in "$KBP" "$BIG"; do
  [ -e "$input" ] || { echo "skipped: $input is absent"; continue; }
  "$PGL" info "$input" | grep -E "size|spacing" | tr '\n' ' '; echo
  base=$(seconds "$input" --threads 2)
  printf "  %-22s %7.1f s  (baseline)\n" "2 threads" "$base"
  for config in "--threads 1" "--threads 2 --window-batch 1" "--threads 2 --tta"; do
    s=$(seconds "$input" $config)
    printf "  %-22s %7.1f s  x%.2f\n" "${config//--/}" "$s" "$(awk -v a="$s" -v b="$base" 'BEGIN { print a / b }')"
  done
done
