#pragma once
// --device cpu | cuda | cuda:N (DESIGN.md §5): where a run's networks, batches and sliding windows compute.
// Data preparation and checkpoints stay on the CPU, so checkpoints load on any device; sliding windows are
// blended where seg/sliding_window.h's blending_device says.
#include <c10/core/Device.h>

#include <string>

namespace pgl::train {

// Plain "cuda" is GPU LOCAL_RANK (modulo the GPUs there) in a data-parallel job, else GPU 0.
// For CUDA it also makes the process deterministic (cuDNN, cuBLAS, LibTorch's deterministic algorithms), so
// every command calls it before any other work: the cuBLAS setting must precede cuBLAS's first use.
// Throws pgl::Error for an unknown name, for an inconsistent launch environment (plain "cuda"), and for
// CUDA where this LibTorch has none or the device is not there.
c10::Device resolve_device(const std::string& name);

}  // namespace pgl::train
