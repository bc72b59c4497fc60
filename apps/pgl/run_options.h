#pragma once
// Options shared by the commands that train or predict: the device, and data-parallel training (`pretrain`,
// `finetune`; the ranks themselves come from the launcher's environment, torchrun or SLURM, not from
// options).
#include <CLI/CLI.hpp>
#include <string>

namespace pgl::cli {

inline void add_device_option(CLI::App* cmd, std::string* device) {
  cmd->add_option("--device", *device, "cpu | cuda | cuda:N (CUDA needs pgl built against a CUDA LibTorch)")
      ->capture_default_str();
}

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
