#pragma once
// How much memory this process may still take, so that a volume too large for it is refused with one error
// before any allocation rather than ending in std::bad_alloc or the kernel's OOM killer half-way through.
#include <cstdint>
#include <string>

namespace pgl {

// The least of: MemAvailable (/proc/meminfo), the cgroup's limit less its use (cgroup v2, as SLURM and
// containers set it), and the address-space limit (ulimit -v) less what this process has mapped.
// UINT64_MAX when none of them can be read.
uint64_t available_memory_bytes();

// Throws pgl::Error naming path when `bytes` exceed available_memory_bytes(): "needs about X GiB of memory
// to PURPOSE; Y GiB are available".
void require_memory(const std::string& path, uint64_t bytes, const std::string& purpose);

}  // namespace pgl
