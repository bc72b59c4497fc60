#pragma once
// Validation of a whole data set: every file exists and reads, image and label grids match, label values
// are declared. Used by `pgl check` and before training.
#include <functional>
#include <string>
#include <vector>

#include "pgl/core/image.h"
#include "pgl/data/dataset.h"

namespace pgl {

struct CaseCheck {
  std::string id;
  bool ok = false;
  std::string problem;  // "" when ok; otherwise "path: problem"
  Geometry geometry;    // of the image (when readable)
  float min = 0, max = 0;
  std::vector<int> label_values;  // present in the label map (when labeled)
};

struct CheckOptions {
  int threads = 2;
  bool read_voxels = true;  // false: headers only (fast)
};

// Checks every case; never throws for a bad case (the problem is recorded), only for a bad data set.
// `on_case_done` (optional) is called after each case, from the calling thread's loop, with the count done.
std::vector<CaseCheck> check_dataset(const Dataset& dataset, const CheckOptions& options,
                                     const std::function<void(size_t done)>& on_case_done = {});

// Checks one case (image + optional label); throws pgl::Error on the first problem.
CaseCheck check_case(const Dataset& dataset, const Case& c, bool read_voxels = true);

}  // namespace pgl
