#pragma once
// The ranks of a training run (DESIGN.md §5). A single process is a group of one, for which every operation
// is the identity; a torchrun or SLURM job gets c10d's process group from make_rank_group (distributed.h).
// The training loops call these at fixed points, so one code path serves both.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "pgl/data/cache.h"

namespace pgl::train {

class RankGroup {
 public:
  virtual ~RankGroup() = default;
  virtual int rank() const { return 0; }
  virtual int world_size() const { return 1; }
  // Only rank 0 writes run files, checkpoints and progress.
  bool writes() const { return rank() == 0; }

  // Averages the gradients of `parameters` over the ranks: the one place where gradients are complete,
  // before clipping and the optimiser step. Parameters without a gradient count as zero.
  virtual void average_gradients(const std::vector<torch::Tensor>& /*parameters*/) {}
  // Copies rank 0's values into `tensors` on every rank (initial weights and buffers).
  virtual void broadcast(const std::vector<torch::Tensor>& /*tensors*/) {}
  // The mean of `value` over the ranks (a logged loss).
  virtual double mean(double value) { return value; }
  // Element-wise sums over the ranks, in place (validation Dice tallies of each rank's share of cases).
  virtual void sum(std::vector<double>& /*values*/) {}
  // Rank 0's value on every rank (a step count chosen from rank 0's timing, a plan).
  virtual int64_t from_rank0(int64_t value) { return value; }
  virtual std::string from_rank0(const std::string& text) { return text; }
  // Waits until every rank has reached this point.
  virtual void barrier() {}
  // Throws if the ranks hold different values in `tensors` (weights that should be identical everywhere).
  virtual void check_identical(const std::vector<torch::Tensor>& /*tensors*/, const std::string& /*what*/) {}
};

// build_cache for the ranks of a group: each preprocesses a share of the cases, and after a barrier every
// rank reads all entries. Two ranks of one run never write the same entry (separate runs may, as the ranks
// of a spread experiment do: entries are written by atomic rename, so either copy is whole).
std::vector<CachedCase> build_cache_by_ranks(RankGroup& group, const std::vector<Case>& cases,
                                             const PreprocessingPlan& plan, const std::string& cache_root,
                                             bool with_labels, int threads);

}  // namespace pgl::train
