#include "pgl/seg/seg_net.h"

#include "pgl/nn/heads.h"

namespace pgl::seg {

SegNetImpl::SegNetImpl(const nn::ResUNet3DOptions& backbone_options, int64_t classes) : classes_(classes) {
  backbone = register_module("backbone", nn::ResUNet3D(backbone_options));
  head = register_module("head", nn::make_segmentation_head(backbone->out_channels(), classes));
}

torch::Tensor SegNetImpl::forward(const torch::Tensor& x) { return head->forward(backbone->forward(x)); }

}  // namespace pgl::seg
