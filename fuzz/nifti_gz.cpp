// NIfTI (.nii.gz). Bytes that start like a gzip stream are written as they are (the compressed layer is
// fuzzed); anything else is compressed first, so that the NIfTI header behind a valid gzip stream is fuzzed
// too (the seeds are mostly uncompressed NIfTI files).
#include "fuzz_support.h"

namespace pgl::fuzz {

void nifti_gz(const uint8_t* data, size_t size) {
  const std::string path = scratch_path("input.nii.gz");
  if (starts_with(data, size, "\x1f\x8b"))
    write_file(path, data, size);
  else
    write_file(path, gzip(data, size));
  read_image_all_ways(path);
}

}  // namespace pgl::fuzz
