#pragma once
// A data set's fingerprint (nnU-Net's first planning step): per case the spacing and size on the canonical
// grid and the voxels of each class; for labelled data, intensity statistics of the foreground. Computed
// once per set of files and cached as JSON, so planning again costs nothing.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "pgl/core/image.h"
#include "pgl/data/dataset.h"

namespace pgl::plan {

struct CaseFingerprint {
  std::string id;
  Vec3 spacing{1, 1, 1};  // mm along the canonical axes x, y, z
  Size3 size{0, 0, 0};    // voxels along the canonical axes
  // The body's bounding box (voxels along the canonical axes): where the intensity is above the background
  // (nnU-Net crops to it before planning).
  Size3 body_size{0, 0, 0};
  std::map<int, int64_t> class_voxels;  // labelled cases only (background excluded)
};

struct IntensityStatistics {
  int64_t samples = 0;
  double mean = 0, std = 0, min = 0, max = 0, median = 0, percentile_00_5 = 0, percentile_99_5 = 0;
};

struct DatasetFingerprint {
  std::string modality;
  std::vector<CaseFingerprint> cases;
  std::optional<IntensityStatistics> foreground;  // pooled over labelled cases (label > 0)

  nlohmann::json to_json() const;
  static DatasetFingerprint from_json(const nlohmann::json& j, const std::string& source);
  // Per-axis median over cases of the spacing (mm), and of the size each case's body box has at `spacing`.
  Vec3 median_spacing() const;
  Vec3 median_body_size_at(const Vec3& spacing) const;
  // Per-axis value at `percentile` (0..100, linear interpolation) of the case spacings.
  double spacing_percentile(int axis, double percentile) const;
};

// The bounding box of the body in `image` (array axes i, j, k): voxels above background + 5% of the range up
// to the 99th percentile, from the 0.5th to the 99.5th percentile of their positions per axis (robust to
// noise specks).
Size3 body_box_size(const Volume& image);

// Fingerprint of the cases of `datasets` (every image is read once; labels only when use_labels). Cached
// under cache_root/fingerprints/, keyed by every file's path, size and modification time. Files are read in
// parallel with `threads` threads.
DatasetFingerprint fingerprint_datasets(const std::vector<Dataset>& datasets, const std::vector<Case>& cases,
                                        bool use_labels, const std::string& cache_root, int threads);

// numpy's default percentile (linear interpolation between order statistics); sorts `values`.
template <class T>
double percentile(std::vector<T>& values, double p) {
  if (values.empty()) throw std::invalid_argument("percentile of no values");
  std::sort(values.begin(), values.end());
  const double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto low = static_cast<size_t>(std::floor(rank));
  const size_t high = std::min(low + 1, values.size() - 1);
  const double t = rank - static_cast<double>(low);
  return static_cast<double>(values[low]) * (1 - t) + static_cast<double>(values[high]) * t;
}

}  // namespace pgl::plan
