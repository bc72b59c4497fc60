#pragma once
// Options shared by the commands that train or predict: the device, and data-parallel training (`pretrain`,
// `finetune`; the ranks themselves come from the launcher's environment, torchrun or SLURM, not from
// options).
#include <CLI/CLI.hpp>
#include <string>

namespace pgl::cli {

inline void add_device_option(CLI::App* cmd, std::string* device) {
  cmd->add_option("--device", *device, "cpu | cuda | cuda:N (CUDA needs pgl built against a CUDA LibTorch)")
      ->envname("PGL_DEVICE")
      ->capture_default_str();
}

inline constexpr const char* kPrecisionHelp =
    "fp32 | bf16 (autocast on the CPU or CUDA) | fp16 (CUDA only; the loss is scaled)";

// --precision and the gradient scaler's --loss-scale (pretrain, finetune).
template <class Config>
void add_precision_options(CLI::App* cmd, Config* c) {
  cmd->add_option("--precision", c->precision, kPrecisionHelp)->capture_default_str();
  cmd->add_option("--loss-scale", c->loss_scale,
                  "First loss scale of the gradient scaler (rounded to a power of two; halved on overflow, "
                  "doubled after 2000 good steps); 0: 65536 with fp16, off otherwise")
      ->check(CLI::NonNegativeNumber)
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

// What a run does with a step whose loss or gradients are not finite, and resuming with a lower learning
// rate.
template <class Config>
void add_nonfinite_options(CLI::App* cmd, Config* c) {
  cmd->add_option("--skip-nonfinite", c->skip_nonfinite,
                  "Skip up to N steps whose loss or gradients are NaN/Inf (counted in metrics) instead of "
                  "stopping at the first")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--change-on-resume", c->change_on_resume,
                "With --resume: accept a new --lr or --clip-grad (recorded in config.json)");
  cmd->add_option("--debug-nan-at-step", c->debug_nan_at_step, "Tests: make the loss of this step NaN")
      ->group("");  // hidden
}

// Where a step's time goes: the LibTorch ops of a few steps as a Chrome trace.
template <class Config>
void add_profile_option(CLI::App* cmd, Config* c) {
  cmd->add_option("--profile", c->profile,
                  "Write a Chrome trace (chrome://tracing, Perfetto) of the LibTorch ops of 3 steps, after 3 "
                  "warm-up steps, to this file; per-op totals: bench/profile_summary.py FILE");
}

}  // namespace pgl::cli
