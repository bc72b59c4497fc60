#pragma once
// Loss scaling for fp16 training (CUDA autocast to half precision): the loss is multiplied by a scale before
// backward, so that small gradients do not flush to zero in half precision, and the gradients are divided by
// it before clipping and the optimiser step. A step whose scaled gradients overflowed is skipped and the
// scale halved; after kGrowthInterval good steps in a row it doubles. These are torch.cuda.amp.GradScaler's
// rules and defaults. The scale is a power of two, so scaling and unscaling are exact in any precision: with
// fp32 the scaler changes nothing but the skipped overflows, which is how the CPU tests check it.
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pgl::train {

class GradScaler {
 public:
  static constexpr double kDefaultScale = 65536.0;  // 2^16
  static constexpr int64_t kGrowthInterval = 2000;
  // Below this scale an overflow is not the scale's doing: the gradients themselves are not finite, and the
  // step goes to the non-finite guard (stop, or --skip-nonfinite) as any other.
  static constexpr double kMinScale = 1.0;

  // initial_scale 0: off (fp32 and bf16 need none).
  explicit GradScaler(double initial_scale);
  // A run's scaler: --loss-scale when given, else kDefaultScale for fp16 and off otherwise.
  static GradScaler for_run(const std::string& precision, double loss_scale) {
    return GradScaler(loss_scale > 0 ? loss_scale : precision == "fp16" ? kDefaultScale : 0);
  }
  bool enabled() const { return scale_ > 0; }
  double scale() const { return scale_; }
  int64_t overflows() const { return overflows_; }  // steps skipped for overflowing gradients

  torch::Tensor scaled(const torch::Tensor& loss) const;
  // After backward and the gradient all-reduce: divides the gradients by the scale and returns true, or,
  // when any of them is not finite and the scale is above kMinScale, zeroes them, halves the scale, counts
  // the step and returns false (the step must not reach the optimiser). Identical gradients give the same
  // answer on every rank.
  bool unscale(const std::vector<torch::Tensor>& parameters);
  // After a step that reached the optimiser: counts it towards the next growth of the scale.
  void step_taken();

  nlohmann::json to_json() const;
  // The state written by to_json into a checkpoint's meta["grad_scaler"]; an absent entry changes nothing.
  // Throws pgl::Error naming `source` for a malformed one.
  void load(const nlohmann::json& meta, const std::string& source);

 private:
  double scale_;
  int64_t good_steps_ = 0, overflows_ = 0;
};

}  // namespace pgl::train
