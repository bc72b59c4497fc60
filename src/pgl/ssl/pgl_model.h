#pragma once
// PGL (DESIGN.md §1.2-1.4): online f, g, q and target f', g' on both views; the outputs are aligned by the
// prior-guided aligner and compared voxel by voxel with the symmetric local consistency loss.
#include <torch/torch.h>

#include "pgl/ssl/siamese_model.h"

namespace pgl::ssl {

class PglModel : public SiameseModel<nn::LocalHead> {
 public:
  explicit PglModel(const SslOptions& options);
  std::string method_name() const override { return "pgl"; }
  // Uses view1, view2, priors1, priors2.
  torch::Tensor loss(const SslBatch& batch) override;

  // Aligned outputs of a batch: p1, p2 (online, with graph) and z1, z2 (target), each [N, 2c0, A, A, A].
  struct Aligned {
    torch::Tensor p1, p2, z1, z2;
  };
  Aligned aligned_outputs(const SslBatch& batch);
};

}  // namespace pgl::ssl
