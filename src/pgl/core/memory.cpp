#include "pgl/core/memory.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include "pgl/core/error.h"

namespace pgl {
namespace {
constexpr uint64_t kUnknown = std::numeric_limits<uint64_t>::max();

// The value of `key` (in kB) in a /proc file of "Key:   value kB" lines, in bytes.
uint64_t proc_kib(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream fields(line.substr(key.size() + 1));
      uint64_t kib = 0;
      if (fields >> kib) return kib * 1024;
    }
  return kUnknown;
}

uint64_t read_number(const std::string& file) {
  std::ifstream in(file);
  uint64_t value = 0;
  return in >> value ? value : kUnknown;  // "max" reads as no number: no limit
}

}  // namespace

uint64_t available_memory_bytes() {
  uint64_t available = proc_kib("/proc/meminfo", "MemAvailable");
  const uint64_t limit = read_number("/sys/fs/cgroup/memory.max");
  const uint64_t used = read_number("/sys/fs/cgroup/memory.current");
  if (limit != kUnknown && used != kUnknown) available = std::min(available, limit > used ? limit - used : 0);
  rlimit address_space{};
  if (::getrlimit(RLIMIT_AS, &address_space) == 0 && address_space.rlim_cur != RLIM_INFINITY) {
    const uint64_t mapped = proc_kib("/proc/self/status", "VmSize");
    const uint64_t cap = static_cast<uint64_t>(address_space.rlim_cur);
    if (mapped != kUnknown) available = std::min(available, cap > mapped ? cap - mapped : 0);
  }
  return available;
}

void require_memory(const std::string& path, uint64_t bytes, const std::string& purpose) {
  const uint64_t available = available_memory_bytes();
  if (bytes <= available) return;
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  throw Error(path, fmt::format("needs about {:.1f} GiB of memory to {}; {:.1f} GiB are available",
                                bytes / kGiB, purpose, available / kGiB));
}

}  // namespace pgl
