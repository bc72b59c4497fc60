#include "pgl/nn/resunet.h"

#include <string>

#include "pgl/core/error.h"
#include "pgl/nn/norm_act.h"

namespace pgl::nn {
namespace {

torch::ExpandingArray<3> expand(const Axes3& a) { return torch::ExpandingArray<3>({a[0], a[1], a[2]}); }

torch::nn::Conv3d make_conv(int64_t in, int64_t out, const Axes3& kernel, const Axes3& stride) {
  const Axes3 padding{kernel[0] / 2, kernel[1] / 2, kernel[2] / 2};
  return torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, expand(kernel))
                               .stride(expand(stride))
                               .padding(expand(padding))
                               .bias(false));
}

torch::nn::InstanceNorm3d make_norm(int64_t channels) {
  // Affine, no running statistics: train and eval behave alike and there are no buffers to carry over.
  return torch::nn::InstanceNorm3d(
      torch::nn::InstanceNorm3dOptions(channels).affine(true).track_running_stats(false));
}

}  // namespace

Axes3 ResUNet3DOptions::stride(int64_t level) const {
  if (level == 0) return {1, 1, 1};
  if (strides_.empty()) return {2, 2, 2};
  return strides_.at(static_cast<size_t>(level));
}

Axes3 ResUNet3DOptions::kernel(int64_t level) const {
  return kernels_.empty() ? Axes3{3, 3, 3} : kernels_.at(static_cast<size_t>(level));
}

Axes3 ResUNet3DOptions::size_multiple() const {
  Axes3 m{1, 1, 1};
  for (int64_t level = 1; level < levels_; ++level)
    for (size_t a = 0; a < 3; ++a) m[a] *= stride(level)[a];
  return m;
}

void ResUNet3DOptions::validate() const {
  if (levels_ < 1 || base_ < 1 || in_channels_ < 1)
    throw Error("ResUNet3D: levels, base and in_channels must be positive");
  const auto levels = static_cast<size_t>(levels_);
  if (!strides_.empty() && strides_.size() != levels)
    throw Error("ResUNet3D: " + std::to_string(strides_.size()) + " strides for " + std::to_string(levels) +
                " levels");
  if (!kernels_.empty() && kernels_.size() != levels)
    throw Error("ResUNet3D: " + std::to_string(kernels_.size()) + " kernels for " + std::to_string(levels) +
                " levels");
  for (const auto& s : strides_)
    for (int64_t v : s)
      if (v != 1 && v != 2) throw Error("ResUNet3D: strides must be 1 or 2");
  for (const auto& k : kernels_)
    for (int64_t v : k)
      if (v < 1 || v % 2 == 0) throw Error("ResUNet3D: kernel sizes must be odd and positive");
}

ConvNormActImpl::ConvNormActImpl(const ConvNormActOptions& options_) : options(options_) { reset(); }

void ConvNormActImpl::reset() {
  conv = register_module("conv", make_conv(options.in_channels(), options.out_channels(),
                                           options.kernel_size(), options.stride()));
  norm = register_module("norm", make_norm(options.out_channels()));
}

torch::Tensor ConvNormActImpl::forward(const torch::Tensor& x) {
  return instance_norm_act(conv(x), norm->weight, norm->bias, {}, options.negative_slope(),
                           norm->options.eps());
}

ResidualBlockImpl::ResidualBlockImpl(int64_t channels_, double negative_slope_, Axes3 kernel_)
    : channels(channels_), negative_slope(negative_slope_), kernel(kernel_) {
  reset();
}

void ResidualBlockImpl::reset() {
  conv1 = register_module("conv1", make_conv(channels, channels, kernel, {1, 1, 1}));
  norm1 = register_module("norm1", make_norm(channels));
  conv2 = register_module("conv2", make_conv(channels, channels, kernel, {1, 1, 1}));
  norm2 = register_module("norm2", make_norm(channels));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor y =
      instance_norm_act(conv1(x), norm1->weight, norm1->bias, {}, negative_slope, norm1->options.eps());
  return instance_norm_act(conv2(y), norm2->weight, norm2->bias, x, negative_slope, norm2->options.eps());
}

EncoderLevelImpl::EncoderLevelImpl(const ResUNet3DOptions& options_, int64_t level_)
    : options(options_), level(level_) {
  reset();
}

void EncoderLevelImpl::reset() {
  const int64_t channels = options.channels(level);
  if (level > 0) {
    down = register_module("down", ConvNormAct(ConvNormActOptions(options.channels(level - 1), channels)
                                                   .kernel_size(options.kernel(level))
                                                   .stride(options.stride(level))
                                                   .negative_slope(options.negative_slope())));
  }
  block = register_module("block", ResidualBlock(channels, options.negative_slope(), options.kernel(level)));
}

torch::Tensor EncoderLevelImpl::forward(const torch::Tensor& x) { return block(down ? down(x) : x); }

DecoderLevelImpl::DecoderLevelImpl(const ResUNet3DOptions& options_, int64_t level_)
    : options(options_), level(level_) {
  reset();
}

void DecoderLevelImpl::reset() {
  const int64_t channels = options.channels(level);
  const auto up_stride = expand(options.stride(level + 1));
  up = register_module("up", torch::nn::ConvTranspose3d(torch::nn::ConvTranspose3dOptions(
                                                            options.channels(level + 1), channels, up_stride)
                                                            .stride(up_stride)
                                                            .bias(false)));
  fuse = register_module("fuse", ConvNormAct(ConvNormActOptions(2 * channels, channels)
                                                 .kernel_size(options.kernel(level))
                                                 .negative_slope(options.negative_slope())));
  block = register_module("block", ResidualBlock(channels, options.negative_slope(), options.kernel(level)));
}

torch::Tensor DecoderLevelImpl::forward(const torch::Tensor& below, const torch::Tensor& skip) {
  return block(fuse(torch::cat({up(below), skip}, 1)));
}

ResUNet3DImpl::ResUNet3DImpl(const ResUNet3DOptions& options_) : options(options_) {
  options.validate();
  reset();
}

void ResUNet3DImpl::reset() {
  stem = register_module("stem", ConvNormAct(ConvNormActOptions(options.in_channels(), options.base())
                                                 .kernel_size(options.kernel(0))
                                                 .negative_slope(options.negative_slope())));
  enc = register_module("enc", torch::nn::ModuleList());
  dec = register_module("dec", torch::nn::ModuleList());
  for (int64_t level = 0; level < options.levels(); ++level) enc->push_back(EncoderLevel(options, level));
  for (int64_t level = 0; level + 1 < options.levels(); ++level) dec->push_back(DecoderLevel(options, level));
  initialize_weights(*this, options.negative_slope());
}

torch::Tensor ResUNet3DImpl::forward(const torch::Tensor& x) {
  const Axes3 multiple = options.size_multiple();
  if (x.dim() != 5 || x.size(1) != options.in_channels())
    throw Error("ResUNet3D: expected input [N, " + std::to_string(options.in_channels()) +
                ", D, H, W], got " + std::to_string(x.dim()) + "-D tensor");
  for (int64_t axis = 2; axis < 5; ++axis) {
    const int64_t m = multiple[static_cast<size_t>(axis - 2)];
    if (x.size(axis) % m != 0)
      throw Error("ResUNet3D: spatial size " + std::to_string(x.size(axis)) + " is not divisible by " +
                  std::to_string(m) + " (the product of the strides along that axis)");
  }
  std::vector<torch::Tensor> skips;
  torch::Tensor y = stem(x);
  for (const auto& level : *enc) {
    y = level->as<EncoderLevel>()->forward(y);
    skips.push_back(y);
  }
  for (int64_t level = options.levels() - 2; level >= 0; --level)
    y = dec[level]->as<DecoderLevel>()->forward(y, skips[static_cast<size_t>(level)]);
  return y;
}

void initialize_weights(torch::nn::Module& module, double negative_slope) {
  torch::NoGradGuard no_grad;
  auto kaiming = [&](torch::Tensor& weight) {
    torch::nn::init::kaiming_normal_(weight, negative_slope, torch::kFanOut, torch::kLeakyReLU);
  };
  for (const auto& child : module.modules(/*include_self=*/false)) {
    if (auto* conv = child->as<torch::nn::Conv3d>()) {
      kaiming(conv->weight);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* up = child->as<torch::nn::ConvTranspose3d>()) {
      kaiming(up->weight);
      if (up->bias.defined()) up->bias.zero_();
    } else if (auto* in = child->as<torch::nn::InstanceNorm3d>()) {
      if (in->weight.defined()) in->weight.fill_(1.0);
      if (in->bias.defined()) in->bias.zero_();
    } else if (auto* ln = child->as<torch::nn::LayerNorm>()) {
      if (ln->weight.defined()) ln->weight.fill_(1.0);
      if (ln->bias.defined()) ln->bias.zero_();
    }
  }
}

}  // namespace pgl::nn
