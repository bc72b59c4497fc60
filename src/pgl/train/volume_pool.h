#pragma once
// The preprocessed volumes a training run samples from: memory-mapped cache files viewed as tensors.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "pgl/data/cache.h"

namespace pgl::train {

struct PooledVolume {
  CachedCase entry;
  std::shared_ptr<MappedImage> image;   // float32 [D, H, W] = (z, y, x)
  std::shared_ptr<MappedImage> labels;  // null when unlabeled
  // A read-only [D, H, W] view of the mapped voxels (no copy). Never write through it.
  torch::Tensor image_tensor() const;
  // [D, H, W] uint8/int16 view of the labels as stored, widened to int64 copies by the caller as needed.
  torch::Tensor label_tensor() const;
};

std::vector<PooledVolume> open_volume_pool(const std::vector<CachedCase>& entries, bool with_labels);

}  // namespace pgl::train
