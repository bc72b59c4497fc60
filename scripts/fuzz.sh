#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan + UBSan, in build-fuzz/) and runs each of them in turn,
# one process at a time, splitting SECONDS between them. Prints the executions per target and any finding
# (crash-*, leak-*, timeout-*, oom-* files).
#
#   scripts/fuzz.sh SECONDS [TARGET...]       e.g. scripts/fuzz.sh 1800, scripts/fuzz.sh 120 nifti dicom
#
# Seeds come from fuzz/corpus/TARGET and fuzz/regressions/TARGET (read only); new inputs that reach new code
# go to build-fuzz/fuzz-corpus/TARGET, findings to build-fuzz/fuzz-findings/TARGET. A finding is to be fixed
# in pgl and its input copied to fuzz/regressions/TARGET/, which `ctest -R FuzzReplay` replays in the normal
# build. Environment: BUILD (default build-fuzz), NICE (default 10), RSS_LIMIT_MB (2048), TIMEOUT_S (10),
# MAX_LEN (65536), PGL_BUILD_LOCK (/tmp/pgl-build.lock: builds wait for other builds on this machine).
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $# -ge 1 && "$1" =~ ^[0-9]+$ ]] || usage
total=$1
shift
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BUILD:-build-fuzz}
lock=${PGL_BUILD_LOCK:-/tmp/pgl-build.lock}
all_targets=(nifti nifti_gz nrrd metaimage dicom dataset_json cache_sidecar cache_header checkpoint weights)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (known: ${all_targets[*]})" >&2; exit 2; }
done

# ---- build ----
if [[ ! -f $build/build.ninja ]]; then
  flock "$lock" cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGL_FUZZ=ON -DPGL_BUILD_TESTS=OFF -DPGL_BUILD_BENCH=OFF
fi
flock "$lock" ninja -C "$build" $(printf 'fuzz_%s ' "${targets[@]}")

# ---- run ----
per_target=$((total / ${#targets[@]}))
((per_target >= 1)) || per_target=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:handle_abort=1:detect_odr_violation=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/fuzz/lsan.supp:print_suppressions=0}
summary=()
findings=0
for t in "${targets[@]}"; do
  corpus=$root/$build/fuzz-corpus/$t
  out=$root/$build/fuzz-findings/$t
  tmp=$root/$build/fuzz-tmp/$t
  log=$root/$build/fuzz-logs/$t.log
  mkdir -p "$corpus" "$out" "$tmp" "$(dirname "$log")" "fuzz/regressions/$t"
  echo "== $t: ${per_target}s"
  touch "$log.started"
  start=$(date +%s)
  set +e
  # The first folder receives new inputs; the seeds and the regression corpus are only read.
  TMPDIR=$tmp nice -n "${NICE:-10}" "$root/$build/fuzz/fuzz_$t" "$corpus" "$root/fuzz/corpus/$t" \
    "$root/fuzz/regressions/$t" -max_total_time="$per_target" -rss_limit_mb="${RSS_LIMIT_MB:-2048}" \
    -malloc_limit_mb="${RSS_LIMIT_MB:-2048}" -timeout="${TIMEOUT_S:-10}" -max_len="${MAX_LEN:-65536}" \
    -print_final_stats=1 -artifact_prefix="$out/" >"$log" 2>&1
  status=$?
  set -e
  rm -rf "$tmp"
  seconds=$(($(date +%s) - start))
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  found=$(find "$out" -maxdepth 1 -type f -newer "$log.started" \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  if [[ -z "$execs" ]]; then
    execs="?"
    echo "   the fuzzer stopped before its statistics (status $status): see $log"
  fi
  if [[ -n "$found" || $status -ne 0 ]]; then
    findings=1
    grep -m3 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|contract broken|terminate called' \
      "$log" | sed 's/^/   /' || true
    for f in $found; do echo "   finding: $f"; done
  fi
  summary+=("$(printf '%-14s %6ss %12s executions %6s files in corpus  status %s' "$t" "$seconds" "$execs" \
    "$(find "$corpus" -type f | wc -l)" "$status")")
done

echo
echo "== summary (${total}s in all, ${per_target}s per target)"
printf '%s\n' "${summary[@]}"
if ((findings)); then
  echo "findings: see $build/fuzz-findings/ and $build/fuzz-logs/ (fix, then copy the input to fuzz/regressions/TARGET/)"
  exit 1
fi
echo "no findings"
