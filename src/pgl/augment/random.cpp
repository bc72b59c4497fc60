#include "pgl/augment/random.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace pgl::augment {

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return hi <= lo ? lo : lo + (hi - lo) * uniform01(rng);
}

int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const double span = static_cast<double>(hi - lo + 1);
  const auto offset = static_cast<int64_t>(std::floor(uniform01(rng) * span));
  return lo + std::min<int64_t>(offset, hi - lo);
}

bool chance(std::mt19937_64& rng, double p) { return uniform01(rng) < p; }

torch::Generator make_torch_generator(std::mt19937_64& rng) { return at::detail::createCPUGenerator(rng()); }

}  // namespace pgl::augment
