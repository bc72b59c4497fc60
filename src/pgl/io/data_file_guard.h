#pragma once
// Checks on NRRD and MetaImage files that ITK does not make, found by fuzz/nrrd.cpp and fuzz/metaimage.cpp.
// Private to src/pgl/io.
#include <cstdint>
#include <string>

namespace pgl::io_detail {

// The voxel data of a NRRD (.nrrd, .nhdr) or MetaImage (.mha, .mhd) file: its own bytes after the header,
// or the one data file a detached header names. Throws pgl::Error naming the header when that file is
// missing, when it is a list or numbered pattern of files (MetaIO expands such a pattern with the header's
// text as an snprintf format: "%s%s%s" crashes it), or, when declared_bytes >= 0, when the data cannot hold
// `declared_bytes` (raw) or could not inflate to them (compressed), so that a small header never makes ITK
// allocate gigabytes. Called with -1 before ITK reads the header, then with the header's voxel bytes.
void check_data_file(const std::string& path, bool nrrd, double declared_bytes);

// Loads a NRRD file's voxels with NrrdIO, freeing everything on failure: ITK's NrrdImageIO::Read leaks its
// Nrrd and the error text when nrrdLoad fails (truncated or corrupt data). Throws pgl::Error naming the file.
void preload_nrrd(const std::string& path);

}  // namespace pgl::io_detail
