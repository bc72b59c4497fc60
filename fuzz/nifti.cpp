// NIfTI (.nii): the bytes as an uncompressed file, read as header, intensities and label map
// (src/pgl/io/volume_io.cpp, with the payload checks of src/pgl/io/nifti_guard.cpp).
#include "fuzz_support.h"

namespace pgl::fuzz {

void nifti(const uint8_t* data, size_t size) {
  const std::string path = scratch_path("input.nii");
  write_file(path, data, size);
  read_image_all_ways(path);
}

}  // namespace pgl::fuzz
