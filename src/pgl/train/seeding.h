#pragma once
// Deterministic seeds: every random draw of the data pipeline comes from an engine seeded by
// (seed, step, sample), so the data of a step is the same whichever thread makes it and however many
// threads there are. The sample is its index in the step's global batch, which names the rank that makes it
// (rank r makes r*batch onwards): N ranks with batch b see what one process with batch N*b sees. (DESIGN.md
// §4 names (seed, rank, worker, step); the worker is left out on purpose:
// with it, results would change with the worker count.)
#include <cstdint>
#include <initializer_list>

namespace pgl::train {

// splitmix64 over the parts: well-mixed 64-bit seeds from small integers.
inline uint64_t mix_seed(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (uint64_t p : parts) {
    h ^= p + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    uint64_t z = (h += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    h = z ^ (z >> 31);
  }
  return h;
}

}  // namespace pgl::train
