#pragma once
// ResUNet3D: the 3D residual U-Net backbone f shared by PGL, BYOL, Models Genesis and fine-tuning
// (DESIGN.md §1.2). Parameter names are the export format (docs/architecture.md lists them):
//   stem.conv.weight, stem.norm.{weight,bias}
//   enc.<i>.down.conv.weight, enc.<i>.down.norm.{weight,bias}            (i > 0 only)
//   enc.<i>.block.{conv1,conv2}.weight, enc.<i>.block.{norm1,norm2}.{weight,bias}
//   dec.<i>.up.weight, dec.<i>.fuse.conv.weight, dec.<i>.fuse.norm.{weight,bias}, dec.<i>.block....
// where dec.<i> is the decoder stage that produces level i's resolution (i = 0 is full resolution).
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace pgl::nn {

using Axes3 = std::array<int64_t, 3>;  // one value per spatial axis (D, H, W)

struct ResUNet3DOptions {
  explicit ResUNet3DOptions(int64_t in_channels = 1) : in_channels_(in_channels) {}
  // Channels of level i: base * 2^i.
  int64_t channels(int64_t level) const { return base_ << level; }
  // Down-sampling stride of level i (level 0: 1) and convolution kernel of level i's stages, per axis.
  Axes3 stride(int64_t level) const;
  Axes3 kernel(int64_t level) const;
  // Product of the strides of levels 1..L-1: input sizes must be multiples of it, axis by axis.
  Axes3 size_multiple() const;
  // Throws pgl::Error when strides/kernels do not have one entry per level or hold values other than 1, 2
  // (strides) or odd kernels.
  void validate() const;

  TORCH_ARG(int64_t, in_channels);
  // Channels of level 0 (c0); level i has base * 2^i.
  TORCH_ARG(int64_t, base) = 8;
  // Number of resolution levels L; spatial input sizes must be divisible by 2^(L-1).
  TORCH_ARG(int64_t, levels) = 4;
  // Slope of every LeakyReLU, also used by the Kaiming initialisation.
  TORCH_ARG(double, negative_slope) = 0.01;
  // Per level (index = level), for anisotropic patches (the plan's topology, nnU-Net style). Empty: stride 2
  // and kernel 3 on every axis, the isotropic network of DESIGN.md §1.2. Parameter names never change;
  // kernel 1 along an axis changes the shape of that level's convolution weights.
  TORCH_ARG(std::vector<Axes3>, strides) = {};
  TORCH_ARG(std::vector<Axes3>, kernels) = {};
};

// Conv3d (no bias) + InstanceNorm3d (affine) + LeakyReLU: "conv", "norm".
struct ConvNormActOptions {
  ConvNormActOptions(int64_t in, int64_t out) : in_channels_(in), out_channels_(out) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(Axes3, kernel_size) = Axes3{3, 3, 3};
  TORCH_ARG(Axes3, stride) = Axes3{1, 1, 1};
  TORCH_ARG(double, negative_slope) = 0.01;
};

class ConvNormActImpl : public torch::nn::Cloneable<ConvNormActImpl> {
 public:
  explicit ConvNormActImpl(const ConvNormActOptions& options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  ConvNormActOptions options;
  torch::nn::Conv3d conv{nullptr};
  torch::nn::InstanceNorm3d norm{nullptr};
};
TORCH_MODULE(ConvNormAct);

// conv-IN-LReLU-conv-IN, add the input, LReLU: "conv1", "norm1", "conv2", "norm2".
class ResidualBlockImpl : public torch::nn::Cloneable<ResidualBlockImpl> {
 public:
  ResidualBlockImpl(int64_t channels, double negative_slope, Axes3 kernel = {3, 3, 3});
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  int64_t channels;
  double negative_slope;
  Axes3 kernel;
  torch::nn::Conv3d conv1{nullptr}, conv2{nullptr};
  torch::nn::InstanceNorm3d norm1{nullptr}, norm2{nullptr};
};
TORCH_MODULE(ResidualBlock);

// Encoder level i: for i > 0 a stride-2 "down" ConvNormAct, then one residual "block".
class EncoderLevelImpl : public torch::nn::Cloneable<EncoderLevelImpl> {
 public:
  EncoderLevelImpl(const ResUNet3DOptions& options, int64_t level);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  ResUNet3DOptions options;
  int64_t level;
  ConvNormAct down{nullptr};  // null at level 0
  ResidualBlock block{nullptr};
};
TORCH_MODULE(EncoderLevel);

// Decoder stage producing level i: "up" ConvTranspose3d(c_{i+1} -> c_i, kernel = stride = level i+1's
// stride, no bias), concatenation
// with the skip of level i, "fuse" ConvNormAct(2 c_i -> c_i, k3), one residual "block".
class DecoderLevelImpl : public torch::nn::Cloneable<DecoderLevelImpl> {
 public:
  DecoderLevelImpl(const ResUNet3DOptions& options, int64_t level);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& below, const torch::Tensor& skip);

  ResUNet3DOptions options;
  int64_t level;
  torch::nn::ConvTranspose3d up{nullptr};
  ConvNormAct fuse{nullptr};
  ResidualBlock block{nullptr};
};
TORCH_MODULE(DecoderLevel);

class ResUNet3DImpl : public torch::nn::Cloneable<ResUNet3DImpl> {
 public:
  explicit ResUNet3DImpl(const ResUNet3DOptions& options = ResUNet3DOptions());
  void reset() override;
  // x: [N, in_channels, D, H, W] -> features [N, c0, D, H, W].
  torch::Tensor forward(const torch::Tensor& x);
  // Number of output feature channels (c0).
  int64_t out_channels() const { return options.base(); }

  ResUNet3DOptions options;
  ConvNormAct stem{nullptr};
  torch::nn::ModuleList enc{nullptr};  // EncoderLevel, index = level
  torch::nn::ModuleList dec{nullptr};  // DecoderLevel, index = level it produces (0 .. L-2)
};
TORCH_MODULE(ResUNet3D);

// Kaiming normal (fan_out, LeakyReLU slope) for every Conv3d / ConvTranspose3d weight below `module` (biases
// zero), weight 1 and bias 0 for InstanceNorm3d / LayerNorm. Linear layers keep LibTorch's default.
void initialize_weights(torch::nn::Module& module, double negative_slope = 0.01);

}  // namespace pgl::nn
