#pragma once
// `pgl experiment`: pretrains each method once per seed on the unlabeled development images, fine-tunes every
// (method, label fraction, seed) cell, predicts and evaluates the test cases, and summarises. Test cases
// never enter pretraining or fine-tuning. Resumable: finished runs are skipped, interrupted ones resume from
// their checkpoints, existing predictions are kept.
#include <string>

#include "pgl/experiment/experiment_config.h"

namespace pgl::experiment {

// Folder names inside EXP/ are those of pgl/report/experiment.h (the reader of what this writes).
void run_experiment(const ExperimentConfig& config);

}  // namespace pgl::experiment
