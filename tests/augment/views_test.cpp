#include "pgl/augment/views.h"

#include <gtest/gtest.h>

#include "pgl/augment/random.h"

namespace {

using pgl::augment::Box;
using pgl::augment::Shape3;
using pgl::augment::ViewOptions;

// f(d, h, w) = 3 d - 2 h + 0.5 w + 1 on a [D, H, W] grid: trilinear interpolation reproduces it exactly.
torch::Tensor linear_volume(const Shape3& shape, torch::Dtype dtype = torch::kFloat64) {
  auto d = torch::arange(shape[0], dtype).view({-1, 1, 1});
  auto h = torch::arange(shape[1], dtype).view({1, -1, 1});
  auto w = torch::arange(shape[2], dtype).view({1, 1, -1});
  return (3 * d - 2 * h + 0.5 * w + 1).expand({shape[0], shape[1], shape[2]}).contiguous();
}

TEST(Random, DrawsAreInRangeAndReproducible) {
  std::mt19937_64 a(7), b(7);
  for (int i = 0; i < 1000; ++i) {
    const double u = pgl::augment::uniform(a, 2.0, 3.0);
    EXPECT_GE(u, 2.0);
    EXPECT_LT(u, 3.0);
    const int64_t k = pgl::augment::uniform_int(a, -2, 2);
    EXPECT_GE(k, -2);
    EXPECT_LE(k, 2);
  }
  std::mt19937_64 c(7);
  EXPECT_EQ(pgl::augment::uniform01(b), pgl::augment::uniform01(c));
}

TEST(CropAndResize, BoxEqualToPatchReproducesTheVolume) {
  const torch::Tensor volume = linear_volume({6, 7, 8});
  const torch::Tensor view =
      pgl::augment::crop_and_resize(volume, Box{{0, 0, 0}, {6, 7, 8}}, {6, 7, 8}, -5.0);
  ASSERT_EQ(view.sizes(), torch::IntArrayRef({1, 6, 7, 8}));
  EXPECT_TRUE(torch::allclose(view[0], volume, 1e-9, 1e-9));
}

TEST(CropAndResize, SamplesVoxelCentresOfTheBox) {
  const Shape3 shape{30, 32, 34};
  const torch::Tensor volume = linear_volume(shape);
  const Box box{{3.3, 5.1, 2.7}, {13.2, 20.5, 9.9}};
  const Shape3 patch{8, 12, 6};
  const torch::Tensor view = pgl::augment::crop_and_resize(volume, box, patch, 0.0)[0];
  // Output voxel j lies at box.start + (j + 0.5) * size / P in edge coordinates, index coordinate - 0.5.
  auto index = [&](int axis, int64_t j) {
    return box.start[axis] +
           (static_cast<double>(j) + 0.5) * box.size[axis] / static_cast<double>(patch[axis]) - 0.5;
  };
  for (int64_t i = 0; i < patch[0]; i += 3)
    for (int64_t j = 0; j < patch[1]; j += 5)
      for (int64_t k = 0; k < patch[2]; k += 2) {
        const double expected = 3 * index(0, i) - 2 * index(1, j) + 0.5 * index(2, k) + 1;
        EXPECT_NEAR(view[i][j][k].item<double>(), expected, 1e-9);
      }
}

TEST(CropAndResize, OutsideTheVolumeIsPadValue) {
  const torch::Tensor volume = torch::ones({10, 10, 10});
  // A box reaching 10 voxels past the end of every axis: its far corner is padding.
  const torch::Tensor view =
      pgl::augment::crop_and_resize(volume, Box{{0, 0, 0}, {20, 20, 20}}, {10, 10, 10}, -1.0);
  EXPECT_FLOAT_EQ(view[0][0][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(view[0][9][9][9].item<float>(), -1.0f);
  // Entirely outside: all padding.
  const torch::Tensor away =
      pgl::augment::crop_and_resize(volume, Box{{30, 0, 0}, {5, 5, 5}}, {4, 4, 4}, -1.0);
  EXPECT_TRUE(torch::all(away == -1.0).item<bool>());
}

TEST(BoxSampling, BoxesHaveTheScaleAndOverlapAsked) {
  ViewOptions options;
  options.patch = {24, 32, 40};
  const std::array<double, 3> extent{60, 70, 80};
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const auto [b1, b2] = pgl::augment::sample_box_pair({60, 70, 80}, options, rng);
    for (int a = 0; a < 3; ++a) {
      for (const Box* b : {&b1, &b2}) {
        const double scale = b->size[a] / static_cast<double>(options.patch[static_cast<size_t>(a)]);
        EXPECT_GE(scale, 1.1);
        EXPECT_LE(scale, 1.4);
        EXPECT_GE(b->start[a], 0.0);  // the volume is larger than the boxes: no padding needed
        EXPECT_LE(b->end(a), extent[static_cast<size_t>(a)] + 1e-9);
      }
    }
    EXPECT_GE(pgl::augment::overlap_share(b1, b2), 0.1);
    EXPECT_GE(pgl::augment::overlap_share(b2, b1), 0.1);
  }
}

TEST(BoxSampling, FallbackCentresTheSecondBox) {
  ViewOptions options;
  options.patch = {16, 16, 16};
  options.max_tries = 0;  // straight to the fallback
  std::mt19937_64 rng(5);
  const auto [b1, b2] = pgl::augment::sample_box_pair({200, 200, 200}, options, rng);
  EXPECT_GE(pgl::augment::overlap_share(b1, b2), std::pow(1.1 / 1.4, 3) - 1e-9);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(b1.start[a] + b1.size[a] / 2, b2.start[a] + b2.size[a] / 2, 1e-9);
}

TEST(BoxSampling, SmallVolumesArePaddedVirtually) {
  ViewOptions options;
  options.patch = {32, 32, 32};
  std::mt19937_64 rng(9);
  const auto [b1, b2] = pgl::augment::sample_box_pair({20, 40, 20}, options, rng);
  // Boxes larger than the volume cover all of it along that axis.
  EXPECT_LE(b1.start[0], 0.0);
  EXPECT_GE(b1.end(0), 20.0);
  EXPECT_LE(b2.start[2], 0.0);
  EXPECT_GE(b2.end(2), 20.0);
}

TEST(ViewPair, DeterministicForASeedAndShapedLikeThePatch) {
  const torch::Tensor volume = torch::randn({40, 50, 60});
  ViewOptions options;
  options.patch = {16, 24, 32};
  std::mt19937_64 rng1(11), rng2(11), rng3(12);
  const auto a = pgl::augment::make_view_pair(volume, options, rng1);
  const auto b = pgl::augment::make_view_pair(volume, options, rng2);
  const auto c = pgl::augment::make_view_pair(volume, options, rng3);
  EXPECT_EQ(a.view1.sizes(), torch::IntArrayRef({1, 16, 24, 32}));
  EXPECT_EQ(a.view2.sizes(), torch::IntArrayRef({1, 16, 24, 32}));
  EXPECT_TRUE(torch::equal(a.view1, b.view1));
  EXPECT_TRUE(torch::equal(a.view2, b.view2));
  EXPECT_EQ(a.priors1.box.start, b.priors1.box.start);
  EXPECT_EQ(a.priors2.flip, b.priors2.flip);
  EXPECT_FALSE(torch::equal(a.view1, c.view1));
}

TEST(ViewPair, FlipsAreRecordedAndApplied) {
  const torch::Tensor volume = linear_volume({30, 30, 30}, torch::kFloat32);
  ViewOptions options;
  options.patch = {8, 8, 8};
  options.intensity.enabled = false;
  options.flip_probability = 1.0;
  std::mt19937_64 rng(1);
  const auto pair = pgl::augment::make_view_pair(volume, options, rng);
  EXPECT_EQ(pair.priors1.flip, (pgl::augment::Flip3{true, true, true}));
  const torch::Tensor unflipped = torch::flip(pair.view1, {1, 2, 3});
  EXPECT_TRUE(torch::allclose(
      unflipped, pgl::augment::crop_and_resize(volume, pair.priors1.box, options.patch, 0.0), 1e-5, 1e-5));
}

}  // namespace
