#include "pgl/seg/sliding_window.h"

#include <algorithm>
#include <cmath>

#include "pgl/core/error.h"

namespace pgl::seg {

torch::Tensor gaussian_importance_map(const Shape3& patch, double sigma_scale) {
  std::vector<torch::Tensor> axes;
  for (int a = 0; a < 3; ++a) {
    double sigma = static_cast<double>(patch[a]) * sigma_scale;
    auto x = torch::arange(patch[a], torch::kDouble) - (static_cast<double>(patch[a]) - 1) / 2.0;
    axes.push_back(torch::exp(-(x * x) / (2 * sigma * sigma)));
  }
  auto map = axes[0].view({-1, 1, 1}) * axes[1].view({1, -1, 1}) * axes[2].view({1, 1, -1});
  map = map / map.max();
  double smallest = map.masked_select(map > 0).min().item<double>();
  return map.clamp_min(smallest).to(torch::kFloat);
}

int64_t windows_per_batch(const Shape3& patch) {
  const int64_t voxels = patch[0] * patch[1] * patch[2];
  // At least 2: a single window runs LibTorch 1.13's slow native convolution (see below).
  return std::clamp<int64_t>(4 * 48 * 48 * 48 / std::max<int64_t>(1, voxels), 2, 8);
}

std::vector<int64_t> window_starts(int64_t size, int64_t patch, double step_fraction) {
  if (size < patch) throw Error("window_starts: volume smaller than the patch");
  double target_step = static_cast<double>(patch) * step_fraction;
  int64_t steps = static_cast<int64_t>(std::ceil(static_cast<double>(size - patch) / target_step)) + 1;
  std::vector<int64_t> starts;
  double actual = steps > 1 ? static_cast<double>(size - patch) / static_cast<double>(steps - 1) : 0;
  for (int64_t s = 0; s < steps; ++s)
    starts.push_back(static_cast<int64_t>(std::llround(actual * static_cast<double>(s))));
  return starts;
}

c10::Device blending_device(const std::string& blend, c10::Device network, int64_t classes, int64_t voxels) {
  if (blend != "auto" && blend != "cpu" && blend != "device")
    throw Error("unknown blending place '" + blend + "' (expected auto, cpu or device)");
  if (blend == "cpu" || network.is_cpu()) return c10::kCPU;
  if (blend == "device") return network;
  // The class sums, their quotient by the weights, and one batch's probabilities: about three float volumes
  // per class.
  return 3 * 4 * classes * voxels <= kDeviceBlendBytes ? network : c10::Device(c10::kCPU);
}

torch::Tensor sliding_window_probabilities(
    const torch::Tensor& volume, const std::function<torch::Tensor(const torch::Tensor&)>& logits_fn,
    int64_t classes, const SlidingWindowOptions& options, float pad_value, c10::Device blend_on) {
  torch::NoGradGuard no_grad;
  if (volume.dim() != 4 || volume.size(0) != 1) throw Error("sliding window: expected a [1, D, H, W] volume");
  // Pad (symmetrically) up to the patch where the volume is smaller.
  std::vector<int64_t> pad;  // F.pad order: W left/right, H, D
  Shape3 padded{};
  std::array<int64_t, 3> before{};
  for (int a = 2; a >= 0; --a) {
    int64_t size = volume.size(a + 1), missing = std::max<int64_t>(0, options.patch[a] - size);
    before[a] = missing / 2;
    pad.push_back(missing / 2);
    pad.push_back(missing - missing / 2);
    padded[a] = size + missing;
  }
  torch::Tensor x = volume.to(torch::kFloat);
  bool needs_pad = padded[0] != volume.size(1) || padded[1] != volume.size(2) || padded[2] != volume.size(3);
  if (needs_pad) x = torch::constant_pad_nd(x, pad, pad_value);

  torch::Tensor weight_map = gaussian_importance_map(options.patch).to(blend_on);
  const auto on = torch::TensorOptions().device(blend_on);
  torch::Tensor sum = torch::zeros({classes, padded[0], padded[1], padded[2]}, on);
  torch::Tensor weights = torch::zeros({padded[0], padded[1], padded[2]}, on);
  const auto starts_d = window_starts(padded[0], options.patch[0], options.step);
  const auto starts_h = window_starts(padded[1], options.patch[1], options.step);
  const auto starts_w = window_starts(padded[2], options.patch[2], options.step);
  std::vector<std::vector<int64_t>> flips;  // tensor dims of [1, 1, D, H, W] for every subset of the axes
  for (int subset = 0; subset < 8; ++subset) {
    std::vector<int64_t> dims;
    bool allowed = true;
    for (int a = 0; a < 3; ++a)
      if (subset & (1 << a)) {
        allowed = allowed && options.mirror_axes[static_cast<size_t>(a)];
        dims.push_back(2 + a);
      }
    if (allowed) flips.push_back(dims);
  }
  std::vector<Shape3> origins;
  for (int64_t d : starts_d)
    for (int64_t h : starts_h)
      for (int64_t w : starts_w) origins.push_back({d, h, w});
  // The window at `origin` of t's last three dimensions, as a view.
  auto window_of = [&options](const torch::Tensor& t, const Shape3& origin) {
    const int64_t first = t.dim() - 3;
    return t.narrow(first, origin[0], options.patch[0])
        .narrow(first + 1, origin[1], options.patch[1])
        .narrow(first + 2, origin[2], options.patch[2]);
  };
  const size_t batch =
      static_cast<size_t>(options.batch > 0 ? options.batch : windows_per_batch(options.patch));
  for (size_t first = 0; first < origins.size(); first += batch) {
    const size_t count = std::min(batch, origins.size() - first);
    std::vector<torch::Tensor> crops;
    for (size_t i = 0; i < count; ++i) crops.push_back(window_of(x, origins[first + i]));
    // LibTorch 1.13 runs a convolution of a single sample with few channels on its native path, not oneDNN:
    // 50x slower than per sample at N = 2 (docs/performance.md). A lone window is therefore run twice.
    if (count == 1) crops.push_back(crops[0]);
    const torch::Tensor windows = torch::stack(crops);  // [B, 1, P...]
    torch::Tensor probabilities;                        // [B, K, P...], summed over the flips
    for (const auto& dims : flips) {
      auto input = dims.empty() ? windows : windows.flip(dims);
      auto logits = logits_fn(input).to(blend_on, torch::kFloat);
      if (!dims.empty()) logits = logits.flip(dims);
      const torch::Tensor p = torch::softmax(logits, 1);
      probabilities = probabilities.defined() ? probabilities + p : p;
    }
    probabilities /= static_cast<double>(flips.size());
    for (size_t i = 0; i < count; ++i) {
      const Shape3& origin = origins[first + i];
      window_of(sum, origin) += probabilities[static_cast<int64_t>(i)] * weight_map;
      window_of(weights, origin) += weight_map;
    }
  }
  torch::Tensor result = sum / weights;
  if (needs_pad) {
    using torch::indexing::Slice;
    result = result.index({Slice(), Slice(before[0], before[0] + volume.size(1)),
                           Slice(before[1], before[1] + volume.size(2)),
                           Slice(before[2], before[2] + volume.size(3))});
  }
  return result.to(torch::kCPU).contiguous();
}

}  // namespace pgl::seg
