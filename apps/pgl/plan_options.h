#pragma once
// The preprocessing options shared by every command that builds a plan (pretrain, finetune).
#include <CLI/CLI.hpp>
#include <string>

#include "pgl/data/plan.h"

namespace pgl::cli {

inline void add_plan_options(CLI::App* cmd, PlanOptions& plan) {
  cmd->add_option("--spacing", plan.spacing, "Target spacing x,y,z in mm (default: planned)")
      ->delimiter(',')
      ->expected(3);
  cmd->add_option(
         "--ct-window",
         [&plan](const CLI::results_t& r) {
           if (r.size() != 2) return false;
           plan.window_low = std::stod(r[0]);
           plan.window_high = std::stod(r[1]);
           plan.normalization = "ct-window";
           return plan.window_low < plan.window_high;
         },
         "CT: clip to this window low,high in HU and scale to [-1, 1] instead of the planned foreground "
         "normalisation (fine-tuning from pretrained weights uses theirs)")
      ->delimiter(',')
      ->expected(2);
  cmd->add_option("--normalization", plan.normalization,
                  "auto | ct-foreground | ct-window | zscore (auto: CT from the labelled foreground's "
                  "statistics, else the window; MR per-image z-score)")
      ->capture_default_str();
  cmd->add_option("--modality", plan.modality, "CT or MR (default: from dataset.json)");
  cmd->add_option("--min-coverage", plan.min_coverage,
                  "Coarsen the planned spacing until the patch covers this share of the median image")
      ->capture_default_str();
}

// The network and patch overrides of the plan, shared by plan, pretrain and finetune.
template <class Config>
void add_network_options(CLI::App* cmd, Config& c) {
  cmd->add_option(
         "--preset", c.preset,
         c.preset == "auto"
             ? "auto | tiny | small | base | paper: width and compute budget (auto: with --time-budget, "
               "the widest network that gets 2500 steps from the budget on this machine, else small)"
             : "tiny | small | base | paper: width and compute budget")
      ->capture_default_str();
  cmd->add_option("--base", c.base, "Channels of level 0 (default: preset)");
  cmd->add_option("--levels", c.levels, "An isotropic network of this many levels (default: planned)");
  cmd->add_option("--patch", c.patch, "Patch in voxels: one value (cube) or x,y,z (default: planned)")
      ->delimiter(',')
      ->expected(1, 3);
  cmd->add_option("--batch", c.batch, "Batch size (default: preset)");
}

// The plan file and the time budget of a training run (pretrain, finetune).
template <class Config>
void add_run_plan_options(CLI::App* cmd, Config& c) {
  add_network_options(cmd, c);
  cmd->add_option("--plan", c.plan_file, "Use this plan.json (or a run folder's) as it is");
  cmd->add_option("--time-budget", c.time_budget,
                  "Minutes for the whole run: the step count follows from the measured step time");
}

}  // namespace pgl::cli
