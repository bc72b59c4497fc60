// The gradient scaler of fp16 training (train/grad_scaler.h): exact power-of-two scaling, skipping and
// backing off on overflow, growth after a run of good steps, and its state through a checkpoint's metadata.
#include "pgl/train/grad_scaler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "pgl/core/error.h"

namespace pgl::train {
namespace {

TEST(GradScaler, ScalesExactlyAndUnscalesTheGradients) {
  GradScaler scaler(1000);  // rounded to 1024: scaling stays exact
  EXPECT_EQ(scaler.scale(), 1024.0);
  torch::Tensor w = torch::tensor({0.5f, -2.0f}).requires_grad_(true);
  torch::Tensor loss = (w * w).sum();
  scaler.scaled(loss).backward();
  EXPECT_TRUE(torch::equal(w.grad(), torch::tensor({1024.0f, -4096.0f})));
  EXPECT_TRUE(scaler.unscale({w}));
  EXPECT_TRUE(torch::equal(w.grad(), torch::tensor({1.0f, -4.0f})));
  EXPECT_EQ(scaler.overflows(), 0);
}

TEST(GradScaler, OverflowSkipsTheStepAndHalvesTheScale) {
  GradScaler scaler(GradScaler::kDefaultScale);
  torch::Tensor w = torch::ones({3}).requires_grad_(true);
  w.mutable_grad() = torch::tensor({1.0f, std::numeric_limits<float>::infinity(), 2.0f});
  EXPECT_FALSE(scaler.unscale({w}));
  EXPECT_TRUE(torch::equal(w.grad(), torch::zeros({3})));  // nothing of the step reaches the optimiser
  EXPECT_EQ(scaler.scale(), GradScaler::kDefaultScale / 2);
  EXPECT_EQ(scaler.overflows(), 1);
  // At the floor the gradients themselves are not finite: no skip here, the non-finite guard decides.
  GradScaler floor(GradScaler::kMinScale);
  w.mutable_grad() = torch::tensor({1.0f, std::numeric_limits<float>::quiet_NaN(), 2.0f});
  EXPECT_TRUE(floor.unscale({w}));
  EXPECT_TRUE(std::isnan(w.grad()[1].item<float>()));
  EXPECT_EQ(floor.scale(), GradScaler::kMinScale);
  EXPECT_EQ(floor.overflows(), 0);
}

TEST(GradScaler, GrowsAfterARunOfGoodStepsAndKeepsItsStateThroughACheckpoint) {
  GradScaler scaler(8);
  for (int64_t k = 0; k < GradScaler::kGrowthInterval - 1; ++k) scaler.step_taken();
  EXPECT_EQ(scaler.scale(), 8.0);
  GradScaler resumed(8);
  resumed.load({{"grad_scaler", scaler.to_json()}}, "latest.pt");
  resumed.step_taken();  // the run's 2000th good step, after the resume
  EXPECT_EQ(resumed.scale(), 16.0);
  EXPECT_THROW(resumed.load({{"grad_scaler", {{"scale", "big"}}}}, "latest.pt"), Error);
  EXPECT_THROW(resumed.load({{"grad_scaler", {{"scale", -1.0}, {"good_steps", 0}, {"overflows", 0}}}}, "x"),
               Error);
}

TEST(GradScaler, OffChangesNothing) {
  GradScaler off = GradScaler::for_run("fp32", 0);
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(GradScaler::for_run("fp16", 0).enabled());
  torch::Tensor loss = torch::tensor(3.0f);
  EXPECT_TRUE(off.scaled(loss).equal(loss));
  EXPECT_THROW(GradScaler(-1), Error);
}

}  // namespace
}  // namespace pgl::train
