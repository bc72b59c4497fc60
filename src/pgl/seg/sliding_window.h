#pragma once
// Sliding-window inference (DESIGN.md §2): windows at half-patch steps, each window's softmax weighted by a
// Gaussian importance map (sigma = patch / 8; zeros clamped to the smallest non-zero value), optional mirror
// test-time augmentation over the flip combinations of the allowed axes (8 for all three).
#include <torch/torch.h>

#include <array>
#include <functional>
#include <vector>

namespace pgl::seg {

using Shape3 = std::array<int64_t, 3>;  // (D, H, W)

// [P_D, P_H, P_W] float, maximum 1, no zeros.
torch::Tensor gaussian_importance_map(const Shape3& patch, double sigma_scale = 1.0 / 8.0);

// nnU-Net's window starts along one axis: the fewest windows with steps of at most step_fraction * patch,
// spread evenly so the first starts at 0 and the last ends at `size` (size >= patch).
std::vector<int64_t> window_starts(int64_t size, int64_t patch, double step_fraction);

struct SlidingWindowOptions {
  Shape3 patch{48, 48, 48};
  double step = 0.5;
  // Mirror TTA: average over every combination of flips along these of (D, H, W); none = no TTA.
  std::array<bool, 3> mirror_axes{false, false, false};
  // Windows per forward pass; 0 = windows_per_batch(patch). Results do not depend on it (InstanceNorm is per
  // sample), only speed and memory do.
  int64_t batch = 0;
  // Where the windows' probabilities are blended (the class sums and weights): "cpu"; "device", where the
  // network runs (logits then never leave it); "auto": the device when its accumulators fit in
  // kDeviceBlendBytes, else the CPU. The result is returned on the CPU either way.
  std::string blend = "auto";
};
inline constexpr int64_t kDeviceBlendBytes = int64_t{2} << 30;

// "cpu" | "device" | "auto" (SlidingWindowOptions::blend) for a volume of `voxels` voxels and
// `classes` classes whose network runs on `network`. Throws pgl::Error for another choice.
c10::Device blending_device(const std::string& blend, c10::Device network, int64_t classes, int64_t voxels);

// How many windows go through the network at once by default: as many as fit in 4 windows of 48^3 voxels,
// between 1 and 8 (tiny 32^3: 8, small 48^3: 4, 64^3 and larger: 1). Small patches waste a CPU core on
// per-call overhead one at a time.
int64_t windows_per_batch(const Shape3& patch);

// volume: [1, D, H, W] (normalised). logits_fn: [N, 1, P...] -> [N, K, P...] on `blend_on`, the device that
// blending_device chose.
// Returns softmax probabilities [K, D, H, W]. Volumes smaller than the patch are padded with pad_value.
torch::Tensor sliding_window_probabilities(
    const torch::Tensor& volume, const std::function<torch::Tensor(const torch::Tensor&)>& logits_fn,
    int64_t classes, const SlidingWindowOptions& options, float pad_value, c10::Device blend_on = c10::kCPU);

}  // namespace pgl::seg
