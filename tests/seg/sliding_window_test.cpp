// Sliding-window inference (DESIGN.md §2): the Gaussian importance map, window placement and coverage, the
// single-patch case, mirror TTA over the allowed axes; and how those axes are chosen from the label names.
#include "pgl/seg/sliding_window.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "pgl/core/error.h"
#include "pgl/seg/finetune_config.h"
#include "pgl/seg/seg_net.h"
#include "pgl/seg/validation.h"

namespace pgl::seg {
namespace {

TEST(GaussianImportanceMap, PeaksAtTheCentreWithSigmaAnEighthOfThePatch) {
  torch::Tensor map = gaussian_importance_map({16, 32, 24});
  ASSERT_EQ(map.sizes(), (std::vector<int64_t>{16, 32, 24}));
  // Even sizes: the centre lies between voxels, so the 8 voxels around it share the maximum, 1.
  EXPECT_FLOAT_EQ(map.max().item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(map[7][15][11].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(map[8][16][12].item<float>(), 1.0f);
  EXPECT_GT(map.min().item<float>(), 0.0f);             // zeros clamped
  EXPECT_TRUE(torch::equal(map, map.flip({0, 1, 2})));  // symmetric
  // Along W (patch 24, sigma 3, centre 11.5): voxels 11 and 14 lie 0.5 and 2.5 from the centre.
  const double ratio = map[7][15][14].item<double>() / map[7][15][11].item<double>();
  EXPECT_NEAR(ratio, std::exp(-(2.5 * 2.5 - 0.5 * 0.5) / (2 * 3.0 * 3.0)), 1e-5);
}

TEST(WindowStarts, CoverTheVolumeWithStepsOfAtMostHalfAPatch) {
  for (int64_t size : {32, 33, 47, 48, 100, 129}) {
    auto starts = window_starts(size, 32, 0.5);
    ASSERT_FALSE(starts.empty());
    EXPECT_EQ(starts.front(), 0);
    EXPECT_EQ(starts.back(), size - 32) << size;
    for (size_t k = 1; k < starts.size(); ++k) {
      EXPECT_GT(starts[k], starts[k - 1]);
      EXPECT_LE(starts[k] - starts[k - 1], 16) << size;
    }
  }
  EXPECT_EQ(window_starts(32, 32, 0.5), std::vector<int64_t>{0});
  EXPECT_THROW(window_starts(31, 32, 0.5), Error);
}

// A small fixed network standing in for the segmentation model.
SegNet make_net() {
  torch::manual_seed(3);
  SegNet net(nn::ResUNet3DOptions(1).base(4).levels(2), 3);
  net->eval();
  return net;
}

TEST(SlidingWindow, OnePatchVolumeEqualsOneForwardPass) {
  SegNet net = make_net();
  torch::Tensor volume = torch::randn({1, 16, 16, 16});
  SlidingWindowOptions options;
  options.patch = {16, 16, 16};
  torch::Tensor windowed = predict_probabilities(net, volume, options, -1.0f, "fp32");
  torch::NoGradGuard no_grad;
  torch::Tensor direct = torch::softmax(net->forward(volume.unsqueeze(0))[0], 0);
  EXPECT_TRUE(torch::allclose(windowed, direct, 1e-5, 1e-6));
}

TEST(SlidingWindow, EveryVoxelIsCoveredAndSmallVolumesArePadded) {
  // Class logits that do not depend on the window: the blended result must equal their softmax everywhere.
  auto constant = [](const torch::Tensor& x) {
    auto logits = torch::zeros({x.size(0), 3, x.size(2), x.size(3), x.size(4)});
    logits.select(1, 1).fill_(1.0);
    logits.select(1, 2).fill_(-2.0);
    return logits;
  };
  torch::Tensor expected = torch::softmax(torch::tensor({0.0f, 1.0f, -2.0f}), 0);
  SlidingWindowOptions options;
  options.patch = {8, 8, 8};
  for (auto shape : {std::vector<int64_t>{1, 21, 8, 13}, std::vector<int64_t>{1, 5, 30, 8}}) {
    torch::Tensor probabilities =
        sliding_window_probabilities(torch::zeros(shape), constant, 3, options, 0.0f);
    ASSERT_EQ(probabilities.sizes(), (std::vector<int64_t>{3, shape[1], shape[2], shape[3]}));
    for (int k = 0; k < 3; ++k)
      EXPECT_TRUE(torch::allclose(probabilities[k],
                                  torch::full_like(probabilities[k], expected[k].item<float>()), 1e-5, 1e-6))
          << k;
  }
}

TEST(SlidingWindow, MirrorTtaFlipsOnlyTheAllowedAxes) {
  // Logits that rise along W only: flipping W changes them, flipping D or H does not.
  auto ramp = [](const torch::Tensor& x) {
    auto w = torch::arange(x.size(4), torch::kFloat).view({1, 1, 1, 1, -1}) / 4.0;
    auto logits = torch::zeros({x.size(0), 2, x.size(2), x.size(3), x.size(4)});
    logits.narrow(1, 1, 1).copy_(w.expand({x.size(0), 1, x.size(2), x.size(3), x.size(4)}));
    return logits;
  };
  torch::Tensor volume = torch::zeros({1, 8, 8, 8});
  SlidingWindowOptions plain;
  plain.patch = {8, 8, 8};
  torch::Tensor reference = sliding_window_probabilities(volume, ramp, 2, plain, 0.0f);
  SlidingWindowOptions no_w = plain;
  no_w.mirror_axes = mirror_flags("yz");
  EXPECT_TRUE(torch::allclose(sliding_window_probabilities(volume, ramp, 2, no_w, 0.0f), reference));
  SlidingWindowOptions all = plain;
  all.mirror_axes = mirror_flags("xyz");
  torch::Tensor averaged = sliding_window_probabilities(volume, ramp, 2, all, 0.0f);
  EXPECT_FALSE(torch::allclose(averaged, reference, 1e-3, 1e-3));
  // Half of the 8 flips reverse W: the result is the mean of the ramp and its mirror image.
  torch::Tensor mirrored = (reference + reference.flip({3})) / 2;
  EXPECT_TRUE(torch::allclose(averaged, mirrored, 1e-5, 1e-6));
}

TEST(SlidingWindow, WindowsPerForwardPassDoNotChangeTheResult) {
  SegNet net = make_net();
  torch::manual_seed(5);
  const torch::Tensor volume = torch::randn({1, 30, 27, 21});  // 3 x 3 x 2 windows of 16^3
  SlidingWindowOptions options;
  options.patch = {16, 16, 16};
  options.mirror_axes = {false, true, true};
  options.batch = 1;
  const torch::Tensor one_by_one = predict_probabilities(net, volume, options, -1.0f, "fp32");
  for (int64_t batch : {3, 8, 64}) {  // uneven last batch, one batch for all
    options.batch = batch;
    EXPECT_TRUE(
        torch::allclose(predict_probabilities(net, volume, options, -1.0f, "fp32"), one_by_one, 1e-5, 1e-6))
        << batch;
  }
  EXPECT_EQ(windows_per_batch({32, 32, 32}), 8);
  EXPECT_EQ(windows_per_batch({48, 48, 48}), 4);
  EXPECT_EQ(windows_per_batch({64, 64, 64}), 2);  // never 1: see sliding_window.cpp
  EXPECT_EQ(windows_per_batch({128, 128, 128}), 2);
}

TEST(SlidingWindow, BlendsOnTheDeviceOnlyWhereTheNetworkIsAndTheAccumulatorsFit) {
  const c10::Device cpu(c10::kCPU), gpu(c10::kCUDA, 0);  // a value: no GPU is needed to decide
  EXPECT_EQ(blending_device("auto", cpu, 5, 1 << 20), cpu);
  EXPECT_EQ(blending_device("device", cpu, 5, 1 << 20), cpu);
  EXPECT_EQ(blending_device("auto", gpu, 5, 1 << 20), gpu);
  const int64_t ct = int64_t{512} * 512 * 1000;  // 3 floats per class and voxel: 15.7 GB for 5 classes
  EXPECT_EQ(blending_device("auto", gpu, 5, ct), cpu);
  EXPECT_EQ(blending_device("device", gpu, 5, ct), gpu);  // asked for
  EXPECT_EQ(blending_device("cpu", gpu, 5, 1 << 20), cpu);
  EXPECT_THROW(blending_device("gpu", gpu, 5, 1 << 20), Error);
}

TEST(MirrorAxes, AutoKeepsLeftAndRightApart) {
  EXPECT_EQ(resolve_mirror_axes("auto", {{0, "background"}, {1, "spleen"}}), "xyz");
  EXPECT_EQ(resolve_mirror_axes("auto", {{0, "background"}, {1, "Brainstem"}, {3, "RightParotid"}}), "yz");
  EXPECT_EQ(resolve_mirror_axes("auto", {{2, "kidney_left"}}), "yz");
  EXPECT_EQ(resolve_mirror_axes("xz", {{2, "kidney_left"}}), "xz");         // an explicit choice stands
  EXPECT_EQ(mirror_flags("x"), (std::array<bool, 3>{false, false, true}));  // x is W, the last dimension
  EXPECT_EQ(mirror_flags("zy"), (std::array<bool, 3>{true, true, false}));
  EXPECT_EQ(mirror_flags("none"), (std::array<bool, 3>{false, false, false}));
  EXPECT_THROW(mirror_flags("xw"), Error);
  EXPECT_THROW(mirror_flags(""), Error);
}

}  // namespace
}  // namespace pgl::seg
