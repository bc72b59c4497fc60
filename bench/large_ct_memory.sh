#!/bin/bash
# Peak memory of `pgl info` and `pgl predict` on a large CT (reliability issue, docs/performance.md):
# a synthetic 512 x 512 x SLICES int16 volume (0.8 x 0.8 x 1 mm; a body of soft tissue with a denser core
# in air), written as .nii.gz, then each command under /usr/bin/time. Also shows the refusal of a volume
# too large for the memory allowed (ulimit -v).
#   bench/large_ct_memory.sh MODEL [SLICES=1000] [WORK=/tmp/pgl-large-ct]
# MODEL: a fine-tuned run folder or packed model (its classes and spacing set the prediction's cost).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench/large_ct_memory.sh MODEL [SLICES] [WORK]}
slices=${2:-1000}
work=${3:-/tmp/pgl-large-ct}
pgl=${PGL:-build/apps/pgl/pgl}
mkdir -p "$work"
ct=$work/ct_512x512x$slices.nii.gz
if [ ! -e "$ct" ]; then
  /usr/bin/python3 - "$ct" "$slices" <<'PY'
import gzip, struct, sys
import numpy as np
path, slices = sys.argv[1], int(sys.argv[2])
header = bytearray(352)
struct.pack_into("<i", header, 0, 348)
struct.pack_into("<8h", header, 40, 3, 512, 512, slices, 1, 1, 1, 1)
struct.pack_into("<hh", header, 70, 4, 16)  # int16
struct.pack_into("<8f", header, 76, 1, 0.8, 0.8, 1.0, 1, 1, 1, 1)
struct.pack_into("<f", header, 108, 352)
struct.pack_into("<f", header, 112, 1)  # scl_slope
struct.pack_into("<h", header, 254, 2)  # sform_code: scanner
for row, values in enumerate(([0.8, 0, 0, -204.8], [0, 0.8, 0, -204.8], [0, 0, 1, -500])):
    struct.pack_into("<4f", header, 280 + 16 * row, *values)
header[344:348] = b"n+1\0"
y, x = np.mgrid[0:512, 0:512]
body = ((x - 256) / 200.0) ** 2 + ((y - 256) / 150.0) ** 2 < 1
core = ((x - 256) / 60.0) ** 2 + ((y - 280) / 50.0) ** 2 < 1
rng = np.random.default_rng(0)
with gzip.open(path, "wb", compresslevel=1) as f:
    f.write(bytes(header))
    for z in range(slices):
        s = np.full((512, 512), -1000, np.int16)
        s[body] = 40
        s[core & (abs(z - slices / 2) < slices / 3)] = 300
        s += rng.integers(-20, 21, s.shape, dtype=np.int16)
        f.write(s.tobytes())
PY
fi
echo "input: $ct ($(du -h "$ct" | cut -f1) compressed, $((512 * 512 * slices / 1000000)) M voxels)"
measure() {
  local name=$1
  shift
  /usr/bin/time -f "%M %e" -o "$work/time.txt" "$@" > "$work/$name.log" 2>&1 || {
    echo "$name: failed"
    tail -3 "$work/$name.log"
    return 1
  }
  read -r kib seconds < "$work/time.txt"
  echo "$name: peak RSS $((kib / 1024)) MiB, $seconds s"
}
measure info "$pgl" info "$ct"
measure predict "$pgl" predict --model "$model" --input "$ct" --out "$work/pred"
# Too large for the memory allowed: refused before reading, with one error.
(ulimit -v $((3 * 1024 * 1024)) && "$pgl" info "$ct" 2>&1 | tail -1) || true
