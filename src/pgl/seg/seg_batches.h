#pragma once
// Training patches for fine-tuning (DESIGN.md §2): random patches, at least a third of each batch centred
// near a foreground voxel of a random present class; flips, random scaling and intensity augmentation.
// Deterministic in (seed, step, sample) like the SSL batches (a sample is its index in the global batch).
#include <torch/torch.h>

#include <array>
#include <vector>

#include "pgl/augment/box.h"
#include "pgl/augment/intensity.h"
#include "pgl/train/volume_pool.h"

namespace pgl::seg {

struct SegBatch {
  torch::Tensor image;   // [N, 1, P, P, P] float
  torch::Tensor labels;  // [N, P, P, P] int64
};

struct SegBatchOptions {
  std::array<int64_t, 3> patch{48, 48, 48};
  int64_t batch = 2;  // per rank
  uint64_t seed = 0;
  int64_t rank = 0, world_size = 1;
  double foreground_share = 1.0 / 3.0;  // the last ceil(global batch * share) samples centred on foreground
  bool augment = true;
  double scale_probability = 0.2;  // nnU-Net's rate
  double scale_min = 0.85, scale_max = 1.25;
  double flip_probability = 0.5;                    // per axis
  std::array<bool, 3> flip_axes{true, true, true};  // which of (D, H, W) may be flipped
  augment::IntensityOptions intensity;
};

class SegBatchSource {
 public:
  SegBatchSource(const std::vector<train::PooledVolume>& pool, SegBatchOptions options);
  SegBatch make(int64_t step) const;

 private:
  const std::vector<train::PooledVolume>& pool_;
  SegBatchOptions options_;
};

// Nearest-neighbour counterpart of augment::crop_and_resize for label maps [D, H, W] (any integer dtype):
// output voxel j takes the label of the voxel containing start + (j + 0.5) * size / P; 0 outside.
torch::Tensor crop_labels_nearest(const torch::Tensor& labels, const augment::Box& box,
                                  const std::array<int64_t, 3>& patch);

}  // namespace pgl::seg
