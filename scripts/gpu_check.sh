#!/usr/bin/env bash
# The CUDA checks of docs/scaling.md, for a GPU machine: build pgl against that machine's LibTorch (a pip
# torch with CUDA) and run training, resuming, prediction and a data-parallel job with --device $GPU beside
# the same runs on the CPU, then the command-line tests that train, with PGL_DEVICE=cuda.
#
#   scripts/gpu_check.sh [OUT]      (default gpu-check/): log OUT/gpu_check.log, figures OUT/summary.txt
#
# Needs CMake, ninja, a C++17 compiler, and python3 with torch (its CMake config and torchrun). Debian packages
# the machine lacks (ITK, CLI11, fmt, ...) can be given as .deb files in the folder $PGL_DEBS: they are
# unpacked under /tmp/pgl-deps, never into /, and only the libraries the machine lacks are put on its path.
# Other settings: TORCH_DIR (another LibTorch's CMake config), PGL_BUILD_DIR (default build-cuda),
# PGL_DEPS_DIR (where the .deb files go, default /tmp/pgl-deps), PGL_GPU_CHECK_SECONDS (the whole check's
# budget; the tests get what is left, default 540), PGL_GPU_CHECK_SPEED=0 (skip the step timings), and
# PGL_GPU_CHECK_DEVICE=cpu (a dry run of this script on a machine without a GPU), PGL_GPU_CHECK_RUNS=0 (no
# runs, only the tests) and PGL_GPU_CHECK_TESTS (the ctest regular expression).
set -uo pipefail
OUT=${1:-${OUT:-gpu-check}}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.."
: >"$OUT/summary.txt"
exec > >(tee "$OUT/gpu_check.log") 2>&1
PY=${PYTHON:-python3}
W=$(mktemp -d /tmp/pgl-gpu-check.XXXXXX)
GPU=${PGL_GPU_CHECK_DEVICE:-cuda}  # cpu: a dry run of this script on a machine without a GPU
DEADLINE=${PGL_GPU_CHECK_SECONDS:-540}  # the tests get what is left of this, so that the summary is written
START=$(date +%s)
step() { printf '\n== %s %s\n' "$(date +%T)" "$*"; }
result() { echo "$*" | tee -a "$OUT/summary.txt"; }

step machine
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$PY -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "GPUs", torch.cuda.device_count())'
cmake --version | head -1
c++ --version | head -1
echo "cores: $(nproc)"
[ -d /usr/local/cuda/bin ] && export PATH=/usr/local/cuda/bin:$PATH
if command -v nvcc >/dev/null; then  # LibTorch's CMake config enables CUDA as a language
  export CUDACXX=${CUDACXX:-$(command -v nvcc)}
  nvcc --version | tail -1
fi

capability=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1)
args=(-DPGL_BUILD_BENCH=OFF -DCMAKE_POLICY_VERSION_MINIMUM=3.5 -DTORCH_CUDA_ARCH_LIST="${capability:-9.0}"
  -DTorch_DIR="${TORCH_DIR:-$($PY -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "share/cmake/Torch"))')}")
if [ -n "${PGL_DEBS:-}" ]; then
  step "unpacking $PGL_DEBS"
  D=${PGL_DEPS_DIR:-/tmp/pgl-deps}
  bash scripts/unpack_debs.sh "$PGL_DEBS" "$D"
  mkdir -p "$D/rt"
  have=$(ldconfig -p)
  shopt -s nullglob
  for f in "$D"/usr/lib/x86_64-linux-gnu/lib*.so.[0-9]* "$D"/lib/x86_64-linux-gnu/lib*.so.[0-9]* "$D"/usr/lib/lib*.so.[0-9]*; do
    case $have in *$'\t'"$(basename "$f") "*) ;; *) cp -L "$f" "$D/rt/" ;; esac
  done
  shopt -u nullglob
  echo "libraries this machine lacks: $(ls "$D/rt" | wc -l)"
  export LD_LIBRARY_PATH=$D/rt${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export PKG_CONFIG_PATH=$D/usr/lib/x86_64-linux-gnu/pkgconfig:$D/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
  args+=(-DCMAKE_PREFIX_PATH="$D/usr" -DHDF5_ROOT="$D/usr/lib/x86_64-linux-gnu/hdf5/serial")
  # ITK's config looks for DCMTK and MINC, whose ITK modules pgl does not use: empty configs satisfy it.
  for c in dcmtk/DCMTKConfig.cmake LIBMINC/LIBMINCConfig.cmake; do
    f=$D/usr/lib/x86_64-linux-gnu/cmake/$c
    [ -e "$f" ] || { mkdir -p "$(dirname "$f")" && echo "# not carried (pgl does not use it)" >"$f"; }
  done
  command -v pkg-config >/dev/null || args+=(-DPKG_CONFIG_EXECUTABLE="$D/usr/bin/pkgconf")
fi

step configure
B=${PGL_BUILD_DIR:-build-cuda}
if ! cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release "${args[@]}" >"$OUT/configure.log" 2>&1; then
  tail -60 "$OUT/configure.log"
  result "configure: FAILED"
  exit 1
fi
grep -iE "warning|cuda|torch" "$OUT/configure.log" | head -20
step "build pgl"
SECONDS=0
if ! ninja -C $B pgl >"$OUT/build.log" 2>&1; then
  grep -E "error|Error" "$OUT/build.log" | head -40
  tail -20 "$OUT/build.log"
  result "build: FAILED"
  exit 1
fi
result "build: pgl built against $($PY -c 'import torch; print(torch.__version__)') in ${SECONDS} s on $(nproc) cores"
(ninja -C $B pgl_cli_tests >"$OUT/build_tests.log" 2>&1; echo $? >"$W/tests_built") &
tests_build=$!
PGL=$(cd $B && pwd)/apps/pgl/pgl

# Losses per step of a run folder's metrics.jsonl.
losses() { $PY -c "import json,sys; print(' '.join(str(json.loads(l)['loss']) for l in open(sys.argv[1]) if '\"loss\"' in l))" "$1/metrics.jsonl" 2>/dev/null; }
# Largest relative difference of two loss lists.
compare() {
  $PY - "$1" "$2" <<'EOF'
import sys
a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
n = min(len(a), len(b))
d = [abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a[:n], b[:n])]
print(f"{n} steps; step 1 {d[0]:.2e}, first 3 {max(d[:3]):.2e}, all {max(d):.2e} relative" if n else "no steps")
EOF
}
step_ms() { $PY -c "import json,sys,statistics as s; v=[json.loads(l)['step_ms'] for l in open(sys.argv[1]) if 'step_ms' in l][2:]; print(f'{s.median(v):.1f}')" "$1/metrics.jsonl" 2>/dev/null || echo "(no run)"; }

if [ "${PGL_GPU_CHECK_RUNS:-1}" != 0 ]; then  # 0: build and run the tests only
step "a GPU that is not there"
out=$($PGL pretrain --data "$W/none" --out "$W/none-run" --device ${GPU%%:*}:9 2>&1)
rc=$?
result "--device ${GPU%%:*}:9: exit $rc: $out"

step phantoms
$PGL phantom --task spleen --cases 6 --seed 3 --out "$W/ph" >/dev/null || exit 1
common=(--data "$W/ph" --preset tiny --base 8 --steps 20 --log-every 1 --seed 0 --cache "$W/cache")

step "PGL pretraining, fp32: CUDA against CPU"
timeout 120 $PGL pretrain "${common[@]}" --device $GPU --out "$W/pt-cuda" >"$W/pt-cuda.log" 2>&1 || tail -20 "$W/pt-cuda.log"
timeout 120 $PGL pretrain "${common[@]}" --device cpu --threads 8 --out "$W/pt-cpu" >"$W/pt-cpu.log" 2>&1 || tail -20 "$W/pt-cpu.log"
result "ops without a deterministic CUDA kernel: $(grep -ohE "[a-z_0-9]+ does not have a deterministic implementation" "$W"/pt-cuda.log | sort -u | tr '\n' ';')"
result "pretrain fp32 cuda: $(losses "$W/pt-cuda" | cut -d' ' -f1-3) ..."
result "pretrain fp32 cpu:  $(losses "$W/pt-cpu" | cut -d' ' -f1-3) ..."
result "pretrain fp32 cuda vs cpu: $(compare "$(losses "$W/pt-cuda")" "$(losses "$W/pt-cpu")")"

step "PGL pretraining, bf16 on CUDA"
timeout 120 $PGL pretrain "${common[@]}" --device $GPU --precision bf16 --out "$W/pt-bf16" >"$W/pt-bf16.log" 2>&1 || tail -20 "$W/pt-bf16.log"
result "pretrain bf16 cuda vs fp32 cuda: $(compare "$(losses "$W/pt-bf16")" "$(losses "$W/pt-cuda")")"

step "PGL pretraining, fp16 with loss scaling on CUDA"
timeout 120 $PGL pretrain "${common[@]}" --device $GPU --precision fp16 --out "$W/pt-fp16" >"$W/pt-fp16.log" 2>&1 || tail -20 "$W/pt-fp16.log"
result "pretrain fp16 cuda vs fp32 cuda: $(compare "$(losses "$W/pt-fp16")" "$(losses "$W/pt-cuda")")"
result "fp16 loss scale and overflows at the end: $(tail -1 "$W/pt-fp16/metrics.jsonl" | $PY -c "import json,sys; l=json.loads(sys.stdin.read()); print(l.get('loss_scale'), l.get('loss_scale_overflows'))" 2>&1)"

step "resume: stopped on CUDA at step 10, resumed on CUDA and on the CPU"
timeout 120 $PGL pretrain "${common[@]}" --device $GPU --stop-at 10 --out "$W/pt-stop" >/dev/null 2>&1
cp -r "$W/pt-stop" "$W/pt-stop-cpu"
timeout 120 $PGL pretrain "${common[@]}" --device $GPU --resume --out "$W/pt-stop" >"$W/resume.log" 2>&1 || tail -10 "$W/resume.log"
timeout 120 $PGL pretrain "${common[@]}" --device cpu --threads 8 --resume --out "$W/pt-stop-cpu" >"$W/resume-cpu.log" 2>&1 || tail -10 "$W/resume-cpu.log"
result "resumed on cuda vs uninterrupted cuda: $(compare "$(losses "$W/pt-stop")" "$(losses "$W/pt-cuda")")"
result "resumed on cpu vs uninterrupted cuda:  $(compare "$(losses "$W/pt-stop-cpu")" "$(losses "$W/pt-cuda")")"
timeout 120 $PGL pretrain "${common[@]}" --device $GPU --out "$W/pt-cuda2" >/dev/null 2>&1
result "cuda run repeated vs itself: $(compare "$(losses "$W/pt-cuda2")" "$(losses "$W/pt-cuda")")"

step "step time, small preset, batch 2, 30 steps"
for run in "gpu|$GPU|fp32" "gpu|$GPU|bf16" "cpu|cpu|fp32"; do
  [ "${PGL_GPU_CHECK_SPEED:-1}" = 0 ] && break
  IFS='|' read -r name dev prec <<<"$run"
  timeout 150 $PGL pretrain --data "$W/ph" --preset small --batch 2 --steps 30 --log-every 1 --cache "$W/cache" \
    --device $dev --threads 16 --precision $prec --out "$W/speed-$name-$prec" >/dev/null 2>&1
  result "pretrain step, small preset, batch 2, $dev $prec: median $(step_ms "$W/speed-$name-$prec") ms (16 CPU threads)"
done

step "fine-tuning from the CUDA pretraining, on CUDA and on the CPU, 200 steps; prediction on both"
ft=(--data "$W/ph" --preset tiny --base 8 --steps 200 --val-every 100 --seed 0 --cache "$W/cache" --folds 3 --fold 0)
timeout 200 $PGL finetune "${ft[@]}" --init "$W/pt-cuda" --device $GPU --out "$W/ft-cuda" >"$W/ft-cuda.log" 2>&1 || tail -20 "$W/ft-cuda.log"
timeout 200 $PGL finetune "${ft[@]}" --init "$W/pt-cuda" --device cpu --threads 8 --out "$W/ft-cpu" >"$W/ft-cpu.log" 2>&1 || tail -20 "$W/ft-cpu.log"
result "fine-tuning ops without a deterministic CUDA kernel: $(grep -ohE "[a-z_0-9]+ does not have a deterministic implementation" "$W"/ft-cuda.log | sort -u | tr '\n' ';')"
for r in ft-cuda ft-cpu; do
  result "$r: step $(step_ms "$W/$r") ms; $(grep -E "^done:" "$W/$r.log"); held-out spleen: $(grep -E "^1 spleen" "$W/$r.log")"
done
mkdir -p "$W/images"
cp "$W"/ph/imagesTr/*.nii.gz "$W/images/"
for pair in "gpu|$GPU" "cpu|cpu"; do
  name=${pair%%|*} dev=${pair#*|}
  SECONDS=0
  timeout 200 $PGL predict --model "$W/ft-cuda" --input "$W/images" --out "$W/pred-$name" --device $dev --threads 16 \
    >"$W/pred-$name.log" 2>&1 || tail -10 "$W/pred-$name.log"
  result "predict 6 volumes on $dev: ${SECONDS} s"
done
timeout 200 $PGL predict --model "$W/ft-cuda" --input "$W/images" --out "$W/pred-gpu-cpublend" --device $GPU \
  --blend-on cpu --threads 16 >"$W/pred-gpu-cpublend.log" 2>&1 || tail -10 "$W/pred-gpu-cpublend.log"
same=0
for f in "$W"/pred-gpu/*.nii.gz; do cmp -s "$f" "$W/pred-gpu-cpublend/$(basename "$f")" && same=$((same + 1)); done
result "predict on $GPU, blending on the device (auto) vs on the CPU: $same of 6 label files identical"
$PGL evaluate --pred "$W/pred-gpu" --ref "$W/pred-cpu" --labels "$W/ph/dataset.json" --out "$W/agree.csv" >/dev/null 2>&1
result "GPU labels against CPU labels, Dice per class (mean, min over 6 cases): $($PY -c "
import csv, sys, collections
d = collections.defaultdict(list)
for r in csv.DictReader(open(sys.argv[1])): d[r.get('class_name') or r.get('class')].append(float(r['dice']))
print('; '.join(f'{k} {sum(v)/len(v):.5f}, {min(v):.5f}' for k, v in d.items()))" "$W/agree.csv" 2>&1 | tail -1)"

step "two ranks on the one GPU (torchrun, Gloo on CPU copies) against one process with batch 2"
timeout 150 $PGL pretrain "${common[@]}" --batch 2 --device $GPU --out "$W/dp-1" >/dev/null 2>&1
timeout 150 $PY -m torch.distributed.run --redirects 1 --tee 1 --log_dir "$W/torchrun" --no_python \
  --nproc_per_node 2 --master_port $((29500 + RANDOM % 2000)) \
  $PGL pretrain "${common[@]}" --batch 1 --device $GPU --out "$W/dp-2" >"$W/dp-2.log" 2>&1 || tail -20 "$W/dp-2.log"
result "2 ranks x batch 1 vs 1 x batch 2 on cuda: $(compare "$(losses "$W/dp-2")" "$(losses "$W/dp-1")")"


fi  # PGL_GPU_CHECK_RUNS
step "command-line tests that train, with PGL_DEVICE=cuda"
wait $tests_build
left=$((DEADLINE - $(date +%s) + START - 10))
if [ "$(cat "$W/tests_built")" != 0 ]; then
  grep -E "error" "$OUT/build_tests.log" | head -20
  result "tests: build FAILED"
elif [ $left -lt 40 ]; then
  result "tests: not run, ${left} s left of the ${DEADLINE} s"
else
  (cd $B && PGL_DEVICE=$GPU PGL_TEST_PYTHON=$(command -v $PY) timeout $left ctest -j 8 --timeout $left \
    -R "${PGL_GPU_CHECK_TESTS:-Pipeline|Distributed|NonFinite|UnfinishedRun|FinetuneQuality|Device}" \
    --output-on-failure >"$OUT/ctest.log" 2>&1)
  grep -E "tests passed|Failed|\*\*\*|Not Run|SKIPPED" "$OUT/ctest.log" | head -40
  count() { grep -oE "Test +#[0-9]+: .*$1" "$OUT/ctest.log" | sort -u | wc -l; }
  result "ctest (PGL_DEVICE=$GPU, ${left} s allowed): $(count ' Passed') passed, $(count '\*\*\*(Failed|Timeout)') failed, \
$(count '\*\*\*Skipped') skipped; $(grep -E 'tests passed' "$OUT/ctest.log" || echo 'stopped at the time limit')"
fi
step done
# the runs' small files (metrics, configs, logs), for the record
tar czf "$OUT/runs.tar.gz" -C "$W" --exclude=checkpoints --exclude=cache --exclude=ph --exclude=images \
  --exclude='*.nii.gz' --exclude='*.pt' . 2>/dev/null
cat "$OUT/summary.txt"
