#pragma once
// Options of data-parallel training, shared by `pretrain` and `finetune`. The ranks themselves come from the
// launcher's environment (torchrun, SLURM), not from options.
#include <CLI/CLI.hpp>

namespace pgl::cli {

template <class Config>
void add_distributed_options(CLI::App* cmd, Config* c) {
  cmd->add_option("--dist-timeout", c->dist_timeout,
                  "Data-parallel jobs: seconds the rendezvous or a collective may wait for the other ranks")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--accept-world-size-change", c->accept_world_size_change,
                "With --resume: continue with another number of processes (the global batch, and so the "
                "trajectory, changes)");
}

}  // namespace pgl::cli
