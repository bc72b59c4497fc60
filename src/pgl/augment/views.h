#pragma once
// The view generator of PGL (DESIGN.md §1.1): two boxes with enough overlap (crop/scale prior), each
// resampled to the patch size, randomly flipped (flip prior), intensity-augmented; every view carries its
// priors so the aligner can find the shared region again.
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <random>

#include "pgl/augment/box.h"
#include "pgl/augment/intensity.h"

namespace pgl::augment {

using Shape3 = std::array<int64_t, 3>;  // (D, H, W)
using Flip3 = std::array<bool, 3>;      // flipped along (D, H, W)

struct ViewOptions {
  Shape3 patch{48, 48, 48};
  double scale_min = 1.1;  // box size per axis = U[scale_min, scale_max] * patch
  double scale_max = 1.4;
  double min_overlap = 0.1;       // share of each box's volume the overlap must cover
  int max_tries = 100;            // rejection sampling, then the concentric fallback
  double flip_probability = 0.5;  // per view, per axis
  // Value of voxels outside the volume (virtual padding). Use the normalised value of air, "outside the
  // body" (e.g. the lower end of the CT window); 0 suits z-scored MR.
  double pad_value = 0.0;
  IntensityOptions intensity;
};

// What the aligner needs to know about one view.
struct ViewPriors {
  Box box;                          // in the volume's voxels (edge convention)
  Flip3 flip{false, false, false};  // applied after resampling
};

struct ViewPair {
  torch::Tensor view1, view2;  // [1, P_D, P_H, P_W] float
  ViewPriors priors1, priors2;
};

// Two boxes for a volume of `volume_shape` voxels. Sizes per axis are U[scale_min, scale_max] * patch.
// Starts are uniform over the positions that keep the box inside the volume, or over those that keep the
// volume inside the box where the box is larger (the rest is virtual padding). B2's start is drawn from the
// positions where it meets B1 on every axis (elsewhere the overlap is empty); a pair is accepted when the
// overlap covers at least min_overlap of each box. After max_tries rejections, B2 is centred on B1 (clamped
// to its range), which with the default scales gives an overlap share >= (1.1 / 1.4)^3 = 0.49.
std::pair<Box, Box> sample_box_pair(const Shape3& volume_shape, const ViewOptions& options,
                                    std::mt19937_64& rng);

// Trilinear resampling of `box` of `volume` [D, H, W] onto a `patch` grid: output voxel j samples the box at
// start + (j + 0.5) * size / P (voxel centres), i.e. volume index start + (j + 0.5) * size / P - 0.5.
// Only the box's region plus a one-voxel margin is cut out (and padded with pad_value outside the volume)
// before interpolating. Returns [1, P_D, P_H, P_W], float (double for a double volume).
torch::Tensor crop_and_resize(const torch::Tensor& volume, const Box& box, const Shape3& patch,
                              double pad_value);

// Flips along the axes set in `flip` (the last three dims of x are D, H, W).
torch::Tensor apply_flip(const torch::Tensor& x, const Flip3& flip);

// The whole pipeline. `volume`: [D, H, W] or [1, D, H, W], normalised. Draw order: boxes, then view 1
// (flips, intensity), then view 2.
ViewPair make_view_pair(const torch::Tensor& volume, const ViewOptions& options, std::mt19937_64& rng);

}  // namespace pgl::augment
