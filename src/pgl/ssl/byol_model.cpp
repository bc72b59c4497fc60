#include "pgl/ssl/byol_model.h"

#include "pgl/core/error.h"
#include "pgl/ssl/loss.h"

namespace pgl::ssl {

ByolModel::ByolModel(const SslOptions& options)
    : SiameseModel("ByolModel", options, nn::global_projector_options(options.backbone.base()),
                   nn::global_predictor_options(options.backbone.base())) {}

torch::Tensor ByolModel::loss(const SslBatch& batch) {
  if (!batch.view1.defined() || !batch.view2.defined() || batch.view1.sizes() != batch.view2.sizes())
    throw Error("BYOL: the batch needs two views of the same shape");
  const int64_t n = batch.view1.size(0);
  const torch::Tensor views = torch::cat({batch.view1, batch.view2}, 0);
  const torch::Tensor p = predictor(projector(nn::cell_average_pool(backbone(views))));
  torch::Tensor z;
  {
    torch::NoGradGuard no_grad;
    z = target_projector(nn::cell_average_pool(target_backbone(views)));
  }
  target_spread_ = direction_spread(z);
  return symmetric_consistency_loss(p.narrow(0, 0, n), z.narrow(0, n, n), p.narrow(0, n, n),
                                    z.narrow(0, 0, n));
}

}  // namespace pgl::ssl
