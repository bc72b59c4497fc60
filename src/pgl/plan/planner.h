#pragma once
// Self-configuration (nnU-Net's rules, ../shared/nnunet-planning.md, in our own code): from a data set's
// fingerprint to a TrainingPlan. Every planned field can be overridden; the plan records why each value
// was chosen.
#include <cstdint>
#include <string>
#include <vector>

#include "pgl/data/plan.h"
#include "pgl/plan/fingerprint.h"
#include "pgl/plan/training_plan.h"

namespace pgl::plan {

struct NetworkRequest {
  int64_t base = 8;
  // The compute budget: the forward cost of the isotropic network of `budget_levels` levels on a cubic
  // patch of `budget_patch` voxels (a preset's network), at the same base.
  int64_t budget_levels = 4, budget_patch = 48;
  std::string budget_name = "small";  // for the reasons
  std::vector<int64_t> patch;         // override: one value (cubic) or x,y,z; empty: planned
  int64_t levels = 0;                 // override: isotropic network of this many levels; 0: planned
  int64_t batch = 2;
  // nnU-Net's low-resolution rule: the spacing is coarsened until the patch covers at least this share of
  // the median body region (a CPU budget cannot afford a full-resolution patch that sees enough context).
  double min_coverage = 0.25;
};

// Target spacing by nnU-Net's rule: the per-axis median, except that a much coarser axis (more than 3x the
// others, with under a third of their voxels) takes its 10th percentile. reason receives the explanation.
Vec3 planned_spacing(const DatasetFingerprint& fingerprint, std::string* reason);

// Forward multiply-accumulates of the backbone for one sample (nn::resunet_forward_macs).
int64_t network_macs(int64_t base, const Topology& topology, const Size3& patch);

TrainingPlan make_training_plan(const DatasetFingerprint& fingerprint, const PlanOptions& preprocessing,
                                const NetworkRequest& network);

// The plan of a run. With plan_file (a plan.json, or a run folder holding one) that plan, unchanged: any
// override given as well is refused. Otherwise `cases` of `datasets` are fingerprinted (labels used when
// use_labels; cached under cache_root) and planned.
TrainingPlan plan_run(const std::string& plan_file, const std::vector<Dataset>& datasets,
                      const std::vector<Case>& cases, bool use_labels, const PlanOptions& preprocessing,
                      const NetworkRequest& network, const std::string& cache_root, int threads);

}  // namespace pgl::plan
