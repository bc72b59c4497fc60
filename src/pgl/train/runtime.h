#pragma once
// Process-wide LibTorch settings for a run.
#include <string>

namespace pgl::train {

// Intra-op threads of LibTorch (it defaults to one here). Call once, early, from the main thread.
void configure_threads(int threads);
// For data worker threads: their LibTorch ops run single-threaded so they do not compete with the step.
// Cheap to call for every batch (it acts once per thread).
void configure_worker_thread();

// RAII: bf16 autocast for the forward pass when precision == "bf16", on the CPU or on CUDA (`cuda`); nothing
// for "fp32". (fp16 would need a gradient scaler, which pgl does not have: bf16 needs none.)
class PrecisionScope {
 public:
  explicit PrecisionScope(const std::string& precision, bool cuda = false);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  bool enabled_ = false, cuda_ = false;
};

}  // namespace pgl::train
