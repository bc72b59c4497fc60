// The fused InstanceNorm + residual + LeakyReLU kernel against LibTorch's composition (forward and backward)
// and against finite differences.
#include "pgl/nn/norm_act.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <vector>

#include "pgl/nn/resunet.h"

namespace pgl::nn {
namespace {

struct Case {
  std::vector<int64_t> shape;
  bool residual;
  double slope;
};

// Readable test names in gtest's output: the shape, with or without the residual, and the slope.
void PrintTo(const Case& c, std::ostream* os) {
  *os << "shape";
  for (const int64_t d : c.shape) *os << ' ' << d;
  *os << (c.residual ? ", residual" : "") << ", slope " << c.slope;
}

struct Result {
  torch::Tensor y, dx, dw, db, dr;
};

// y and the gradients of sum(y * probe) with respect to x, weight, bias and the residual.
Result run(bool fused, const torch::Tensor& x0, const torch::Tensor& w0, const torch::Tensor& b0,
           const torch::Tensor& r0, const torch::Tensor& probe, double slope) {
  set_fused_norm_act_enabled(fused);
  torch::Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(),
                b = b0.clone().requires_grad_();
  torch::Tensor r = r0.defined() ? r0.clone().requires_grad_() : torch::Tensor();
  torch::Tensor y = instance_norm_act(x, w, b, r, slope);
  (y.to(torch::kDouble) * probe).sum().backward();
  set_fused_norm_act_enabled(true);
  return {y.detach(), x.grad(), w.grad(), b.grad(), r.defined() ? r.grad() : torch::Tensor()};
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Largest difference relative to the reference's largest magnitude (at least 1).
double relative_diff(const torch::Tensor& a, const torch::Tensor& reference) {
  return max_diff(a, reference) / std::max(1.0, reference.abs().max().item<double>());
}

class NormActTest : public ::testing::TestWithParam<Case> {};

TEST_P(NormActTest, MatchesLibTorchForwardAndBackwardInFloat) {
  const Case c = GetParam();
  torch::manual_seed(3);
  const auto x = torch::randn(c.shape) * 2 + 0.7;  // an offset mean, as conv outputs have
  const int64_t channels = c.shape[1];
  const auto w = torch::rand({channels}) + 0.5, b = torch::randn({channels}) * 0.3;
  const auto r = c.residual ? torch::randn(c.shape) : torch::Tensor();
  const auto probe = torch::randn(c.shape, torch::kDouble);
  const Result fused = run(true, x, w, b, r, probe, c.slope);
  const Result reference = run(false, x, w, b, r, probe, c.slope);
  EXPECT_LT(relative_diff(fused.y, reference.y), 1e-5);
  EXPECT_LT(relative_diff(fused.dx, reference.dx), 1e-5);
  EXPECT_LT(relative_diff(fused.dw, reference.dw), 1e-5);
  EXPECT_LT(relative_diff(fused.db, reference.db), 1e-5);
  if (c.residual) {
    EXPECT_LT(relative_diff(fused.dr, reference.dr), 1e-6);
  }
  // Not merely close by accident: the output has both signs, so both branches of the activation ran.
  EXPECT_GT((reference.y < 0).sum().item<int64_t>() + (reference.y == 0).sum().item<int64_t>(), 0);
  EXPECT_GT((reference.y > 0).sum().item<int64_t>(), 0);
}

// Finite differences cost two forward passes per coordinate: small shapes only.
class NormActGradCheck : public ::testing::TestWithParam<Case> {};

TEST_P(NormActGradCheck, GradientsMatchFiniteDifferencesInDouble) {
  const Case c = GetParam();
  torch::manual_seed(5);
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const auto x = torch::randn(c.shape, opts) + 0.3;
  const int64_t channels = c.shape[1];
  const auto w = torch::rand({channels}, opts) + 0.5, b = torch::randn({channels}, opts) * 0.3;
  const auto r = c.residual ? torch::randn(c.shape, opts) : torch::Tensor();
  const auto probe = torch::randn(c.shape, opts);
  const Result analytic = run(true, x, w, b, r, probe, c.slope);
  set_fused_norm_act_enabled(true);
  auto loss = [&](const torch::Tensor& xx, const torch::Tensor& ww, const torch::Tensor& bb,
                  const torch::Tensor& rr) {
    torch::NoGradGuard no_grad;
    return (instance_norm_act(xx, ww, bb, rr, c.slope) * probe).sum().item<double>();
  };
  const double h = 1e-6;
  // Central differences, one coordinate at a time, for every input.
  auto check = [&](const torch::Tensor& base, const torch::Tensor& grad, int which) {
    const auto flat = base.reshape({-1});
    const auto g = grad.reshape({-1});
    for (int64_t i = 0; i < flat.numel(); ++i) {
      auto plus = base.clone(), minus = base.clone();
      plus.view({-1})[i] += h;
      minus.view({-1})[i] -= h;
      auto eval = [&](const torch::Tensor& t) {
        return loss(which == 0 ? t : x, which == 1 ? t : w, which == 2 ? t : b, which == 3 ? t : r);
      };
      const double numeric = (eval(plus) - eval(minus)) / (2 * h);
      ASSERT_NEAR(g[i].item<double>(), numeric, 1e-5 * (1 + std::abs(numeric)))
          << "input " << which << " [" << i << "]";
    }
  };
  check(x, analytic.dx, 0);
  check(w, analytic.dw, 1);
  check(b, analytic.db, 2);
  if (c.residual) check(r, analytic.dr, 3);
}

const auto kSmallShapes = ::testing::Values(
    Case{{2, 3, 4, 5, 3}, false, 0.01}, Case{{2, 3, 4, 5, 3}, true, 0.01}, Case{{1, 2, 3, 3, 5}, false, 0.0});
INSTANTIATE_TEST_SUITE_P(Small, NormActTest, kSmallShapes);
INSTANTIATE_TEST_SUITE_P(Small, NormActGradCheck, kSmallShapes);
INSTANTIATE_TEST_SUITE_P(
    Large, NormActTest,
    ::testing::Values(Case{{2, 8, 20, 17, 13}, true, 0.01},  // not a multiple of the lanes
                      Case{{3, 4, 16, 16, 16}, false, 0.0}));

TEST(NormAct, Bfloat16MatchesTheFloatKernelToBfloat16Precision) {
  torch::manual_seed(7);
  const std::vector<int64_t> shape{2, 4, 12, 10, 9};
  const auto x = (torch::randn(shape) + 0.5).to(torch::kBFloat16);
  const auto r = torch::randn(shape).to(torch::kBFloat16);
  const auto w = torch::rand({4}) + 0.5, b = torch::randn({4}) * 0.3;
  const auto probe = torch::randn(shape, torch::kDouble);
  const Result half = run(true, x, w, b, r, probe, 0.01);
  const Result full = run(true, x.to(torch::kFloat), w, b, r.to(torch::kFloat), probe, 0.01);
  EXPECT_EQ(half.y.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(half.dx.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(half.dw.scalar_type(), torch::kFloat);
  // bf16 keeps 8 bits of mantissa: outputs of magnitude up to ~4 round by up to ~2^-6.
  EXPECT_LT(max_diff(half.y, full.y), 0.03);
  EXPECT_LT(max_diff(half.dx, full.dx), 0.05);
  EXPECT_LT(max_diff(half.dw, full.dw) / (1 + full.dw.abs().max().item<double>()), 0.01);
}

TEST(NormAct, IsDeterministicAcrossThreadCounts) {
  torch::manual_seed(9);
  const std::vector<int64_t> shape{2, 8, 16, 12, 10};
  const auto x = torch::randn(shape), r = torch::randn(shape), w = torch::rand({8}), b = torch::randn({8});
  const auto probe = torch::randn(shape, torch::kDouble);
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  const Result one = run(true, x, w, b, r, probe, 0.01);
  torch::set_num_threads(2);
  const Result two = run(true, x, w, b, r, probe, 0.01);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.y, two.y));
  EXPECT_TRUE(torch::equal(one.dx, two.dx));
  EXPECT_TRUE(torch::equal(one.dw, two.dw));
  EXPECT_TRUE(torch::equal(one.dr, two.dr));
}

TEST(NormAct, RunsWithoutGradientsAndInInferenceMode) {
  // Prediction runs the model under InferenceMode: nothing is saved for backward, the result is the same.
  torch::manual_seed(13);
  const auto x = torch::randn({2, 3, 6, 5, 4}), r = torch::randn({2, 3, 6, 5, 4});
  const auto w = torch::rand({3}), b = torch::randn({3});
  const auto expected = instance_norm_act_reference(x, w, b, r, 0.01);
  torch::Tensor inferred;
  {
    c10::InferenceMode inference;
    inferred = instance_norm_act(x, w, b, r, 0.01);
  }
  EXPECT_LT(max_diff(inferred, expected), 1e-5);
  torch::NoGradGuard no_grad;
  EXPECT_LT(max_diff(instance_norm_act(x, w, b, {}, 0.01), instance_norm_act_reference(x, w, b, {}, 0.01)),
            1e-5);
}

TEST(NormAct, PlanesFarFromZeroOrNearlyConstantAreAsAccurateAsLibTorch) {
  // Sliding-window inference meets windows mostly of padding: planes whose mean is far above their spread,
  // constant ones, and ones constant but for a few voxels. Both paths are measured against double.
  torch::manual_seed(17);
  auto x = torch::randn({2, 4, 12, 10, 8});
  x[0][0] = x[0][0] * 1e-3 + 100;  // mean / spread = 1e5
  x[0][1] = 3.5;                   // constant
  x[0][2] = -2;                    // constant but one voxel
  x[0][2][5][4][3] = 7;
  x[1][3] = x[1][3] * 1e-4 + 1;  // spread near sqrt(eps)
  x[1][0] = x[1][0] * 1e-2 + 1;  // a corner unlike the rest (zero padding at a window's border)
  x[1][0][0][0][0] = -4;
  const auto w = torch::rand({4}) + 0.5, b = torch::randn({4}), r = torch::randn_like(x);
  const auto exact = instance_norm_act_reference(x.to(torch::kDouble), w.to(torch::kDouble),
                                                 b.to(torch::kDouble), r.to(torch::kDouble), 0.01);
  const double libtorch = max_diff(instance_norm_act_reference(x, w, b, r, 0.01), exact);
  const double fused = max_diff(instance_norm_act(x, w, b, r, 0.01), exact);
  EXPECT_LE(fused, std::max(2 * libtorch, 1e-5)) << "LibTorch's error " << libtorch;
}

TEST(NormAct, ResUNet3DGivesLibTorchsOutputAndGradients) {
  // The whole backbone, every norm-activation fused or none: the output and every parameter's gradient agree
  // to float tolerance (relative to each tensor's largest magnitude).
  torch::manual_seed(17);
  ResUNet3D net(ResUNet3DOptions(1).base(8).levels(3));
  const auto x = torch::randn({2, 1, 24, 20, 16});
  const auto probe = torch::randn({2, 8, 24, 20, 16});
  auto pass = [&](bool fused) {
    set_fused_norm_act_enabled(fused);
    net->zero_grad();
    const torch::Tensor y = net->forward(x);
    (y * probe).sum().backward();
    std::vector<torch::Tensor> out{y.detach().clone()};
    for (const auto& p : net->parameters()) out.push_back(p.grad().clone());
    set_fused_norm_act_enabled(true);
    return out;
  };
  const auto fused = pass(true), reference = pass(false);
  ASSERT_EQ(fused.size(), reference.size());
  double worst = 0;
  for (size_t i = 0; i < fused.size(); ++i) {
    EXPECT_LT(relative_diff(fused[i], reference[i]), 1e-4) << "tensor " << i;
    worst = std::max(worst, relative_diff(fused[i], reference[i]));
  }
  std::printf("largest relative difference over the output and %zu gradients: %.2g\n", fused.size() - 1,
              worst);
}

TEST(NormAct, OffTheFusedPathUsesLibTorchsOps) {
  // A negative slope cannot be read back from the output's sign, so it takes the reference path; so does a
  // disabled kernel. Both give LibTorch's result exactly.
  torch::manual_seed(11);
  const auto x = torch::randn({1, 2, 4, 4, 4}), w = torch::rand({2}), b = torch::randn({2});
  EXPECT_TRUE(
      torch::equal(instance_norm_act(x, w, b, {}, -0.5), instance_norm_act_reference(x, w, b, {}, -0.5)));
  set_fused_norm_act_enabled(false);
  const auto off = instance_norm_act(x, w, b, {}, 0.01);
  set_fused_norm_act_enabled(true);
  EXPECT_TRUE(torch::equal(off, instance_norm_act_reference(x, w, b, {}, 0.01)));
}

}  // namespace
}  // namespace pgl::nn
