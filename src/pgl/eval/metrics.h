#pragma once
// Segmentation metrics per case and class on label maps of the same grid, in millimetres (the grid's spacing
// is honoured on every axis). Definitions and conventions: docs/metrics.md.
//
// - Dice = 2|P∩R| / (|P| + |R|); NaN when P and R are both empty.
// - Surface voxels: foreground voxels with at least one 6-neighbour that is background or outside the image.
//   Distances are between voxel centres, from an exact Euclidean distance transform.
// - HD95 (default, medpy's hd95): the 95th percentile (linear interpolation, as numpy) of the pooled
//   distances from every surface voxel of P to the surface of R and from every surface voxel of R to the
//   surface of P. Hd95Definition::MaxDirected gives MONAI's variant (max of the two directed percentiles).
//   +inf when exactly one of P, R is empty; NaN when both are.
// - NSD at tolerance tau: (|{s in S_P : d(s, S_R) <= tau}| + |{s in S_R : d(s, S_P) <= tau}|) / (|S_P| +
// |S_R|),
//   counted in voxels (not weighted by surface area). 0 when exactly one is empty; NaN when both are.
#include <cstdint>
#include <limits>
#include <vector>

#include "pgl/core/image.h"

namespace pgl::eval {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct ClassMetrics {
  int label = 0;
  double dice = kNaN;
  double hd95 = kNaN;  // mm
  double nsd = kNaN;
  int64_t pred_voxels = 0, ref_voxels = 0;
  bool both_empty() const { return pred_voxels == 0 && ref_voxels == 0; }
};

enum class Hd95Definition {
  Pooled,       // percentile of the pooled symmetric distances (medpy.metric.binary.hd95)
  MaxDirected,  // max of the two directed 95th percentiles (MONAI compute_hausdorff_distance(percentile=95))
};

struct MetricOptions {
  double nsd_tolerance = 1.0;  // mm
  Hd95Definition hd95 = Hd95Definition::Pooled;
  bool dice_only = false;  // skip the surface metrics (hd95 and nsd stay NaN): one pass over the voxels
};

// Metrics for each class id in `classes` (each in 1..65535), in that order. Throws pgl::Error when the two
// grids differ (Geometry::same_grid) or a class id is out of range.
std::vector<ClassMetrics> evaluate_case(const LabelMap& pred, const LabelMap& ref,
                                        const std::vector<int>& classes, const MetricOptions& options);
std::vector<ClassMetrics> evaluate_case(const LabelMap& pred, const LabelMap& ref,
                                        const std::vector<int>& classes, double nsd_tolerance = 1.0);

// Fast path for validation during training: Dice per class (NaN when both are empty), one pass.
std::vector<double> dice_scores(const LabelMap& pred, const LabelMap& ref, const std::vector<int>& classes);

// The metrics of a class absent from both prediction and reference (everything NaN, counts 0).
ClassMetrics both_empty_metrics(int label);

// Sorted non-zero values present in a label map.
std::vector<int> present_labels(const LabelMap& labels);

// Surface voxels of the mask {labels == label} (6-neighbourhood; the image border counts as background).
std::vector<uint8_t> surface_mask(const LabelMap& labels, int label);

// q-th percentile (q in [0, 100]) with numpy's default linear interpolation; NaN for no values.
// Reorders `values`.
double percentile(std::vector<double>& values, double q);

// Mean and population standard deviation (ddof 0) over the finite values; NaN and +-inf are counted apart.
struct MetricSummary {
  double mean = kNaN, std = kNaN;
  int64_t n = 0;      // finite values used
  int64_t n_nan = 0;  // NaN values (both empty)
  int64_t n_inf = 0;  // infinite values (HD95 with exactly one empty mask)
};
MetricSummary summarize(const std::vector<double>& values);

struct ClassSummary {
  int label = 0;
  MetricSummary dice, hd95, nsd;
  int64_t n_both_empty = 0;  // cases where prediction and reference are both empty for this class
};
// One summary per class of `classes`, over per_case[case] (each as returned by evaluate_case; entries are
// matched by label, and a case without an entry for a class does not count for that class).
std::vector<ClassSummary> summarize_classes(const std::vector<std::vector<ClassMetrics>>& per_case,
                                            const std::vector<int>& classes);

}  // namespace pgl::eval
