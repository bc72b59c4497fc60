#include "pgl/nn/model_stats.h"

namespace pgl::nn {

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters(/*recurse=*/true)) total += p.numel();
  return total;
}

int64_t resunet_forward_macs(const ResUNet3DOptions& options, const std::array<int64_t, 3>& patch) {
  std::vector<int64_t> voxels;  // per level
  Axes3 size = patch;
  for (int64_t level = 0; level < options.levels(); ++level) {
    const Axes3 s = options.stride(level);
    for (size_t a = 0; a < 3; ++a) size[a] /= s[a];
    voxels.push_back(size[0] * size[1] * size[2]);
  }
  auto kernel_volume = [&](int64_t level) {
    const Axes3 k = options.kernel(level);
    return k[0] * k[1] * k[2];
  };
  auto conv = [&](int64_t level, int64_t taps, int64_t in, int64_t out) {
    return voxels[static_cast<size_t>(level)] * taps * in * out;
  };
  int64_t macs = conv(0, kernel_volume(0), options.in_channels(), options.channels(0));  // stem
  for (int64_t level = 0; level < options.levels(); ++level) {
    const int64_t c = options.channels(level), k = kernel_volume(level);
    if (level > 0) macs += conv(level, k, options.channels(level - 1), c);  // down
    macs += 2 * conv(level, k, c, c);                                       // encoder block
    if (level + 1 < options.levels()) {
      // Transposed conv with kernel = stride: every output voxel receives exactly one tap per input channel.
      macs += conv(level, 1, options.channels(level + 1), c);
      macs += conv(level, k, 2 * c, c);  // fuse
      macs += 2 * conv(level, k, c, c);  // decoder block
    }
  }
  return macs;
}

int64_t local_head_forward_macs(const HeadOptions& options, const std::array<int64_t, 3>& patch) {
  const int64_t voxels = patch[0] * patch[1] * patch[2];
  return voxels * options.hidden_channels() * (options.in_channels() + options.out_channels());
}

}  // namespace pgl::nn
