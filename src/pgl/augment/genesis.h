#pragma once
// Models Genesis input transforms (Zhou et al. 2019; DESIGN.md §1.5), written after the authors' public
// utils.py: local pixel shuffling, non-linear Bezier intensity mapping, in-painting / out-painting. The
// network learns to restore the original patch from the transformed one.
#include <torch/torch.h>

#include <random>
#include <utility>

namespace pgl::augment {

struct GenesisOptions {
  double shuffle_probability = 0.5;    // local pixel shuffling ("local_rate")
  int shuffle_blocks = 10000;          // blocks per patch, each up to P/10 voxels per axis
  double nonlinear_probability = 0.9;  // Bezier intensity mapping ("nonlinear_rate")
  int bezier_samples = 10000;          // points on the curve (the original uses 100000; 1e4 is plenty)
  double paint_probability = 0.9;      // in- or out-painting ("paint_rate")
  double inpaint_probability = 0.2;    // share of in-painting among painted patches (out-painting 0.8)
  // Intensity range the transforms work in (the original assumes [0, 1]): values are mapped to [0, 1]
  // with it, noise is drawn in it. When range_max <= range_min, each patch's own min and max are used.
  double range_min = 0.0;
  double range_max = 0.0;
};

// The single transforms on a patch [1, D, H, W] or [D, H, W] whose values lie in [0, 1] (return new tensors).
torch::Tensor local_pixel_shuffling(const torch::Tensor& x, int blocks, std::mt19937_64& rng);
torch::Tensor bezier_intensity_mapping(const torch::Tensor& x, int samples, std::mt19937_64& rng);
torch::Tensor in_painting(const torch::Tensor& x, std::mt19937_64& rng);
torch::Tensor out_painting(const torch::Tensor& x, std::mt19937_64& rng);

// (input, target): the transformed patch and the original, both shaped like `patch` (float).
std::pair<torch::Tensor, torch::Tensor> genesis_transform(const torch::Tensor& patch,
                                                          const GenesisOptions& options,
                                                          std::mt19937_64& rng);

}  // namespace pgl::augment
