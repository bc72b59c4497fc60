#pragma once
// SiameseModel<Head>: what PGL and BYOL share (DESIGN.md §1.2, §1.5): an online path (backbone f, projector
// g, predictor q) trained by SGD and a target path (f', g') that follows it by EMA. Only the head type
// differs: PGL projects every voxel (LocalHead), BYOL the pooled features (GlobalHead). The subclasses add
// their loss.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "pgl/nn/heads.h"
#include "pgl/nn/resunet.h"
#include "pgl/ssl/method.h"

namespace pgl::ssl {

template <typename Head>
class SiameseModel : public SslMethod {
 public:
  SiameseModel(const std::string& name, const SslOptions& options, const nn::HeadOptions& projector_options,
               const nn::HeadOptions& predictor_options);
  std::vector<torch::Tensor> online_parameters() const override;
  void update_target(int64_t step, int64_t total_steps) override;
  double target_tau(int64_t step, int64_t total_steps) const override;
  nn::ResUNet3D online_backbone() const override { return backbone; }

  SslOptions options;
  nn::ResUNet3D backbone{nullptr};
  Head projector{nullptr}, predictor{nullptr};
  nn::ResUNet3D target_backbone{nullptr};
  Head target_projector{nullptr};
};

extern template class SiameseModel<nn::LocalHead>;
extern template class SiameseModel<nn::GlobalHead>;

}  // namespace pgl::ssl
