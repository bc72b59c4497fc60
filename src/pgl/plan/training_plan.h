#pragma once
// Everything a training run takes from planning (RUN/plan.json): preprocessing (spacing, normalisation),
// the patch, the network's levels, batch and foreground oversampling, each with the reason it was chosen.
// Its JSON is a superset of PreprocessingPlan's, so older readers of plan.json still find their fields.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "pgl/data/plan.h"
#include "pgl/plan/topology.h"

namespace pgl::plan {

struct TrainingPlan {
  PreprocessingPlan preprocessing;
  Size3 patch{48, 48, 48};  // voxels along the canonical x, y, z
  int64_t base = 8;         // channels of level 0
  Topology topology = isotropic_topology(4);
  int64_t batch = 2;
  double foreground_share = 1.0 / 3.0;         // share of each batch centred on foreground
  std::map<std::string, std::string> reasons;  // field -> why (printed by `pgl plan`)

  nlohmann::json to_json() const;
  // Plans written before the network was planned (plan.json holding the preprocessing only) are refused
  // here; callers that only need the preprocessing read PreprocessingPlan::from_json.
  static TrainingPlan from_json(const nlohmann::json& j, const std::string& source);
  // "" when base and topology agree; otherwise a sentence naming the first difference.
  std::string network_difference(const TrainingPlan& other) const;
  // A human-readable description, one line per field with its reason.
  std::string describe() const;
};

// "x,y,z"-style text of a triple.
std::string triple_text(const Size3& v, const char* separator = "x");

}  // namespace pgl::plan
