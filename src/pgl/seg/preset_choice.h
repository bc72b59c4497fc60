#pragma once
// --preset auto, the fine-tuning default: under a time budget, the widest network whose training step,
// timed on this machine, still leaves enough steps in the budget to converge. A wide network that gets too
// few steps loses to a narrow one that gets many: on phantom spleen at 10 minutes, the small preset's 864
// steps gave 0.728 held-out Dice and the tiny network's 4203 gave 0.864 (docs/RESULTS.md §7); on CHAOS the
// small preset needed 2500-3500 steps to reach its plateau. Without a budget, auto is the small preset.
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pgl/plan/training_plan.h"

namespace pgl::seg {

// Fewest steps a wider network must get from the budget to be chosen over a narrower one.
inline constexpr int64_t kAutoPresetMinSteps = 2500;
// The share of the remaining budget that training steps get: validation takes up to 10%
// (train::kValidationShare); data loading, post-processing and prediction take the rest.
inline constexpr double kAutoPresetTrainingShare = 0.85;

struct PresetCandidate {
  std::string preset;
  int64_t base = 0;  // 0: the preset's
};
// From narrow to wide: tiny with 8 channels (4 are too few to fine-tune from PGL, RESULTS.md §2), small,
// base.
const std::vector<PresetCandidate>& auto_preset_candidates();

struct PresetChoice {
  plan::TrainingPlan plan;
  std::string preset;
  int64_t base = 0;
  std::string reason;               // one line, stored in the plan's reasons["network"]
  std::vector<std::string> trials;  // one log line per candidate considered
};

// Plans each candidate (plan_for), times its step (time_step, seconds; only where the step time scaled
// from the previous candidate's by forward cost could still fit), and keeps the widest candidate that gets
// at least kAutoPresetMinSteps steps out of `seconds_left`; the narrowest when none does.
PresetChoice choose_preset(const std::vector<PresetCandidate>& candidates,
                           const std::function<plan::TrainingPlan(const PresetCandidate&)>& plan_for,
                           const std::function<double(const plan::TrainingPlan&)>& time_step,
                           double seconds_left);

// Median seconds of one fine-tuning step (forward, Dice + CE, backward, Adam) of the plan's network with
// `classes` outputs on random data, after untimed warm-up steps.
double time_training_step(const plan::TrainingPlan& plan, int64_t classes, const std::string& precision,
                          c10::Device device);

}  // namespace pgl::seg
