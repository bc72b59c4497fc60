#include "pgl/eval/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "pgl/core/error.h"
#include "pgl/eval/distance_transform.h"

namespace pgl::eval {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Inclusive voxel bounding box.
struct Box {
  Size3 lo{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max(),
           std::numeric_limits<int64_t>::max()};
  Size3 hi{-1, -1, -1};
  bool empty() const { return hi[0] < lo[0]; }
  void add(int64_t i, int64_t j, int64_t k) {
    lo = {std::min(lo[0], i), std::min(lo[1], j), std::min(lo[2], k)};
    hi = {std::max(hi[0], i), std::max(hi[1], j), std::max(hi[2], k)};
  }
  void merge(const Box& b) {
    if (b.empty()) return;
    add(b.lo[0], b.lo[1], b.lo[2]);
    add(b.hi[0], b.hi[1], b.hi[2]);
  }
  Size3 size() const { return {hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1}; }
};

struct ClassCounts {
  int64_t pred = 0, ref = 0, both = 0;
  Box pred_box, ref_box;
};

void check_inputs(const LabelMap& pred, const LabelMap& ref, const std::vector<int>& classes) {
  if (!pred.geometry.same_grid(ref.geometry))
    throw Error("prediction and reference are on different grids: " +
                pred.geometry.grid_difference(ref.geometry));
  if (static_cast<int64_t>(pred.data.size()) != pred.geometry.voxels() ||
      static_cast<int64_t>(ref.data.size()) != ref.geometry.voxels())
    throw Error("label map holds a different number of voxels than its geometry says");
  for (int c : classes)
    if (c < 1 || c > 65535) throw Error(fmt::format("class id {} is out of range (1..65535)", c));
}

// One pass: voxel counts, overlap and (optionally) bounding boxes for every requested class.
std::vector<ClassCounts> count_classes(const LabelMap& pred, const LabelMap& ref,
                                       const std::vector<int>& classes, bool boxes) {
  std::vector<int32_t> index(65536, -1);
  for (size_t n = 0; n < classes.size(); ++n)
    index[static_cast<size_t>(classes[n])] = static_cast<int32_t>(n);
  std::vector<ClassCounts> counts(classes.size());
  const Size3& s = pred.geometry.size;
  const uint16_t* p = pred.data.data();
  const uint16_t* r = ref.data.data();
  size_t n = 0;
  for (int64_t k = 0; k < s[2]; ++k)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t i = 0; i < s[0]; ++i, ++n) {
        const int32_t cp = index[p[n]], cr = index[r[n]];
        if (cp >= 0) {
          ClassCounts& c = counts[static_cast<size_t>(cp)];
          ++c.pred;
          if (p[n] == r[n]) ++c.both;
          if (boxes) c.pred_box.add(i, j, k);
        }
        if (cr >= 0) {
          ClassCounts& c = counts[static_cast<size_t>(cr)];
          ++c.ref;
          if (boxes) c.ref_box.add(i, j, k);
        }
      }
  return counts;
}

double dice_of(const ClassCounts& c) {
  if (c.pred + c.ref == 0) return kNaN;
  return 2.0 * static_cast<double>(c.both) / static_cast<double>(c.pred + c.ref);
}

// Surface voxels of {labels == label} inside `box`, as a mask over the box. Neighbours are looked up in the
// whole image, so a voxel is on the surface only where the mask really ends (or the image does).
std::vector<uint8_t> surface_in_box(const LabelMap& labels, int label, const Box& box) {
  const Size3& s = labels.geometry.size;
  const Size3 bs = box.size();
  std::vector<uint8_t> surface(static_cast<size_t>(bs[0] * bs[1] * bs[2]), 0);
  const auto value = static_cast<uint16_t>(label);
  const int64_t sx = 1, sy = s[0], sz = s[0] * s[1];
  size_t n = 0;
  for (int64_t k = box.lo[2]; k <= box.hi[2]; ++k)
    for (int64_t j = box.lo[1]; j <= box.hi[1]; ++j)
      for (int64_t i = box.lo[0]; i <= box.hi[0]; ++i, ++n) {
        const int64_t o = labels.offset(i, j, k);
        const uint16_t* v = labels.data.data() + o;
        if (*v != value) continue;
        const bool border = i == 0 || j == 0 || k == 0 || i == s[0] - 1 || j == s[1] - 1 || k == s[2] - 1;
        if (border || v[-sx] != value || v[sx] != value || v[-sy] != value || v[sy] != value ||
            v[-sz] != value || v[sz] != value)
          surface[n] = 1;
      }
  return surface;
}

// Distances (mm) from every `from` surface voxel to the nearest `to` surface voxel, both masks over the same
// box.
std::vector<double> surface_distances(const std::vector<uint8_t>& from, const std::vector<uint8_t>& to,
                                      const Size3& box_size, const Vec3& spacing) {
  std::vector<double> d2 = squared_distance_transform(to, box_size, spacing);
  std::vector<double> out;
  for (size_t n = 0; n < from.size(); ++n)
    if (from[n]) out.push_back(std::sqrt(d2[n]));
  return out;
}

}  // namespace

double percentile(std::vector<double>& values, double q) {
  if (values.empty()) return kNaN;
  if (!(q >= 0 && q <= 100)) throw Error(fmt::format("percentile {} is outside [0, 100]", q));
  const double h = q / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(h));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo), values.end());
  const double a = values[lo];
  const double frac = h - static_cast<double>(lo);
  if (frac == 0 || lo + 1 >= values.size()) return a;
  // After nth_element everything past lo is >= a; the next order statistic is their minimum.
  const double b = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lo) + 1, values.end());
  return a + frac * (b - a);
}

ClassMetrics both_empty_metrics(int label) {
  ClassMetrics m;
  m.label = label;
  return m;
}

std::vector<ClassMetrics> evaluate_case(const LabelMap& pred, const LabelMap& ref,
                                        const std::vector<int>& classes, const MetricOptions& options) {
  check_inputs(pred, ref, classes);
  if (!options.dice_only && !(options.nsd_tolerance >= 0))
    throw Error(fmt::format("NSD tolerance must be >= 0 mm (got {})", options.nsd_tolerance));
  const std::vector<ClassCounts> counts = count_classes(pred, ref, classes, !options.dice_only);
  std::vector<ClassMetrics> result;
  result.reserve(classes.size());
  for (size_t n = 0; n < classes.size(); ++n) {
    const ClassCounts& c = counts[n];
    ClassMetrics m = both_empty_metrics(classes[n]);
    m.pred_voxels = c.pred;
    m.ref_voxels = c.ref;
    m.dice = dice_of(c);
    if (!options.dice_only && !m.both_empty()) {
      if (c.pred == 0 || c.ref == 0) {
        // One surface is missing: every distance to it is infinite, no surface voxel is within tolerance.
        m.hd95 = kInf;
        m.nsd = 0;
      } else {
        // All surface voxels of both masks lie in the union of their boxes, so the transform over that box is
        // exact for every distance we need.
        Box box = c.pred_box;
        box.merge(c.ref_box);
        const std::vector<uint8_t> sp = surface_in_box(pred, classes[n], box);
        const std::vector<uint8_t> sr = surface_in_box(ref, classes[n], box);
        std::vector<double> dp = surface_distances(sp, sr, box.size(), pred.geometry.spacing);
        std::vector<double> dr = surface_distances(sr, sp, box.size(), pred.geometry.spacing);
        // Slack for rounding in the distances, so that a surface exactly tau away counts as within tau.
        const double tau = options.nsd_tolerance + 1e-9 * std::max(1.0, options.nsd_tolerance);
        int64_t within = 0;
        for (double d : dp) within += d <= tau;
        for (double d : dr) within += d <= tau;
        m.nsd = static_cast<double>(within) / static_cast<double>(dp.size() + dr.size());
        if (options.hd95 == Hd95Definition::MaxDirected) {
          m.hd95 = std::max(percentile(dp, 95), percentile(dr, 95));
        } else {
          dp.insert(dp.end(), dr.begin(), dr.end());
          m.hd95 = percentile(dp, 95);
        }
      }
    }
    result.push_back(m);
  }
  return result;
}

std::vector<ClassMetrics> evaluate_case(const LabelMap& pred, const LabelMap& ref,
                                        const std::vector<int>& classes, double nsd_tolerance) {
  MetricOptions options;
  options.nsd_tolerance = nsd_tolerance;
  return evaluate_case(pred, ref, classes, options);
}

std::vector<double> dice_scores(const LabelMap& pred, const LabelMap& ref, const std::vector<int>& classes) {
  check_inputs(pred, ref, classes);
  std::vector<double> dice;
  for (const ClassCounts& c : count_classes(pred, ref, classes, false)) dice.push_back(dice_of(c));
  return dice;
}

std::vector<int> present_labels(const LabelMap& labels) {
  std::vector<uint8_t> seen(65536, 0);
  for (uint16_t v : labels.data) seen[v] = 1;
  std::vector<int> out;
  for (int v = 1; v < 65536; ++v)
    if (seen[static_cast<size_t>(v)]) out.push_back(v);
  return out;
}

std::vector<uint8_t> surface_mask(const LabelMap& labels, int label) {
  Box all;
  if (labels.geometry.voxels() == 0) return {};
  all.add(0, 0, 0);
  all.add(labels.geometry.size[0] - 1, labels.geometry.size[1] - 1, labels.geometry.size[2] - 1);
  return surface_in_box(labels, label, all);
}

MetricSummary summarize(const std::vector<double>& values) {
  MetricSummary s;
  double sum = 0;
  for (double v : values) {
    if (std::isnan(v)) {
      ++s.n_nan;
    } else if (std::isinf(v)) {
      ++s.n_inf;
    } else {
      ++s.n;
      sum += v;
    }
  }
  if (s.n == 0) return s;
  s.mean = sum / static_cast<double>(s.n);
  double squares = 0;
  for (double v : values)
    if (std::isfinite(v)) squares += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(squares / static_cast<double>(s.n));
  return s;
}

std::vector<ClassSummary> summarize_classes(const std::vector<std::vector<ClassMetrics>>& per_case,
                                            const std::vector<int>& classes) {
  std::vector<ClassSummary> out;
  for (int label : classes) {
    std::vector<double> dice, hd95, nsd;
    ClassSummary s;
    s.label = label;
    for (const auto& case_metrics : per_case)
      for (const ClassMetrics& m : case_metrics) {
        if (m.label != label) continue;
        dice.push_back(m.dice);
        hd95.push_back(m.hd95);
        nsd.push_back(m.nsd);
        s.n_both_empty += m.both_empty();
      }
    s.dice = summarize(dice);
    s.hd95 = summarize(hd95);
    s.nsd = summarize(nsd);
    out.push_back(s);
  }
  return out;
}

}  // namespace pgl::eval
