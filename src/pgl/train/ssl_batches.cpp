#include "pgl/train/ssl_batches.h"

#include "pgl/augment/random.h"
#include "pgl/core/error.h"
#include "pgl/train/seeding.h"

namespace pgl::train {

SslBatchSource::SslBatchSource(const std::vector<PooledVolume>& pool, SslBatchOptions options)
    : pool_(pool), options_(std::move(options)) {
  if (pool_.empty()) throw Error("no volumes to train on");
  if (options_.ct) {
    options_.genesis.range_min = -1.0;
    options_.genesis.range_max = 1.0;
  }
}

ssl::SslBatch SslBatchSource::make(int64_t step) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> a, b;
  ssl::SslBatch batch;
  for (int64_t e = 0; e < options_.batch; ++e) {
    // The second part was the rank before samples were numbered globally; 0 keeps rank 0's draws.
    const auto sample = static_cast<uint64_t>(options_.rank * options_.batch + e);
    std::mt19937_64 rng(mix_seed({options_.seed, 0, static_cast<uint64_t>(step), sample}));
    const PooledVolume& v =
        pool_[static_cast<size_t>(augment::uniform_int(rng, 0, int64_t(pool_.size()) - 1))];
    torch::Tensor volume = v.image_tensor();
    augment::ViewOptions views = options_.views;
    views.pad_value = v.entry.background;
    if (options_.method == "genesis") {
      // One patch at scale 1 (no crop/scale prior), then the restoration transforms.
      augment::Box box;
      for (int axis = 0; axis < 3; ++axis) {
        box.size[axis] = static_cast<double>(views.patch[static_cast<size_t>(axis)]);
        double room = static_cast<double>(volume.size(axis)) - box.size[axis];
        box.start[axis] = room > 0 ? augment::uniform(rng, 0, room) : room / 2;
      }
      torch::Tensor patch = augment::crop_and_resize(volume, box, views.patch, views.pad_value);
      auto [input, target] = augment::genesis_transform(patch, options_.genesis, rng);
      a.push_back(input);
      b.push_back(target);
    } else {
      augment::ViewPair pair = augment::make_view_pair(volume, views, rng);
      a.push_back(pair.view1);
      b.push_back(pair.view2);
      batch.priors1.push_back(pair.priors1);
      batch.priors2.push_back(pair.priors2);
    }
  }
  // [N, 1, D, H, W]
  if (options_.method == "genesis") {
    batch.input = torch::stack(a);
    batch.target = torch::stack(b);
  } else {
    batch.view1 = torch::stack(a);
    batch.view2 = torch::stack(b);
  }
  return batch;
}

}  // namespace pgl::train
