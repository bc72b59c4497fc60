#include "pgl/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "pgl/core/error.h"

namespace pgl::train {
namespace {

// Linear warm-up: step 0 already trains (lr > 0), step warmup - 1 reaches base_lr.
double warmup_lr(double base_lr, int64_t step, int64_t warmup_steps) {
  return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
}

}  // namespace

WarmupCosineSchedule::WarmupCosineSchedule(double base_lr, int64_t warmup_steps, int64_t total_steps,
                                           double final_lr)
    : base_lr_(base_lr), final_lr_(final_lr), warmup_steps_(warmup_steps), total_steps_(total_steps) {
  if (warmup_steps < 0 || total_steps < 1 || warmup_steps > total_steps)
    throw Error("cosine schedule: need 0 <= warmup_steps <= total_steps and total_steps >= 1");
}

double WarmupCosineSchedule::lr(int64_t step) const {
  step = std::max<int64_t>(step, 0);
  if (step < warmup_steps_) return warmup_lr(base_lr_, step, warmup_steps_);
  const int64_t decay_steps = total_steps_ - warmup_steps_;
  if (decay_steps <= 0 || step >= total_steps_) return final_lr_;
  const double progress = static_cast<double>(step - warmup_steps_) / static_cast<double>(decay_steps);
  return final_lr_ + (base_lr_ - final_lr_) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

PolySchedule::PolySchedule(double base_lr, int64_t total_steps, double exponent, int64_t warmup_steps)
    : base_lr_(base_lr), exponent_(exponent), total_steps_(total_steps), warmup_steps_(warmup_steps) {
  if (warmup_steps < 0 || total_steps < 1 || warmup_steps > total_steps)
    throw Error("poly schedule: need 0 <= warmup_steps <= total_steps and total_steps >= 1");
}

double PolySchedule::lr(int64_t step) const {
  step = std::max<int64_t>(step, 0);
  if (step < warmup_steps_) return warmup_lr(base_lr_, step, warmup_steps_);
  const int64_t decay_steps = total_steps_ - warmup_steps_;
  if (decay_steps <= 0 || step >= total_steps_) return 0.0;
  const double progress = static_cast<double>(step - warmup_steps_) / static_cast<double>(decay_steps);
  return base_lr_ * std::pow(1.0 - progress, exponent_);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

double learning_rate(torch::optim::Optimizer& optimizer) {
  if (optimizer.param_groups().empty()) throw Error("optimizer has no parameter groups");
  return optimizer.param_groups().front().options().get_lr();
}

}  // namespace pgl::train
