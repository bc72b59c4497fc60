#pragma once
// Checks on a NIfTI payload that ITK does not make: nifti1_io silently replaces NaN/Inf by 0 and reads a
// truncated .nii.gz without complaint. Private to src/pgl/io.
#include <cstdint>
#include <string>

namespace pgl::io_detail {

struct NiftiPayload {
  int64_t non_finite = 0;  // NaN or infinite values (floating-point types only)
  int64_t first_bad = -1;  // voxel offset of the first one
};

// Verifies that the file holds all `voxels` values the header declares (throws pgl::Error naming the file
// when truncated or corrupt) and counts non-finite values. Streams the payload only when needed: for
// floating-point data, or when a .nii.gz trailer does not confirm the length. Without check_values (a file
// pgl has just written) only the length is checked.
NiftiPayload inspect_nifti_payload(const std::string& path, int64_t voxels, bool check_values = true);

// Spacing and orientation (pixdim, and the qform and sform in use) must be finite and of sane magnitude: ITK
// builds a matrix from them and vnl's SVD aborts the process on a non-finite one (found by
// fuzz/nifti_gz.cpp). Throws pgl::Error naming the file. NIfTI-1 and NIfTI-2, either byte order.
void check_nifti_geometry(const std::string& path);

}  // namespace pgl::io_detail
