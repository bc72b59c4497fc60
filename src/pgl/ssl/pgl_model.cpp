#include "pgl/ssl/pgl_model.h"

#include "pgl/core/error.h"
#include "pgl/ssl/loss.h"

namespace pgl::ssl {

PglModel::PglModel(const SslOptions& options)
    : SiameseModel("PglModel", options, nn::local_projector_options(options.backbone.base()),
                   nn::local_predictor_options(options.backbone.base())) {}

PglModel::Aligned PglModel::aligned_outputs(const SslBatch& batch) {
  if (!batch.view1.defined() || !batch.view2.defined() || batch.view1.sizes() != batch.view2.sizes())
    throw Error("PGL: the batch needs two views of the same shape");
  const int64_t n = batch.view1.size(0);
  if (static_cast<int64_t>(batch.priors1.size()) != n || static_cast<int64_t>(batch.priors2.size()) != n)
    throw Error("PGL: the batch needs priors for every view");
  // Both views in one pass: InstanceNorm works per sample, so this equals two passes.
  const torch::Tensor views = torch::cat({batch.view1, batch.view2}, 0);
  const torch::Tensor p = predictor(projector(backbone(views)));
  torch::Tensor z;
  {
    torch::NoGradGuard no_grad;
    z = target_projector(target_backbone(views));
  }
  target_spread_ = direction_spread(z);
  const augment::Shape3 patch{batch.view1.size(2), batch.view1.size(3), batch.view1.size(4)};
  const augment::Shape3 feature_shape{p.size(2), p.size(3), p.size(4)};
  const auto [regions1, regions2] =
      alignment_regions(batch.priors1, batch.priors2, patch, feature_shape, options.aligner.priors());
  const int64_t a = options.aligner.output_size(), s = options.aligner.samples();
  // Float weights: under bf16 autocast the products run in bf16 anyway; the weights are cast per call.
  const auto weight_options = torch::TensorOptions().dtype(torch::kFloat32).device(p.device());
  const RoiWeights weights1 = make_roi_weights(regions1, feature_shape, a, s, weight_options);
  const RoiWeights weights2 = make_roi_weights(regions2, feature_shape, a, s, weight_options);
  Aligned out;
  out.p1 = roi_align_3d(p.narrow(0, 0, n), weights1);
  out.p2 = roi_align_3d(p.narrow(0, n, n), weights2);
  out.z1 = roi_align_3d(z.narrow(0, 0, n), weights1);
  out.z2 = roi_align_3d(z.narrow(0, n, n), weights2);
  return out;
}

torch::Tensor PglModel::loss(const SslBatch& batch) {
  const Aligned a = aligned_outputs(batch);
  return symmetric_consistency_loss(a.p1, a.z2, a.p2, a.z1);
}

}  // namespace pgl::ssl
