#pragma once
// Intensity augmentations of one view (DESIGN.md §1.1 step 3), applied in nnU-Net's order: Gaussian noise,
// Gaussian blur, multiplicative brightness, contrast, gamma. Each is drawn independently per call.
#include <torch/torch.h>

#include <random>

namespace pgl::augment {

struct IntensityOptions {
  bool enabled = true;
  double noise_probability = 0.1;
  double noise_sigma_max = 0.1;  // sigma ~ U[0, max]
  double blur_probability = 0.2;
  double blur_sigma_min = 0.5;  // voxels, same sigma on every axis
  double blur_sigma_max = 1.0;
  double brightness_probability = 0.15;
  double brightness_min = 0.7;  // x *= U[min, max]
  double brightness_max = 1.3;
  double contrast_probability = 0.15;
  double contrast_min = 0.65;  // (x - mean) * U[min, max] + mean, clipped to the old [min, max]
  double contrast_max = 1.5;
  double gamma_probability = 0.3;
  double gamma_min = 0.7;  // on values rescaled to [0, 1], then mapped back
  double gamma_max = 1.5;
  bool gamma_retain_stats = true;  // restore mean and std after gamma, as nnU-Net does
};

// The single transforms (x: any shape whose last three dims are D, H, W; returns a new tensor).
torch::Tensor add_gaussian_noise(const torch::Tensor& x, double sigma, std::mt19937_64& rng);
torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma);
torch::Tensor adjust_contrast(const torch::Tensor& x, double factor);
torch::Tensor adjust_gamma(const torch::Tensor& x, double gamma, bool retain_stats);

// All of them with their probabilities; returns x itself when nothing was drawn.
torch::Tensor augment_intensity(const torch::Tensor& x, const IntensityOptions& options,
                                std::mt19937_64& rng);

}  // namespace pgl::augment
