#pragma once
// Checks on a NIfTI payload that ITK does not make: nifti1_io silently replaces NaN/Inf by 0 and reads a
// truncated .nii.gz without complaint. Private to src/pgl/io.
#include <cstdint>
#include <string>

namespace pgl::io_detail {

struct NiftiPayload {
  int64_t non_finite = 0;   // NaN or infinite values (floating-point types only)
  int64_t first_bad = -1;   // voxel offset of the first one
};

// Verifies that the file holds all `voxels` values the header declares (throws pgl::Error naming the file
// when truncated or corrupt) and counts non-finite values. Streams the payload only when needed: for
// floating-point data, or when a .nii.gz trailer does not confirm the length.
NiftiPayload inspect_nifti_payload(const std::string& path, int64_t voxels);

}  // namespace pgl::io_detail
