#pragma once
// Models Genesis baseline (DESIGN.md §1.5): restore the original patch from the transformed one with the
// backbone + Conv1x1(c0 -> 1); MSE. No target network.
#include <torch/torch.h>

#include "pgl/nn/resunet.h"
#include "pgl/ssl/method.h"

namespace pgl::ssl {

class GenesisModel : public SslMethod {
 public:
  explicit GenesisModel(const SslOptions& options);
  std::string method_name() const override { return "genesis"; }
  // Uses input (transformed patches) and target (originals), both [N, 1, D, H, W].
  torch::Tensor loss(const SslBatch& batch) override;
  std::vector<torch::Tensor> online_parameters() const override { return parameters(); }
  nn::ResUNet3D online_backbone() const override { return backbone; }

  SslOptions options;
  nn::ResUNet3D backbone{nullptr};
  torch::nn::Conv3d head{nullptr};
};

}  // namespace pgl::ssl
