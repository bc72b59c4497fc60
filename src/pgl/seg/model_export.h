#pragma once
// A fine-tuned model packed into one file (`pgl export FINETUNE_RUN --out model.pt`): the weights with
// everything prediction needs (preprocessing plan, label names, patch, mirror axes, post-processing, config)
// and where it came from (data set, cases, steps, validation Dice, pgl version, a hash of the weights).
// `pgl predict --model model.pt` runs it; it holds no optimiser state.
#include <string>

namespace pgl::seg {

// Packs checkpoint `which` (best, else final) of the fine-tuning run `run_folder` into `out_path`
// (written atomically). Returns the weights' hash. Throws pgl::Error naming the run or file.
std::string export_model(const std::string& run_folder, const std::string& out_path);

}  // namespace pgl::seg
