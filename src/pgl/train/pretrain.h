#pragma once
// `pgl pretrain`: self-supervised pretraining of the ResUNet3D backbone (PGL, BYOL or Models Genesis),
// and `pgl export`: the pretrained backbone as a PyTorch-loadable state dict.
#include <string>

#include "pgl/train/distributed.h"
#include "pgl/train/pretrain_config.h"

namespace pgl::train {

struct PretrainResult {
  int64_t steps_done = 0;
  double final_loss = 0;  // mean over the last logging window
  double seconds = 0;
};

// Runs (or resumes, from checkpoints/latest.pt) a pretraining run. Throws pgl::Error on bad input.
PretrainResult run_pretraining(const PretrainConfig& config, bool resume, Ranks ranks = Ranks::FromLauncher);

// Writes the online backbone of a pretraining run (final, else latest checkpoint) as weights.pt
// ({name: tensor}, names as in docs/architecture.md) plus weights.json next to it.
void export_backbone(const std::string& run_folder, const std::string& out_path);

}  // namespace pgl::train
