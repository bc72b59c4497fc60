// The preprocessing cache's header reader (MappedImage::open, src/pgl/data/cache.cpp): the bytes as a cached
// .nii, memory-mapped the way training maps it; then every voxel is read as training does (floats() for an
// image, label_at() for a label map), which must stay inside the mapped file.
#include <fstream>
#include <sstream>

#include "fuzz_support.h"
#include "pgl/data/cache.h"

namespace pgl::fuzz {
namespace {

// Start address of this process's mapping of `path` that contains `address` (0 when none).
uintptr_t mapping_start(const std::string& path, uintptr_t address) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, device, inode, name;
    in >> range >> perms >> offset >> device >> inode >> name;
    uintptr_t start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    uintptr_t end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    if (address >= start && address < end && name == path) return start;
  }
  return 0;
}

}  // namespace

void cache_header(const uint8_t* data, size_t size) {
  const std::string path = scratch_path("cache_header/case.nii");
  write_file(path, data, size);
  std::shared_ptr<MappedImage> image;
  if (!attempt([&] { image = MappedImage::open(path); })) return;
  const Size3& s = image->size();
  require(s[0] > 0 && s[1] > 0 && s[2] > 0, "MappedImage::open accepted a non-positive size");
  const int bytes = image->bytes_per_value();
  require(bytes == 1 || bytes == 2 || bytes == 4,
          "MappedImage::open accepted " + std::to_string(bytes) +
              "-byte values (cache files hold uint8, uint16, float32)");
  const auto voxels = static_cast<uint64_t>(s[0]) * static_cast<uint64_t>(s[1]) * static_cast<uint64_t>(s[2]);
  const auto* begin = static_cast<const uint8_t*>(image->data());
  // The file is mapped from its first byte: the voxels must lie inside it (ASan does not watch mapped
  // memory).
  const uintptr_t start = mapping_start(path, reinterpret_cast<uintptr_t>(begin));
  require(start != 0, "data() does not point into the mapped file");
  const uint64_t offset = reinterpret_cast<uintptr_t>(begin) - start;
  require(offset <= size && voxels <= (size - offset) / static_cast<uint64_t>(bytes),
          "MappedImage::open accepted more voxels than the file holds");
  double sum = 0;
  if (bytes == 4) {
    const float* values = nullptr;
    if (!attempt([&] { values = image->floats(); })) return;
    require(values == static_cast<const void*>(begin), "floats() and data() differ");
    for (uint64_t n = 0; n < voxels; ++n) sum += static_cast<double>(values[n]);
  } else {
    for (uint64_t n = 0; n < voxels; ++n) sum += image->label_at(static_cast<int64_t>(n));
  }
  volatile double keep = sum;
  (void)keep;
}

}  // namespace pgl::fuzz
