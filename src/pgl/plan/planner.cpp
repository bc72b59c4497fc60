#include "pgl/plan/planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "pgl/core/error.h"
#include "pgl/core/json_file.h"
#include "pgl/nn/model_stats.h"

namespace pgl::plan {
namespace {

double voxels(const Vec3& v) { return v[0] * v[1] * v[2]; }
double voxels(const Size3& v) { return static_cast<double>(v[0] * v[1] * v[2]); }

nn::Axes3 to_dhw(const Size3& xyz) { return {xyz[2], xyz[1], xyz[0]}; }

// The largest patch (shape proportional to 1/spacing, clipped to the median image) whose forward cost fits
// the budget, with the topology planned for it. nnU-Net's shrink loop: the axis largest relative to the
// median image loses one stride multiple at a time.
std::pair<Size3, Topology> fit_patch(const Vec3& spacing, const Vec3& median, int64_t base, int64_t budget) {
  Size3 patch{};
  const double scale = std::cbrt(256.0 * 256 * 256 * spacing[0] * spacing[1] * spacing[2]);
  for (size_t a = 0; a < 3; ++a)
    patch[a] = std::max<int64_t>(1, std::min<int64_t>(std::llround(scale / spacing[a]),
                                                      std::max<int64_t>(1, std::llround(median[a]))));
  Topology topology = plan_topology(spacing, patch);
  patch = pad_to_multiple(patch, topology);
  for (int guard = 0; guard < 10000 && network_macs(base, topology, patch) > budget; ++guard) {
    size_t axis = 0;
    double worst = -1;
    for (size_t a = 0; a < 3; ++a) {
      double ratio = static_cast<double>(patch[a]) / std::max(1.0, median[a]);
      if (patch[a] > 4 && ratio > worst) worst = ratio, axis = a;
    }
    if (worst < 0) break;  // nothing left to shrink
    // Subtract the divisor the axis would have after shrinking, so that sizes between multiples are
    // reachable (nnU-Net's trick).
    Size3 smaller = patch;
    smaller[axis] -= topology.size_multiple()[axis];
    const int64_t step = plan_topology(spacing, smaller).size_multiple()[axis];
    patch[axis] = std::max<int64_t>(1, patch[axis] - step);
    topology = plan_topology(spacing, patch);
    patch = pad_to_multiple(patch, topology);
  }
  return {patch, topology};
}

}  // namespace

int64_t network_macs(int64_t base, const Topology& topology, const Size3& patch) {
  std::vector<nn::Axes3> strides, kernels;
  for (const auto& s : topology.strides) strides.push_back(to_dhw(s));
  for (const auto& k : topology.kernels) kernels.push_back(to_dhw(k));
  auto options =
      nn::ResUNet3DOptions(1).base(base).levels(topology.levels()).strides(strides).kernels(kernels);
  return nn::resunet_forward_macs(options, to_dhw(patch));
}

Vec3 planned_spacing(const DatasetFingerprint& f, std::string* reason) {
  Vec3 target = f.median_spacing();
  *reason = fmt::format("median spacing of {} cases", f.cases.size());
  const auto coarse = static_cast<size_t>(std::max_element(target.begin(), target.end()) - target.begin());
  double other_spacing = 0, other_size = 1e300;
  std::vector<std::vector<double>> sizes(3);
  for (const auto& c : f.cases)
    for (size_t a = 0; a < 3; ++a) sizes[a].push_back(static_cast<double>(c.size[a]));
  Vec3 median_size{};
  for (size_t a = 0; a < 3; ++a) {
    auto& v = sizes[a];
    std::sort(v.begin(), v.end());
    median_size[a] = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  for (size_t a = 0; a < 3; ++a)
    if (a != coarse) {
      other_spacing = std::max(other_spacing, target[a]);
      other_size = std::min(other_size, median_size[a]);
    }
  if (target[coarse] > 3 * other_spacing && median_size[coarse] * 3 < other_size) {
    double p10 = f.spacing_percentile(static_cast<int>(coarse), 10);
    if (p10 < other_spacing) p10 = other_spacing + 1e-5;
    target[coarse] = p10;
    *reason += fmt::format(
        "; axis {} is more than 3x coarser with under a third of the voxels: its 10th "
        "percentile",
        "xyz"[coarse]);
  }
  return target;
}

TrainingPlan make_training_plan(const DatasetFingerprint& f, const PlanOptions& options,
                                const NetworkRequest& network) {
  if (f.cases.empty()) throw Error("cannot plan without cases");
  if (network.base < 1 || network.batch < 1) throw Error("plan: base and batch must be positive");
  TrainingPlan plan;
  plan.base = network.base;
  plan.batch = network.batch;
  auto& pre = plan.preprocessing;
  pre.modality = options.modality.empty() ? f.modality : options.modality;

  // Normalisation.
  pre.normalization = pre.is_ct() ? "ct-window" : "zscore";
  if (pre.is_ct() && f.foreground && options.normalization != "ct-window" &&
      options.normalization != "zscore") {
    pre.normalization = "ct-foreground";
    pre.clip_low = f.foreground->percentile_00_5;
    pre.clip_high = f.foreground->percentile_99_5;
    pre.mean = f.foreground->mean;
    pre.std = std::max(f.foreground->std, 1e-8);
  }
  apply_plan_overrides(options, &pre);
  plan.reasons["normalization"] =
      pre.normalization == "ct-foreground"
          ? fmt::format(
                "CT: the labelled foreground's 0.5-99.5 percentiles and its mean and std ({} samples)",
                f.foreground->samples)
      : pre.normalization == "zscore"        ? std::string("not CT: each image's own mean and std")
      : options.normalization == "ct-window" ? std::string("CT window given (--ct-window or --normalization)")
                                             : std::string("CT without labels: the fixed window");

  // Spacing, patch and levels.
  const bool spacing_given = !options.spacing.empty();
  std::string spacing_reason;
  Vec3 spacing = spacing_given ? pre.spacing : planned_spacing(f, &spacing_reason);
  if (spacing_given) spacing_reason = "given (--spacing)";
  const int64_t budget = network_macs(network.base, isotropic_topology(network.budget_levels),
                                      {network.budget_patch, network.budget_patch, network.budget_patch});

  if (!network.patch.empty()) {
    if (network.patch.size() != 1 && network.patch.size() != 3)
      throw Error("--patch takes one value (a cube) or three (x,y,z)");
    for (int64_t v : network.patch)
      if (v < 1) throw Error("--patch values must be positive");
    plan.patch = network.patch.size() == 1 ? Size3{network.patch[0], network.patch[0], network.patch[0]}
                                           : Size3{network.patch[0], network.patch[1], network.patch[2]};
    plan.reasons["patch"] = "given (--patch)";
  } else {
    const Vec3 full = spacing;
    int iterations = 0;
    for (;;) {
      const Vec3 median = f.median_body_size_at(spacing);
      auto [patch, topology] = fit_patch(spacing, median, network.base, budget);
      plan.patch = patch;
      const double coverage = voxels(patch) / std::max(1.0, voxels(median));
      if (spacing_given || coverage >= network.min_coverage || ++iterations > 400) {
        plan.reasons["patch"] = fmt::format(
            "the largest patch (in proportion to 1/spacing, at most the median body region "
            "{:.0f}x{:.0f}x{:.0f}) whose forward cost fits the budget of the {} preset's network ({:.2f} "
            "GMAC); it covers {:.0f}% of the median body region",
            median[0], median[1], median[2], network.budget_name, static_cast<double>(budget) * 1e-9,
            100 * std::min(1.0, coverage));
        break;
      }
      // nnU-Net's low-resolution rule: coarsen the finer axes first (more than 2x finer than the coarsest),
      // then all, by 3% a step, until the patch covers enough of the image.
      const double coarsest = *std::max_element(spacing.begin(), spacing.end());
      bool finer = false;
      for (size_t a = 0; a < 3; ++a) finer |= spacing[a] * 2 < coarsest;
      for (size_t a = 0; a < 3; ++a)
        if (!finer || spacing[a] * 2 < coarsest) spacing[a] *= 1.03;
    }
    if (spacing != full)
      spacing_reason += fmt::format(
          " ({:.3g}x{:.3g}x{:.3g} mm), coarsened by nnU-Net's low-resolution rule until the budgeted patch "
          "covers at least {:.0f}% of the median body region",
          full[0], full[1], full[2], 100 * network.min_coverage);
  }
  pre.spacing = spacing;
  plan.reasons["spacing"] = spacing_reason;

  if (network.levels > 0) {
    plan.topology = isotropic_topology(network.levels);
    plan.reasons["network"] = "given (--levels): stride 2 and kernel 3 on every axis";
  } else {
    plan.topology = plan_topology(spacing, plan.patch);
    plan.reasons["network"] =
        "pool an axis while its spacing is under twice the finest and it keeps at least 8 voxels (bottleneck "
        "edge 4); kernel 1 along axes more than twice as coarse as the finest";
  }
  const Size3 padded = pad_to_multiple(plan.patch, plan.topology);
  if (padded != plan.patch) {
    if (!network.patch.empty())
      throw Error(fmt::format("--patch {} is not a multiple of the network's strides {} (use {})",
                              triple_text(plan.patch, ","), triple_text(plan.topology.size_multiple(), ","),
                              triple_text(padded, ",")));
    plan.patch = padded;
  }
  plan.reasons["batch"] = fmt::format("{} (nnU-Net's minimum; the budget is spent on the patch)", plan.batch);
  plan.reasons["foreground_share"] = "nnU-Net's oversampling: a third of each batch";
  return plan;
}

TrainingPlan plan_run(const std::string& plan_file, const std::vector<Dataset>& datasets,
                      const std::vector<Case>& cases, bool use_labels, const PlanOptions& options,
                      const NetworkRequest& network, const std::string& cache_root, int threads) {
  if (!plan_file.empty()) {
    const PlanOptions defaults;
    if (!options.spacing.empty() || !network.patch.empty() || network.levels > 0 ||
        options.normalization != defaults.normalization || !options.modality.empty())
      throw Error(plan_file,
                  "--plan fixes the whole plan; leave out --spacing, --patch, --levels, "
                  "--ct-window, --normalization and --modality (or edit the plan file)");
    std::string path = plan_file;
    if (std::filesystem::is_directory(path)) path = (std::filesystem::path(path) / "plan.json").string();
    return TrainingPlan::from_json(read_json_file(path), path);
  }
  return make_training_plan(fingerprint_datasets(datasets, cases, use_labels, cache_root, threads), options,
                            network);
}

}  // namespace pgl::plan
