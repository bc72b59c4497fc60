#pragma once
// BYOL baseline (DESIGN.md §1.5): the same views and backbone as PGL, but MLP heads on pooled features and
// the symmetric 2 - 2 cos loss on the pooled vectors. The priors are ignored. Departure from DESIGN.md: the
// pooling keeps a 4x4x4 grid of centred cell means instead of one global mean (nn::cell_average_pool; why in
// docs/method.md).
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
