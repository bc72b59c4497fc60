#include "pgl/seg/seg_batches.h"

#include <cmath>

#include "pgl/augment/random.h"
#include "pgl/augment/views.h"
#include "pgl/core/error.h"
#include "pgl/train/seeding.h"

namespace pgl::seg {

torch::Tensor crop_labels_nearest(const torch::Tensor& labels, const augment::Box& box,
                                  const std::array<int64_t, 3>& patch) {
  torch::Tensor result = labels.to(torch::kLong);
  torch::Tensor inside = torch::ones(patch, torch::kBool);
  for (int64_t a = 0; a < 3; ++a) {
    int64_t size = labels.size(a);
    auto position =
        box.start[static_cast<size_t>(a)] +
        (torch::arange(patch[static_cast<size_t>(a)], torch::kDouble) + 0.5) *
            (box.size[static_cast<size_t>(a)] / static_cast<double>(patch[static_cast<size_t>(a)]));
    auto index = torch::floor(position).to(torch::kLong);
    auto valid = (index >= 0) & (index < size);
    result = result.index_select(a, index.clamp(0, size - 1));
    std::vector<int64_t> shape{1, 1, 1};
    shape[static_cast<size_t>(a)] = -1;
    inside = inside & valid.view(shape);
  }
  return result * inside.to(torch::kLong);
}

SegBatchSource::SegBatchSource(const std::vector<train::PooledVolume>& pool, SegBatchOptions options)
    : pool_(pool), options_(std::move(options)) {
  if (pool_.empty()) throw Error("no labelled cases to train on");
}

SegBatch SegBatchSource::make(int64_t step) const {
  torch::NoGradGuard no_grad;
  const auto& o = options_;
  const int64_t global_batch = o.batch * o.world_size;
  const auto forced_foreground =
      static_cast<int64_t>(std::ceil(static_cast<double>(global_batch) * o.foreground_share));
  std::vector<torch::Tensor> images, labels;
  for (int64_t e = 0; e < o.batch; ++e) {
    // The sample's index in the global batch (the second part was the rank: 0 keeps rank 0's draws).
    const int64_t sample = o.rank * o.batch + e;
    std::mt19937_64 rng(
        train::mix_seed({o.seed, 0, static_cast<uint64_t>(step), static_cast<uint64_t>(sample), 0x5e6ull}));
    const auto& v =
        pool_[static_cast<size_t>(augment::uniform_int(rng, 0, static_cast<int64_t>(pool_.size()) - 1))];
    torch::Tensor volume = v.image_tensor();
    const Size3& xyz = v.entry.geometry.size;
    const std::array<int64_t, 3> dims{xyz[2], xyz[1], xyz[0]};  // (D, H, W)

    double scale = o.augment && augment::chance(rng, o.scale_probability)
                       ? augment::uniform(rng, o.scale_min, o.scale_max)
                       : 1.0;
    augment::Box box;
    for (size_t a = 0; a < 3; ++a) box.size[a] = static_cast<double>(o.patch[a]) * scale;
    // The last samples of the batch are centred near foreground (nnU-Net's oversampling).
    bool foreground = sample >= global_batch - forced_foreground && !v.entry.classes.empty();
    if (foreground) {
      int cls = v.entry.classes[static_cast<size_t>(
          augment::uniform_int(rng, 0, static_cast<int64_t>(v.entry.classes.size()) - 1))];
      const auto& offsets = v.entry.foreground.at(cls);
      int64_t offset = offsets[static_cast<size_t>(
          augment::uniform_int(rng, 0, static_cast<int64_t>(offsets.size()) - 1))];
      std::array<double, 3> voxel{static_cast<double>(offset / (xyz[0] * xyz[1])),
                                  static_cast<double>((offset / xyz[0]) % xyz[1]),
                                  static_cast<double>(offset % xyz[0])};
      // The voxel lands anywhere in the central 80% of the patch.
      for (size_t a = 0; a < 3; ++a)
        box.start[a] = voxel[a] + 0.5 - box.size[a] * augment::uniform(rng, 0.1, 0.9);
    } else {
      for (size_t a = 0; a < 3; ++a) {
        double room = static_cast<double>(dims[a]) - box.size[a];
        box.start[a] = room > 0 ? augment::uniform(rng, 0, room) : room / 2;
      }
    }
    torch::Tensor image = augment::crop_and_resize(volume, box, o.patch, v.entry.background);  // [1, P...]
    torch::Tensor label = crop_labels_nearest(v.label_tensor(), box, o.patch);                 // [P...]
    if (o.augment) {
      augment::Flip3 flip{};
      for (size_t a = 0; a < 3;
           ++a)  // draw for every axis, so the random stream does not depend on flip_axes
        flip[a] = augment::chance(rng, o.flip_probability) && o.flip_axes[a];
      image = augment::apply_flip(image, flip);
      label = augment::apply_flip(label, flip);
      image = augment::augment_intensity(image, o.intensity, rng);
    }
    images.push_back(image);
    labels.push_back(label);
  }
  return {torch::stack(images).contiguous(), torch::stack(labels).contiguous()};
}

}  // namespace pgl::seg
