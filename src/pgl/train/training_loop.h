#pragma once
// The step loop that pretraining and fine-tuning share, so that the distributed, precision, non-finite,
// time-budget, logging, checkpoint and stop-at logic lives in one place. Each caller supplies what differs
// through hooks: the loss of a step's batch, the EMA update, validation, checkpoints, extra metrics.
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "pgl/train/grad_scaler.h"
#include "pgl/train/nonfinite_guard.h"
#include "pgl/train/rank_group.h"
#include "pgl/train/run_folder.h"
#include "pgl/train/step_window.h"
#include "pgl/train/time_budget.h"

namespace pgl::train {

struct LoopSettings {
  std::string label;         // progress label: "pretrain", "finetune"
  int64_t start = 0;         // steps done before (a resumed run)
  int64_t steps = 0;         // the step count; until a time budget chooses it, the count of --steps
  bool steps_chosen = true;  // false: a time budget chooses the count after its calibration steps
  double time_budget = 0;    // minutes (for the log line)
  int64_t log_every = 10, checkpoint_every = 100, stop_at = 0;
  int64_t val_every = 0;  // with a validate hook: validation rounds (and re-planning); else re-planning at
                          // checkpoints
  double clip_grad = 0;   // max global gradient norm; 0 = off
  int64_t batch = 1;      // per rank (samples/s)
  std::string profile;    // a file: the Chrome trace of kProfileSteps steps after kProfileWarmup (--profile)
};
inline constexpr int64_t kProfileWarmup = 3, kProfileSteps = 3;

// The settings every run's config holds alike (PretrainConfig, FinetuneConfig).
template <class Config>
LoopSettings loop_settings(std::string label, const Config& config, int64_t start, bool steps_chosen,
                           int64_t batch) {
  LoopSettings s;
  s.label = std::move(label);
  s.start = start;
  s.steps = config.steps;
  s.steps_chosen = steps_chosen;
  s.time_budget = config.time_budget;
  s.log_every = config.log_every;
  s.checkpoint_every = config.checkpoint_every;
  s.stop_at = config.stop_at;
  s.clip_grad = config.clip_grad;
  s.batch = batch;
  s.profile = config.profile;
  return s;
}

struct LoopHooks {
  std::function<torch::Tensor(int64_t step, double* data_wait)> loss;  // forward of this rank's batch
  std::function<double(int64_t step)> lr;                              // the schedule
  std::function<void(const std::string& name, int64_t done)> save;     // a checkpoint
  std::function<void(int64_t steps)> steps_changed;  // a time budget chose or re-planned the count
  // Optional:
  std::function<void(int64_t step)> before_step;                    // e.g. freezing the encoder
  std::function<void(int64_t step)> after_update;                   // after the optimiser step: the EMA
  std::function<void(StepWindow&)> step_values;                     // extra values averaged per metrics line
  std::function<void(nlohmann::json&, int64_t step)> metrics_line;  // extra fields of a metrics line
  std::function<double(int64_t done)> validate;                     // a validation round; returns its seconds
  std::function<bool()> plateaued;  // after a validation round: stop here, the run is complete
  // A time budget's calibration round took these seconds: the rounds from here on (train/time_budget.h)
  std::function<ValidationPlan(double seconds)> plan_validation;
  std::function<std::string(double loss, double lr)> status;  // progress text (default: the loss)
};

struct LoopParts {  // what the loop works with, owned by the caller
  RankGroup& group;
  RunFolder& run;
  torch::optim::Optimizer& optimizer;
  std::vector<torch::Tensor> parameters;  // what the optimiser trains
  StepBudget& budget;
  BudgetClock& clock;
  NonFiniteGuard& guard;
  GradScaler& scaler;            // loss scaling: fp16's, or --loss-scale's (else off)
  const std::string& last_good;  // the newest checkpoint, for the non-finite error (kept by `save`)
  std::chrono::steady_clock::time_point started;
};

struct LoopOutcome {
  int64_t steps_done = 0;
  double final_loss = 0;   // the mean loss of the last metrics line
  bool stopped = false;    // --stop-at: resume later
  bool plateaued = false;  // hooks.plateaued ended the run before its step count
};

// Runs steps settings.start .. settings.steps (as chosen or re-planned), then finishes the progress bar.
LoopOutcome run_training_loop(LoopSettings settings, const LoopHooks& hooks, LoopParts parts);

}  // namespace pgl::train
