#include "pgl/ssl/loss.h"

#include <cmath>

namespace pgl::ssl {
namespace F = torch::nn::functional;

torch::Tensor cosine_distance(const torch::Tensor& p, const torch::Tensor& z) {
  const auto options = F::NormalizeFuncOptions().dim(1).eps(1e-12);
  const torch::Tensor pn = F::normalize(p.to(torch::kFloat32), options);
  const torch::Tensor zn = F::normalize(z.to(torch::kFloat32), options);
  return 2.0 - 2.0 * (pn * zn).sum(1);
}

torch::Tensor consistency_loss(const torch::Tensor& p, const torch::Tensor& z) {
  return cosine_distance(p, z).mean();
}

torch::Tensor symmetric_consistency_loss(const torch::Tensor& p1, const torch::Tensor& z2,
                                         const torch::Tensor& p2, const torch::Tensor& z1) {
  return consistency_loss(p1, z2) + consistency_loss(p2, z1);
}

double direction_spread(const torch::Tensor& z) {
  torch::NoGradGuard no_grad;
  const int64_t channels = z.size(1);
  // [N, C, ...] -> [C, N * positions]
  const torch::Tensor zn = F::normalize(z.to(torch::kFloat32), F::NormalizeFuncOptions().dim(1).eps(1e-12))
                               .transpose(0, 1)
                               .reshape({channels, -1});
  if (zn.size(1) < 2) return 0.0;
  return zn.std(1).mean().item<double>() * std::sqrt(static_cast<double>(channels));
}

}  // namespace pgl::ssl
