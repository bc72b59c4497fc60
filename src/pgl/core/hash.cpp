#include "pgl/core/hash.h"

#include <fmt/format.h>

namespace pgl {
std::string fnv1a_hex(const std::string& text, int digits) {
  return fmt::format("{:016x}", fnv1a(text)).substr(0, static_cast<size_t>(digits));
}
}  // namespace pgl
