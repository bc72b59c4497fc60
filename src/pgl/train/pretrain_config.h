#pragma once
// Every setting of a pretraining run. Written resolved (presets expanded) to RUN/config.json and into every
// checkpoint; `--resume` refuses a run whose settings changed (except the step budget and logging).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pgl/data/plan.h"

namespace pgl::train {

struct PretrainConfig {
  std::vector<std::string> data;  // data set folders (MSD, nnU-Net raw, plain folders); labels are ignored
  // Cases never used (e.g. an experiment's test cases): a case id (in every data set) or an image path.
  std::vector<std::string> exclude;
  std::string out;             // run folder
  std::string method = "pgl";  // pgl | byol | genesis
  std::string priors = "crop,flip";
  bool intensity_augmentation = true;  // noise, blur, brightness, contrast, gamma on each view (DESIGN §1.1)
  std::string preset = "small";        // width (base) and compute budget of the planned network
  int64_t base = 0;                    // 0: the preset's
  // Overrides of the plan (0 / empty: planned), as in fine-tuning.
  int64_t levels = 0, batch = 0;
  std::vector<int64_t> patch;
  std::string plan_file;  // a plan.json (or a run folder holding one) used as it is
  // A labelled data set whose plan (spacing, normalisation, patch, network) the pretraining adopts, so that
  // its weights fit the fine-tuning on that data set. Its images are not added to the pretraining data.
  std::string plan_from;
  int64_t steps = 1000;
  double time_budget = 0;     // minutes; > 0: steps chosen from the measured step rate (see FinetuneConfig)
  double lr = 0.02;           // peak learning rate (SGD, momentum)
  int64_t warmup_steps = -1;  // -1: 5% of the steps
  double momentum = 0.9;
  double weight_decay = 1e-5;
  double clip_grad = 0;    // max global gradient norm; 0 = off
  double tau_base = -1.0;  // ssl::kTauAuto: from the step count (ssl/ema.h)
  int64_t align_size = 16, align_samples = 2;
  double min_overlap = 0.1;
  std::string precision = "fp32";  // fp32 | bf16 (CPU or CUDA autocast) | fp16 (CUDA, with loss scaling)
  double loss_scale = 0;           // the gradient scaler's first scale; 0: 65536 with fp16, else off
  // Data parallelism (DESIGN.md §5): the number of ranks comes from the launcher (torchrun, SLURM) and is
  // part of the trajectory, since it multiplies the global batch.
  // Non-finite steps (train/nonfinite_guard.h): how many may be skipped (0: stop at the first); a step made
  // NaN on purpose (tests; -1: none). --change-on-resume lets --lr and --clip-grad change on --resume, and
  // records each change in resume_changes.
  int64_t skip_nonfinite = 0, debug_nan_at_step = -1;
  std::string profile;  // a Chrome trace of a few steps (--profile)
  bool change_on_resume = false;
  std::vector<std::string> resume_changes;
  std::string device = "cpu";  // cpu | cuda | cuda:N; may change on --resume (checkpoints are device-free)
  int world_size = 1;
  bool accept_world_size_change = false;  // --resume with another world size continues on a new trajectory
  double dist_timeout = 1800;             // seconds any collective or the rendezvous may wait
  int threads = 2;                        // intra-op threads of the training step
  int data_workers = 1;                   // threads preparing batches
  int prefetch = 4;                       // batches prepared ahead
  uint64_t seed = 0;
  int64_t checkpoint_every = 100;
  int64_t log_every = 10;
  std::string cache;    // preprocessing cache root ("" = default)
  int64_t stop_at = 0;  // stop (with a checkpoint) once this step is reached; 0 = run to the end. For
                        // time-boxed sessions: the run is resumed later with --resume.
  PlanOptions plan;

  // Preset fields filled in; throws pgl::Error on invalid values.
  PretrainConfig resolved() const;
  nlohmann::json to_json() const;
  static PretrainConfig from_json(const nlohmann::json& j, const std::string& source);
  // Hash of the fields that define the training trajectory (not steps/logging/threads).
  std::string trajectory_hash() const;
};

}  // namespace pgl::train
