#include "pgl/ssl/aligner.h"

#include <algorithm>
#include <cmath>

#include "pgl/core/error.h"

namespace pgl::ssl {
namespace F = torch::nn::functional;
using augment::Box;
using augment::Shape3;

Priors parse_priors(const std::string& text) {
  if (text == "crop,flip" || text == "flip,crop") return Priors::kCropFlip;
  if (text == "crop") return Priors::kCrop;
  if (text == "flip") return Priors::kFlip;
  if (text == "none") return Priors::kNone;
  throw Error("unknown priors '" + text + "' (expected crop,flip | crop | flip | none)");
}

std::string to_string(Priors priors) {
  switch (priors) {
    case Priors::kCropFlip:
      return "crop,flip";
    case Priors::kCrop:
      return "crop";
    case Priors::kFlip:
      return "flip";
    case Priors::kNone:
      return "none";
  }
  return "none";
}

bool uses_crop_prior(Priors priors) { return priors == Priors::kCropFlip || priors == Priors::kCrop; }
bool uses_flip_prior(Priors priors) { return priors == Priors::kCropFlip || priors == Priors::kFlip; }

Box region_in_view(const Box& overlap, const Box& view_box, const Shape3& patch) {
  Box r;
  for (int a = 0; a < 3; ++a) {
    const double scale = static_cast<double>(patch[static_cast<size_t>(a)]) / view_box.size[a];
    r.start[a] = (overlap.start[a] - view_box.start[a]) * scale;
    r.size[a] = overlap.size[a] * scale;
  }
  return r;
}

std::pair<SampleRegions, SampleRegions> alignment_regions(const std::vector<augment::ViewPriors>& priors1,
                                                          const std::vector<augment::ViewPriors>& priors2,
                                                          const Shape3& patch, const Shape3& feature_shape,
                                                          Priors priors) {
  if (priors1.size() != priors2.size())
    throw Error("aligner: both views need priors for every batch element");
  SampleRegions out1, out2;
  const Box full{{0, 0, 0},
                 {static_cast<double>(feature_shape[0]), static_cast<double>(feature_shape[1]),
                  static_cast<double>(feature_shape[2])}};
  auto to_features = [&](Box r) {
    for (size_t a = 0; a < 3; ++a) {
      const double scale = static_cast<double>(feature_shape[a]) / static_cast<double>(patch[a]);
      r.start[a] *= scale;
      r.size[a] *= scale;
    }
    return r;
  };
  const augment::Flip3 no_flip{false, false, false};
  for (size_t b = 0; b < priors1.size(); ++b) {
    const auto& v1 = priors1[b];
    const auto& v2 = priors2[b];
    if (uses_crop_prior(priors)) {
      const Box overlap = augment::intersect(v1.box, v2.box);
      out1.regions.push_back(to_features(region_in_view(overlap, v1.box, patch)));
      out2.regions.push_back(to_features(region_in_view(overlap, v2.box, patch)));
    } else {
      out1.regions.push_back(full);
      out2.regions.push_back(full);
    }
    const bool unflip = uses_flip_prior(priors);
    out1.unflip.push_back(unflip ? v1.flip : no_flip);
    out2.unflip.push_back(unflip ? v2.flip : no_flip);
  }
  return {out1, out2};
}

torch::Tensor make_roi_grid(const SampleRegions& regions, const Shape3& feature_shape, int64_t output_size,
                            int64_t samples, const torch::TensorOptions& options) {
  if (regions.regions.size() != regions.unflip.size())
    throw Error("aligner: regions and flips differ in count");
  if (output_size < 1 || samples < 1) throw Error("aligner: output size and samples must be positive");
  const int64_t n = output_size * samples;
  // Sample m of n along an axis sits at start + (m + 0.5) * size / n: bin i = m / s, sub-sample m % s.
  const torch::Tensor fraction = (torch::arange(n, torch::kFloat64) + 0.5) / static_cast<double>(n);
  std::vector<torch::Tensor> grids;
  for (size_t b = 0; b < regions.regions.size(); ++b) {
    const Box& r = regions.regions[b];
    std::array<torch::Tensor, 3> axis_coords;  // normalised, per axis (D, H, W)
    for (size_t a = 0; a < 3; ++a) {
      const auto extent = static_cast<double>(feature_shape[a]);
      torch::Tensor x = r.start[a] + fraction * r.size[a];
      if (regions.unflip[b][a]) x = extent - x;  // sampling the flipped map mirrored = unflipping it first
      axis_coords[a] = 2.0 * x / extent - 1.0;
    }
    grids.push_back(torch::stack(
        {axis_coords[2].view({1, 1, n}).expand({n, n, n}), axis_coords[1].view({1, n, 1}).expand({n, n, n}),
         axis_coords[0].view({n, 1, 1}).expand({n, n, n})},
        -1));
  }
  return torch::stack(grids).to(options);
}

torch::Tensor roi_align_3d_grid_sample(const torch::Tensor& features, const SampleRegions& regions,
                                       int64_t output_size, int64_t samples) {
  if (features.dim() != 5 || static_cast<int64_t>(regions.regions.size()) != features.size(0))
    throw Error("aligner: expected features [N, C, D, H, W] and a region for each of the N elements");
  const bool reduced = features.scalar_type() == torch::kBFloat16 || features.scalar_type() == torch::kHalf;
  const torch::Tensor input = reduced ? features.to(torch::kFloat32) : features;
  const Shape3 shape{features.size(2), features.size(3), features.size(4)};
  const torch::Tensor grid =
      make_roi_grid(regions, shape, output_size, samples, input.options().requires_grad(false));
  torch::Tensor sampled = F::grid_sample(
      input, grid,
      F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));
  if (samples > 1) sampled = F::avg_pool3d(sampled, F::AvgPool3dFuncOptions(samples).stride(samples));
  return sampled.to(features.scalar_type());
}

RoiWeights make_roi_weights(const SampleRegions& regions, const Shape3& feature_shape, int64_t output_size,
                            int64_t samples, const torch::TensorOptions& options) {
  if (regions.regions.size() != regions.unflip.size())
    throw Error("aligner: regions and flips differ in count");
  if (output_size < 1 || samples < 1) throw Error("aligner: output size and samples must be positive");
  const auto batch = static_cast<int64_t>(regions.regions.size());
  const int64_t n = output_size * samples;
  std::array<torch::Tensor, 3> matrices;
  for (size_t a = 0; a < 3; ++a) {
    const int64_t extent = feature_shape[a];
    torch::Tensor m = torch::zeros({batch, output_size, extent}, torch::kFloat64);
    auto acc = m.accessor<double, 3>();
    for (int64_t b = 0; b < batch; ++b) {
      const Box& r = regions.regions[static_cast<size_t>(b)];
      const bool mirror = regions.unflip[static_cast<size_t>(b)][a];
      for (int64_t k = 0; k < n; ++k) {
        // Same sample positions as make_roi_grid, then grid_sample's unnormalise + border clip.
        double x = r.start[a] + (static_cast<double>(k) + 0.5) * r.size[a] / static_cast<double>(n);
        if (mirror) x = static_cast<double>(extent) - x;
        const double c = std::clamp(x - 0.5, 0.0, static_cast<double>(extent - 1));
        const auto i0 = static_cast<int64_t>(std::floor(c));
        const int64_t i1 = std::min(i0 + 1, extent - 1);
        const double w1 = c - static_cast<double>(i0);
        const int64_t bin = k / samples;
        acc[b][bin][i0] += (1.0 - w1) / static_cast<double>(samples);
        acc[b][bin][i1] += w1 / static_cast<double>(samples);
      }
    }
    matrices[a] = m.to(options);
  }
  return {matrices[0], matrices[1], matrices[2]};
}

torch::Tensor roi_align_3d(const torch::Tensor& features, const RoiWeights& weights) {
  if (features.dim() != 5 || weights.d.size(0) != features.size(0) || weights.d.size(2) != features.size(2) ||
      weights.h.size(2) != features.size(3) || weights.w.size(2) != features.size(4))
    throw Error("aligner: expected features [N, C, D, H, W] matching the RoI weights");
  const auto dtype = features.scalar_type();
  // Contract the largest axis first: W, then H, then D.
  torch::Tensor y = torch::einsum("ncdhw,nzw->ncdhz", {features, weights.w.to(dtype)});
  y = torch::einsum("ncdhz,nyh->ncdyz", {y, weights.h.to(dtype)});
  return torch::einsum("ncdyz,nxd->ncxyz", {y, weights.d.to(dtype)});
}

torch::Tensor roi_align_3d(const torch::Tensor& features, const SampleRegions& regions, int64_t output_size,
                           int64_t samples) {
  const Shape3 shape{features.size(2), features.size(3), features.size(4)};
  return roi_align_3d(features, make_roi_weights(regions, shape, output_size, samples,
                                                 features.options().requires_grad(false)));
}

std::pair<torch::Tensor, torch::Tensor> align_pair(const torch::Tensor& features1,
                                                   const torch::Tensor& features2,
                                                   const std::vector<augment::ViewPriors>& priors1,
                                                   const std::vector<augment::ViewPriors>& priors2,
                                                   const Shape3& patch, const AlignerOptions& options) {
  const Shape3 shape{features1.size(2), features1.size(3), features1.size(4)};
  const auto [r1, r2] = alignment_regions(priors1, priors2, patch, shape, options.priors());
  return {roi_align_3d(features1, r1, options.output_size(), options.samples()),
          roi_align_3d(features2, r2, options.output_size(), options.samples())};
}

}  // namespace pgl::ssl
