#include "pgl/plan/backbone.h"

#include "pgl/core/error.h"
#include "pgl/nn/presets.h"

namespace pgl::plan {
namespace {
nn::Axes3 reversed(const Size3& v) { return {v[2], v[1], v[0]}; }
}  // namespace

nn::ResUNet3DOptions backbone_options(const TrainingPlan& plan, int64_t in_channels) {
  std::vector<nn::Axes3> strides, kernels;  // the network's axes are (D, H, W) = (z, y, x)
  for (const auto& s : plan.topology.strides) strides.push_back(reversed(s));
  for (const auto& k : plan.topology.kernels) kernels.push_back(reversed(k));
  return nn::ResUNet3DOptions(in_channels)
      .base(plan.base)
      .levels(plan.topology.levels())
      .strides(strides)
      .kernels(kernels);
}

nlohmann::json backbone_json(const TrainingPlan& plan, int64_t in_channels) {
  return {{"base", plan.base},
          {"levels", plan.topology.levels()},
          {"in_channels", in_channels},
          {"strides_xyz", plan.topology.strides},
          {"kernels_xyz", plan.topology.kernels}};
}

nn::ResUNet3DOptions backbone_options_from_json(const nlohmann::json& b, const std::string& source) {
  try {
    TrainingPlan plan;
    plan.base = b.at("base").get<int64_t>();
    const int64_t levels = b.at("levels").get<int64_t>();
    plan.topology = isotropic_topology(levels);
    if (b.contains("strides_xyz")) {
      plan.topology.strides = b.at("strides_xyz").get<std::vector<Size3>>();
      plan.topology.kernels = b.at("kernels_xyz").get<std::vector<Size3>>();
    }
    auto options = backbone_options(plan, b.at("in_channels").get<int64_t>());
    options.validate();
    return options;
  } catch (const nlohmann::json::exception& e) {
    throw Error(source, std::string("invalid backbone description: ") + e.what());
  } catch (const Error& e) {
    throw Error(source, e.what());
  }
}

NetworkRequest network_request(const std::string& preset_name, int64_t base, int64_t levels,
                               const std::vector<int64_t>& patch, int64_t batch, double min_coverage) {
  const nn::Preset& p = nn::preset(preset_name);
  NetworkRequest r;
  r.base = base > 0 ? base : p.base;
  r.budget_levels = p.levels;
  r.budget_patch = p.patch;
  r.budget_name = p.name;
  r.patch = patch;
  r.levels = levels;
  r.batch = batch > 0 ? batch : p.batch;
  r.min_coverage = min_coverage;
  return r;
}

}  // namespace pgl::plan
