#pragma once
// Checks of JPEG 2000 pixel data before GDCM's codec sees it (see dicom_guard.h). Private to src/pgl/io.
#include <cstdint>
#include <string>

namespace pgl::io_detail {

// The marker segments of a codestream (or the JP2 boxes around one), walked as GDCM's codec walks them but
// bounded. Returns what is wrong, or "" where GDCM's walk stays inside the data.
std::string jpeg2000_marker_problem(const std::string& data);

// Decodes the data with OpenJPEG, the library GDCM decodes with, as GDCM does (the data cut after its last
// 0xD9 byte), and frees everything it allocated on every path. Returns OpenJPEG's reason when it cannot
// decode, what GDCM would refuse after decoding (components of more than 32 bits, or unlike each other), or
// a size other than `width` x `height` or components of more than `bits` bits (each when not 0: GDCM decodes
// into a buffer the DICOM header sizes); else "".
std::string jpeg2000_decode_problem(std::string data, uint32_t width, uint32_t height, uint32_t bits);

}  // namespace pgl::io_detail
