#include "pgl/ssl/genesis_model.h"

#include "pgl/core/error.h"
#include "pgl/nn/heads.h"

namespace pgl::ssl {

GenesisModel::GenesisModel(const SslOptions& options_) : SslMethod("GenesisModel"), options(options_) {
  backbone = nn::ResUNet3D(options.backbone);
  head = nn::make_segmentation_head(options.backbone.base(), options.backbone.in_channels());
  register_module("online",
                  torch::nn::ModuleDict(NamedModules{{"backbone", backbone.ptr()}, {"head", head.ptr()}}));
}

torch::Tensor GenesisModel::loss(const SslBatch& batch) {
  if (!batch.input.defined() || !batch.target.defined() || batch.input.sizes() != batch.target.sizes())
    throw Error("Models Genesis: the batch needs input and target patches of the same shape");
  const torch::Tensor restored = head(backbone(batch.input));
  return torch::mse_loss(restored.to(torch::kFloat32), batch.target.to(torch::kFloat32));
}

}  // namespace pgl::ssl
