#include "pgl/seg/preset_choice.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "pgl/core/error.h"
#include "pgl/plan/backbone.h"
#include "pgl/plan/planner.h"
#include "pgl/seg/seg_loss.h"
#include "pgl/seg/seg_net.h"
#include "pgl/train/runtime.h"

namespace pgl::seg {

const std::vector<PresetCandidate>& auto_preset_candidates() {
  static const std::vector<PresetCandidate> all = {{"tiny", 8}, {"small", 0}, {"base", 0}};
  return all;
}

namespace {

int64_t step_macs(const plan::TrainingPlan& p) {
  return plan::network_macs(p.base, p.topology, p.patch) * p.batch;
}

std::string label(const PresetCandidate& c, const plan::TrainingPlan& p) {
  return fmt::format("{} (base {})", c.preset, p.base);
}

}  // namespace

PresetChoice choose_preset(const std::vector<PresetCandidate>& candidates,
                           const std::function<plan::TrainingPlan(const PresetCandidate&)>& plan_for,
                           const std::function<double(const plan::TrainingPlan&)>& time_step,
                           double seconds_left) {
  if (candidates.empty()) throw Error("--preset auto: no candidate presets");
  const double training_seconds = std::max(0.0, seconds_left) * kAutoPresetTrainingShare;
  auto affordable = [&](double seconds_per_step) {
    return static_cast<int64_t>(training_seconds / std::max(seconds_per_step, 1e-9));
  };
  PresetChoice choice;
  double previous_seconds = 0;
  int64_t previous_macs = 0;
  for (const PresetCandidate& candidate : candidates) {
    plan::TrainingPlan p;
    double seconds = 0;
    // A wider candidate that cannot be planned or timed (out of memory, say) ends the search at the previous
    // one; the narrowest must work, as training would need it to.
    auto attempt = [&](const auto& work) {
      if (choice.preset.empty()) {
        work();
        return true;
      }
      try {
        work();
        return true;
      } catch (const std::exception& e) {
        const std::string what = e.what();
        choice.trials.push_back(
            fmt::format("{}: could not be tried ({})", candidate.preset, what.substr(0, what.find('\n'))));
        return false;
      }
    };
    if (!attempt([&] { p = plan_for(candidate); })) break;
    const int64_t macs = step_macs(p);
    if (previous_macs > 0) {
      // Forward cost predicts the step time well enough to skip a candidate that cannot come close (a
      // wider network's probe can take tens of seconds on a CPU).
      const double estimate =
          previous_seconds * static_cast<double>(macs) / static_cast<double>(previous_macs);
      if (affordable(estimate) < kAutoPresetMinSteps / 2) {
        choice.trials.push_back(
            fmt::format("{}: about {:.2f} s per step from its forward cost, {} steps: "
                        "too few, not timed",
                        label(candidate, p), estimate, affordable(estimate)));
        break;
      }
    }
    if (!attempt([&] { seconds = time_step(p); })) break;
    const int64_t steps = affordable(seconds);
    const bool fits = steps >= kAutoPresetMinSteps;
    choice.trials.push_back(fmt::format(
        "{}: {:.3f} s per step timed, {} steps in {:.0f}% of the budget left{}", label(candidate, p), seconds,
        steps, 100 * kAutoPresetTrainingShare, fits ? "" : ": too few"));
    if (!fits && !choice.preset.empty()) break;
    choice.plan = p;
    choice.preset = candidate.preset;
    choice.base = p.base;
    choice.reason = fmt::format(
        "--preset auto: {}, the widest network that gets at least {} steps from the time budget ({:.3f} s "
        "per step timed here, about {} steps)",
        label(candidate, p), kAutoPresetMinSteps, seconds, steps);
    if (!fits) {
      choice.reason = fmt::format(
          "--preset auto: {}, the narrowest network (no candidate gets {} steps from the time budget; "
          "{:.3f} s per step timed here, about {} steps)",
          label(candidate, p), kAutoPresetMinSteps, seconds, steps);
      break;
    }
    previous_seconds = seconds;
    previous_macs = macs;
  }
  return choice;
}

double time_training_step(const plan::TrainingPlan& plan, int64_t classes, const std::string& precision,
                          c10::Device device) {
  constexpr int kUntimed = 2, kTimed = 3;
  torch::manual_seed(0);  // the probe draws its own weights; the run's RNG is re-seeded after it
  SegNet net(plan::backbone_options(plan), classes);
  net->to(device);
  net->train();
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(1e-3));
  const auto& s = plan.patch;  // x, y, z -> D, H, W
  const torch::Tensor image = torch::randn({plan.batch, 1, s[2], s[1], s[0]}).to(device);
  const torch::Tensor labels =
      torch::randint(0, classes, {plan.batch, s[2], s[1], s[0]}, torch::kLong).to(device);
  std::vector<double> times;
  for (int i = 0; i < kUntimed + kTimed; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    optimizer.zero_grad();
    torch::Tensor loss;
    {
      train::PrecisionScope scope(precision, device.is_cuda());
      loss = dice_ce_loss(net->forward(image), labels);
    }
    loss.backward();
    optimizer.step();
    (void)loss.item<float>();  // waits for the device
    if (i >= kUntimed)
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace pgl::seg
