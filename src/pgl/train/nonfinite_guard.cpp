#include "pgl/train/nonfinite_guard.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "pgl/core/error.h"

namespace pgl::train {

torch::Tensor NonFiniteGuard::poisoned(const torch::Tensor& loss, int64_t step) const {
  return step == poison_step_ ? loss * std::numeric_limits<double>::quiet_NaN() : loss;
}

bool NonFiniteGuard::admit(double loss, const std::vector<torch::Tensor>& parameters, int64_t step,
                           const std::string& run, const std::string& last_good) {
  // One pass over the gradients: a NaN or Inf anywhere makes the sum of magnitudes non-finite.
  double magnitude = 0;
  {
    torch::NoGradGuard no_grad;
    torch::Tensor total = torch::zeros({}, torch::kFloat64);
    for (const auto& p : parameters)
      if (p.grad().defined()) total += p.grad().abs().sum().to(torch::kCPU, torch::kFloat64);
    magnitude = total.item<double>();
  }
  if (std::isfinite(loss) && std::isfinite(magnitude)) return true;
  const std::string what =
      std::isfinite(loss) ? "the gradients are not finite" : fmt::format("the loss is {}", loss);
  if (skipped_ < max_skipped_) {
    ++skipped_;
    for (const auto& p : parameters)
      if (p.grad().defined()) p.grad().zero_();
    return false;
  }
  throw Error(run,
              fmt::format("step {}: {}; the model was not updated. The last good checkpoint is {}. Resume "
                          "with a lower --lr or with --clip-grad (adding --change-on-resume, which records "
                          "the change), or let up to N such steps be skipped with --skip-nonfinite N{}",
                          step + 1, what, last_good,
                          max_skipped_ > 0 ? fmt::format(" ({} skipped already)", skipped_) : ""));
}

}  // namespace pgl::train
