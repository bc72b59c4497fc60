#pragma once
// Learning-rate schedules (LibTorch 1.13 has neither cosine nor poly decay). A schedule maps the step index
// (0-based, the step about to be taken) to a learning rate; set_learning_rate applies it to every param
// group of any torch::optim optimiser:
//
//   WarmupCosineSchedule schedule(0.05, /*warmup_steps=*/100, /*total_steps=*/2000);
//   for (int64_t step = 0; step < 2000; ++step) {
//     set_learning_rate(optimizer, schedule.lr(step));
//     ... optimizer.step();
//   }
#include <torch/torch.h>

#include <cstdint>

namespace pgl::train {

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  virtual double lr(int64_t step) const = 0;
};

// Linear warm-up from base_lr / warmup_steps (step 0) to base_lr (step warmup_steps - 1), then cosine decay
// from base_lr (step warmup_steps) to final_lr (step total_steps); steps beyond stay at final_lr.
class WarmupCosineSchedule : public LrSchedule {
 public:
  WarmupCosineSchedule(double base_lr, int64_t warmup_steps, int64_t total_steps, double final_lr = 0.0);
  double lr(int64_t step) const override;

 private:
  double base_lr_, final_lr_;
  int64_t warmup_steps_, total_steps_;
};

// nnU-Net's poly decay: base_lr * (1 - t / T)^exponent over the T = total_steps - warmup_steps steps after
// an optional linear warm-up (same warm-up as above); 0 from step total_steps on.
class PolySchedule : public LrSchedule {
 public:
  PolySchedule(double base_lr, int64_t total_steps, double exponent = 0.9, int64_t warmup_steps = 0);
  double lr(int64_t step) const override;

 private:
  double base_lr_, exponent_;
  int64_t total_steps_, warmup_steps_;
};

// A fixed learning rate (for completeness: a schedule can always be passed around).
class ConstantSchedule : public LrSchedule {
 public:
  explicit ConstantSchedule(double base_lr) : base_lr_(base_lr) {}
  double lr(int64_t) const override { return base_lr_; }

 private:
  double base_lr_;
};

// Sets lr on every param group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);
// The lr of the first param group.
double learning_rate(torch::optim::Optimizer& optimizer);

}  // namespace pgl::train
