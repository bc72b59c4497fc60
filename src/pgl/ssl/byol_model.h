#pragma once
// BYOL baseline (DESIGN.md §1.5): the same views and backbone as PGL, but MLP heads on the globally
// average-pooled features and the symmetric 2 - 2 cos loss on the pooled vectors. The priors are ignored.
#include <torch/torch.h>

#include "pgl/nn/heads.h"
#include "pgl/nn/resunet.h"
#include "pgl/ssl/method.h"

namespace pgl::ssl {

class ByolModel : public SslMethod {
 public:
  explicit ByolModel(const SslOptions& options);
  std::string method_name() const override { return "byol"; }
  // Uses view1 and view2.
  torch::Tensor loss(const SslBatch& batch) override;
  std::vector<torch::Tensor> online_parameters() const override;
  void update_target(int64_t step, int64_t total_steps) override;
  double target_tau(int64_t step, int64_t total_steps) const override;
  nn::ResUNet3D online_backbone() const override { return backbone; }

  SslOptions options;
  nn::ResUNet3D backbone{nullptr};
  nn::GlobalHead projector{nullptr}, predictor{nullptr};
  nn::ResUNet3D target_backbone{nullptr};
  nn::GlobalHead target_projector{nullptr};
};

}  // namespace pgl::ssl
