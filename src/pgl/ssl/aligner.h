#pragma once
// The prior-guided aligner (DESIGN.md §1.3): finds the region both views show, in each view's feature map,
// and samples it on the same A^3 grid (RoIAlign-3D), so the two maps compare voxel for voxel.
//
// RoIAlign-3D: output voxel (i, j, k) is the mean of s^3 trilinear samples at the sub-voxel centres of its
// bin, with grid_sample's conventions (align_corners = false; border padding for the half voxel between the
// outermost voxel centres and the map's edge). The fast path factorises the trilinear weights per axis
// (see RoiWeights); a grid_sample version is kept as the reference. Undoing a view's flip is done by
// mirroring the sample coordinates (x -> extent - x), which equals flipping the feature map back and
// sampling it, but costs no copy and lets the flips differ per batch element. Autograd gives the backward.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "pgl/augment/box.h"
#include "pgl/augment/views.h"

namespace pgl::ssl {

// Which priors the aligner uses (the `--priors` ablation of DESIGN.md §1.5).
enum class Priors {
  kCropFlip,  // "crop,flip": sample the overlap, undo the flips (PGL)
  kCrop,      // "crop": sample the overlap, flips left as they are
  kFlip,      // "flip": whole views after undoing the flips, no box alignment
  kNone,      // "none": whole views voxel for voxel
};
// Accepts "crop,flip" (or "flip,crop"), "crop", "flip", "none"; throws pgl::Error otherwise.
Priors parse_priors(const std::string& text);
std::string to_string(Priors priors);
bool uses_crop_prior(Priors priors);
bool uses_flip_prior(Priors priors);

struct AlignerOptions {
  TORCH_ARG(int64_t, output_size) = 16;  // A: the aligned maps are C x A x A x A
  TORCH_ARG(int64_t, samples) = 2;       // s: s^3 samples averaged per output voxel
  TORCH_ARG(Priors, priors) = Priors::kCropFlip;
};

// The overlap `overlap` (volume voxels) in the voxel coordinates of a view cut from `view_box` and resampled
// to `patch` voxels (edge convention): start (O.start - B.start) * P / B.size, size O.size * P / B.size.
augment::Box region_in_view(const augment::Box& overlap, const augment::Box& view_box,
                            const augment::Shape3& patch);

// Where to sample in each batch element's feature map: regions in feature-map voxels (edge convention) and
// the flips to undo.
struct SampleRegions {
  std::vector<augment::Box> regions;
  std::vector<augment::Flip3> unflip;
};

// Regions for both views of a batch. `patch`: the views' size; `feature_shape`: the feature maps' spatial
// size (the regions are scaled by feature_shape / patch when the maps are not at full resolution).
std::pair<SampleRegions, SampleRegions> alignment_regions(const std::vector<augment::ViewPriors>& priors1,
                                                          const std::vector<augment::ViewPriors>& priors2,
                                                          const augment::Shape3& patch,
                                                          const augment::Shape3& feature_shape,
                                                          Priors priors);

// RoIAlign-3D as three interpolation matrices, one per axis (the sample grid is a tensor product, so the
// s^3-sample mean factorises): row i of `w` holds the mean of the s linear-interpolation weights of bin i
// along W, with the same border clamping and align_corners = false convention as grid_sample. Applying
// them is three small matrix products, ~20x faster than grid_sample's 3-D CPU kernel (whose backward
// dominated the step) and exactly equal to it up to rounding.
struct RoiWeights {
  torch::Tensor d, h, w;  // [N, A, D], [N, A, H], [N, A, W]
};
RoiWeights make_roi_weights(const SampleRegions& regions, const augment::Shape3& feature_shape,
                            int64_t output_size, int64_t samples,
                            const torch::TensorOptions& options = torch::kFloat32);

// features [N, C, D, H, W] -> [N, C, A, A, A] (the weights are cast to the features' dtype).
torch::Tensor roi_align_3d(const torch::Tensor& features, const RoiWeights& weights);
// Same, building the weights.
torch::Tensor roi_align_3d(const torch::Tensor& features, const SampleRegions& regions, int64_t output_size,
                           int64_t samples);

// Reference implementation on grid_sample (the grid is [N, A s, A s, A s, 3] with x = W, y = H, z = D,
// normalised, align_corners = false; border padding; then s^3 average pooling). Used by the tests to check
// the fast path; reduced-precision features are sampled in float (grid_sampler_3d has no bf16 CPU kernel).
torch::Tensor make_roi_grid(const SampleRegions& regions, const augment::Shape3& feature_shape,
                            int64_t output_size, int64_t samples,
                            const torch::TensorOptions& options = torch::kFloat32);
torch::Tensor roi_align_3d_grid_sample(const torch::Tensor& features, const SampleRegions& regions,
                                       int64_t output_size, int64_t samples);

// Convenience: aligns one pair of feature maps [N, C, D, H, W] of views 1 and 2 -> two [N, C, A, A, A].
std::pair<torch::Tensor, torch::Tensor> align_pair(const torch::Tensor& features1,
                                                   const torch::Tensor& features2,
                                                   const std::vector<augment::ViewPriors>& priors1,
                                                   const std::vector<augment::ViewPriors>& priors2,
                                                   const augment::Shape3& patch,
                                                   const AlignerOptions& options);

}  // namespace pgl::ssl
