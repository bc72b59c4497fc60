#include "pgl/nn/model_stats.h"

namespace pgl::nn {

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters(/*recurse=*/true)) total += p.numel();
  return total;
}

int64_t resunet_forward_macs(const ResUNet3DOptions& options, const std::array<int64_t, 3>& patch) {
  auto voxels = [&](int64_t level) {
    int64_t n = 1;
    for (int64_t size : patch) n *= size >> level;
    return n;
  };
  auto conv = [&](int64_t level, int64_t kernel_volume, int64_t in, int64_t out) {
    return voxels(level) * kernel_volume * in * out;
  };
  int64_t macs = conv(0, 27, options.in_channels(), options.channels(0));  // stem
  for (int64_t level = 0; level < options.levels(); ++level) {
    const int64_t c = options.channels(level);
    if (level > 0) macs += conv(level, 27, options.channels(level - 1), c);  // down
    macs += 2 * conv(level, 27, c, c);                                       // encoder block
    if (level + 1 < options.levels()) {
      // Transposed conv k2 s2: every output voxel receives exactly one tap per input channel.
      macs += conv(level, 1, options.channels(level + 1), c);
      macs += conv(level, 27, 2 * c, c);  // fuse
      macs += 2 * conv(level, 27, c, c);  // decoder block
    }
  }
  return macs;
}

int64_t local_head_forward_macs(const HeadOptions& options, const std::array<int64_t, 3>& patch) {
  const int64_t voxels = patch[0] * patch[1] * patch[2];
  return voxels * options.hidden_channels() * (options.in_channels() + options.out_channels());
}

}  // namespace pgl::nn
