#include "pgl/train/device.h"

#include <ATen/Context.h>
#include <torch/cuda.h>

#include <cstdlib>

#include "pgl/core/error.h"
#include "pgl/train/distributed.h"

namespace pgl::train {

namespace {
// A run on CUDA repeats itself, and resumes exactly, only with deterministic kernels: cuDNN's deterministic
// convolution algorithms, cuBLAS with a fixed workspace (set before its first use), and LibTorch's
// deterministic implementations where it has them (a warning names any op without one).
void make_cuda_deterministic() {
  ::setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", 0);
  auto& context = at::globalContext();
  context.setBenchmarkCuDNN(false);
  context.setDeterministicCuDNN(true);
  context.setDeterministicAlgorithms(true, /*warn_only=*/true);
}
}  // namespace

c10::Device resolve_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name != "cuda" && name.rfind("cuda:", 0) != 0)
    throw Error("unknown --device '" + name + "' (expected cpu, cuda or cuda:N)");
  make_cuda_deterministic();
  if (!torch::cuda::is_available())
    throw Error(
        "--device " + name +
        ": this pgl runs on a LibTorch without CUDA, or no CUDA device is visible. Build pgl against a "
        "CUDA LibTorch (cmake -DTorch_DIR=..., see docs/scaling.md) or use --device cpu.");
  const auto count = static_cast<int>(torch::cuda::device_count());
  int index = 0;
  if (name == "cuda") {
    // In a data-parallel job: one GPU per process on each node, the torchrun/SLURM convention.
    index = launch_environment().local_rank % count;
  } else {
    const std::string digits = name.substr(5);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 3)
      throw Error("unknown --device '" + name + "' (expected cpu, cuda or cuda:N)");
    index = std::stoi(digits);
  }
  if (index >= count)
    throw Error("--device " + name + ": there are " + std::to_string(count) + " CUDA device(s) (0 to " +
                std::to_string(count - 1) + ")");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace pgl::train
