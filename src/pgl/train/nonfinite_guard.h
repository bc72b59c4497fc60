#pragma once
// A step whose loss or gradients are not finite (NaN, Inf) never reaches the optimiser or the EMA update, so
// neither the model in memory nor any checkpoint is poisoned. By default the run stops with one error naming
// the step and the last good checkpoint; `--skip-nonfinite N` skips up to N such steps instead, counted in
// metrics.jsonl ("skipped_steps") and in the checkpoints.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pgl::train {

class NonFiniteGuard {
 public:
  // `skipped`: steps skipped before (a resumed run); `poison_step`: a step whose loss is made NaN (tests).
  NonFiniteGuard(int64_t max_skipped, int64_t skipped, int64_t poison_step)
      : max_skipped_(max_skipped), skipped_(skipped), poison_step_(poison_step) {}

  // The loss to back-propagate: `loss`, or NaN at the poisoned step.
  torch::Tensor poisoned(const torch::Tensor& loss, int64_t step) const;

  // After backward (and the gradient all-reduce): true when the step may update the model. Otherwise the
  // gradients are zeroed and the step is counted (false), or, past the allowance, pgl::Error is thrown,
  // naming `run`, the step and `last_good` (the newest checkpoint).
  bool admit(double loss, const std::vector<torch::Tensor>& parameters, int64_t step, const std::string& run,
             const std::string& last_good);
  int64_t skipped() const { return skipped_; }

 private:
  int64_t max_skipped_, skipped_, poison_step_;
};

}  // namespace pgl::train
