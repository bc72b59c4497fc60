#include "pgl/train/schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "pgl/core/error.h"

namespace {

using pgl::train::PolySchedule;
using pgl::train::WarmupCosineSchedule;

TEST(Schedule, WarmupThenCosine) {
  WarmupCosineSchedule s(0.1, 10, 110, 0.001);
  EXPECT_DOUBLE_EQ(s.lr(0), 0.01);
  EXPECT_DOUBLE_EQ(s.lr(4), 0.05);
  EXPECT_DOUBLE_EQ(s.lr(9), 0.1);
  EXPECT_DOUBLE_EQ(s.lr(10), 0.1);                    // decay starts at the top
  EXPECT_NEAR(s.lr(60), 0.001 + 0.099 * 0.5, 1e-12);  // half-way
  EXPECT_NEAR(s.lr(35), 0.001 + 0.099 * 0.5 * (1 + std::cos(M_PI / 4)), 1e-12);
  EXPECT_DOUBLE_EQ(s.lr(110), 0.001);
  EXPECT_DOUBLE_EQ(s.lr(500), 0.001);
  WarmupCosineSchedule no_warmup(1.0, 0, 4);
  EXPECT_DOUBLE_EQ(no_warmup.lr(0), 1.0);
  EXPECT_NEAR(no_warmup.lr(2), 0.5, 1e-12);
  EXPECT_THROW(WarmupCosineSchedule(0.1, 20, 10), pgl::Error);
}

TEST(Schedule, PolyDecay) {
  PolySchedule s(0.01, 1000);
  EXPECT_DOUBLE_EQ(s.lr(0), 0.01);
  EXPECT_NEAR(s.lr(500), 0.01 * std::pow(0.5, 0.9), 1e-15);
  EXPECT_NEAR(s.lr(999), 0.01 * std::pow(0.001, 0.9), 1e-15);
  EXPECT_DOUBLE_EQ(s.lr(1000), 0.0);
  PolySchedule warm(0.01, 1100, 0.9, 100);
  EXPECT_DOUBLE_EQ(warm.lr(0), 0.0001);
  EXPECT_DOUBLE_EQ(warm.lr(99), 0.01);
  EXPECT_DOUBLE_EQ(warm.lr(100), 0.01);
  EXPECT_NEAR(warm.lr(600), 0.01 * std::pow(0.5, 0.9), 1e-15);
}

TEST(Schedule, SetsEveryParamGroup) {
  torch::Tensor a = torch::zeros({2}, torch::requires_grad()), b = torch::zeros({3}, torch::requires_grad());
  torch::optim::SGD sgd({a}, torch::optim::SGDOptions(0.1));
  sgd.add_param_group(
      torch::optim::OptimizerParamGroup({b}, std::make_unique<torch::optim::SGDOptions>(0.2)));
  pgl::train::set_learning_rate(sgd, 0.05);
  for (auto& group : sgd.param_groups()) EXPECT_DOUBLE_EQ(group.options().get_lr(), 0.05);
  torch::optim::Adam adam({a}, torch::optim::AdamOptions(1e-3));
  pgl::train::set_learning_rate(adam, 2e-4);
  EXPECT_DOUBLE_EQ(pgl::train::learning_rate(adam), 2e-4);
}

}  // namespace
