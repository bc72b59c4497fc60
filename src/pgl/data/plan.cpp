#include "pgl/data/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "pgl/core/error.h"
#include "pgl/core/hash.h"
#include "pgl/io/spatial.h"

namespace pgl {

bool PreprocessingPlan::is_ct() const { return modality == "CT" || modality == "ct"; }

nlohmann::json PreprocessingPlan::to_json() const {
  nlohmann::json j = {{"modality", modality},
                      {"spacing_mm", spacing},
                      {"orientation", orientation},
                      {"ct_window_hu", {window_low, window_high}}};
  j["normalization_scheme"] = normalization;
  if (normalization == "ct-window") {
    j["normalisation"] = "clip to window, scale to [-1, 1]";
  } else if (normalization == "zscore") {
    j["normalisation"] = "per-case z-score";
  } else {
    j["normalisation"] = "clip to foreground percentiles, z-score with foreground statistics";
    j["foreground_clip"] = {clip_low, clip_high};
    j["foreground_mean"] = mean;
    j["foreground_std"] = std;
  }
  return j;
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
    // Plans written before foreground statistics existed: window for CT, z-score otherwise.
    p.normalization = j.value("normalization_scheme", p.is_ct() ? "ct-window" : "zscore");
    if (p.normalization == "ct-foreground") {
      auto c = j.at("foreground_clip").get<std::vector<double>>();
      if (c.size() != 2 || !(c[0] <= c[1])) throw Error(source, "plan foreground_clip must be [low, high]");
      p.clip_low = c[0];
      p.clip_high = c[1];
      p.mean = j.at("foreground_mean").get<double>();
      p.std = j.at("foreground_std").get<double>();
      if (!(p.std > 0)) throw Error(source, "plan foreground_std must be positive");
    } else if (p.normalization != "ct-window" && p.normalization != "zscore") {
      throw Error(source, "unknown normalization_scheme '" + p.normalization + "'");
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(source, std::string("invalid preprocessing plan: ") + e.what());
  }
  for (double s : p.spacing)
    if (!(s > 0)) throw Error(source, "plan spacing must be positive");
  if (p.orientation != "LPS") throw Error(source, "plan orientation must be LPS");
  return p;
}

std::string PreprocessingPlan::hash() const { return fnv1a_hex(to_json().dump(), 12); }

void apply_plan_overrides(const PlanOptions& options, PreprocessingPlan* plan) {
  if (!options.modality.empty()) plan->modality = options.modality;
  if (!(options.window_low < options.window_high))
    throw Error(fmt::format("CT window [{}, {}] is empty", options.window_low, options.window_high));
  const std::string& n = options.normalization;
  if (n != "auto" && n != "ct-window" && n != "ct-foreground" && n != "zscore")
    throw Error(
        fmt::format("unknown --normalization '{}' (expected auto, ct-window, ct-foreground, zscore)", n));
  if (n == "ct-window" || (n == "auto" && plan->is_ct() && plan->normalization == "zscore")) {
    plan->normalization = "ct-window";
  } else if (n == "zscore" || (n == "auto" && !plan->is_ct())) {
    plan->normalization = "zscore";
  } else if (n == "ct-foreground" && plan->normalization != "ct-foreground") {
    throw Error(plan->is_ct()
                    ? "--normalization ct-foreground needs a labelled data set (foreground statistics)"
                    : "--normalization ct-foreground is for CT; this data set is " + plan->modality);
  }
  plan->window_low = options.window_low;
  plan->window_high = options.window_high;
  if (!options.spacing.empty()) {
    if (options.spacing.size() != 3) throw Error("--spacing takes three values (x,y,z in mm)");
    for (double s : options.spacing)
      if (!(s > 0)) throw Error("--spacing values must be positive");
    plan->spacing = {options.spacing[0], options.spacing[1], options.spacing[2]};
  }
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
  if (plan.normalization == "ct-window") {
    const double lo = plan.window_low, hi = plan.window_high, half = (hi - lo) / 2, mid = (hi + lo) / 2;
    for (auto& x : v.data) x = static_cast<float>((std::clamp<double>(x, lo, hi) - mid) / half);
  } else if (plan.normalization == "ct-foreground") {
    const double lo = plan.clip_low, hi = plan.clip_high, mean = plan.mean, sd = std::max(plan.std, 1e-8);
    for (auto& x : v.data) x = static_cast<float>((std::clamp<double>(x, lo, hi) - mean) / sd);
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
