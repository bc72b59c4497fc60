#pragma once
// Checks of JPEG 2000 pixel data before GDCM's codec sees it (see dicom_guard.h). Private to src/pgl/io.
#include <string>

namespace pgl::io_detail {

// The marker segments of a codestream (or the JP2 boxes around one), walked as GDCM's codec walks them but
// bounded. Returns what is wrong, or "" where GDCM's walk stays inside the data.
std::string jpeg2000_marker_problem(const std::string& data);

// Decodes the data with OpenJPEG, the library GDCM decodes with, and frees everything it allocated on every
// path. Returns OpenJPEG's reason when it cannot decode, or "".
std::string jpeg2000_decode_problem(const std::string& data);

}  // namespace pgl::io_detail
