#include "pgl/train/pretrain.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/core/json_file.h"
#include "pgl/core/progress.h"
#include "pgl/core/version.h"
#include "pgl/data/cache.h"
#include "pgl/nn/model_stats.h"
#include "pgl/nn/presets.h"
#include "pgl/plan/backbone.h"
#include "pgl/ssl/method.h"
#include "pgl/train/checkpoint.h"
#include "pgl/train/device.h"
#include "pgl/train/distributed.h"
#include "pgl/train/nonfinite_guard.h"
#include "pgl/train/prefetcher.h"
#include "pgl/train/rank_group.h"
#include "pgl/train/resume.h"
#include "pgl/train/run_folder.h"
#include "pgl/train/runtime.h"
#include "pgl/train/schedule.h"
#include "pgl/train/ssl_batches.h"
#include "pgl/train/step_window.h"
#include "pgl/train/time_budget.h"
#include "pgl/train/training_loop.h"

namespace pgl::train {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

ssl::SslOptions ssl_options(const PretrainConfig& c, const plan::TrainingPlan& plan) {
  ssl::SslOptions o;
  o.backbone = plan::backbone_options(plan);
  o.aligner.output_size(c.align_size).samples(c.align_samples).priors(ssl::parse_priors(c.priors));
  o.tau_base = c.tau_base;
  return o;
}

SslBatchOptions batch_options(const PretrainConfig& c, const plan::TrainingPlan& plan, int rank) {
  SslBatchOptions o;
  o.rank = rank;
  o.method = c.method;
  o.batch = plan.batch;
  o.seed = c.seed;
  o.views.patch = {plan.patch[2], plan.patch[1], plan.patch[0]};  // (D, H, W)
  o.views.min_overlap = c.min_overlap;
  o.views.intensity.enabled = c.intensity_augmentation;
  o.ct = plan.preprocessing.normalization == "ct-window";  // intensities in [-1, 1]
  return o;
}

// The pretraining plan: --plan, else the plan of the --plan-from data set (labels included, so that CT
// normalisation uses its foreground), else the pretraining data's own.
plan::TrainingPlan pretrain_plan(const PretrainConfig& c, const std::vector<Dataset>& datasets,
                                 const std::vector<Case>& cases, const std::string& cache_root) {
  auto request = plan::network_request(c.preset, c.base, c.levels, c.patch, c.batch, c.plan.min_coverage);
  if (c.plan_from.empty())
    return plan::plan_run(c.plan_file, datasets, cases, false, c.plan, request, cache_root, c.threads);
  Dataset source = open_dataset(c.plan_from);
  std::vector<Case> source_cases;
  for (const Case& k : source.cases)
    if (!is_excluded(k, c.exclude)) source_cases.push_back(k);
  return plan::plan_run("", {source}, source_cases, true, c.plan, request, cache_root, c.threads);
}

}  // namespace

PretrainResult run_pretraining(const PretrainConfig& requested, bool resume, Ranks ranks) {
  auto started = std::chrono::steady_clock::now();
  const c10::Device device =
      resolve_device(requested.device);  // before any work: a missing GPU fails at once
  check_precision(requested.precision, device.is_cuda());
  BudgetClock budget_clock;  // the time budget is spent only while the process runs
  const LaunchEnvironment launch = launch_environment(ranks);
  std::unique_ptr<RankGroup> group = make_rank_group(launch, requested.dist_timeout);
  // A job that torchrun restarted (--max-restarts) continues its run from the latest checkpoint.
  resume = resume || resumes_after_restart(launch, requested.out);
  PretrainConfig launched = requested;
  launched.world_size = launch.world_size;
  RunFolder run(requested.out, resume, group->writes());
  PretrainConfig config = resume ? config_for_resume<PretrainConfig>(launched, run) : launched.resolved();
  configure_threads(config.threads);
  torch::manual_seed(config.seed);

  // Data: every image of every data set, labels ignored.
  std::vector<Dataset> datasets;
  std::vector<Case> cases;
  for (const auto& folder : config.data) {
    datasets.push_back(open_dataset(folder));
    for (Case c : datasets.back().cases) {
      if (is_excluded(c, config.exclude)) continue;
      c.label.clear();
      cases.push_back(std::move(c));
    }
  }
  std::string cache_root = config.cache.empty() ? default_cache_root() : config.cache;
  // Rank 0 plans (the fingerprint reads every image) and hands the plan to the others.
  plan::TrainingPlan plan =
      resume ? plan::TrainingPlan::from_json(read_json_file(run.file("plan.json")), run.file("plan.json"))
             : plan::TrainingPlan::from_json(
                   json::parse(group->from_rank0(
                       group->writes() ? pretrain_plan(config, datasets, cases, cache_root).to_json().dump()
                                       : "")),
                   "the plan of rank 0");
  StepBudget budget(config.time_budget);
  bool steps_chosen = !budget.active() || (resume && budget_steps_chosen(run));
  auto write_config = [&] { return write_run_config(run, config, budget.active(), steps_chosen); };
  json config_json = write_config();
  run.write_json("plan.json", plan.to_json());
  json used = json::array();  // which images the pretraining saw, so it is always known
  for (const auto& c : cases) used.push_back({{"id", c.id}, {"image", c.image}});
  run.write_json("cases.json", {{"pretraining", used}});
  run.log(fmt::format(
      "pgl {} pretrain: method {} (priors {}), preset {} (base {}, {} levels, patch {} voxels, batch {}), "
      "{}, {} threads",
      version(), config.method, config.priors, config.preset, plan.base, plan.topology.levels(),
      plan::triple_text(plan.patch), plan.batch,
      steps_chosen ? fmt::format("{} steps", config.steps)
                   : fmt::format("time budget {:g} min", config.time_budget),
      config.threads));
  run.log(fmt::format("data: {} volumes from {} data set(s); plan{}:\n{}", cases.size(), datasets.size(),
                      config.plan_from.empty() ? "" : " of " + config.plan_from, plan.describe()));

  auto entries = build_cache_by_ranks(*group, cases, plan.preprocessing, cache_root, /*with_labels=*/false,
                                      config.threads);
  auto pool = open_volume_pool(entries, false);

  auto method = ssl::make_ssl_method(config.method, ssl_options(config, plan));
  method->to(device);
  int64_t backbone_parameters = nn::count_parameters(*method->online_backbone());
  run.log(fmt::format("backbone parameters: {}", backbone_parameters));

  torch::optim::SGD optimizer(
      method->online_parameters(),
      torch::optim::SGDOptions(config.lr).momentum(config.momentum).weight_decay(config.weight_decay));
  // Until a budgeted run has chosen its length, it follows the schedule of --steps (its first steps only).
  auto make_schedule = [&] {
    const int64_t warmup = config.warmup_steps >= 0 ? config.warmup_steps : config.steps / 20;
    return std::make_unique<WarmupCosineSchedule>(config.lr, std::min(warmup, config.steps), config.steps);
  };
  auto schedule = make_schedule();

  int64_t start = 0, skipped = 0;
  std::string last_good = "none (no checkpoint yet)";
  GradScaler scaler = GradScaler::for_run(config.precision, config.loss_scale);
  if (resume && run.has_checkpoint("latest")) {
    Checkpoint ck = load_checkpoint(run.checkpoint("latest"), &optimizer);
    skipped = ck.meta.value("skipped_steps", int64_t{0});
    scaler.load(ck.meta, run.checkpoint("latest"));
    restore_rng_state(ck);
    method->load_named_state(ck.state);
    start = ck.meta.at("step").get<int64_t>();
    run.log(fmt::format("resumed from {} at step {}", run.checkpoint("latest"), start));
    last_good = fmt::format("{} (step {})", run.checkpoint("latest"), start);
    for (const auto& change : config.resume_changes)
      run.log("changed on resume (--change-on-resume): " + change);
  }
  NonFiniteGuard guard(config.skip_nonfinite, skipped, config.debug_nan_at_step);
  if (group->world_size() > 1) {
    // Every rank starts from rank 0's online and target weights and buffers.
    std::vector<torch::Tensor> state;
    for (const auto& item : method->named_state()) state.push_back(item.value());
    group->broadcast(state);
    run.log(fmt::format("data parallel ({}): {} ranks, batch {} each, global batch {}", launch.launcher,
                        group->world_size(), plan.batch, plan.batch * group->world_size()));
  }
  PretrainResult result;
  result.steps_done = start;
  if (steps_chosen && start >= config.steps && run.has_checkpoint("final")) {
    run.log("run already complete");
    return result;
  }
  run.start_metrics(start);

  auto checkpoint_meta = [&](int64_t step) {
    return json{{"kind", "pretrain"},
                {"step", step},
                {"method", config.method},
                {"config", config_json},
                {"trajectory_hash", config.trajectory_hash()},
                {"plan", plan.to_json()},
                {"backbone", plan::backbone_json(plan)},
                {"backbone_parameters", backbone_parameters},
                {"skipped_steps", guard.skipped()},
                {"grad_scaler", scaler.to_json()},
                {"pgl_version", version()}};
  };
  auto save = [&](const std::string& name, int64_t step) {
    const auto state = method->named_state();
    std::vector<torch::Tensor> tensors;
    for (const auto& item : state) tensors.push_back(item.value());
    group->check_identical(tensors, "online and target weights");  // the EMA keeps them equal; verified
    if (group->writes())
      save_checkpoint(run.checkpoint(name), {checkpoint_meta(step), state, {}}, &optimizer);
    last_good = fmt::format("{} (step {})", run.checkpoint(name), step);
  };

  SslBatchSource source(pool, batch_options(config, plan, group->rank()));
  Prefetcher<ssl::SslBatch> prefetcher(
      [&source](int64_t step) {
        configure_worker_thread();
        return source.make(step);
      },
      start, steps_chosen ? config.steps : std::numeric_limits<int64_t>::max(), config.data_workers,
      config.prefetch);

  method->train();
  const LoopSettings settings = loop_settings("pretrain", config, start, steps_chosen, plan.batch);
  LoopHooks hooks;
  hooks.loss = [&](int64_t, double* wait) {
    ssl::SslBatch batch = prefetcher.next(wait);
    batch.view1 = batch.view1.to(device);
    batch.view2 = batch.view2.to(device);
    PrecisionScope precision(config.precision, device.is_cuda());
    return method->loss(batch);
  };
  hooks.lr = [&](int64_t step) { return schedule->lr(step); };
  hooks.save = save;
  hooks.steps_changed = [&](int64_t steps) {
    config.steps = steps;
    steps_chosen = true;
    config_json = write_config();
    schedule = make_schedule();
  };
  hooks.after_update = [&](int64_t step) {
    method->update_target(step, steps_chosen ? config.steps : std::max(config.steps, step + 1));
  };
  hooks.step_values = [&](StepWindow& window) {
    if (std::isfinite(method->target_spread())) window.add_value("target_spread", method->target_spread());
  };
  hooks.metrics_line = [&](nlohmann::json& line, int64_t step) {
    line["tau"] = method->target_tau(step, std::max(config.steps, step + 1));
  };
  hooks.status = [](double loss, double lr) { return fmt::format("loss {:.4f} lr {:.2e}", loss, lr); };
  const LoopOutcome outcome = run_training_loop(settings, hooks,
                                                {*group, run, optimizer, method->online_parameters(), budget,
                                                 budget_clock, guard, scaler, last_good, started});
  result.steps_done = outcome.steps_done;
  result.final_loss = outcome.final_loss;
  if (outcome.stopped) return result;
  save("final", config.steps);
  result.seconds = budget_clock.seconds();
  run.log(fmt::format("done: {} steps, final loss {:.4f}, {:.1f} s{}; checkpoints in {}", result.steps_done,
                      result.final_loss, result.seconds, paused_note(budget_clock), run.file("checkpoints")));
  return result;
}

void export_backbone(const std::string& run_folder, const std::string& out_path) {
  const std::string path = find_checkpoint(run_folder, {"final", "latest"});
  if (path.empty()) throw Error(run_folder, "no checkpoint to export (checkpoints/final.pt or latest.pt)");
  Checkpoint ck = load_checkpoint(path);
  if (ck.meta.value("kind", "") != "pretrain") throw Error(path, "not a pretraining checkpoint");
  const NamedTensors backbone = tensors_under(ck.state, "online.backbone.");
  if (backbone.is_empty()) throw Error(path, "checkpoint holds no online backbone");
  save_state_dict(out_path, backbone);
  std::string json_path = out_path;
  if (auto dot = json_path.rfind('.');
      dot != std::string::npos && json_path.find('/', dot) == std::string::npos)
    json_path = json_path.substr(0, dot);
  json_path += ".json";
  const json& config = ck.meta.at("config");
  json description = {{"format", "PyTorch state dict (torch.load) of the ResUNet3D backbone"},
                      {"architecture",
                       {{"name", "ResUNet3D"},
                        {"in_channels", 1},
                        {"base", ck.meta.at("backbone").at("base")},
                        {"levels", ck.meta.at("backbone").at("levels")},
                        {"channels", "base * 2^level"},
                        {"strides_xyz", ck.meta.at("backbone").value("strides_xyz", json())},
                        {"kernels_xyz", ck.meta.at("backbone").value("kernels_xyz", json())},
                        {"norm", "InstanceNorm3d(affine=True)"},
                        {"activation", "LeakyReLU(0.01)"},
                        {"output", "base channels at input resolution"},
                        {"parameter_names", "docs/architecture.md"}}},
                      {"preset", config.at("preset")},
                      {"parameters", ck.meta.at("backbone_parameters")},
                      {"tensors", backbone.size()},
                      {"plan", ck.meta.at("plan")},
                      {"backbone", ck.meta.at("backbone")},
                      {"method", ck.meta.at("method")},
                      {"priors", config.at("priors")},
                      {"steps", ck.meta.at("step")},
                      {"data", config.at("data")},
                      {"source_checkpoint", path},
                      {"pgl_version", version()}};
  write_text_atomically(json_path, description.dump(2) + "\n");
}

}  // namespace pgl::train
