#pragma once
// Settings of `pgl experiment`: the paper's comparison (random init vs pretrained methods, over label
// fractions and seeds) on one labelled data set.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pgl/data/plan.h"

namespace pgl::experiment {

struct ExperimentConfig {
  std::string data;                        // labelled data set
  std::vector<std::string> pretrain_data;  // extra unlabeled data for pretraining
  std::vector<std::string> methods{"random", "genesis", "byol", "pgl"};  // + pgl-crop, pgl-flip, pgl-none
  std::vector<double> label_fractions{0.1, 0.25, 1.0};
  int seeds = 3;
  std::string preset = "small";
  int64_t base = 0;  // channels of level 0; 0: the preset's
  int64_t pretrain_steps = 1000;
  int64_t finetune_steps = 2000;
  double pretrain_time_budget = 0;  // minutes per pretraining run; > 0 replaces pretrain_steps
  double finetune_time_budget = 0;  // minutes per fine-tuning run; > 0 replaces finetune_steps
  double pretrain_lr = 0.02;
  std::string optimizer = "adam";
  double finetune_lr = 0;              // 0: the optimiser's default
  int64_t warmup_steps = 0;            // fine-tuning warm-up (helps transferred layers)
  std::string transfer = "all";        // all | encoder: what fine-tuning takes from the pretrained backbone
  int64_t val_every = 0;               // 0: four validations per run
  int64_t finetune_until_plateau = 0;  // fine-tuning stops after this many rounds without a new best (0: off)
  int64_t val_max_cases = 4;
  std::string test_split;  // test cases = this split of dataset.json, else a seeded share:
  double test_fraction = 0.2;
  // A labelled data set used for testing only, never for pretraining, fine-tuning or validation: every cell
  // is also scored on it (results_test_data.csv), beside the internal test cases.
  std::string test_data;
  std::string out;
  int threads = 2;
  std::string cache;
  PlanOptions plan;  // overrides of the experiment's plan (OUT/plan.json, shared by every run)
  std::string precision = "fp32";
  std::string device = "cpu";  // cpu | cuda | cuda:N, for every run and prediction
  // Under torchrun or SLURM: the ranks share out the runs (each run single-process); this bounds their
  // rendezvous and the wait for the experiment's plan.
  double dist_timeout = 1800;
  bool tta = false;

  void validate() const;  // throws pgl::Error
  nlohmann::json to_json() const;
  // Missing fields take their defaults; throws pgl::Error naming `source` on a malformed one.
  static ExperimentConfig from_json(const nlohmann::json& j, const std::string& source);
};

// "pgl" -> ("pgl", "crop,flip"), "pgl-crop" -> ("pgl", "crop"), "byol" -> ("byol", ...), "random" -> ("",
// "").
std::pair<std::string, std::string> pretrain_method_and_priors(const std::string& method);

}  // namespace pgl::experiment
