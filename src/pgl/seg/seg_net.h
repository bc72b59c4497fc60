#pragma once
// The segmentation network: the ResUNet3D backbone (the pretrained part) plus a 1x1x1 convolution head.
// Parameter names: backbone.<ResUNet3D names> (docs/architecture.md), head.weight, head.bias.
#include <torch/torch.h>

#include "pgl/nn/resunet.h"

namespace pgl::seg {

class SegNetImpl : public torch::nn::Module {
 public:
  SegNetImpl(const nn::ResUNet3DOptions& backbone_options, int64_t classes);
  // x [N, 1, D, H, W] -> logits [N, K, D, H, W]
  torch::Tensor forward(const torch::Tensor& x);
  int64_t classes() const { return classes_; }

  nn::ResUNet3D backbone{nullptr};
  torch::nn::Conv3d head{nullptr};

 private:
  int64_t classes_;
};
TORCH_MODULE(SegNet);

}  // namespace pgl::seg
