#include "pgl/ssl/aligner.h"

#include <gtest/gtest.h>

#include <cmath>

#include "pgl/augment/random.h"
#include "pgl/core/error.h"

namespace {

using pgl::augment::Box;
using pgl::augment::Flip3;
using pgl::augment::Shape3;
using pgl::augment::ViewPriors;
using pgl::ssl::Priors;
using pgl::ssl::SampleRegions;

Flip3 flips_of(int bits) { return {(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0}; }

// A smooth volume (wavelengths 23-47 voxels), in double so that only interpolation error remains.
torch::Tensor smooth_volume(const Shape3& shape) {
  const double two_pi = 2 * M_PI;
  auto d = torch::arange(shape[0], torch::kFloat64).view({-1, 1, 1});
  auto h = torch::arange(shape[1], torch::kFloat64).view({1, -1, 1});
  auto w = torch::arange(shape[2], torch::kFloat64).view({1, 1, -1});
  return (torch::sin(two_pi * (d / 23 + h / 41) + 0.3) + 0.7 * torch::cos(two_pi * (h / 29 - w / 37)) +
          0.5 * torch::sin(two_pi * (w / 31 + d / 47)))
      .contiguous();
}

TEST(Aligner, ParsesPriors) {
  EXPECT_EQ(pgl::ssl::parse_priors("crop,flip"), Priors::kCropFlip);
  EXPECT_EQ(pgl::ssl::parse_priors("flip,crop"), Priors::kCropFlip);
  EXPECT_EQ(pgl::ssl::parse_priors("crop"), Priors::kCrop);
  EXPECT_EQ(pgl::ssl::parse_priors("flip"), Priors::kFlip);
  EXPECT_EQ(pgl::ssl::parse_priors("none"), Priors::kNone);
  EXPECT_EQ(pgl::ssl::to_string(Priors::kCropFlip), "crop,flip");
  EXPECT_THROW(pgl::ssl::parse_priors("crop+flip"), pgl::Error);
}

TEST(Aligner, RegionInViewUsesTheEdgeConvention) {
  const Box view_box{{10, 20, 30}, {20, 40, 10}};
  const Box overlap{{15, 20, 35}, {10, 20, 5}};
  const Box r = pgl::ssl::region_in_view(overlap, view_box, {8, 16, 4});
  EXPECT_DOUBLE_EQ(r.start[0], 2.0);  // (15 - 10) * 8 / 20
  EXPECT_DOUBLE_EQ(r.size[0], 4.0);   // 10 * 8 / 20
  EXPECT_DOUBLE_EQ(r.start[1], 0.0);
  EXPECT_DOUBLE_EQ(r.size[1], 8.0);
  EXPECT_DOUBLE_EQ(r.start[2], 2.0);
  EXPECT_DOUBLE_EQ(r.size[2], 2.0);
  const Box whole = pgl::ssl::region_in_view(view_box, view_box, {8, 16, 4});
  EXPECT_DOUBLE_EQ(whole.size[1], 16.0);
}

// f = 100 d + 10 h + w on a 4 x 5 x 6 map; trilinear sampling of a linear function is exact inside the
// voxel-centre hull, so the expected values are the function at the sample points.
TEST(Aligner, HandComputedSmallCase) {
  auto d = torch::arange(4, torch::kFloat64).view({-1, 1, 1});
  auto h = torch::arange(5, torch::kFloat64).view({1, -1, 1});
  auto w = torch::arange(6, torch::kFloat64).view({1, 1, -1});
  const torch::Tensor f = (100 * d + 10 * h + w).expand({4, 5, 6}).contiguous().view({1, 1, 4, 5, 6});
  SampleRegions regions;
  regions.regions = {Box{{1.0, 1.5, 2.0}, {2.0, 2.0, 3.0}}};
  regions.unflip = {Flip3{false, false, false}};
  const torch::Tensor out = pgl::ssl::roi_align_3d(f, regions, 2, 2)[0][0];
  ASSERT_EQ(out.sizes(), torch::IntArrayRef({2, 2, 2}));
  // Bin centres (edge coordinates) minus 0.5: d 1.0 / 2.0, h 1.5 / 2.5, w 2.25 / 3.75.
  EXPECT_NEAR(out[0][0][0].item<double>(), 100 * 1.0 + 10 * 1.5 + 2.25, 1e-9);
  EXPECT_NEAR(out[1][1][1].item<double>(), 100 * 2.0 + 10 * 2.5 + 3.75, 1e-9);
  EXPECT_NEAR(out[1][0][1].item<double>(), 100 * 2.0 + 10 * 1.5 + 3.75, 1e-9);
  // Undoing a flip along W: the unflipped map is g(w) = f(5 - w) along W.
  regions.unflip = {Flip3{false, false, true}};
  const torch::Tensor flipped = pgl::ssl::roi_align_3d(f, regions, 2, 2)[0][0];
  EXPECT_NEAR(flipped[0][0][0].item<double>(), 100 * 1.0 + 10 * 1.5 + (5 - 2.25), 1e-9);
  EXPECT_NEAR(flipped[0][0][1].item<double>(), 100 * 1.0 + 10 * 1.5 + (5 - 3.75), 1e-9);
}

TEST(Aligner, MirroredSamplingEqualsFlippingTheMapBack) {
  torch::manual_seed(3);
  const torch::Tensor f = torch::randn({2, 3, 6, 7, 8}, torch::kFloat64);
  SampleRegions mirrored;
  mirrored.regions = {Box{{0.5, 1.0, 2.0}, {4.0, 5.5, 3.0}}, Box{{0.0, 0.0, 0.0}, {6.0, 7.0, 8.0}}};
  for (int bits = 0; bits < 8; ++bits) {
    mirrored.unflip = {flips_of(bits), flips_of(7 - bits)};
    SampleRegions plain = mirrored;
    plain.unflip = {Flip3{}, Flip3{}};
    std::vector<torch::Tensor> unflipped;
    for (int b = 0; b < 2; ++b) unflipped.push_back(pgl::augment::apply_flip(f[b], mirrored.unflip[b]));
    const torch::Tensor expected = pgl::ssl::roi_align_3d(torch::stack(unflipped), plain, 4, 2);
    EXPECT_TRUE(torch::allclose(pgl::ssl::roi_align_3d(f, mirrored, 4, 2), expected, 1e-12, 1e-12)) << bits;
  }
}

// Identity "backbone": the views are their own feature maps. Both aligned maps sample the same physical
// points, so they agree up to interpolation error, for every flip combination, non-cubic patches and
// anisotropic boxes; without the priors they do not.
TEST(Aligner, AlignedViewsOfTheSameVolumeAgree) {
  const Shape3 patch{24, 32, 40};
  const torch::Tensor volume = smooth_volume({80, 96, 112});
  pgl::augment::ViewOptions options;
  options.patch = patch;
  options.scale_min = 1.0;  // anisotropic: each axis scaled independently in [1, 1.6]
  options.scale_max = 1.6;
  options.flip_probability = 0.0;
  options.intensity.enabled = false;
  std::mt19937_64 rng(2024);
  const int batch = 4;
  std::vector<torch::Tensor> plain1, plain2;
  std::vector<ViewPriors> priors1, priors2;
  for (int b = 0; b < batch; ++b) {
    const auto pair = pgl::augment::make_view_pair(volume, options, rng);
    plain1.push_back(pair.view1);
    plain2.push_back(pair.view2);
    priors1.push_back(pair.priors1);
    priors2.push_back(pair.priors2);
  }
  pgl::ssl::AlignerOptions aligner;
  double worst = 0, worst_misaligned = 1e9;
  for (int bits = 0; bits < 8; ++bits) {
    std::vector<torch::Tensor> views1, views2;
    for (int b = 0; b < batch; ++b) {
      priors1[b].flip = flips_of(bits);
      priors2[b].flip = flips_of((bits + 3 * b + 1) % 8);
      views1.push_back(pgl::augment::apply_flip(plain1[b], priors1[b].flip));
      views2.push_back(pgl::augment::apply_flip(plain2[b], priors2[b].flip));
    }
    const torch::Tensor f1 = torch::stack(views1), f2 = torch::stack(views2);
    const auto [a1, a2] = pgl::ssl::align_pair(f1, f2, priors1, priors2, patch, aligner);
    ASSERT_EQ(a1.sizes(), torch::IntArrayRef({batch, 1, 16, 16, 16}));
    const torch::Tensor error = (a1 - a2).abs();
    const double mean_error = error.mean().item<double>();
    // The outermost aligned voxels of a view's edge are sampled in its outer half voxel, where grid_sample
    // extrapolates the border value; inside, only trilinear interpolation error remains.
    const double interior_max = error.slice(2, 1, -1).slice(3, 1, -1).slice(4, 1, -1).max().item<double>();
    const double max_error = error.max().item<double>();
    worst = std::max(worst, mean_error);
    EXPECT_LT(mean_error, 0.015) << "flips " << bits;
    EXPECT_LT(interior_max, 0.05) << "flips " << bits;
    EXPECT_LT(max_error, 0.15) << "flips " << bits;
    // Ablations that ignore a prior the views use are misaligned.
    for (Priors ablation : {Priors::kNone, Priors::kFlip}) {
      const auto [b1, b2] = pgl::ssl::align_pair(f1, f2, priors1, priors2, patch,
                                                 pgl::ssl::AlignerOptions(aligner).priors(ablation));
      worst_misaligned = std::min(worst_misaligned, (b1 - b2).abs().mean().item<double>());
    }
    if (bits != 0) {
      const auto [c1, c2] = pgl::ssl::align_pair(f1, f2, priors1, priors2, patch,
                                                 pgl::ssl::AlignerOptions(aligner).priors(Priors::kCrop));
      worst_misaligned = std::min(worst_misaligned, (c1 - c2).abs().mean().item<double>());
    }
  }
  EXPECT_GT(worst_misaligned, 20 * worst);
}

TEST(Aligner, SeparableWeightsEqualGridSample) {
  torch::manual_seed(11);
  const Shape3 shape{6, 7, 9};
  const torch::Tensor f = torch::randn({3, 2, 6, 7, 9}, torch::kFloat64);
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 8; ++trial) {
    SampleRegions regions;
    for (int b = 0; b < 3; ++b) {
      Box r;
      for (int a = 0; a < 3; ++a) {
        // Regions reaching into the outer half voxel (border clamping) and across the whole map.
        const auto extent = static_cast<double>(shape[static_cast<size_t>(a)]);
        r.start[a] = pgl::augment::uniform(rng, 0.0, 0.5 * extent);
        r.size[a] = pgl::augment::uniform(rng, 0.2, extent - r.start[a]);
      }
      regions.regions.push_back(r);
      regions.unflip.push_back(flips_of((trial + b) % 8));
    }
    for (int64_t samples : {1, 2, 3}) {
      const torch::Tensor fast = pgl::ssl::roi_align_3d(f, regions, 4, samples);
      const torch::Tensor reference = pgl::ssl::roi_align_3d_grid_sample(f, regions, 4, samples);
      EXPECT_TRUE(torch::allclose(fast, reference, 1e-10, 1e-10)) << "trial " << trial << " s " << samples;
    }
  }
  // Reduced precision runs (the reference samples in float).
  SampleRegions one;
  one.regions = {Box{{0, 0, 0}, {6, 7, 9}}};
  one.unflip = {Flip3{}};
  const torch::Tensor bf = f.narrow(0, 0, 1).to(torch::kBFloat16);
  EXPECT_EQ(pgl::ssl::roi_align_3d(bf, one, 2, 2).scalar_type(), torch::kBFloat16);
  EXPECT_EQ(pgl::ssl::roi_align_3d_grid_sample(bf, one, 2, 2).scalar_type(), torch::kBFloat16);
}

TEST(Aligner, GradientsMatchFiniteDifferences) {
  torch::manual_seed(7);
  SampleRegions regions;
  regions.regions = {Box{{0.3, 1.1, 0.7}, {3.9, 3.3, 5.1}}, Box{{1.0, 0.2, 2.5}, {2.5, 5.0, 3.2}}};
  regions.unflip = {Flip3{true, false, true}, Flip3{false, true, false}};
  const torch::Tensor weights = torch::randn({2, 3, 3, 3, 3}, torch::kFloat64);
  for (const bool reference : {false, true}) {
    const torch::Tensor f = torch::randn({2, 3, 5, 6, 7}, torch::kFloat64).requires_grad_(true);
    auto objective = [&](const torch::Tensor& x) {
      const torch::Tensor aligned = reference ? pgl::ssl::roi_align_3d_grid_sample(x, regions, 3, 2)
                                              : pgl::ssl::roi_align_3d(x, regions, 3, 2);
      return (aligned * weights).sum();
    };
    objective(f).backward();
    const torch::Tensor grad = f.grad().flatten();
    ASSERT_GT(grad.abs().sum().item<double>(), 0.0);
    torch::NoGradGuard no_grad;
    const torch::Tensor base = f.detach().flatten();
    const double eps = 1e-6;
    std::mt19937_64 rng(1);
    for (int i = 0; i < 40; ++i) {
      const int64_t k = pgl::augment::uniform_int(rng, 0, base.numel() - 1);
      torch::Tensor plus = base.clone(), minus = base.clone();
      plus[k] += eps;
      minus[k] -= eps;
      const double numeric =
          (objective(plus.view_as(f)).item<double>() - objective(minus.view_as(f)).item<double>()) /
          (2 * eps);
      EXPECT_NEAR(grad[k].item<double>(), numeric, 1e-7)
          << "entry " << k << (reference ? " (grid_sample)" : "");
    }
  }
}

}  // namespace
