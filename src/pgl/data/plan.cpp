#include "pgl/data/plan.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <thread>

#include <fmt/format.h>

#include "pgl/core/error.h"
#include "pgl/core/hash.h"
#include "pgl/io/spatial.h"
#include "pgl/io/volume_io.h"

namespace pgl {

bool PreprocessingPlan::is_ct() const { return modality == "CT" || modality == "ct"; }

nlohmann::json PreprocessingPlan::to_json() const {
  return {{"modality", modality},
          {"spacing_mm", spacing},
          {"orientation", orientation},
          {"ct_window_hu", {window_low, window_high}},
          {"normalisation", is_ct() ? "clip to window, scale to [-1, 1]" : "per-case z-score"}};
}

PreprocessingPlan PreprocessingPlan::from_json(const nlohmann::json& j, const std::string& source) {
  PreprocessingPlan p;
  try {
    p.modality = j.at("modality").get<std::string>();
    auto s = j.at("spacing_mm").get<std::vector<double>>();
    if (s.size() != 3) throw Error(source, "plan spacing_mm must have 3 values");
    p.spacing = {s[0], s[1], s[2]};
    p.orientation = j.at("orientation").get<std::string>();
    auto w = j.at("ct_window_hu").get<std::vector<double>>();
    if (w.size() != 2 || !(w[0] < w[1])) throw Error(source, "plan ct_window_hu must be [low, high]");
    p.window_low = w[0];
    p.window_high = w[1];
  } catch (const nlohmann::json::exception& e) {
    throw Error(source, std::string("invalid preprocessing plan: ") + e.what());
  }
  for (double s : p.spacing)
    if (!(s > 0)) throw Error(source, "plan spacing must be positive");
  if (p.orientation != "LPS") throw Error(source, "plan orientation must be LPS");
  return p;
}

std::string PreprocessingPlan::hash() const {
  return fnv1a_hex(to_json().dump(), 12);
}

PreprocessingPlan make_plan(const std::vector<Dataset>& datasets, const PlanOptions& options, int threads) {
  if (datasets.empty()) throw Error("make_plan: no data set given");
  PreprocessingPlan plan;
  plan.modality = options.modality.empty() ? datasets.front().modality : options.modality;
  plan.window_low = options.window_low;
  plan.window_high = options.window_high;
  if (!(plan.window_low < plan.window_high))
    throw Error(fmt::format("CT window [{}, {}] is empty", plan.window_low, plan.window_high));
  if (!options.spacing.empty()) {
    if (options.spacing.size() != 3) throw Error("--spacing takes three values (x,y,z in mm)");
    for (double s : options.spacing)
      if (!(s > 0)) throw Error("--spacing values must be positive");
    plan.spacing = {options.spacing[0], options.spacing[1], options.spacing[2]};
    return plan;
  }
  // Median spacing over every case, in canonical axis order.
  std::vector<const Case*> cases;
  for (const auto& d : datasets)
    for (const auto& c : d.cases) cases.push_back(&c);
  std::vector<Vec3> spacings(cases.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t n = next++; n < cases.size(); n = next++) {
      Geometry g = read_image_info(cases[n]->image).geometry;
      Reorientation r = canonical_reorientation(g);
      for (int a = 0; a < 3; ++a) spacings[n][a] = g.spacing[r.permutation[a]];
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (int a = 0; a < 3; ++a) {
    std::vector<double> v;
    for (const auto& s : spacings) v.push_back(s[a]);
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
    plan.spacing[a] = v[v.size() / 2];
  }
  return plan;
}

namespace {
bool same_spacing(const Vec3& a, const Vec3& b) {
  for (int k = 0; k < 3; ++k)
    if (std::fabs(a[k] - b[k]) > 1e-4 * b[k]) return false;
  return true;
}
}  // namespace

Volume preprocess_image(const Volume& raw, const PreprocessingPlan& plan) {
  Volume v = reorient_to_canonical(raw);
  if (!same_spacing(v.geometry.spacing, plan.spacing)) {
    // Resample from the lowest value so that padding at the border looks like air, not like 0 HU.
    float low = *std::min_element(v.data.begin(), v.data.end());
    for (auto& x : v.data) x -= low;
    v = resample_volume(v, plan.spacing);
    for (auto& x : v.data) x += low;
  }
  if (plan.is_ct()) {
    const double lo = plan.window_low, hi = plan.window_high, half = (hi - lo) / 2, mid = (hi + lo) / 2;
    for (auto& x : v.data) x = static_cast<float>((std::clamp<double>(x, lo, hi) - mid) / half);
  } else {
    double sum = 0, sq = 0;
    for (float x : v.data) sum += x;
    double mean = sum / static_cast<double>(v.data.size());
    for (float x : v.data) sq += (x - mean) * (x - mean);
    double sd = std::sqrt(sq / static_cast<double>(v.data.size()));
    if (sd < 1e-8) sd = 1;
    for (auto& x : v.data) x = static_cast<float>((x - mean) / sd);
  }
  return v;
}

LabelMap preprocess_labels(const LabelMap& raw, const PreprocessingPlan& plan) {
  LabelMap l = reorient_to_canonical(raw);
  if (!same_spacing(l.geometry.spacing, plan.spacing)) l = resample_labels(l, plan.spacing);
  return l;
}

}  // namespace pgl
