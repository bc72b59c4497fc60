#pragma once
// FNV-1a: a small hash that is stable across runs, compilers and platforms (std::hash is not), used for
// cache keys and config fingerprints.
#include <cstdint>
#include <string>

namespace pgl {

inline uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Hex digits of fnv1a (at most 16).
std::string fnv1a_hex(const std::string& text, int digits = 16);

}  // namespace pgl
