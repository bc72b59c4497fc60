#pragma once
// Heads on top of the backbone (DESIGN.md §1.2, §1.5, §2):
// - LocalHead: PGL's structure-aware projector g (c0 -> 4c0 -> 2c0) and predictor q (2c0 -> 4c0 -> 2c0):
//   Conv1x1 + InstanceNorm + ReLU + Conv1x1. 1x1 convolutions keep the spatial layout, which is what makes
//   the heads local. Names: conv1.weight, norm.{weight,bias}, conv2.{weight,bias}.
// - GlobalHead: BYOL's MLP on pooled features (a coarse grid of centred cell means, cell_average_pool):
//   Linear + LayerNorm + ReLU + Linear.
//   Names: fc1.{weight,bias}, norm.{weight,bias}, fc2.{weight,bias}.
// - make_segmentation_head: Conv1x1(c0 -> K) for fine-tuning; names weight, bias.
#include <torch/torch.h>

#include <cstdint>

namespace pgl::nn {

struct HeadOptions {
  HeadOptions(int64_t in, int64_t hidden, int64_t out)
      : in_channels_(in), hidden_channels_(hidden), out_channels_(out) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, hidden_channels);
  TORCH_ARG(int64_t, out_channels);
};

// [N, in, D, H, W] -> [N, out, D, H, W]
class LocalHeadImpl : public torch::nn::Cloneable<LocalHeadImpl> {
 public:
  explicit LocalHeadImpl(const HeadOptions& options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  HeadOptions options;
  torch::nn::Conv3d conv1{nullptr}, conv2{nullptr};
  torch::nn::InstanceNorm3d norm{nullptr};
};
TORCH_MODULE(LocalHead);

// [N, in] -> [N, out]
class GlobalHeadImpl : public torch::nn::Cloneable<GlobalHeadImpl> {
 public:
  explicit GlobalHeadImpl(const HeadOptions& options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  HeadOptions options;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(GlobalHead);

// The standard head shapes for a backbone with c0 output channels.
HeadOptions local_projector_options(int64_t c0);   // c0 -> 4c0 -> 2c0
HeadOptions local_predictor_options(int64_t c0);   // 2c0 -> 4c0 -> 2c0
HeadOptions global_projector_options(int64_t c0);  // kPoolCells^3 c0 -> 4c0 -> 2c0
HeadOptions global_predictor_options(int64_t c0);  // 2c0 -> 4c0 -> 2c0

// BYOL pools the backbone's output into kPoolCells^3 cells, each channel centred over its cells, not into
// one global mean: every block ends in InstanceNorm, which fixes each channel's mean per volume, so a global
// mean hardly depends on the input (docs/RESULTS.md §2b: BYOL collapsed within 100 steps). Where features lie
// does depend on it. docs/method.md has the measurements behind the choice.
constexpr int64_t kPoolCells = 4;

// [N, C, D, H, W] -> [N, C * cells^3]: the mean of each of cells^3 blocks less the channel's mean over them,
// channel-major.
torch::Tensor cell_average_pool(const torch::Tensor& x, int64_t cells = kPoolCells);

// Conv1x1(c0 -> classes) with bias, Kaiming-initialised like the backbone.
torch::nn::Conv3d make_segmentation_head(int64_t in_channels, int64_t classes);

}  // namespace pgl::nn
