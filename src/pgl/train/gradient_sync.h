#pragma once
// The one place where gradients are complete before the optimiser step. A single process does nothing here;
// data-parallel training (DESIGN.md §5) all-reduces and averages them across ranks at this point.
#include <torch/torch.h>

#include <vector>

namespace pgl::train {

class GradientSync {
 public:
  virtual ~GradientSync() = default;
  virtual void synchronize(const std::vector<torch::Tensor>& parameters) {}
  virtual int rank() const { return 0; }
  virtual int world_size() const { return 1; }
};

}  // namespace pgl::train
