#include "pgl/train/device.h"

#include <torch/cuda.h>

#include "pgl/core/error.h"

namespace pgl::train {

c10::Device resolve_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name != "cuda" && name.rfind("cuda:", 0) != 0)
    throw Error("unknown --device '" + name + "' (expected cpu, cuda or cuda:N)");
  if (!torch::cuda::is_available())
    throw Error(
        "--device " + name +
        ": this pgl runs on a LibTorch without CUDA, or no CUDA device is visible. Build pgl against a "
        "CUDA LibTorch (cmake -DTorch_DIR=..., see docs/scaling.md) or use --device cpu.");
  int index = 0;
  if (name.size() > 5) {
    const std::string digits = name.substr(5);
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 3)
      throw Error("unknown --device '" + name + "' (expected cpu, cuda or cuda:N)");
    index = std::stoi(digits);
  }
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (index >= count)
    throw Error("--device " + name + ": there are " + std::to_string(count) + " CUDA device(s) (0 to " +
                std::to_string(count - 1) + ")");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace pgl::train
