#include "pgl/train/volume_pool.h"

#include "pgl/core/error.h"

namespace pgl::train {

torch::Tensor PooledVolume::image_tensor() const {
  const Size3& s = image->size();
  return torch::from_blob(const_cast<float*>(image->floats()), {s[2], s[1], s[0]}, torch::kFloat);
}

torch::Tensor PooledVolume::label_tensor() const {
  const Size3& s = labels->size();
  auto dtype = labels->bytes_per_value() == 1 ? torch::kUInt8 : torch::kInt16;  // uint16 ids < 32768 fit
  return torch::from_blob(const_cast<void*>(labels->data()), {s[2], s[1], s[0]}, dtype);
}

std::vector<PooledVolume> open_volume_pool(const std::vector<CachedCase>& entries, bool with_labels) {
  std::vector<PooledVolume> pool;
  for (const auto& e : entries) {
    PooledVolume v;
    v.entry = e;
    v.image = MappedImage::open(e.image_path);
    if (with_labels) {
      if (e.label_path.empty()) throw Error(e.id, "case has no label map");
      v.labels = MappedImage::open(e.label_path);
    }
    pool.push_back(std::move(v));
  }
  return pool;
}

}  // namespace pgl::train
