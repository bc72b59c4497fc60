#pragma once
// `pgl finetune`: supervised fine-tuning of the segmentation network from random or pretrained weights.
#include <map>
#include <string>

#include "pgl/seg/finetune_config.h"
#include "pgl/train/distributed.h"

namespace pgl::seg {

struct FinetuneResult {
  int64_t steps_done = 0;
  double best_mean_dice = -1;       // over validations (-1 when none ran)
  std::map<int, double> last_dice;  // class -> Dice of the last validation
  double seconds = 0;
};

FinetuneResult run_finetuning(const FinetuneConfig& config, bool resume,
                              train::Ranks ranks = train::Ranks::FromLauncher);

}  // namespace pgl::seg
