#include "pgl/plan/training_plan.h"

#include <fmt/format.h>

#include "pgl/core/error.h"

namespace pgl::plan {
using nlohmann::json;

std::string triple_text(const Size3& v, const char* separator) {
  return fmt::format("{}{}{}{}{}", v[0], separator, v[1], separator, v[2]);
}

json TrainingPlan::to_json() const {
  json j = preprocessing.to_json();
  j["patch_voxels_xyz"] = patch;
  j["network"] = {{"base", base},
                  {"levels", topology.levels()},
                  {"strides_xyz", topology.strides},
                  {"kernels_xyz", topology.kernels}};
  j["batch"] = batch;
  j["foreground_share"] = foreground_share;
  j["reasons"] = reasons;
  return j;
}

TrainingPlan TrainingPlan::from_json(const json& j, const std::string& source) {
  TrainingPlan p;
  p.preprocessing = PreprocessingPlan::from_json(j, source);
  if (!j.contains("network") || !j.contains("patch_voxels_xyz"))
    throw Error(source,
                "plan has no network section: written by a pgl from before planning (such runs cannot be "
                "resumed; start a new run, or make a plan with `pgl plan`)");
  try {
    p.patch = j.at("patch_voxels_xyz").get<Size3>();
    const auto& n = j.at("network");
    p.base = n.at("base").get<int64_t>();
    p.topology.strides = n.at("strides_xyz").get<std::vector<Size3>>();
    p.topology.kernels = n.at("kernels_xyz").get<std::vector<Size3>>();
    p.batch = j.at("batch").get<int64_t>();
    p.foreground_share = j.value("foreground_share", 1.0 / 3.0);
    p.reasons = j.value("reasons", std::map<std::string, std::string>{});
  } catch (const json::exception& e) {
    throw Error(source, std::string("invalid plan: ") + e.what());
  }
  const auto levels = p.topology.strides.size();
  if (levels < 1 || p.topology.kernels.size() != levels)
    throw Error(source, "plan network needs one stride and one kernel per level");
  for (int64_t v : p.patch)
    if (v < 1) throw Error(source, "plan patch sizes must be positive");
  const Size3 m = p.topology.size_multiple();
  for (size_t a = 0; a < 3; ++a)
    if (p.patch[a] % m[a] != 0)
      throw Error(source, fmt::format("plan patch {} is not a multiple of the network's strides {}",
                                      triple_text(p.patch), triple_text(m)));
  if (p.base < 1 || p.batch < 1) throw Error(source, "plan base and batch must be positive");
  return p;
}

std::string TrainingPlan::network_difference(const TrainingPlan& o) const {
  if (base != o.base) return fmt::format("{} base channels against {}", base, o.base);
  if (topology.levels() != o.topology.levels())
    return fmt::format("{} levels against {}", topology.levels(), o.topology.levels());
  for (size_t l = 0; l < topology.strides.size(); ++l) {
    if (topology.strides[l] != o.topology.strides[l])
      return fmt::format("level {} stride {} against {}", l, triple_text(topology.strides[l]),
                         triple_text(o.topology.strides[l]));
    if (topology.kernels[l] != o.topology.kernels[l])
      return fmt::format("level {} kernel {} against {}", l, triple_text(topology.kernels[l]),
                         triple_text(o.topology.kernels[l]));
  }
  return "";
}

std::string TrainingPlan::describe() const {
  const auto& p = preprocessing;
  auto reason = [&](const std::string& key) {
    auto it = reasons.find(key);
    return it == reasons.end() ? std::string() : "\n      " + it->second;
  };
  std::string normalisation =
      p.normalization == "ct-window"
          ? fmt::format("CT window [{}, {}] HU scaled to [-1, 1]", p.window_low, p.window_high)
      : p.normalization == "ct-foreground"
          ? fmt::format("CT clip to [{:.1f}, {:.1f}] HU, z-score with mean {:.1f}, std {:.1f}", p.clip_low,
                        p.clip_high, p.mean, p.std)
          : std::string("per-image z-score");
  std::string strides, kernels;
  for (size_t l = 0; l < topology.strides.size(); ++l) {
    strides += (l ? " " : "") + triple_text(topology.strides[l]);
    kernels += (l ? " " : "") + triple_text(topology.kernels[l]);
  }
  return fmt::format(
      "  spacing        {:.4g} x {:.4g} x {:.4g} mm (x, y, z){}\n"
      "  normalisation  {}{}\n"
      "  patch          {} voxels = {:.0f} x {:.0f} x {:.0f} mm{}\n"
      "  network        base {}, {} levels; strides {}; kernels {}{}\n"
      "  batch          {}{}\n"
      "  foreground     {:.2f} of each batch centred on a foreground voxel{}\n",
      p.spacing[0], p.spacing[1], p.spacing[2], reason("spacing"), normalisation, reason("normalization"),
      triple_text(patch), static_cast<double>(patch[0]) * p.spacing[0],
      static_cast<double>(patch[1]) * p.spacing[1], static_cast<double>(patch[2]) * p.spacing[2],
      reason("patch"), base, topology.levels(), strides, kernels, reason("network"), batch, reason("batch"),
      foreground_share, reason("foreground_share"));
}

}  // namespace pgl::plan
