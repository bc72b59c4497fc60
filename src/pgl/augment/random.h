#pragma once
// Random draws from a caller-owned std::mt19937_64, so that the data pipeline can seed one engine per
// (seed, rank, worker, step) and get the same views whatever thread runs them. The conversions are written
// out here (not std::uniform_real_distribution) so that every standard library gives the same numbers.
#include <torch/torch.h>

#include <cstdint>
#include <random>

namespace pgl::augment {

// Uniform in [0, 1) with 53 random bits.
double uniform01(std::mt19937_64& rng);
// Uniform in [lo, hi) (lo when hi <= lo).
double uniform(std::mt19937_64& rng, double lo, double hi);
// Uniform integer in [lo, hi], both included (lo when hi <= lo).
int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi);
// True with probability p.
bool chance(std::mt19937_64& rng, double p);
// A LibTorch CPU generator seeded from one draw of `rng`, for bulk noise (torch::randn / rand with it are
// sequential, hence independent of the thread count).
torch::Generator make_torch_generator(std::mt19937_64& rng);

}  // namespace pgl::augment
