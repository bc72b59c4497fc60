#pragma once
// The preprocessing plan (DESIGN.md §3): canonical orientation, target spacing, intensity normalisation.
// Computed once per data set, stored in the cache and in every checkpoint; prediction applies the same plan.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pgl/core/image.h"
#include "pgl/data/dataset.h"

namespace pgl {

struct PreprocessingPlan {
  std::string modality = "CT";
  Vec3 spacing{1, 1, 1};  // target spacing (mm) along the canonical axes
  std::string orientation = "LPS";
  // How intensities are normalised:
  //   "ct-window":     clip to [window_low, window_high] HU, scale to [-1, 1] (a fixed window);
  //   "ct-foreground": clip to [clip_low, clip_high] (the labelled foreground's 0.5 / 99.5 percentiles),
  //                    subtract `mean`, divide by `std` (foreground statistics, nnU-Net's CT scheme);
  //   "zscore":        per image, subtract its mean and divide by its standard deviation (MR).
  std::string normalization = "ct-window";
  double window_low = -1000, window_high = 1000;  // CT window (HU)
  double clip_low = 0, clip_high = 0, mean = 0, std = 1;

  bool is_ct() const;
  nlohmann::json to_json() const;
  // Throws pgl::Error naming `source` when a field is missing or invalid.
  static PreprocessingPlan from_json(const nlohmann::json& j, const std::string& source);
  std::string hash() const;  // short stable hash: the cache key
};

struct PlanOptions {
  std::vector<double> spacing;  // empty: planned (3 values otherwise)
  double window_low = -1000, window_high = 1000;
  std::string modality;  // empty: from the first data set's dataset.json
  // auto (CT: foreground statistics when labels exist, else the window; other modalities: z-score),
  // ct-window, ct-foreground or zscore. --ct-window sets ct-window.
  std::string normalization = "auto";
  // Planned spacing is coarsened until the patch covers this share of the median image (see plan/planner.h).
  double min_coverage = 0.25;
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PlanOptions, spacing, window_low, window_high, modality,
                                                normalization, min_coverage)

// Applies --spacing, --ct-window, --modality and --normalization to a plan (validating them).
void apply_plan_overrides(const PlanOptions& options, PreprocessingPlan* plan);

// Reorient to canonical, resample to the plan's spacing, normalise. The label map (when given) goes through
// the same reorientation and nearest-neighbour resampling.
Volume preprocess_image(const Volume& raw, const PreprocessingPlan& plan);
LabelMap preprocess_labels(const LabelMap& raw, const PreprocessingPlan& plan);

}  // namespace pgl
