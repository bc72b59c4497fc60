#include "pgl/nn/heads.h"

#include "pgl/nn/norm_act.h"
#include "pgl/nn/resunet.h"

namespace pgl::nn {

LocalHeadImpl::LocalHeadImpl(const HeadOptions& options_) : options(options_) { reset(); }

void LocalHeadImpl::reset() {
  // No bias before the norm: InstanceNorm removes it anyway.
  conv1 = register_module(
      "conv1",
      torch::nn::Conv3d(
          torch::nn::Conv3dOptions(options.in_channels(), options.hidden_channels(), 1).bias(false)));
  norm = register_module("norm",
                         torch::nn::InstanceNorm3d(torch::nn::InstanceNorm3dOptions(options.hidden_channels())
                                                       .affine(true)
                                                       .track_running_stats(false)));
  conv2 = register_module("conv2", torch::nn::Conv3d(torch::nn::Conv3dOptions(options.hidden_channels(),
                                                                              options.out_channels(), 1)));
  initialize_weights(*this);
}

torch::Tensor LocalHeadImpl::forward(const torch::Tensor& x) {
  return conv2(
      instance_norm_act(conv1(x), norm->weight, norm->bias, {}, /*negative_slope=*/0, norm->options.eps()));
}

GlobalHeadImpl::GlobalHeadImpl(const HeadOptions& options_) : options(options_) { reset(); }

void GlobalHeadImpl::reset() {
  fc1 = register_module("fc1", torch::nn::Linear(options.in_channels(), options.hidden_channels()));
  norm =
      register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.hidden_channels()})));
  fc2 = register_module("fc2", torch::nn::Linear(options.hidden_channels(), options.out_channels()));
}

torch::Tensor GlobalHeadImpl::forward(const torch::Tensor& x) { return fc2(torch::relu(norm(fc1(x)))); }

HeadOptions local_projector_options(int64_t c0) { return HeadOptions(c0, 4 * c0, 2 * c0); }
HeadOptions local_predictor_options(int64_t c0) { return HeadOptions(2 * c0, 4 * c0, 2 * c0); }
HeadOptions global_projector_options(int64_t c0) {
  return HeadOptions(kPoolCells * kPoolCells * kPoolCells * c0, 4 * c0, 2 * c0);
}
HeadOptions global_predictor_options(int64_t c0) { return HeadOptions(2 * c0, 4 * c0, 2 * c0); }

torch::Tensor cell_average_pool(const torch::Tensor& x, int64_t cells) {
  const torch::Tensor grid =
      torch::adaptive_avg_pool3d(x, {cells, cells, cells}).flatten(2);  // [N, C, cells^3]
  return (grid - grid.mean(2, true)).flatten(1);
}

torch::nn::Conv3d make_segmentation_head(int64_t in_channels, int64_t classes) {
  torch::nn::Conv3d head(torch::nn::Conv3dOptions(in_channels, classes, 1));
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(head->weight, 0.01, torch::kFanOut, torch::kLeakyReLU);
  head->bias.zero_();
  return head;
}

}  // namespace pgl::nn
