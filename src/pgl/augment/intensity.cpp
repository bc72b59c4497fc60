#include "pgl/augment/intensity.h"

#include <cmath>

#include "pgl/augment/random.h"

namespace pgl::augment {
namespace F = torch::nn::functional;

torch::Tensor add_gaussian_noise(const torch::Tensor& x, double sigma, std::mt19937_64& rng) {
  return x + torch::randn(x.sizes(), make_torch_generator(rng), x.options()) * sigma;
}

torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma) {
  if (sigma <= 0) return x.clone();
  // Truncated at 3 sigma; edges replicated (scipy's default mirrors the edge voxel, which differs only at
  // the border).
  const auto radius = static_cast<int64_t>(std::ceil(3.0 * sigma));
  torch::Tensor taps = torch::arange(-radius, radius + 1, x.options().dtype(torch::kFloat64));
  torch::Tensor kernel = torch::exp(-0.5 * (taps / sigma).pow(2));
  kernel = (kernel / kernel.sum()).to(x.dtype());
  const auto sizes = x.sizes().vec();
  const int64_t d = sizes[sizes.size() - 3], h = sizes[sizes.size() - 2], w = sizes[sizes.size() - 1];
  torch::Tensor y = x.reshape({-1, 1, d, h, w});
  const int64_t k = 2 * radius + 1;
  y = F::conv3d(F::pad(y, F::PadFuncOptions({0, 0, 0, 0, radius, radius}).mode(torch::kReplicate)),
                kernel.view({1, 1, k, 1, 1}));
  y = F::conv3d(F::pad(y, F::PadFuncOptions({0, 0, radius, radius, 0, 0}).mode(torch::kReplicate)),
                kernel.view({1, 1, 1, k, 1}));
  y = F::conv3d(F::pad(y, F::PadFuncOptions({radius, radius, 0, 0, 0, 0}).mode(torch::kReplicate)),
                kernel.view({1, 1, 1, 1, k}));
  return y.reshape(sizes);
}

torch::Tensor adjust_contrast(const torch::Tensor& x, double factor) {
  torch::Tensor mean = x.mean();
  return ((x - mean) * factor + mean).clamp(x.min().item<double>(), x.max().item<double>());
}

torch::Tensor adjust_gamma(const torch::Tensor& x, double gamma, bool retain_stats) {
  constexpr double kEpsilon = 1e-7;
  const double lo = x.min().item<double>();
  const double range = x.max().item<double>() - lo;
  torch::Tensor y = ((x - lo) / (range + kEpsilon)).pow(gamma) * range + lo;
  if (retain_stats) {
    torch::Tensor mean = x.mean(), std = x.std();
    y = (y - y.mean()) / (y.std() + 1e-8) * std + mean;
  }
  return y;
}

torch::Tensor augment_intensity(const torch::Tensor& x, const IntensityOptions& o, std::mt19937_64& rng) {
  torch::Tensor y = x;
  if (!o.enabled) return y;
  // Every decision and parameter is drawn in a fixed order whatever was chosen, so one transform's
  // probability does not shift the random stream of the others.
  const bool noise = chance(rng, o.noise_probability);
  const double noise_sigma = uniform(rng, 0.0, o.noise_sigma_max);
  const bool blur = chance(rng, o.blur_probability);
  const double blur_sigma = uniform(rng, o.blur_sigma_min, o.blur_sigma_max);
  const bool brightness = chance(rng, o.brightness_probability);
  const double brightness_factor = uniform(rng, o.brightness_min, o.brightness_max);
  const bool contrast = chance(rng, o.contrast_probability);
  const double contrast_factor = uniform(rng, o.contrast_min, o.contrast_max);
  const bool gamma = chance(rng, o.gamma_probability);
  const double gamma_value = uniform(rng, o.gamma_min, o.gamma_max);
  const uint64_t noise_seed = rng();

  if (noise) {
    std::mt19937_64 noise_rng(noise_seed);
    y = add_gaussian_noise(y, noise_sigma, noise_rng);
  }
  if (blur) y = gaussian_blur(y, blur_sigma);
  if (brightness) y = y * brightness_factor;
  if (contrast) y = adjust_contrast(y, contrast_factor);
  if (gamma) y = adjust_gamma(y, gamma_value, o.gamma_retain_stats);
  return y;
}

}  // namespace pgl::augment
