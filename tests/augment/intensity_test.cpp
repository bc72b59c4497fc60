#include "pgl/augment/intensity.h"

#include <gtest/gtest.h>

#include "pgl/augment/genesis.h"

namespace {

using pgl::augment::IntensityOptions;

IntensityOptions all_off() {
  IntensityOptions o;
  o.noise_probability = o.blur_probability = o.brightness_probability = 0;
  o.contrast_probability = o.gamma_probability = 0;
  return o;
}

TEST(Intensity, NothingDrawnLeavesTheViewUnchanged) {
  const torch::Tensor x = torch::randn({1, 8, 8, 8});
  std::mt19937_64 rng(1);
  EXPECT_TRUE(torch::equal(pgl::augment::augment_intensity(x, all_off(), rng), x));
}

TEST(Intensity, EachTransformDoesWhatItSays) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({1, 12, 12, 12}) * 2 - 1;
  std::mt19937_64 rng(2);
  // Noise: zero-mean, the asked sigma.
  const torch::Tensor noisy = pgl::augment::add_gaussian_noise(x, 0.1, rng);
  EXPECT_NEAR((noisy - x).std().item<double>(), 0.1, 0.01);
  // Blur keeps constants and the mean, and smooths.
  EXPECT_TRUE(torch::allclose(pgl::augment::gaussian_blur(torch::full({1, 6, 6, 6}, 2.0), 0.8),
                              torch::full({1, 6, 6, 6}, 2.0), 1e-5, 1e-5));
  const torch::Tensor blurred = pgl::augment::gaussian_blur(x, 1.0);
  EXPECT_LT(blurred.std().item<double>(), 0.6 * x.std().item<double>());
  // Contrast keeps the mean (before clipping) and the range.
  const torch::Tensor c = pgl::augment::adjust_contrast(x, 0.7);
  EXPECT_NEAR(c.mean().item<double>(), x.mean().item<double>(), 1e-5);
  EXPECT_NEAR(c.std().item<double>(), 0.7 * x.std().item<double>(), 1e-4);
  // Gamma on [0, 1]-rescaled values keeps min and max; with retained statistics, mean and std.
  const torch::Tensor g = pgl::augment::adjust_gamma(x, 1.5, false);
  EXPECT_NEAR(g.min().item<double>(), x.min().item<double>(), 1e-5);
  EXPECT_NEAR(g.max().item<double>(), x.max().item<double>(), 1e-5);
  EXPECT_LT(g.mean().item<double>(), x.mean().item<double>());  // gamma > 1 darkens
  const torch::Tensor gs = pgl::augment::adjust_gamma(x, 0.7, true);
  EXPECT_NEAR(gs.mean().item<double>(), x.mean().item<double>(), 1e-4);
  EXPECT_NEAR(gs.std().item<double>(), x.std().item<double>(), 1e-4);
}

TEST(Intensity, AlwaysOnChangesTheViewDeterministically) {
  IntensityOptions o;
  o.noise_probability = o.blur_probability = o.brightness_probability = 1;
  o.contrast_probability = o.gamma_probability = 1;
  const torch::Tensor x = torch::rand({1, 8, 8, 8});
  std::mt19937_64 a(4), b(4);
  const torch::Tensor ya = pgl::augment::augment_intensity(x, o, a);
  EXPECT_FALSE(torch::allclose(ya, x));
  EXPECT_TRUE(torch::equal(ya, pgl::augment::augment_intensity(x, o, b)));
}

TEST(Genesis, NoTransformGivesInputEqualToTarget) {
  pgl::augment::GenesisOptions o;
  o.shuffle_probability = o.nonlinear_probability = o.paint_probability = 0;
  const torch::Tensor x = torch::rand({1, 10, 10, 10}) * 4 - 2;
  std::mt19937_64 rng(1);
  const auto [input, target] = pgl::augment::genesis_transform(x, o, rng);
  EXPECT_TRUE(torch::equal(target, x));
  EXPECT_TRUE(torch::allclose(input, x, 1e-5, 1e-5));
}

TEST(Genesis, ShufflingPermutesValuesLocally) {
  const torch::Tensor x = torch::rand({1, 20, 20, 20});
  std::mt19937_64 rng(2);
  const torch::Tensor y = pgl::augment::local_pixel_shuffling(x, 2000, rng);
  EXPECT_FALSE(torch::equal(x, y));
  // Blocks are at most 2 voxels wide: every voxel moves by at most one voxel per axis, and the image as a
  // whole stays close to the original.
  EXPECT_LT((x - y).abs().mean().item<double>(), 0.5);
}

TEST(Genesis, BezierMappingKeepsOrInvertsTheEnds) {
  const torch::Tensor ramp = torch::linspace(0, 1, 101).view({1, 1, 1, 101});
  int increasing = 0, inverted = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 rng(seed);
    const torch::Tensor y = pgl::augment::bezier_intensity_mapping(ramp, 1000, rng).flatten();
    const double first = y[0].item<double>(), last = y[100].item<double>();
    if (first < 0.5) {
      // Both coordinates sorted: a monotone map from [0, 1] onto [0, 1].
      ++increasing;
      EXPECT_NEAR(first, 0.0, 1e-6);
      EXPECT_NEAR(last, 1.0, 1e-6);
      EXPECT_TRUE(torch::all(y.slice(0, 1) - y.slice(0, 0, -1) >= -1e-6).item<bool>());
    } else {
      // Only x sorted: the curve's y runs from 1 back to 0.
      ++inverted;
      EXPECT_NEAR(first, 1.0, 1e-6);
      EXPECT_NEAR(last, 0.0, 1e-6);
    }
  }
  EXPECT_GT(increasing, 0);
  EXPECT_GT(inverted, 0);
}

TEST(Genesis, PaintingReplacesBlocksWithNoise) {
  const torch::Tensor x = torch::full({1, 24, 24, 24}, 0.5);
  std::mt19937_64 rng(3);
  const torch::Tensor in = pgl::augment::in_painting(x, rng);
  const double changed_in = (in != x).to(torch::kFloat32).mean().item<double>();
  EXPECT_GT(changed_in, 0.0);
  EXPECT_LT(changed_in, 0.5);  // small holes
  const torch::Tensor out = pgl::augment::out_painting(x, rng);
  const double kept_out = (out == x).to(torch::kFloat32).mean().item<double>();
  EXPECT_GT(kept_out, 0.05);  // a central window survives
  EXPECT_LT(kept_out, 0.9);
  EXPECT_TRUE(torch::all(out >= 0).item<bool>() && torch::all(out <= 1).item<bool>());
}

TEST(Genesis, TransformWorksInTheGivenRange) {
  pgl::augment::GenesisOptions o;
  o.range_min = -1;
  o.range_max = 1;
  const torch::Tensor x = torch::rand({1, 16, 16, 16}) * 2 - 1;
  std::mt19937_64 rng(4);
  const auto [input, target] = pgl::augment::genesis_transform(x, o, rng);
  EXPECT_EQ(input.sizes(), x.sizes());
  EXPECT_GE(input.min().item<double>(), -1.0 - 1e-6);
  EXPECT_LE(input.max().item<double>(), 1.0 + 1e-6);
}

}  // namespace
