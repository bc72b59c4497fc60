// NRRD: the bytes as a single-file .nrrd, then as a detached header (.nhdr) beside a small raw data file
// (fuzz/fixtures/data.raw is copied to the scratch folder as data.raw; the seeds' .nhdr headers name it).
#include "fuzz_support.h"

namespace pgl::fuzz {

void nrrd(const uint8_t* data, size_t size) {
  static const bool fixture =
      (write_file(scratch_path("nrrd/data.raw"), read_file(source_dir() + "/fixtures/data.raw")), true);
  (void)fixture;
  const std::string attached = scratch_path("nrrd/input.nrrd");
  write_file(attached, data, size);
  read_image_all_ways(attached);
  const std::string detached = scratch_path("nrrd/input.nhdr");
  write_file(detached, data, size);
  read_image_all_ways(detached);
}

}  // namespace pgl::fuzz
