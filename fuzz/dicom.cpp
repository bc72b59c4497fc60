// DICOM: the bytes as one file of a series folder, beside a valid slice of the same series
// (fuzz/fixtures/series_slice0.dcm; the seeds are other slices of that series), read as a DICOM folder:
// series listing, header, the series reader.
#include "fuzz_support.h"

namespace pgl::fuzz {

void dicom(const uint8_t* data, size_t size) {
  static const bool fixture =
      (write_file(scratch_path("series/slice0.dcm"), read_file(source_dir() + "/fixtures/series_slice0.dcm")),
       true);
  (void)fixture;
  write_file(scratch_path("series/slice1.dcm"), data, size);
  read_image_all_ways(scratch_path("series"));
}

}  // namespace pgl::fuzz
