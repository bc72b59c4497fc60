#include <gtest/gtest.h>

#include <cmath>

#include "pgl/core/error.h"
#include "pgl/ssl/ema.h"
#include "pgl/ssl/loss.h"

namespace {

TEST(Loss, ZeroForIdenticalMapsAndScaleInvariant) {
  const torch::Tensor p = torch::randn({2, 8, 4, 4, 4});
  EXPECT_NEAR(pgl::ssl::consistency_loss(p, p).item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(pgl::ssl::consistency_loss(p, 3.0 * p).item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(pgl::ssl::consistency_loss(p, -p).item<double>(), 4.0, 1e-6);
  EXPECT_NEAR(pgl::ssl::symmetric_consistency_loss(p, p, p, p).item<double>(), 0.0, 1e-6);
}

TEST(Loss, SymmetricInTheTwoViews) {
  const torch::Tensor p1 = torch::randn({2, 4, 3, 3, 3}), p2 = torch::randn({2, 4, 3, 3, 3});
  const torch::Tensor z1 = torch::randn({2, 4, 3, 3, 3}), z2 = torch::randn({2, 4, 3, 3, 3});
  EXPECT_NEAR(pgl::ssl::symmetric_consistency_loss(p1, z2, p2, z1).item<double>(),
              pgl::ssl::symmetric_consistency_loss(p2, z1, p1, z2).item<double>(), 1e-6);
}

TEST(Loss, MatchesAHandComputation) {
  // Two voxels, two channels: (1, 0) vs (0, 1): cos 0 -> 2; (1, 1) vs (1, 0): cos 1/sqrt2 -> 2 - sqrt2.
  const torch::Tensor p = torch::tensor({1.0, 1.0, 0.0, 1.0}).view({1, 2, 2, 1, 1});
  const torch::Tensor z = torch::tensor({0.0, 1.0, 1.0, 0.0}).view({1, 2, 2, 1, 1});
  const torch::Tensor per_voxel = pgl::ssl::cosine_distance(p, z);
  EXPECT_NEAR(per_voxel.flatten()[0].item<double>(), 2.0, 1e-6);
  EXPECT_NEAR(per_voxel.flatten()[1].item<double>(), 2.0 - std::sqrt(2.0), 1e-6);
  EXPECT_NEAR(pgl::ssl::consistency_loss(p, z).item<double>(), (4.0 - std::sqrt(2.0)) / 2, 1e-6);
  // Pooled vectors [N, C] work the same way.
  EXPECT_NEAR(
      pgl::ssl::consistency_loss(torch::tensor({{1.0, 0.0}}), torch::tensor({{0.0, 2.0}})).item<double>(),
      2.0, 1e-6);
}

TEST(Loss, DirectionSpreadIsOneForSpreadOutputsAndZeroForCollapsedOnes) {
  torch::manual_seed(0);
  // Gaussian vectors point evenly in all directions: per-channel std of the unit vectors is 1/sqrt(C).
  EXPECT_NEAR(pgl::ssl::direction_spread(torch::randn({4, 16, 8, 8, 8})), 1.0, 0.05);
  EXPECT_NEAR(pgl::ssl::direction_spread(torch::randn({4096, 32})), 1.0, 0.05);
  // Collapse: every output the same direction, whatever its length.
  const torch::Tensor one = torch::randn({1, 16, 1, 1, 1});
  const torch::Tensor scales = torch::rand({4, 1, 3, 3, 3}) + 0.5;
  EXPECT_NEAR(pgl::ssl::direction_spread(one * scales), 0.0, 1e-5);
  // In between: a shared direction plus a little noise.
  const double partial =
      pgl::ssl::direction_spread(one.expand({4, 16, 3, 3, 3}) + 0.3 * torch::randn({4, 16, 3, 3, 3}));
  EXPECT_GT(partial, 0.05);
  EXPECT_LT(partial, 0.8);
}

TEST(Ema, TauFollowsTheCosineSchedule) {
  EXPECT_DOUBLE_EQ(pgl::ssl::ema_tau(0, 1000), 0.996);
  EXPECT_NEAR(pgl::ssl::ema_tau(500, 1000), 0.998, 1e-12);
  EXPECT_DOUBLE_EQ(pgl::ssl::ema_tau(1000, 1000), 1.0);
  EXPECT_NEAR(pgl::ssl::ema_tau(250, 1000, 0.99), 1 - 0.01 * (std::cos(M_PI / 4) + 1) / 2, 1e-12);
  // auto: BYOL's 0.996 for long runs; for short ones a base that leaves at most 1% of the initialisation.
  EXPECT_DOUBLE_EQ(pgl::ssl::auto_tau_base(5000), 0.996);
  for (int64_t steps : {100, 400, 1000}) {
    double kept = 1;
    for (int64_t k = 0; k < steps; ++k) kept *= pgl::ssl::ema_tau(k, steps, pgl::ssl::kTauAuto);
    EXPECT_LT(kept, 0.011) << steps;
    EXPECT_GT(kept, 0.005) << steps;
  }
  double kept = 1;
  for (int64_t k = 0; k < 400; ++k) kept *= pgl::ssl::ema_tau(k, 400);
  EXPECT_GT(kept, 0.4);  // 0.996 at 400 steps: about half of the initialisation stays
}

TEST(Ema, UpdateFollowsTheFormula) {
  torch::nn::Linear online(3, 2), target(3, 2);
  const torch::Tensor t0 = target->weight.detach().clone(), o = online->weight.detach().clone();
  pgl::ssl::freeze(*target);
  pgl::ssl::ema_update(*target, *online, 0.9);
  EXPECT_TRUE(torch::allclose(target->weight, 0.9 * t0 + 0.1 * o, 1e-6, 1e-7));
  EXPECT_FALSE(target->weight.requires_grad());
  torch::nn::Linear other(4, 2);
  EXPECT_THROW(pgl::ssl::ema_update(*target, *other, 0.9), pgl::Error);
}

TEST(Ema, BuffersAreCopied) {
  torch::nn::BatchNorm1d online(3), target(3);
  online->running_mean.fill_(2.5);
  pgl::ssl::ema_update(*target, *online, 0.99);
  EXPECT_TRUE(torch::equal(target->running_mean, online->running_mean));
}

}  // namespace
