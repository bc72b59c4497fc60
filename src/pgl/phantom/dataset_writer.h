#pragma once
// A phantom data set on disk in the Medical Segmentation Decathlon layout.
#include <cstdint>
#include <string>

#include "pgl/phantom/phantom.h"

namespace pgl::phantom {

struct DatasetOptions {
  CaseOptions phantom;
  int cases = 10;
  uint64_t seed = 0;
  std::string out;       // data set folder
  bool labeled = true;   // false: images only (pretraining data)
  int threads = 0;       // 0: all cores
  std::string preview;   // PNG of the first case, "" for none
  bool progress = true;  // progress bar on stderr
};

// Writes out/dataset.json, out/imagesTr/case_NNN.nii.gz (float32 HU) and, when labeled,
// out/labelsTr/case_NNN.nii.gz. The folder must be new, empty, or an earlier phantom data set (whose
// case files are replaced). Every file is written atomically; dataset.json last.
void write_phantom_dataset(const DatasetOptions& options);

}  // namespace pgl::phantom
