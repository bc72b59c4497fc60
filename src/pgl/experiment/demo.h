#pragma once
// `pgl demo`: the whole method on built-in data in one command: phantom CT data sets, a reduced experiment
// (random vs BYOL vs PGL, one label fraction, one seed), the summary table and the HTML report.
#include <cstdint>
#include <string>
#include <vector>

#include "pgl/data/plan.h"

namespace pgl::experiment {

struct DemoOptions {
  std::string out = "demo-out";
  std::string task = "spleen";
  int labeled_cases = 16;    // labelled phantom cases (a share is held out as test cases)
  int unlabeled_cases = 16;  // extra unlabeled phantoms for pretraining
  std::string preset = "tiny";
  // Channels of level 0; 0: 8 with the tiny preset (with its own 4, fine-tuning from PGL can stick at
  // background, docs/RESULTS.md §2), else the preset's.
  int64_t base = 0;
  std::vector<std::string> methods{"random", "byol", "pgl"};
  std::vector<double> label_fractions{0.5};
  int seeds = 1;
  // Minutes per pretraining run and per fine-tuning cell (the step count follows from the measured step
  // time), so that the demo ends in about 10 minutes on any machine; 0: the step counts below.
  double pretrain_minutes = 2.0, finetune_minutes = 1.5;
  int64_t pretrain_steps = 400;
  int64_t finetune_steps = 800;
  // Planned from the data (spacing, CT normalisation from the labelled foreground, patch, network).
  PlanOptions plan;
  int threads = 2;
  std::string device = "cpu";
};

void run_demo(const DemoOptions& options);

}  // namespace pgl::experiment
