#pragma once
// Process-wide LibTorch settings for a run.
#include <string>

namespace pgl::train {

// Intra-op threads of LibTorch (it defaults to one here). Call once, early, from the main thread.
void configure_threads(int threads);
// For data worker threads: their LibTorch ops run single-threaded so they do not compete with the step.
// Cheap to call for every batch (it acts once per thread).
void configure_worker_thread();

// fp32 | bf16 | fp16: throws pgl::Error naming the choices for another name.
void check_precision_name(const std::string& precision);
// Also refuses fp16 off CUDA (LibTorch's CPU autocast runs bf16 only). Runs call it before any work.
void check_precision(const std::string& precision, bool cuda);

// RAII: autocast for the forward pass: bf16 on the CPU or on CUDA (`cuda`), fp16 on CUDA (training with it
// scales the loss: train/grad_scaler.h); nothing for "fp32".
class PrecisionScope {
 public:
  explicit PrecisionScope(const std::string& precision, bool cuda = false);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  bool enabled_ = false, cuda_ = false;
  bool half_ = false;
};

}  // namespace pgl::train
