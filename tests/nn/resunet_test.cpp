#include "pgl/nn/resunet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "pgl/core/error.h"
#include "pgl/nn/heads.h"
#include "pgl/nn/model_stats.h"
#include "pgl/nn/presets.h"

namespace {

// The whole pgl_ssl_tests executable runs on two intra-op threads (the machine's budget).
const bool kThreadsSet = [] {
  torch::set_num_threads(2);
  return true;
}();

using pgl::nn::ResUNet3D;
using pgl::nn::ResUNet3DOptions;

TEST(ResUNet3D, PresetParameterCountsMatchTheDesign) {
  ASSERT_TRUE(kThreadsSet);
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"tiny", 32'732}, {"small", 534'264}, {"base", 8'592'112}, {"paper", 34'358'752}};
  for (const auto& [name, count] : expected) {
    const auto& preset = pgl::nn::preset(name);
    EXPECT_EQ(preset.backbone_parameters, count) << name;
    ResUNet3D net(preset.backbone_options());
    EXPECT_EQ(pgl::nn::count_parameters(*net), count) << name;
  }
}

TEST(ResUNet3D, PresetLookupRejectsUnknownNames) {
  EXPECT_EQ(pgl::nn::preset("small").patch, 48);
  EXPECT_EQ(pgl::nn::preset("paper").batch, 4);
  EXPECT_THROW(pgl::nn::preset("huge"), pgl::Error);
}

TEST(ResUNet3D, ParameterNamesAreTheDocumentedOnes) {
  ResUNet3D net(ResUNet3DOptions(1).base(4).levels(3));
  std::set<std::string> names;
  for (const auto& p : net->named_parameters()) names.insert(p.key());
  for (const char* name :
       {"stem.conv.weight", "stem.norm.weight", "stem.norm.bias", "enc.0.block.conv1.weight",
        "enc.0.block.norm1.weight", "enc.0.block.conv2.weight", "enc.0.block.norm2.bias",
        "enc.1.down.conv.weight", "enc.1.down.norm.weight", "enc.2.block.conv2.weight", "dec.0.up.weight",
        "dec.0.fuse.conv.weight", "dec.0.fuse.norm.bias", "dec.1.block.conv1.weight", "dec.1.up.weight"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
  EXPECT_FALSE(names.count("enc.0.down.conv.weight"));  // level 0 has no down-sampling conv
  EXPECT_FALSE(names.count("dec.2.up.weight"));         // the deepest level has no decoder stage
  EXPECT_EQ(net->named_parameters()["dec.1.up.weight"].sizes(), torch::IntArrayRef({16, 8, 2, 2, 2}));
  EXPECT_EQ(net->named_parameters()["dec.0.fuse.conv.weight"].sizes(), torch::IntArrayRef({4, 8, 3, 3, 3}));
  EXPECT_TRUE(net->named_buffers().is_empty());  // InstanceNorm without running statistics
}

TEST(ResUNet3D, AnisotropicLevelsKeepTheNamesAndChangeOnlyShapes) {
  // Thick slices along D: the first level convolves in-plane only and pools H, W; later levels pool all.
  using Axes = pgl::nn::Axes3;
  auto options = ResUNet3DOptions(1)
                     .base(4)
                     .levels(3)
                     .strides(std::vector<Axes>{{1, 1, 1}, {1, 2, 2}, {2, 2, 2}})
                     .kernels(std::vector<Axes>{{1, 3, 3}, {3, 3, 3}, {3, 3, 3}});
  ResUNet3D planned(options), isotropic(ResUNet3DOptions(1).base(4).levels(3));
  std::vector<std::string> a, b;
  for (const auto& p : planned->named_parameters()) a.push_back(p.key());
  for (const auto& p : isotropic->named_parameters()) b.push_back(p.key());
  EXPECT_EQ(a, b);
  EXPECT_EQ(planned->named_parameters()["stem.conv.weight"].sizes(), torch::IntArrayRef({4, 1, 1, 3, 3}));
  EXPECT_EQ(planned->named_parameters()["enc.1.down.conv.weight"].sizes(),
            torch::IntArrayRef({8, 4, 3, 3, 3}));
  EXPECT_EQ(planned->named_parameters()["dec.0.up.weight"].sizes(), torch::IntArrayRef({8, 4, 1, 2, 2}));
  EXPECT_EQ(planned->named_parameters()["dec.0.fuse.conv.weight"].sizes(),
            torch::IntArrayRef({4, 8, 1, 3, 3}));
  EXPECT_EQ(options.size_multiple(), (Axes{2, 4, 4}));
  // D needs a multiple of 2 only, H and W of 4; the output keeps the input's size.
  auto y = planned->forward(torch::randn({1, 1, 6, 12, 8}));
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({1, 4, 6, 12, 8}));
  EXPECT_THROW(planned->forward(torch::randn({1, 1, 6, 10, 8})), pgl::Error);
  // The analytic cost follows the kernels: less than the isotropic network's on the same input.
  EXPECT_LT(pgl::nn::resunet_forward_macs(options, {8, 16, 16}),
            pgl::nn::resunet_forward_macs(ResUNet3DOptions(1).base(4).levels(3), {8, 16, 16}));
  EXPECT_THROW(ResUNet3D(ResUNet3DOptions(1).levels(3).strides(std::vector<Axes>{{1, 1, 1}})), pgl::Error);
}

TEST(ResUNet3D, OutputHasC0ChannelsAtInputResolution) {
  ResUNet3D net(ResUNet3DOptions(1).base(4).levels(3));
  torch::Tensor y = net->forward(torch::randn({2, 1, 8, 12, 16}));
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 4, 8, 12, 16}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  EXPECT_THROW(net->forward(torch::randn({1, 1, 8, 10, 16})), pgl::Error);  // 10 is not divisible by 4
  y.sum().backward();
  for (const auto& p : net->named_parameters()) EXPECT_TRUE(p.value().grad().defined()) << p.key();
}

TEST(ResUNet3D, InitialisationIsKaimingFanOutAndUnitNorms) {
  torch::manual_seed(1);
  ResUNet3D net(ResUNet3DOptions(1).base(16).levels(2));
  const auto params = net->named_parameters();
  // fan_out = out_channels * 27 = 432; gain^2 = 2 / (1 + 0.01^2).
  const double expected_std = std::sqrt(2.0 / (1.0 + 1e-4) / (16.0 * 27.0));
  EXPECT_NEAR(params["enc.0.block.conv1.weight"].std().item<double>(), expected_std, 0.05 * expected_std);
  EXPECT_TRUE(torch::equal(params["stem.norm.weight"], torch::ones({16})));
  EXPECT_TRUE(torch::equal(params["dec.0.block.norm2.bias"], torch::zeros({16})));
}

TEST(ResUNet3D, CloneIsADeepCopy) {
  ResUNet3D net(ResUNet3DOptions(1).base(4).levels(2));
  auto copy = std::dynamic_pointer_cast<pgl::nn::ResUNet3DImpl>(net->clone());
  ASSERT_TRUE(copy);
  const torch::Tensor x = torch::randn({1, 1, 8, 8, 8});
  EXPECT_TRUE(torch::allclose(net->forward(x), copy->forward(x)));
  {
    torch::NoGradGuard no_grad;
    copy->named_parameters()["stem.conv.weight"].add_(1.0);
  }
  EXPECT_FALSE(torch::equal(net->named_parameters()["stem.conv.weight"],
                            copy->named_parameters()["stem.conv.weight"]));
}

TEST(Heads, ShapesAndNames) {
  pgl::nn::LocalHead projector(pgl::nn::local_projector_options(8));
  pgl::nn::LocalHead predictor(pgl::nn::local_predictor_options(8));
  torch::Tensor y = predictor(projector(torch::randn({2, 8, 4, 5, 6})));
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 16, 4, 5, 6}));
  EXPECT_EQ(projector->named_parameters()["conv1.weight"].sizes(), torch::IntArrayRef({32, 8, 1, 1, 1}));
  EXPECT_EQ(pgl::nn::count_parameters(*projector), 8 * 32 + 2 * 32 + 32 * 16 + 16);

  pgl::nn::GlobalHead mlp(pgl::nn::global_projector_options(8));
  torch::Tensor x = torch::randn({3, 8, 8, 8, 12});
  torch::Tensor pooled = pgl::nn::cell_average_pool(x);
  EXPECT_EQ(pooled.sizes(), torch::IntArrayRef({3, 8 * 64}));
  // Channel-major, centred per channel: with 2 cells an axis, channel 1's first value is the mean of its
  // first 4x4x6 block less the channel's mean.
  torch::Tensor two = pgl::nn::cell_average_pool(x, 2);
  const float block = x[0][1].slice(0, 0, 4).slice(1, 0, 4).slice(2, 0, 6).mean().item<float>();
  EXPECT_NEAR(two[0][8].item<float>(), block - x[0][1].mean().item<float>(), 1e-5);
  EXPECT_EQ(mlp(pooled).sizes(), torch::IntArrayRef({3, 16}));
  EXPECT_TRUE(mlp->named_parameters().contains("norm.weight"));

  auto head = pgl::nn::make_segmentation_head(8, 3);
  EXPECT_EQ(head(torch::randn({1, 8, 4, 4, 4})).sizes(), torch::IntArrayRef({1, 3, 4, 4, 4}));
}

TEST(ModelStats, ConvolutionMacsByHand) {
  // base 1, levels 2, one input channel, 2x2x2 patch: level 0 has 8 voxels, level 1 one voxel, c = (1, 2).
  const int64_t macs = pgl::nn::resunet_forward_macs(ResUNet3DOptions(1).base(1).levels(2), {2, 2, 2});
  const int64_t stem = 8 * 27, block0 = 2 * 8 * 27, down = 1 * 27 * 2, block1 = 2 * 27 * 4;
  const int64_t up = 8 * 2, fuse = 8 * 27 * 2, dec_block = 2 * 8 * 27;
  EXPECT_EQ(macs, stem + block0 + down + block1 + up + fuse + dec_block);
  EXPECT_EQ(pgl::nn::local_head_forward_macs(pgl::nn::local_projector_options(8), {2, 2, 2}),
            8 * (8 * 32 + 32 * 16));
}

}  // namespace
