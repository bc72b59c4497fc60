#pragma once
// Heads on top of the backbone (DESIGN.md §1.2, §1.5, §2):
// - LocalHead: PGL's structure-aware projector g (c0 -> 4c0 -> 2c0) and predictor q (2c0 -> 4c0 -> 2c0):
//   Conv1x1 + InstanceNorm + ReLU + Conv1x1. 1x1 convolutions keep the spatial layout, which is what makes
//   the heads local. Names: conv1.weight, norm.{weight,bias}, conv2.{weight,bias}.
// - GlobalHead: BYOL's MLP on globally average-pooled features: Linear + LayerNorm + ReLU + Linear.
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
HeadOptions local_projector_options(int64_t c0);  // c0 -> 4c0 -> 2c0
HeadOptions local_predictor_options(int64_t c0);  // 2c0 -> 4c0 -> 2c0
HeadOptions global_projector_options(int64_t c0);
HeadOptions global_predictor_options(int64_t c0);

// [N, C, D, H, W] -> [N, C]: mean over all voxels.
torch::Tensor global_average_pool(const torch::Tensor& x);

// Conv1x1(c0 -> classes) with bias, Kaiming-initialised like the backbone.
torch::nn::Conv3d make_segmentation_head(int64_t in_channels, int64_t classes);

}  // namespace pgl::nn
