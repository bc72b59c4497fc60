#pragma once
// Brute-force surface distances for the metric tests, written independently of the library: surface voxels
// by their 6 neighbours, every pair of surface voxels compared, numpy's linear percentile on a sorted copy.
#include <algorithm>
#include <cmath>
#include <vector>

#include "pgl/core/image.h"

namespace pgl::eval::test_reference {

struct Reference {
  std::vector<double> pred_to_ref, ref_to_pred;
};

inline std::vector<Vec3> surface_points(const LabelMap& m, int label) {
  std::vector<Vec3> points;
  const Size3& s = m.size();
  auto is = [&](int64_t i, int64_t j, int64_t k) {
    return i >= 0 && j >= 0 && k >= 0 && i < s[0] && j < s[1] && k < s[2] && m.at(i, j, k) == label;
  };
  for (int64_t k = 0; k < s[2]; ++k)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t i = 0; i < s[0]; ++i)
        if (is(i, j, k) && !(is(i - 1, j, k) && is(i + 1, j, k) && is(i, j - 1, k) && is(i, j + 1, k) &&
                             is(i, j, k - 1) && is(i, j, k + 1)))
          points.push_back({i * m.geometry.spacing[0], j * m.geometry.spacing[1], k * m.geometry.spacing[2]});
  return points;
}

inline std::vector<double> directed(const std::vector<Vec3>& from, const std::vector<Vec3>& to) {
  std::vector<double> out;
  for (const Vec3& a : from) {
    double best = INFINITY;
    for (const Vec3& b : to)
      best = std::min(best, std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                                      (a[2] - b[2]) * (a[2] - b[2])));
    out.push_back(best);
  }
  return out;
}

inline double numpy_percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double h = q / 100 * (v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= v.size()) return v[lo];
  return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

inline Reference brute_force(const LabelMap& pred, const LabelMap& ref, int label) {
  const auto sp = surface_points(pred, label), sr = surface_points(ref, label);
  return {directed(sp, sr), directed(sr, sp)};
}

inline double pooled_hd95(const Reference& r) {
  std::vector<double> all = r.pred_to_ref;
  all.insert(all.end(), r.ref_to_pred.begin(), r.ref_to_pred.end());
  return numpy_percentile(all, 95);
}

inline double nsd_of(const Reference& r, double tau) {
  double within = 0;
  for (double d : r.pred_to_ref) within += d <= tau;
  for (double d : r.ref_to_pred) within += d <= tau;
  return within / static_cast<double>(r.pred_to_ref.size() + r.ref_to_pred.size());
}

}  // namespace pgl::eval::test_reference
