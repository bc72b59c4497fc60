#include "pgl/ssl/siamese_model.h"

#include "pgl/ssl/ema.h"

namespace pgl::ssl {

template <typename Head>
SiameseModel<Head>::SiameseModel(const std::string& name, const SslOptions& options_,
                                 const nn::HeadOptions& projector_options,
                                 const nn::HeadOptions& predictor_options)
    : SslMethod(name), options(options_) {
  using HeadImpl = typename Head::ContainedType;
  backbone = nn::ResUNet3D(options.backbone);
  projector = Head(projector_options);
  predictor = Head(predictor_options);
  // The target starts as an exact copy of the online networks.
  target_backbone = nn::ResUNet3D(std::dynamic_pointer_cast<nn::ResUNet3DImpl>(backbone->clone()));
  target_projector = Head(std::dynamic_pointer_cast<HeadImpl>(projector->clone()));
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

template <typename Head>
std::vector<torch::Tensor> SiameseModel<Head>::online_parameters() const {
  std::vector<torch::Tensor> params = backbone->parameters();
  for (const auto& p : projector->parameters()) params.push_back(p);
  for (const auto& p : predictor->parameters()) params.push_back(p);
  return params;
}

template <typename Head>
double SiameseModel<Head>::target_tau(int64_t step, int64_t total_steps) const {
  return ema_tau(step, total_steps, options.tau_base);
}

template <typename Head>
void SiameseModel<Head>::update_target(int64_t step, int64_t total_steps) {
  const double tau = target_tau(step, total_steps);
  ema_update(*target_backbone, *backbone, tau);
  ema_update(*target_projector, *projector, tau);
}

template class SiameseModel<nn::LocalHead>;
template class SiameseModel<nn::GlobalHead>;

}  // namespace pgl::ssl
