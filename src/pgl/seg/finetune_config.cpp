#include "pgl/seg/finetune_config.h"

#include <fmt/format.h>

#include <cctype>

#include "pgl/core/error.h"
#include "pgl/core/hash.h"
#include "pgl/nn/presets.h"
#include "pgl/train/execution_settings.h"
#include "pgl/train/runtime.h"

namespace pgl::seg {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    FinetuneConfig, data, exclude, init, allow_partial, transfer, out, preset, base, levels, patch, batch,
    plan_file, folds, fold, test_split, time_budget, val_split, val_fraction, label_fraction, num_labeled,
    steps, val_every, until_plateau, val_max_cases, optimizer, lr, momentum, weight_decay, warmup_steps,
    poly_exponent, freeze_encoder_steps, mirror_axes, precision, loss_scale, threads, data_workers, prefetch,
    seed, checkpoint_every, log_every, stop_at, cache, plan, world_size, accept_world_size_change,
    dist_timeout, device, skip_nonfinite, debug_nan_at_step, change_on_resume, resume_changes, clip_grad,
    profile)

FinetuneConfig FinetuneConfig::resolved() const {
  FinetuneConfig c = *this;
  if (preset != "auto") {  // auto: base and batch come with the chosen preset (seg/preset_choice.h)
    const nn::Preset& p = nn::preset(preset);
    if (c.base <= 0) c.base = p.base;
    if (c.batch <= 0) c.batch = p.batch;
  }
  if (c.optimizer != "adam" && c.optimizer != "sgd")
    throw Error(fmt::format("unknown optimizer '{}' (expected adam or sgd)", c.optimizer));
  if (c.transfer != "all" && c.transfer != "encoder")
    throw Error(fmt::format("unknown --transfer '{}' (expected all or encoder)", c.transfer));
  if (c.mirror_axes != "auto") mirror_flags(c.mirror_axes);  // validates
  if (c.lr <= 0) c.lr = c.optimizer == "adam" ? 1e-3 : 1e-2;
  if (c.data.empty()) throw Error("no --data given");
  if (c.steps <= 0) throw Error("--steps must be positive");
  if (c.time_budget < 0) throw Error("--time-budget must be positive (minutes)");
  if (c.folds == 1 || c.folds < 0) throw Error("--folds must be at least 2");
  if (c.folds > 1 && !c.test_split.empty()) throw Error("give --folds or --test-split, not both");
  if (c.folds > 1 && (c.fold < 0 || c.fold >= c.folds))
    throw Error(fmt::format("--fold must be in [0, {})", c.folds));
  if (!(c.label_fraction > 0 && c.label_fraction <= 1)) throw Error("--label-fraction must be in (0, 1]");
  if (c.val_split.empty() && !(c.val_fraction >= 0 && c.val_fraction < 1))
    throw Error("--val-fraction must be in [0, 1)");
  train::check_precision_name(c.precision);
  if (c.loss_scale < 0) throw Error("--loss-scale must be 0 (off) or positive");
  if (c.val_every <= 0) c.val_every = c.steps;
  if (c.checkpoint_every <= 0) c.checkpoint_every = c.steps;
  if (c.log_every <= 0) c.log_every = 1;
  return c;
}

std::string resolve_mirror_axes(const std::string& axes, const std::map<int, std::string>& labels) {
  if (axes != "auto") return axes;
  for (const auto& [id, name] : labels) {
    std::string lower = name;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (id > 0 && (lower.find("left") != std::string::npos || lower.find("right") != std::string::npos))
      return "yz";
  }
  return "xyz";
}

std::array<bool, 3> mirror_flags(const std::string& axes) {
  std::array<bool, 3> flags{false, false, false};
  if (axes == "none") return flags;
  if (axes.empty()) throw Error("--mirror-axes is empty (expected auto, none or letters of xyz)");
  for (char a : axes) {
    if (a != 'x' && a != 'y' && a != 'z')
      throw Error(fmt::format("--mirror-axes '{}': expected auto, none or letters of xyz", axes));
    flags[static_cast<size_t>('z' - a)] = true;  // z -> D (0), y -> H (1), x -> W (2)
  }
  return flags;
}

nlohmann::json FinetuneConfig::to_json() const { return *this; }

FinetuneConfig FinetuneConfig::from_json(const nlohmann::json& j, const std::string& source) {
  try {
    if (j.contains("patch") && j.at("patch").is_number()) {  // configs from before planning: a cube edge
      nlohmann::json copy = j;
      copy["patch"] =
          j.at("patch").get<int64_t>() > 0 ? nlohmann::json::array({j.at("patch")}) : nlohmann::json::array();
      return copy.get<FinetuneConfig>();
    }
    return j.get<FinetuneConfig>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source, std::string("invalid fine-tuning config: ") + e.what());
  }
}

std::string FinetuneConfig::trajectory_hash() const {
  nlohmann::json j = to_json();
  for (const char* key : train::kExecutionSettings) j.erase(key);
  for (const char* key : train::kRunBookkeeping) j.erase(key);
  j.erase("val_max_cases");
  // Hashes of single-process runs and of runs without clipping stay those from before these settings.
  if (world_size == 1) j.erase("world_size");
  if (clip_grad == 0) j.erase("clip_grad");
  if (loss_scale == 0) j.erase("loss_scale");
  if (time_budget > 0) j.erase("steps");  // chosen by the run from its budget, as are the validation rounds
  if (time_budget > 0) j.erase("val_every");
  return fnv1a_hex(j.dump());
}

}  // namespace pgl::seg
