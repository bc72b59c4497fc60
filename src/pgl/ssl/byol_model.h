#pragma once
// BYOL baseline (DESIGN.md §1.5): the same views and backbone as PGL, but MLP heads on the globally
// average-pooled features and the symmetric 2 - 2 cos loss on the pooled vectors. The priors are ignored.
#include <torch/torch.h>

#include "pgl/ssl/siamese_model.h"

namespace pgl::ssl {

class ByolModel : public SiameseModel<nn::GlobalHead> {
 public:
  explicit ByolModel(const SslOptions& options);
  std::string method_name() const override { return "byol"; }
  // Uses view1 and view2.
  torch::Tensor loss(const SslBatch& batch) override;
};

}  // namespace pgl::ssl
