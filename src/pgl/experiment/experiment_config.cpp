#include "pgl/experiment/experiment_config.h"

#include <fmt/format.h>

#include "pgl/core/error.h"

namespace pgl::experiment {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ExperimentConfig, data, pretrain_data, methods,
                                                label_fractions, seeds, preset, base, pretrain_steps,
                                                finetune_steps, pretrain_time_budget, finetune_time_budget,
                                                pretrain_lr, optimizer, finetune_lr, warmup_steps, transfer,
                                                val_every, finetune_until_plateau, val_max_cases, test_split,
                                                test_fraction, out, threads, cache, plan, precision, tta,
                                                device, dist_timeout, test_data)

nlohmann::json ExperimentConfig::to_json() const { return *this; }

ExperimentConfig ExperimentConfig::from_json(const nlohmann::json& j, const std::string& source) {
  try {
    return j.get<ExperimentConfig>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source, std::string("invalid experiment settings: ") + e.what());
  }
}

std::pair<std::string, std::string> pretrain_method_and_priors(const std::string& method) {
  if (method == "random") return {"", ""};
  if (method == "pgl") return {"pgl", "crop,flip"};
  if (method == "pgl-crop") return {"pgl", "crop"};
  if (method == "pgl-flip") return {"pgl", "flip"};
  if (method == "pgl-none") return {"pgl", "none"};
  if (method == "byol" || method == "genesis") return {method, "crop,flip"};
  throw Error(fmt::format(
      "unknown method '{}' (expected random, genesis, byol, pgl, pgl-crop, pgl-flip, pgl-none)", method));
}

void ExperimentConfig::validate() const {
  if (data.empty()) throw Error("no --data given");
  if (out.empty()) throw Error("no --out given");
  if (methods.empty()) throw Error("--methods is empty");
  for (const auto& m : methods) pretrain_method_and_priors(m);
  for (double f : label_fractions)
    if (!(f > 0 && f <= 1)) throw Error(fmt::format("label fraction {} is not in (0, 1]", f));
  if (seeds < 1) throw Error("--seeds must be at least 1");
  if (base < 0) throw Error("--base must be 0 (the preset's) or more");
  if (test_split.empty() && !(test_fraction > 0 && test_fraction < 1))
    throw Error("--test-fraction must be in (0, 1)");
}

}  // namespace pgl::experiment
