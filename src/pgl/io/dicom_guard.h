#pragma once
// A structural check of DICOM files before GDCM parses them. Debian's GDCM is built with assertions, and a
// file that ends inside a data element (a truncated copy or download) makes it abort the whole process
// (`gdcmFileMetaInformation.cxx: ReadCompat: Assertion is.good() failed`, found by fuzz/dicom.cpp). Private
// to src/pgl/io.
#include <string>
#include <vector>

namespace pgl::io_detail {

// Walks the data elements of every file with the DICM signature in `folder` (not recursive, as GDCM's series
// listing) and throws pgl::Error naming the file when one is not well-formed: it ends inside an element, an
// item or a sequence, holds an invalid VR, a non-item where only items may be, or nests sequences deeper than
// any real file. Returns the files with the signature, sorted by name: the only ones pgl gives GDCM
// (dicom_series.h).
std::vector<std::string> checked_dicom_files(const std::string& folder);

}  // namespace pgl::io_detail
