#pragma once
// Deterministic random numbers. The engines are specified bit for bit (std::mt19937_64, xoshiro256+); the
// distributions are written here because the standard library's differ between implementations.
#include <cmath>
#include <cstdint>
#include <random>

namespace pgl::phantom {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Parameter draws (a few thousand per case).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(splitmix64(seed)) {}
  uint64_t bits() { return engine_(); }
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int integer(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(uniform() * (hi - lo + 1));
  }
  bool chance(double p) { return uniform() < p; }
  double normal() {  // Box-Muller, one value per call (the second is dropped to keep the stream simple)
    double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }

 private:
  std::mt19937_64 engine_;
};

// Bulk noise (millions of draws per case): xoshiro256+ and a Box-Muller pair per two values.
class FastRng {
 public:
  explicit FastRng(uint64_t seed) {
    for (auto& s : s_) s = seed = splitmix64(seed);
  }
  uint64_t bits() {
    uint64_t result = s_[0] + s_[3], t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = (s_[3] << 45) | (s_[3] >> 19);
    return result;
  }
  double uniform() { return static_cast<double>(bits() >> 11) * 0x1.0p-53; }
  // Two independent standard normal values.
  void normal_pair(float* a, float* b) {
    double r = std::sqrt(-2.0 * std::log(1.0 - uniform())), t = 6.283185307179586 * uniform();
    *a = static_cast<float>(r * std::cos(t));
    *b = static_cast<float>(r * std::sin(t));
  }

 private:
  uint64_t s_[4];
};

}  // namespace pgl::phantom
