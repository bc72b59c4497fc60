#pragma once
// Checkpoints: one file holding named tensors (networks), optimiser state, the default CPU generator state
// and JSON metadata (step, resolved config, preprocessing plan, ...). Stored with torch::pickle_save, so
// Python's torch.load reads it as a dict too. Written atomically: a kill leaves the previous file intact.
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

namespace pgl::train {

using NamedTensors = torch::OrderedDict<std::string, torch::Tensor>;

struct Checkpoint {
  nlohmann::json meta;  // at least "kind", "step"
  NamedTensors state;
  torch::Tensor rng_state;  // the default CPU generator's state when saved (undefined in old files)
};

// optimizer may be null (exports, best-model copies without optimiser state).
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint,
                     torch::optim::Optimizer* optimizer);

// Reads a checkpoint; restores the optimiser state into `optimizer` when given (it must have the same
// parameter groups). Never touches the global RNG: loading weights (fine-tuning from a pretraining run,
// prediction) must not change how the new layers are initialised. Throws pgl::Error naming the file on any
// problem.
Checkpoint load_checkpoint(const std::string& path, torch::optim::Optimizer* optimizer = nullptr);

// Resuming a run: the default CPU generator continues from where the checkpoint left it.
void restore_rng_state(const Checkpoint& checkpoint);

// The tensors whose names start with `prefix`, with the prefix removed ("online.backbone." -> the backbone).
NamedTensors tensors_under(const NamedTensors& state, const std::string& prefix);

// Writes a plain {name: tensor} dict that Python's torch.load returns as a dict of tensors.
void save_state_dict(const std::string& path, const NamedTensors& tensors);
NamedTensors load_state_dict(const std::string& path);

}  // namespace pgl::train
