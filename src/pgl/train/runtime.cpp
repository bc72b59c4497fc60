#include "pgl/train/runtime.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <omp.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cstdio>

#include "pgl/core/error.h"

namespace pgl::train {

void configure_threads(int threads) {
  if (threads < 1) throw Error("--threads must be at least 1");
  torch::set_num_threads(threads);
}

void configure_worker_thread() {
  thread_local bool configured = false;
  if (configured) return;
  configured = true;
  // Per-thread only: at::set_num_threads would change the process-wide count (and with it the numerics of
  // the training step). LibTorch first initialises this thread's OpenMP setting from the global one, so
  // let it do that, then lower this thread's own value.
  at::internal::lazy_init_num_threads();
  omp_set_num_threads(1);
}

namespace {

// Autocast to `dtype` on or off for one device type. LibTorch 2.4 replaced the per-device calls of 1.x by
// calls that take the device type and deprecates the old ones, so this needs a version test.
void set_autocast(bool cuda, at::ScalarType dtype, bool enabled) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  const auto type = cuda ? at::kCUDA : at::kCPU;
  if (enabled) at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (cuda) {
    if (enabled) at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
  } else {
    if (enabled) at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

}  // namespace

void check_precision_name(const std::string& precision) {
  if (precision != "fp32" && precision != "bf16" && precision != "fp16")
    throw Error("unknown precision '" + precision + "' (expected fp32, bf16 or fp16)");
}

void check_precision(const std::string& precision, bool cuda) {
  check_precision_name(precision);
  if (precision == "fp16" && !cuda)
    throw Error(
        "--precision fp16 needs a CUDA device (LibTorch's CPU autocast runs bf16: use --precision bf16)");
#if defined(__x86_64__) || defined(__i386__)
  // oneDNN has bf16 convolutions only from AVX-512; below it LibTorch falls back to reference loops.
  static bool warned = false;
  if (precision == "bf16" && !cuda && !warned && !__builtin_cpu_supports("avx512f")) {
    warned = true;
    std::fprintf(stderr,
                 "pgl: warning: --precision bf16 on a CPU without AVX-512 runs LibTorch's slow fallback "
                 "convolutions (about 10x slower than fp32 on an AVX2 CPU, docs/performance.md); fp32 is "
                 "faster here\n");
  }
#endif
}

PrecisionScope::PrecisionScope(const std::string& precision, bool cuda) : cuda_(cuda) {
  check_precision(precision, cuda);
  if (precision == "fp32") return;
  enabled_ = true;
  half_ = precision == "fp16";
  set_autocast(cuda_, half_ ? at::kHalf : at::kBFloat16, true);
}

PrecisionScope::~PrecisionScope() {
  if (enabled_) {
    set_autocast(cuda_, half_ ? at::kHalf : at::kBFloat16, false);
    at::autocast::clear_cache();
  }
}

}  // namespace pgl::train
