#pragma once
// Post-processing as nnU-Net decides it (../shared/nnunet-planning.md §10): keep the largest connected
// component of all foreground together, then of each class, each step only where it improves the
// validation Dice. The decision is stored with the model and applied by `pgl predict`.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "pgl/core/image.h"

namespace pgl::seg {

struct Postprocessing {
  bool largest_foreground_component = false;  // step 1: all foreground labels as one mask
  std::vector<int> largest_class_component;   // step 2: classes whose largest component alone is kept

  nlohmann::json to_json() const;
  static Postprocessing from_json(const nlohmann::json& j);  // null / missing: nothing
  std::string describe() const;                              // for logs: "none", or the rules in words
  bool empty() const { return !largest_foreground_component && largest_class_component.empty(); }
};

// (prediction, reference) pairs on the same grid.
using LabelPairs = std::vector<std::pair<LabelMap, LabelMap>>;

void apply_postprocessing(LabelMap& prediction, const Postprocessing& p, const std::vector<int>& classes);

// Step 1 is accepted when the mean over classes of the per-class mean Dice strictly improves and no class's
// mean drops; step 2 per class (on top of the result so far) when that class's mean Dice strictly improves.
// `log` receives one line per decision.
Postprocessing decide_postprocessing(const LabelPairs& validation, const std::vector<int>& classes,
                                     std::vector<std::string>* log = nullptr);

}  // namespace pgl::seg
