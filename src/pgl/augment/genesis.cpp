#include "pgl/augment/genesis.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "pgl/augment/random.h"
#include "pgl/core/error.h"

namespace pgl::augment {
namespace {

using Dims = std::array<int64_t, 3>;

// A contiguous float copy and its spatial size (the last three dims).
torch::Tensor float_copy(const torch::Tensor& x, Dims& dims) {
  if (x.dim() < 3) throw Error("Models Genesis transforms: expected a patch [1, D, H, W] or [D, H, W]");
  for (int axis = 0; axis < 3; ++axis) dims[static_cast<size_t>(axis)] = x.size(x.dim() - 3 + axis);
  return x.to(torch::kFloat32).contiguous().clone();
}

int64_t offset(const Dims& dims, int64_t d, int64_t h, int64_t w) { return (d * dims[1] + h) * dims[2] + w; }

// A random block: size per axis in [size_lo, size_hi], start in [start_lo, n - size - start_margin]
// (clamped so the block stays inside the patch).
struct Block {
  Dims start{}, size{};
};
Block random_block(const Dims& dims, const Dims& size_lo, const Dims& size_hi, int64_t start_lo,
                   int64_t start_margin, std::mt19937_64& rng) {
  Block b;
  for (size_t a = 0; a < 3; ++a) {
    b.size[a] = std::clamp<int64_t>(uniform_int(rng, size_lo[a], size_hi[a]), 1, dims[a]);
    const int64_t hi = std::max<int64_t>(dims[a] - b.size[a] - start_margin, start_lo);
    b.start[a] = std::clamp<int64_t>(uniform_int(rng, start_lo, hi), 0, dims[a] - b.size[a]);
  }
  return b;
}

template <class Visit>
void for_each_voxel(const Block& b, const Dims& dims, Visit visit) {
  for (int64_t d = b.start[0]; d < b.start[0] + b.size[0]; ++d)
    for (int64_t h = b.start[1]; h < b.start[1] + b.size[1]; ++h)
      for (int64_t w = b.start[2]; w < b.start[2] + b.size[2]; ++w) visit(offset(dims, d, h, w));
}

// Painting block sizes: in-painting [n/6, n/3], out-painting's kept window n - [3n/7, 4n/7].
Block inpaint_block(const Dims& dims, std::mt19937_64& rng) {
  return random_block(dims, {dims[0] / 6, dims[1] / 6, dims[2] / 6}, {dims[0] / 3, dims[1] / 3, dims[2] / 3},
                      3, 3, rng);
}
Block outpaint_block(const Dims& dims, std::mt19937_64& rng) {
  Dims lo{}, hi{};
  for (size_t a = 0; a < 3; ++a) {
    lo[a] = dims[a] - 4 * dims[a] / 7;
    hi[a] = dims[a] - 3 * dims[a] / 7;
  }
  return random_block(dims, lo, hi, 3, 3, rng);
}

}  // namespace

torch::Tensor local_pixel_shuffling(const torch::Tensor& x, int blocks, std::mt19937_64& rng) {
  Dims dims{};
  torch::Tensor out = float_copy(x, dims);
  const torch::Tensor original = out.clone();  // blocks are read from the original, written to the output
  const float* src = original.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const Dims max_size{std::max<int64_t>(1, dims[0] / 10), std::max<int64_t>(1, dims[1] / 10),
                      std::max<int64_t>(1, dims[2] / 10)};
  std::vector<float> window;
  std::vector<int64_t> where;
  for (int i = 0; i < blocks; ++i) {
    const Block b = random_block(dims, {1, 1, 1}, max_size, 0, 0, rng);
    window.clear();
    where.clear();
    for_each_voxel(b, dims, [&](int64_t o) {
      window.push_back(src[o]);
      where.push_back(o);
    });
    for (size_t k = window.size(); k > 1; --k)  // Fisher-Yates
      std::swap(window[k - 1], window[static_cast<size_t>(uniform_int(rng, 0, static_cast<int64_t>(k) - 1))]);
    for (size_t k = 0; k < where.size(); ++k) dst[where[k]] = window[k];
  }
  return out;
}

torch::Tensor bezier_intensity_mapping(const torch::Tensor& x, int samples, std::mt19937_64& rng) {
  Dims dims{};
  torch::Tensor out = float_copy(x, dims);
  // Cubic Bezier through (0,0), two random control points, (1,1); as in the original, half of the time
  // only x is sorted, which turns the curve into a decreasing (inverting) mapping.
  const double x1 = uniform01(rng), y1 = uniform01(rng), x2 = uniform01(rng), y2 = uniform01(rng);
  const std::array<double, 4> px{0.0, x1, x2, 1.0};
  const std::array<double, 4> py{0.0, y1, y2, 1.0};
  const bool sort_y = !chance(rng, 0.5);
  const int n = std::max(samples, 2);
  std::vector<double> xs(static_cast<size_t>(n)), ys(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    // The original's Bernstein terms C(3,k) t^(3-k) (1-t)^k: the curve runs from (1,1) at t = 0 to (0,0).
    const double t = static_cast<double>(i) / (n - 1), s = 1.0 - t;
    const std::array<double, 4> basis{t * t * t, 3 * t * t * s, 3 * t * s * s, s * s * s};
    double bx = 0, by = 0;
    for (size_t k = 0; k < 4; ++k) {
      bx += basis[k] * px[k];
      by += basis[k] * py[k];
    }
    xs[static_cast<size_t>(i)] = bx;
    ys[static_cast<size_t>(i)] = by;
  }
  // np.interp needs increasing x; y left in curve order (1 -> 0) makes the decreasing mapping.
  std::sort(xs.begin(), xs.end());
  if (sort_y) std::sort(ys.begin(), ys.end());
  float* v = out.data_ptr<float>();
  const int64_t count = out.numel();
  for (int64_t i = 0; i < count; ++i) {
    const double value = v[i];
    if (value <= xs.front()) {
      v[i] = static_cast<float>(ys.front());
    } else if (value >= xs.back()) {
      v[i] = static_cast<float>(ys.back());
    } else {
      const auto hi = static_cast<size_t>(std::upper_bound(xs.begin(), xs.end(), value) - xs.begin());
      const size_t lo = hi - 1;
      const double span = xs[hi] - xs[lo];
      const double w = span > 0 ? (value - xs[lo]) / span : 0.0;
      v[i] = static_cast<float>(ys[lo] + w * (ys[hi] - ys[lo]));
    }
  }
  return out;
}

torch::Tensor in_painting(const torch::Tensor& x, std::mt19937_64& rng) {
  Dims dims{};
  torch::Tensor out = float_copy(x, dims);
  float* v = out.data_ptr<float>();
  for (int count = 5; count > 0 && chance(rng, 0.95); --count) {
    const Block b = inpaint_block(dims, rng);
    for_each_voxel(b, dims, [&](int64_t o) { v[o] = static_cast<float>(uniform01(rng)); });
  }
  return out;
}

torch::Tensor out_painting(const torch::Tensor& x, std::mt19937_64& rng) {
  Dims dims{};
  const torch::Tensor original = float_copy(x, dims);
  torch::Tensor out = original.clone();
  const float* src = original.data_ptr<float>();
  float* v = out.data_ptr<float>();
  const int64_t count = out.numel();
  for (int64_t i = 0; i < count; ++i) v[i] = static_cast<float>(uniform01(rng));
  auto keep = [&](const Block& b) { for_each_voxel(b, dims, [&](int64_t o) { v[o] = src[o]; }); };
  keep(outpaint_block(dims, rng));
  for (int more = 4; more > 0 && chance(rng, 0.95); --more) keep(outpaint_block(dims, rng));
  return out;
}

std::pair<torch::Tensor, torch::Tensor> genesis_transform(const torch::Tensor& patch, const GenesisOptions& o,
                                                          std::mt19937_64& rng) {
  const torch::Tensor target = patch.to(torch::kFloat32).contiguous();
  double lo = o.range_min, hi = o.range_max;
  if (hi <= lo) {
    lo = target.min().item<double>();
    hi = target.max().item<double>();
  }
  const double range = hi > lo ? hi - lo : 1.0;
  torch::Tensor x = ((target - lo) / range).clamp(0.0, 1.0);
  if (chance(rng, o.shuffle_probability)) x = local_pixel_shuffling(x, o.shuffle_blocks, rng);
  if (chance(rng, o.nonlinear_probability)) x = bezier_intensity_mapping(x, o.bezier_samples, rng);
  if (chance(rng, o.paint_probability))
    x = chance(rng, o.inpaint_probability) ? in_painting(x, rng) : out_painting(x, rng);
  return {(x * range + lo).reshape(target.sizes()), target};
}

}  // namespace pgl::augment
