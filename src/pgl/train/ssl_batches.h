#pragma once
// Makes the SSL batch of a training step from the volume pool: view pairs with their priors (PGL, BYOL) or
// Models Genesis (input, target) patches. Deterministic in (seed, step, sample), where the sample is its
// index in the step's global batch: rank r of a data-parallel job makes samples r*batch .. r*batch+batch-1,
// so N ranks with batch b see exactly what one process with batch N*b sees.
#include <cstdint>
#include <string>
#include <vector>

#include "pgl/augment/genesis.h"
#include "pgl/augment/views.h"
#include "pgl/ssl/method.h"
#include "pgl/train/volume_pool.h"

namespace pgl::train {

struct SslBatchOptions {
  std::string method = "pgl";  // "pgl", "byol" or "genesis"
  int64_t batch = 2;           // per rank
  uint64_t seed = 0;
  int64_t rank = 0;
  augment::ViewOptions views;       // PGL / BYOL (pad_value is set per volume from its background)
  augment::GenesisOptions genesis;  // Models Genesis
  bool ct = true;                   // CT volumes are normalised to [-1, 1]: the Genesis range
};

class SslBatchSource {
 public:
  SslBatchSource(const std::vector<PooledVolume>& pool, SslBatchOptions options);
  ssl::SslBatch make(int64_t step) const;

 private:
  const std::vector<PooledVolume>& pool_;
  SslBatchOptions options_;
};

}  // namespace pgl::train
