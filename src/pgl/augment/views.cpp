#include "pgl/augment/views.h"

#include <algorithm>
#include <cmath>

#include "pgl/augment/random.h"
#include "pgl/core/error.h"

namespace pgl::augment {
namespace F = torch::nn::functional;
namespace {

// Start range [lo, hi] of a box of `size` in an axis of `extent` voxels.
std::pair<double, double> start_range(double extent, double size) {
  return {std::min(0.0, extent - size), std::max(0.0, extent - size)};
}

torch::Tensor as_3d(const torch::Tensor& volume) {
  if (volume.dim() == 4 && volume.size(0) == 1) return volume[0];
  if (volume.dim() != 3) throw Error("view generator: expected a volume [D, H, W] or [1, D, H, W]");
  return volume;
}

}  // namespace

std::pair<Box, Box> sample_box_pair(const Shape3& volume_shape, const ViewOptions& options,
                                    std::mt19937_64& rng) {
  for (int axis = 0; axis < 3; ++axis) {
    if (volume_shape[axis] < 1 || options.patch[axis] < 1)
      throw Error("view generator: volume and patch sizes must be positive");
  }
  Box b1, b2;
  for (int attempt = 0; attempt <= options.max_tries; ++attempt) {
    const bool fallback = attempt == options.max_tries;
    for (int axis = 0; axis < 3; ++axis) {
      const auto extent = static_cast<double>(volume_shape[axis]);
      const auto patch = static_cast<double>(options.patch[axis]);
      b1.size[axis] = uniform(rng, options.scale_min, options.scale_max) * patch;
      b2.size[axis] = uniform(rng, options.scale_min, options.scale_max) * patch;
      const auto [lo1, hi1] = start_range(extent, b1.size[axis]);
      const auto [lo2, hi2] = start_range(extent, b2.size[axis]);
      b1.start[axis] = uniform(rng, lo1, hi1);
      if (fallback) {
        const double centred = b1.start[axis] + 0.5 * (b1.size[axis] - b2.size[axis]);
        b2.start[axis] = std::clamp(centred, lo2, hi2);
      } else {
        // Only where the boxes meet on this axis; elsewhere the pair would be rejected anyway.
        const double lo = std::max(lo2, b1.start[axis] - b2.size[axis]);
        const double hi = std::min(hi2, b1.end(axis));
        b2.start[axis] = uniform(rng, lo, hi);
      }
    }
    if (fallback) break;
    if (overlap_share(b1, b2) >= options.min_overlap && overlap_share(b2, b1) >= options.min_overlap) break;
  }
  return {b1, b2};
}

torch::Tensor crop_and_resize(const torch::Tensor& volume_in, const Box& box, const Shape3& patch,
                              double pad_value) {
  const torch::Tensor volume = as_3d(volume_in);
  std::array<int64_t, 3> lo{}, hi{};
  std::array<torch::Tensor, 3> coords;  // normalised grid_sample coordinates per axis
  std::vector<int64_t> pad(6, 0);       // F::pad order: W before/after, H before/after, D before/after
  std::vector<torch::indexing::TensorIndex> slices;
  for (int axis = 0; axis < 3; ++axis) {
    const double step = box.size[axis] / static_cast<double>(patch[axis]);
    // Continuous voxel-centre index of the first and last sample.
    const double first = box.start[axis] + 0.5 * step - 0.5;
    const double last = box.start[axis] + (static_cast<double>(patch[axis]) - 0.5) * step - 0.5;
    lo[axis] = static_cast<int64_t>(std::floor(first)) - 1;
    hi[axis] = static_cast<int64_t>(std::ceil(last)) + 1;
    const int64_t extent = volume.size(axis);
    const int64_t count = hi[axis] - lo[axis] + 1;
    const int64_t inside_lo = std::clamp<int64_t>(lo[axis], 0, extent);
    const int64_t inside_hi = std::clamp<int64_t>(hi[axis] + 1, inside_lo, extent);  // exclusive
    slices.emplace_back(torch::indexing::Slice(inside_lo, inside_hi));
    const int64_t before = inside_hi > inside_lo ? inside_lo - lo[axis] : count;
    pad[static_cast<size_t>(2 * (2 - axis))] = before;
    pad[static_cast<size_t>(2 * (2 - axis) + 1)] = count - before - (inside_hi - inside_lo);
    // align_corners = false: voxel-centre index c of an n-voxel axis sits at (2c + 1) / n - 1.
    torch::Tensor index =
        torch::arange(patch[axis], torch::kFloat64) * step + (first - static_cast<double>(lo[axis]));
    coords[static_cast<size_t>(axis)] = (2.0 * index + 1.0) / static_cast<double>(count) - 1.0;
  }
  // Interpolate in the volume's precision (float for integer volumes).
  const auto dtype = volume.is_floating_point() ? volume.scalar_type() : torch::kFloat32;
  torch::Tensor region = volume.index(slices).to(dtype);
  if (region.numel() == 0) {
    region = torch::full({hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1}, pad_value,
                         volume.options().dtype(dtype));
  } else {
    region = F::pad(region.unsqueeze(0).unsqueeze(0), F::PadFuncOptions(pad).value(pad_value));
  }
  region = region.reshape({1, 1, hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1});
  const int64_t pd = patch[0], ph = patch[1], pw = patch[2];
  torch::Tensor grid = torch::stack({coords[2].view({1, 1, pw}).expand({pd, ph, pw}),
                                     coords[1].view({1, ph, 1}).expand({pd, ph, pw}),
                                     coords[0].view({pd, 1, 1}).expand({pd, ph, pw})},
                                    -1)
                           .unsqueeze(0)
                           .to(dtype);
  // The margin keeps every sample inside the region, so the padding mode only guards rounding.
  torch::Tensor out = F::grid_sample(
      region, grid,
      F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));
  return out[0];
}

torch::Tensor apply_flip(const torch::Tensor& x, const Flip3& flip) {
  std::vector<int64_t> dims;
  for (int axis = 0; axis < 3; ++axis)
    if (flip[static_cast<size_t>(axis)]) dims.push_back(x.dim() - 3 + axis);
  return dims.empty() ? x : torch::flip(x, dims);
}

ViewPair make_view_pair(const torch::Tensor& volume_in, const ViewOptions& options, std::mt19937_64& rng) {
  const torch::Tensor volume = as_3d(volume_in);
  const Shape3 shape{volume.size(0), volume.size(1), volume.size(2)};
  auto [box1, box2] = sample_box_pair(shape, options, rng);
  ViewPair pair;
  auto make_view = [&](const Box& box, ViewPriors& priors) {
    priors.box = box;
    for (bool& f : priors.flip) f = chance(rng, options.flip_probability);
    torch::Tensor view =
        apply_flip(crop_and_resize(volume, box, options.patch, options.pad_value), priors.flip);
    return augment_intensity(view, options.intensity, rng).contiguous();
  };
  pair.view1 = make_view(box1, pair.priors1);
  pair.view2 = make_view(box2, pair.priors2);
  return pair;
}

}  // namespace pgl::augment
