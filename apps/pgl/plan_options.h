#pragma once
// The preprocessing options shared by every command that builds a plan (pretrain, finetune).
#include <CLI/CLI.hpp>
#include <string>

#include "pgl/data/plan.h"

namespace pgl::cli {

inline void add_plan_options(CLI::App* cmd, PlanOptions& plan) {
  cmd->add_option("--spacing", plan.spacing, "Target spacing x,y,z in mm (default: data set median)")
      ->delimiter(',')
      ->expected(3);
  cmd->add_option(
         "--ct-window",
         [&plan](const CLI::results_t& r) {
           if (r.size() != 2) return false;
           plan.window_low = std::stod(r[0]);
           plan.window_high = std::stod(r[1]);
           return plan.window_low < plan.window_high;
         },
         "CT window low,high in HU (default -1000,1000; fine-tuning from pretrained weights uses theirs)")
      ->delimiter(',')
      ->expected(2);
  cmd->add_option("--modality", plan.modality, "CT or MR (default: from dataset.json)");
}

}  // namespace pgl::cli
