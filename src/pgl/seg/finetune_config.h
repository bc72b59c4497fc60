#pragma once
// Every setting of a fine-tuning run (written resolved to RUN/config.json and into every checkpoint).
#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pgl/data/plan.h"

namespace pgl::seg {

struct FinetuneConfig {
  std::string data;                  // labelled data set (MSD or nnU-Net raw)
  std::vector<std::string> exclude;  // case ids never used (e.g. an experiment's test cases)
  std::string init = "random";       // "random" | pretraining run folder | exported weights.pt
  bool allow_partial = false;        // load what fits when the weights do not match the network
  std::string transfer = "all";      // all | encoder (stem + down path only; the decoder starts fresh)
  std::string out;
  // Width (base) and compute budget of the planned network; "auto": under a time budget the widest preset
  // that gets enough steps on this machine (seg/preset_choice.h), else small.
  std::string preset = "auto";
  int64_t base = 0;  // 0: the preset's
  // Overrides of the plan (0 / empty: planned): an isotropic network of `levels` levels; a patch of one
  // value (cube) or x,y,z voxels; the batch size.
  int64_t levels = 0, batch = 0;
  std::vector<int64_t> patch;
  std::string plan_file;  // a plan.json (or a run folder holding one) used as it is
  // Cases: validation = --val-split NAME, else a seeded --val-fraction of the cases; training = the data
  // set's "train" split when --val-split is used and it exists, else the remaining cases. Then a seeded
  // subset of the training cases keeps its labels (--label-fraction or --num-labeled).
  std::string val_split;
  double val_fraction = 0.2;
  double label_fraction = 1.0;
  int64_t num_labeled = 0;  // > 0 overrides label_fraction
  // Cross-validation: with folds > 1, the cases of fold `fold` (seeded split) are held out of training and
  // validation entirely (cases.json lists them as "held_out").
  int folds = 0, fold = 0;
  // Or the cases of this split of dataset.json are held out (e.g. "validation" as the test set).
  std::string test_split;
  int64_t steps = 2000;
  // Minutes for the whole run: the step count is chosen from the step rate measured over the first steps
  // (with validation time) so that it ends on time with a complete schedule; 0 = use `steps`.
  double time_budget = 0;
  int64_t val_every = 250;
  // Stop once this many validation rounds in a row brought no new best (0: run all steps); --steps or the
  // time budget is then the cap. The best checkpoint is what prediction uses either way.
  int64_t until_plateau = 0;
  int64_t val_max_cases = 0;       // 0 = every validation case
  std::string optimizer = "adam";  // adam | sgd (Nesterov)
  double lr = 0;                   // 0: 1e-3 for adam, 1e-2 for sgd
  double momentum = 0.99;
  double weight_decay = 3e-5;
  int64_t warmup_steps = 0;
  double poly_exponent = 0.9;
  int64_t freeze_encoder_steps = 0;  // encoder (stem + down path) frozen for the first M steps
  // Axes flipped by the training augmentation and by mirror TTA: any of "xyz" (canonical LPS axes), "none",
  // or "auto": xyz, but not x when a label name says left or right (a flipped left kidney is a right one).
  std::string mirror_axes = "auto";
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
  double clip_grad = 0;        // max global gradient norm; 0 = off
  std::string device = "cpu";  // cpu | cuda | cuda:N; may change on --resume (checkpoints are device-free)
  int world_size = 1;
  bool accept_world_size_change = false;  // --resume with another world size continues on a new trajectory
  double dist_timeout = 1800;             // seconds any collective or the rendezvous may wait
  int threads = 2;
  int data_workers = 1;
  int prefetch = 4;
  uint64_t seed = 0;
  int64_t checkpoint_every = 250;
  int64_t log_every = 10;
  int64_t stop_at = 0;
  std::string cache;
  PlanOptions plan;

  FinetuneConfig resolved() const;
  nlohmann::json to_json() const;
  static FinetuneConfig from_json(const nlohmann::json& j, const std::string& source);
  std::string trajectory_hash() const;
};

// "auto" resolved against the data set's label names (see FinetuneConfig::mirror_axes); others unchanged.
std::string resolve_mirror_axes(const std::string& axes, const std::map<int, std::string>& labels);
// "xyz"-style axes as flags over the tensor dimensions (D, H, W) = (z, y, x).
std::array<bool, 3> mirror_flags(const std::string& axes);

}  // namespace pgl::seg
