#pragma once
// Between a TrainingPlan and the network: the backbone options it gives, the JSON that checkpoints carry to
// rebuild that network, and the planning request a preset makes.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pgl/nn/resunet.h"
#include "pgl/plan/planner.h"

namespace pgl::plan {

nn::ResUNet3DOptions backbone_options(const TrainingPlan& plan, int64_t in_channels = 1);
// {"base", "levels", "in_channels", "strides_xyz", "kernels_xyz"}
nlohmann::json backbone_json(const TrainingPlan& plan, int64_t in_channels = 1);
// From backbone_json; checkpoints written before planned networks (no strides) give the isotropic one.
nn::ResUNet3DOptions backbone_options_from_json(const nlohmann::json& backbone, const std::string& source);

// The planning request of a preset (its base and compute budget) with the run's overrides (0 / empty: the
// planned or preset value).
NetworkRequest network_request(const std::string& preset, int64_t base, int64_t levels,
                               const std::vector<int64_t>& patch, int64_t batch, double min_coverage);

}  // namespace pgl::plan
