#include "pgl/ssl/byol_model.h"

#include "pgl/core/error.h"
#include "pgl/ssl/ema.h"
#include "pgl/ssl/loss.h"

namespace pgl::ssl {

ByolModel::ByolModel(const SslOptions& options_) : SslMethod("ByolModel"), options(options_) {
  const int64_t c0 = options.backbone.base();
  backbone = nn::ResUNet3D(options.backbone);
  projector = nn::GlobalHead(nn::global_projector_options(c0));
  predictor = nn::GlobalHead(nn::global_predictor_options(c0));
  target_backbone = nn::ResUNet3D(std::dynamic_pointer_cast<nn::ResUNet3DImpl>(backbone->clone()));
  target_projector = nn::GlobalHead(std::dynamic_pointer_cast<nn::GlobalHeadImpl>(projector->clone()));
  freeze(*target_backbone);
  freeze(*target_projector);

  register_module("online", torch::nn::ModuleDict(NamedModules{
                                {"backbone", backbone.ptr()},
                                {"projector", projector.ptr()},
                                {"predictor", predictor.ptr()},
                            }));
  register_module("target", torch::nn::ModuleDict(NamedModules{
                                {"backbone", target_backbone.ptr()},
                                {"projector", target_projector.ptr()},
                            }));
}

torch::Tensor ByolModel::loss(const SslBatch& batch) {
  if (!batch.view1.defined() || !batch.view2.defined() || batch.view1.sizes() != batch.view2.sizes())
    throw Error("BYOL: the batch needs two views of the same shape");
  const int64_t n = batch.view1.size(0);
  const torch::Tensor views = torch::cat({batch.view1, batch.view2}, 0);
  const torch::Tensor p = predictor(projector(nn::global_average_pool(backbone(views))));
  torch::Tensor z;
  {
    torch::NoGradGuard no_grad;
    z = target_projector(nn::global_average_pool(target_backbone(views)));
  }
  return symmetric_consistency_loss(p.narrow(0, 0, n), z.narrow(0, n, n), p.narrow(0, n, n),
                                    z.narrow(0, 0, n));
}

std::vector<torch::Tensor> ByolModel::online_parameters() const {
  std::vector<torch::Tensor> params = backbone->parameters();
  for (const auto& p : projector->parameters()) params.push_back(p);
  for (const auto& p : predictor->parameters()) params.push_back(p);
  return params;
}

double ByolModel::target_tau(int64_t step, int64_t total_steps) const {
  return ema_tau(step, total_steps, options.tau_base);
}

void ByolModel::update_target(int64_t step, int64_t total_steps) {
  const double tau = target_tau(step, total_steps);
  ema_update(*target_backbone, *backbone, tau);
  ema_update(*target_projector, *projector, tau);
}

}  // namespace pgl::ssl
