#include "pgl/train/pretrain_config.h"

#include <fmt/format.h>

#include "pgl/core/error.h"
#include "pgl/core/hash.h"
#include "pgl/nn/presets.h"
#include "pgl/ssl/aligner.h"
#include "pgl/train/execution_settings.h"
#include "pgl/train/runtime.h"

namespace pgl::train {

PretrainConfig PretrainConfig::resolved() const {
  PretrainConfig c = *this;
  const nn::Preset& p = nn::preset(preset);
  if (c.base <= 0) c.base = p.base;
  if (c.batch <= 0) c.batch = p.batch;
  if (c.time_budget < 0) throw Error("--time-budget must be positive (minutes)");
  if (!c.plan_file.empty() && !c.plan_from.empty()) throw Error("give --plan or --plan-from, not both");
  if (c.method != "pgl" && c.method != "byol" && c.method != "genesis")
    throw Error(fmt::format("unknown method '{}' (expected pgl, byol or genesis)", c.method));
  ssl::parse_priors(c.priors);  // validates
  if (c.steps <= 0) throw Error("--steps must be positive");
  train::check_precision_name(c.precision);
  if (c.loss_scale < 0) throw Error("--loss-scale must be 0 (off) or positive");
  if (!(c.lr > 0)) throw Error("--lr must be positive");
  if (c.data.empty()) throw Error("no --data given");
  if (c.checkpoint_every <= 0) c.checkpoint_every = c.steps;
  if (c.log_every <= 0) c.log_every = 1;
  return c;
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    PretrainConfig, data, exclude, out, method, priors, intensity_augmentation, preset, base, levels, patch,
    batch, plan_file, plan_from, steps, time_budget, lr, warmup_steps, momentum, weight_decay, clip_grad,
    tau_base, align_size, align_samples, min_overlap, precision, loss_scale, threads, data_workers, prefetch,
    seed, checkpoint_every, log_every, cache, stop_at, plan, world_size, accept_world_size_change,
    dist_timeout, device, skip_nonfinite, debug_nan_at_step, change_on_resume, resume_changes, profile)

nlohmann::json PretrainConfig::to_json() const { return *this; }

PretrainConfig PretrainConfig::from_json(const nlohmann::json& j, const std::string& source) {
  try {
    if (j.contains("patch") && j.at("patch").is_number()) {  // configs from before planning: a cube edge
      nlohmann::json copy = j;
      copy["patch"] =
          j.at("patch").get<int64_t>() > 0 ? nlohmann::json::array({j.at("patch")}) : nlohmann::json::array();
      return copy.get<PretrainConfig>();
    }
    return j.get<PretrainConfig>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source, std::string("invalid pretraining config: ") + e.what());
  }
}

std::string PretrainConfig::trajectory_hash() const {
  nlohmann::json j = to_json();
  for (const char* key : kExecutionSettings) j.erase(key);
  for (const char* key : kRunBookkeeping) j.erase(key);
  j.erase("steps");
  if (world_size == 1) j.erase("world_size");  // single-process hashes stay those of before data parallelism
  if (loss_scale == 0) j.erase("loss_scale");  // and those of before loss scaling
  return fnv1a_hex(j.dump());
}

}  // namespace pgl::train
