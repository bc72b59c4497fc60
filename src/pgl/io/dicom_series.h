#pragma once
// Listing a DICOM series. Private to src/pgl/io.
#include <string>
#include <vector>

namespace pgl::io_detail {

// The files of the largest series in `folder` (not recursive), in slice order, grouped and ordered by GDCM as
// itk::GDCMSeriesFileNames does with series details. GDCM is given only the files that checked_dicom_files
// returns: given the folder itself, it parses every file in it, and one without the DICM signature by
// heuristics (a 706-byte file made it allocate and zero 1.3 GB for 5 s, found by fuzz/dicom.cpp). Throws
// pgl::Error naming the folder when there is no series.
std::vector<std::string> dicom_series_files(const std::string& folder);

}  // namespace pgl::io_detail
