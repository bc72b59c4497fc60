#pragma once
// The preprocessing plan (DESIGN.md §3): canonical orientation, target spacing, intensity normalisation.
// Computed once per data set, stored in the cache and in every checkpoint; prediction applies the same plan.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pgl/core/image.h"
#include "pgl/data/dataset.h"

namespace pgl {

struct PreprocessingPlan {
  std::string modality = "CT";  // "CT": clip to the HU window, scale to [-1, 1]; else per-case z-score
  Vec3 spacing{1, 1, 1};        // target spacing (mm) along the canonical axes
  std::string orientation = "LPS";
  double window_low = -1000, window_high = 1000;  // CT window (HU)

  bool is_ct() const;
  nlohmann::json to_json() const;
  // Throws pgl::Error naming `source` when a field is missing or invalid.
  static PreprocessingPlan from_json(const nlohmann::json& j, const std::string& source);
  std::string hash() const;  // short stable hash: the cache key
};

struct PlanOptions {
  std::vector<double> spacing;  // empty: the data sets' median spacing (3 values otherwise)
  double window_low = -1000, window_high = 1000;
  std::string modality;  // empty: from the first data set's dataset.json
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PlanOptions, spacing, window_low, window_high, modality)

// Reads the headers of every case (in parallel) and derives the plan.
PreprocessingPlan make_plan(const std::vector<Dataset>& datasets, const PlanOptions& options, int threads = 2);

// Reorient to canonical, resample to the plan's spacing, normalise. The label map (when given) goes through
// the same reorientation and nearest-neighbour resampling.
Volume preprocess_image(const Volume& raw, const PreprocessingPlan& plan);
LabelMap preprocess_labels(const LabelMap& raw, const PreprocessingPlan& plan);

}  // namespace pgl
