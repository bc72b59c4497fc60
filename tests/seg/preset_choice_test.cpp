// --preset auto: the widest candidate that gets kAutoPresetMinSteps steps from the budget, with the step
// time injected so the rule is tested apart from this machine's speed; and the real probe of a step.
#include "pgl/seg/preset_choice.h"

#include <gtest/gtest.h>

#include <map>

#include "pgl/plan/topology.h"

namespace pgl::seg {
namespace {

// Candidates whose plans differ in base only; their step times come from the table.
struct Fixture {
  std::map<std::string, double> seconds;  // preset -> seconds per step
  std::vector<std::string> timed;

  PresetChoice choose(double budget_seconds) {
    auto plan_for = [](const PresetCandidate& c) {
      plan::TrainingPlan p;
      p.base = c.preset == "tiny" ? 8 : c.preset == "small" ? 16 : 32;  // widths the macs scale with
      p.patch = {32, 32, 32};
      p.topology = plan::isotropic_topology(3);
      return p;
    };
    auto time_step = [this](const plan::TrainingPlan& p) {
      const std::string name = p.base == 8 ? "tiny" : p.base == 16 ? "small" : "base";
      timed.push_back(name);
      return seconds.at(name);
    };
    return choose_preset(auto_preset_candidates(), plan_for, time_step, budget_seconds);
  }
};

double seconds_for_steps(double steps, double per_step) {
  return steps * per_step / kAutoPresetTrainingShare;
}

TEST(PresetChoice, TakesTheWidestCandidateThatGetsEnoughSteps) {
  Fixture f;
  f.seconds = {{"tiny", 0.1}, {"small", 0.5}, {"base", 4.0}};
  // Enough for small (3000 steps at 0.5 s), not for base: base's estimate from its forward cost (4x small's
  // at twice the width) gives 750 steps, under half the minimum, so it is not even timed.
  PresetChoice c = f.choose(seconds_for_steps(3000, 0.5));
  EXPECT_EQ(c.preset, "small");
  EXPECT_EQ(c.base, 16);
  EXPECT_EQ(f.timed, (std::vector<std::string>{"tiny", "small"}));
  ASSERT_EQ(c.trials.size(), 3u);
  EXPECT_NE(c.trials[2].find("not timed"), std::string::npos) << c.trials[2];
  EXPECT_NE(c.reason.find("widest"), std::string::npos) << c.reason;
}

TEST(PresetChoice, FallsBackToTheNarrowerCandidateWhenTheWiderGetsTooFewSteps) {
  Fixture f;
  f.seconds = {{"tiny", 0.1}, {"small", 0.6}, {"base", 4.0}};
  // 10 minutes: tiny gets 5100 steps, small 850 (the phantom spleen case of RESULTS.md §7).
  PresetChoice c = f.choose(600);
  EXPECT_EQ(c.preset, "tiny");
  EXPECT_EQ(c.base, 8);
  EXPECT_EQ(f.timed, (std::vector<std::string>{"tiny", "small"}));
  EXPECT_NE(c.trials[1].find("too few"), std::string::npos) << c.trials[1];
}

TEST(PresetChoice, KeepsTheNarrowestWhenNothingFits) {
  Fixture f;
  f.seconds = {{"tiny", 1.0}, {"small", 5.0}, {"base", 40.0}};
  PresetChoice c = f.choose(60);
  EXPECT_EQ(c.preset, "tiny");
  EXPECT_EQ(f.timed, (std::vector<std::string>{"tiny"}));  // nothing wider can fit where tiny does not
  EXPECT_NE(c.reason.find("narrowest"), std::string::npos) << c.reason;
}

TEST(PresetChoice, AWiderCandidateThatFailsEndsTheSearchAtTheNarrowerOne) {
  Fixture f;
  f.seconds = {{"tiny", 0.1}};  // timing small throws (as an out-of-memory error would)
  PresetChoice c = f.choose(seconds_for_steps(100000, 0.1));
  EXPECT_EQ(c.preset, "tiny");
  ASSERT_EQ(c.trials.size(), 2u);
  EXPECT_NE(c.trials[1].find("small: could not be tried"), std::string::npos) << c.trials[1];
  f.seconds.clear();  // the narrowest failing fails the run
  EXPECT_ANY_THROW(f.choose(600));
}

TEST(PresetChoice, TimesARealTrainingStep) {
  plan::TrainingPlan p;
  p.base = 4;
  p.patch = {16, 16, 8};
  p.topology = plan::isotropic_topology(2);
  p.batch = 1;
  const double seconds = time_training_step(p, 3, "fp32", c10::Device("cpu"));
  EXPECT_GT(seconds, 0.0);
  EXPECT_LT(seconds, 30.0);
}

}  // namespace
}  // namespace pgl::seg
