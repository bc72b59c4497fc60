#include "pgl/seg/finetune.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "pgl/core/error.h"
#include "pgl/core/json_file.h"
#include "pgl/core/progress.h"
#include "pgl/core/version.h"
#include "pgl/data/cache.h"
#include "pgl/eval/evaluation.h"
#include "pgl/io/volume_io.h"
#include "pgl/plan/backbone.h"
#include "pgl/seg/case_split.h"
#include "pgl/seg/predictor.h"
#include "pgl/seg/preset_choice.h"
#include "pgl/seg/seg_batches.h"
#include "pgl/seg/seg_loss.h"
#include "pgl/seg/seg_net.h"
#include "pgl/seg/transfer.h"
#include "pgl/seg/validation.h"
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
#include "pgl/train/step_window.h"
#include "pgl/train/time_budget.h"
#include "pgl/train/training_loop.h"

namespace pgl::seg {
using nlohmann::json;

namespace {

nn::Axes3 dhw(const Size3& xyz) { return {xyz[2], xyz[1], xyz[0]}; }

// The pretrained network as a plan's network section (old checkpoints: the isotropic preset network).
plan::TrainingPlan pretrained_network(const InitWeights& init) {
  plan::TrainingPlan p;
  const auto options = plan::backbone_options_from_json(init.description.at("backbone"), init.source);
  p.base = options.base();
  p.topology.strides.clear();
  p.topology.kernels.clear();
  for (int64_t level = 0; level < options.levels(); ++level) {
    const auto s = options.stride(level), k = options.kernel(level);
    p.topology.strides.push_back({s[2], s[1], s[0]});
    p.topology.kernels.push_back({k[2], k[1], k[0]});
  }
  return p;
}

// The plan of the fine-tuning run. From random weights: planned on the fine-tuning data (its own cases
// only: never the held-out or excluded ones). From pretrained weights: their plan. With an explicit plan or
// override: planned, with the pretrained normalisation (what the backbone saw) and a network that must be
// the pretrained one.
// --preset auto (the default) under a time budget: each candidate network is planned and its step timed
// here (seg/preset_choice.h), within `seconds_left` of the budget.
plan::TrainingPlan finetune_plan(const Dataset& dataset, const CaseSplit& split, const FinetuneConfig& c,
                                 const InitWeights& init, const std::string& cache_root,
                                 train::RunFolder& run, int64_t classes, c10::Device device,
                                 double seconds_left) {
  std::vector<Case> cases = split.validation;
  for (const Case& t : split.train) {
    Case header_only = t;  // unlabelled in this run: its labels must not inform the plan
    bool labeled = false;
    for (const Case& l : split.labeled) labeled |= l.id == t.id;
    if (!labeled) header_only.label.clear();
    cases.push_back(header_only);
  }
  const bool auto_preset = c.preset == "auto";
  auto request_for = [&](const std::string& preset, int64_t base) {
    return plan::network_request(preset, base, c.levels, c.patch, c.batch, c.plan.min_coverage);
  };
  auto request = request_for(auto_preset ? "small" : c.preset, c.base);
  // Pretrained weights that carry a whole plan fix it (spacing, normalisation, patch, network): the backbone
  // was trained on it. Only an explicit plan or override is planned anew, and must build the same network.
  const bool overridden = !c.plan_file.empty() || !c.plan.spacing.empty() || !c.patch.empty() || c.levels > 0;
  if (init.description.contains("plan") && init.description.at("plan").contains("network") && !overridden) {
    plan::TrainingPlan p = plan::TrainingPlan::from_json(init.description.at("plan"), init.source);
    if (p.base != request.base && !c.allow_partial && !auto_preset)
      throw Error(init.source,
                  fmt::format("weights do not fit the network: the pretrained backbone has base {}, "
                              "this run's --preset/--base asks for {}",
                              p.base, request.base));
    p.batch = request.batch;
    for (auto& [field, reason] : p.reasons) reason = "from the pretrained weights' plan: " + reason;
    run.log("plan from the pretrained weights (" + init.source + ")");
    return p;
  }
  if (init.description.contains("backbone") && auto_preset && c.base <= 0)
    request.base = pretrained_network(init).base;  // auto: as wide as the pretrained backbone
  auto plan_for = [&](const plan::NetworkRequest& r) {
    return plan::plan_run(c.plan_file, {dataset}, cases, true, c.plan, r, cache_root, c.threads);
  };
  plan::TrainingPlan p;
  if (auto_preset && c.time_budget > 0 && c.plan_file.empty() && !init.description.contains("backbone")) {
    PresetChoice choice = choose_preset(
        auto_preset_candidates(),
        [&](const PresetCandidate& k) {
          return plan_for(request_for(k.preset, c.base > 0 ? c.base : k.base));
        },
        [&](const plan::TrainingPlan& k) { return time_training_step(k, classes, c.precision, device); },
        seconds_left);
    for (const std::string& line : choice.trials) run.log("preset auto: " + line);
    p = choice.plan;
    p.reasons["network"] = choice.reason + "; " + p.reasons["network"];
  } else {
    p = plan_for(request);
  }
  if (init.description.contains("backbone") && !c.allow_partial) {
    const std::string difference = p.network_difference(pretrained_network(init));
    if (!difference.empty())
      throw Error(
          init.source,
          fmt::format("weights do not fit the network: this run's plan has {} the pretrained backbone. "
                      "Leave out the plan options to adopt the pretraining's plan, pretrain with "
                      "--plan-from {}, or give the same --preset/--base/--levels",
                      difference, c.data));
  }
  if (init.description.contains("plan")) {
    auto pretrained = PreprocessingPlan::from_json(init.description.at("plan"), init.source);
    auto& pre = p.preprocessing;
    const std::string before = pre.hash();
    const Vec3 spacing = pre.spacing;  // everything but the spacing: modality and normalisation
    pre = pretrained;
    pre.spacing = spacing;
    if (pre.hash() != before) {
      p.reasons["normalization"] = "from the pretrained weights' plan (the backbone was trained on it)";
      run.log("normalisation from the pretrained plan (" + pretrained.normalization + ")");
    }
  }
  return p;
}

int64_t class_count(const Dataset& dataset) {
  int max_label = 0;
  for (const auto& [id, name] : dataset.labels) max_label = std::max(max_label, id);
  if (max_label == 0) throw Error(dataset.root + "/dataset.json", "declares no foreground labels");
  return max_label + 1;
}

bool is_encoder_parameter(const std::string& name) {
  const std::string prefix = "backbone.";
  return name.rfind(prefix, 0) == 0 && is_encoder_name(name.substr(prefix.size()));
}

void set_encoder_frozen(SegNet& net, bool frozen) {
  for (auto& item : net->named_parameters())
    if (is_encoder_parameter(item.key())) item.value().set_requires_grad(!frozen);
}

// Cross-validation: the fold's held-out cases predicted with the model as `pgl predict` uses it (best
// checkpoint, post-processing) into RUN/held_out/, and scored into RUN/held_out_metrics.csv (+ summary).
void predict_held_out(train::RunFolder& run, const Dataset& dataset, const std::vector<Case>& cases,
                      int threads) {
  Predictor predictor = Predictor::load(run.path());
  const std::string folder = run.file("held_out");
  std::filesystem::create_directories(folder);
  Progress progress("predict held-out", static_cast<int64_t>(cases.size()), "case");
  int64_t done = 0;
  for (const Case& c : cases) {
    write_label_map(predictor.predict(read_volume(c.image), false), folder + "/" + c.id + ".nii.gz");
    progress.update(++done);
  }
  progress.finish();
  eval::EvaluationOptions options;
  options.pred = folder;
  options.ref = dataset.root;
  options.allow_missing = true;  // the other folds' cases
  options.threads = threads;
  auto result = eval::evaluate_folder(options);
  const std::string csv = run.file("held_out_metrics.csv");
  eval::write_metrics_csv(result, csv);
  eval::write_summary_json(result, eval::summary_path_for(csv));
  run.log("held-out cases:\n" + eval::summary_table(result));
}

}  // namespace

FinetuneResult run_finetuning(const FinetuneConfig& requested, bool resume, train::Ranks ranks) {
  auto started = std::chrono::steady_clock::now();
  const c10::Device device = train::resolve_device(requested.device);  // before any work: fails at once
  train::check_precision(requested.precision, device.is_cuda());
  train::BudgetClock budget_clock;  // the time budget is spent only while the process runs
  auto elapsed = [&] { return budget_clock.seconds(); };
  const train::LaunchEnvironment launch = train::launch_environment(ranks);
  std::unique_ptr<train::RankGroup> group = train::make_rank_group(launch, requested.dist_timeout);
  // A job that torchrun restarted (--max-restarts) continues its run from the latest checkpoint.
  resume = resume || train::resumes_after_restart(launch, requested.out);
  train::RunFolder run(requested.out, resume, group->writes());
  // The data set's label names decide the "auto" mirror axes, so they are resolved before anything else.
  Dataset dataset = open_dataset(requested.data);
  FinetuneConfig with_axes = requested;
  with_axes.world_size = launch.world_size;
  if (resume && requested.preset == "auto" && requested.base <= 0 && requested.batch <= 0 &&
      std::filesystem::exists(run.file("config.json"))) {
    // A run from before --preset auto stored its preset: resuming it without --preset (auto, the default)
    // keeps that preset rather than asking for another network.
    const json stored = read_json_file(run.file("config.json"));
    if (stored.value("preset", json()).is_string() && stored.at("preset").get<std::string>() != "auto") {
      with_axes.preset = stored.at("preset").get<std::string>();
      if (stored.value("base", json()).is_number_integer()) with_axes.base = stored.at("base").get<int64_t>();
      if (stored.value("batch", json()).is_number_integer())
        with_axes.batch = stored.at("batch").get<int64_t>();
    }
  }
  with_axes.mirror_axes = resolve_mirror_axes(requested.mirror_axes, dataset.labels);
  FinetuneConfig config =
      resume ? train::config_for_resume<FinetuneConfig>(with_axes, run) : with_axes.resolved();
  train::configure_threads(config.threads);
  torch::manual_seed(config.seed);

  CaseSplit split = split_cases(dataset, config);
  const int64_t classes = class_count(dataset);
  InitWeights init = load_init_weights(config.init);
  if (!init.warning.empty() && group->writes()) {
    std::fprintf(stderr, "%s\n", init.warning.c_str());  // loud: stderr as well as the run's log
    run.log(init.warning);
  }
  std::string cache_root = config.cache.empty() ? default_cache_root() : config.cache;
  plan::TrainingPlan plan =
      resume ? plan::TrainingPlan::from_json(read_json_file(run.file("plan.json")), run.file("plan.json"))
             : plan::TrainingPlan::from_json(  // rank 0 plans and hands the plan to the others
                   json::parse(group->from_rank0(
                       group->writes() ? finetune_plan(dataset, split, config, init, cache_root, run, classes,
                                                       device, 60 * config.time_budget - elapsed())
                                             .to_json()
                                             .dump()
                                       : "")),
                   "the plan of rank 0");
  torch::manual_seed(config.seed);  // again: timing the candidates of --preset auto drew weights
  const PreprocessingPlan& preprocessing = plan.preprocessing;
  // A time-budgeted run chooses its step count after kCalibrationSteps; a resumed one has it in its config.
  train::StepBudget budget(config.time_budget);
  bool steps_chosen = !budget.active() || (resume && train::budget_steps_chosen(run));
  auto write_config = [&] { return train::write_run_config(run, config, budget.active(), steps_chosen); };
  json config_json = write_config();
  run.write_json("plan.json", plan.to_json());
  run.write_json("cases.json", split.to_json());
  run.log(fmt::format(
      "pgl {} finetune: init {}, preset {} (base {}, {} levels, patch {} voxels, batch {}), {} classes, {}, "
      "{} {:.2g}",
      version(), config.init, config.preset, plan.base, plan.topology.levels(), plan::triple_text(plan.patch),
      plan.batch, classes,
      steps_chosen ? fmt::format("{} steps", config.steps)
                   : fmt::format("time budget {:g} min", config.time_budget),
      config.optimizer, config.lr));
  if (requested.mirror_axes == "auto")
    run.log(fmt::format("mirror axes (augmentation and TTA): {}{}", config.mirror_axes,
                        config.mirror_axes == "yz" ? " (labels name a side: no left-right flips)" : ""));
  run.log(fmt::format(
      "cases: {} labelled of {} training, {} validation{}; plan:\n{}", split.labeled.size(),
      split.train.size(), split.validation.size(),
      split.held_out.empty() ? ""
      : config.folds > 1
          ? fmt::format(", {} held out (fold {} of {})", split.held_out.size(), config.fold, config.folds)
          : fmt::format(", {} held out (split {})", split.held_out.size(), config.test_split),
      plan.describe()));

  auto train_pool = train::open_volume_pool(
      train::build_cache_by_ranks(*group, split.labeled, preprocessing, cache_root, true, config.threads),
      true);
  std::vector<Case> val_cases = split.validation;
  if (config.val_max_cases > 0 && static_cast<int64_t>(val_cases.size()) > config.val_max_cases)
    val_cases.resize(static_cast<size_t>(config.val_max_cases));
  auto val_pool = train::open_volume_pool(
      train::build_cache_by_ranks(*group, val_cases, preprocessing, cache_root, true, config.threads), true);
  // A time budget times its calibration round on two cases, then chooses how many cases each round has
  // (plan_validation); a resumed run keeps the choice (config.val_max_cases).
  const bool plans_validation = config.time_budget > 0 && !steps_chosen && config.val_max_cases == 0;
  const std::vector<train::PooledVolume> all_val = val_pool;
  if (plans_validation && val_pool.size() > 2) val_pool.resize(2);

  SegNet net(plan::backbone_options(plan), classes);
  TransferReport report = transfer_backbone(net, init, config.allow_partial, config.transfer == "encoder");
  net->to(device);
  run.write_json("transfer.json", report.to_json());
  // The whole table when something did not fit (--allow-partial); otherwise the counts (transfer.json lists
  // all).
  const std::string table = report.to_text();
  run.log(report.complete() ? table.substr(0, table.find('\n')) : table);

  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (config.optimizer == "adam")
    optimizer = std::make_unique<torch::optim::Adam>(
        net->parameters(), torch::optim::AdamOptions(config.lr).weight_decay(config.weight_decay));
  else
    optimizer =
        std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(config.lr)
                                                                   .momentum(config.momentum)
                                                                   .nesterov(true)
                                                                   .weight_decay(config.weight_decay));
  // Until a budgeted run has chosen its length, it follows the schedule of --steps (the first steps only).
  auto schedule = std::make_unique<train::PolySchedule>(config.lr, config.steps, config.poly_exponent,
                                                        config.warmup_steps);

  FinetuneResult result;
  int64_t start = 0, rounds_since_best = 0, skipped = 0;
  bool plateau_stopped = false;  // --until-plateau ended the training part: the run is complete
  std::string last_good = "none (no checkpoint yet)";
  train::GradScaler scaler = train::GradScaler::for_run(config.precision, config.loss_scale);
  if (resume && run.has_checkpoint("latest")) {
    train::Checkpoint ck = train::load_checkpoint(run.checkpoint("latest"), optimizer.get());
    skipped = ck.meta.value("skipped_steps", int64_t{0});
    scaler.load(ck.meta, run.checkpoint("latest"));
    train::restore_rng_state(ck);
    torch::NoGradGuard no_grad;
    for (auto& item : net->named_parameters()) item.value().copy_(ck.state[item.key()]);
    start = ck.meta.at("step").get<int64_t>();
    result.best_mean_dice = ck.meta.value("best_mean_dice", -1.0);
    rounds_since_best = ck.meta.value("val_rounds_since_best", int64_t{0});
    plateau_stopped = ck.meta.value("plateau_stopped", false);
    run.log(fmt::format("resumed from {} at step {}", run.checkpoint("latest"), start));
    last_good = fmt::format("{} (step {})", run.checkpoint("latest"), start);
    for (const auto& change : config.resume_changes)
      run.log("changed on resume (--change-on-resume): " + change);
  }
  train::NonFiniteGuard guard(config.skip_nonfinite, skipped, config.debug_nan_at_step);
  if (group->world_size() > 1) {
    std::vector<torch::Tensor> state;  // every rank starts from rank 0's weights
    for (const auto& item : net->named_parameters()) state.push_back(item.value());
    for (const auto& item : net->named_buffers()) state.push_back(item.value());
    group->broadcast(state);
    run.log(
        fmt::format("data parallel ({}): {} ranks, batch {} each, global batch {}; validation cases "
                    "shared out (rank r scores cases r, r + {}, ...)",
                    launch.launcher, group->world_size(), plan.batch, plan.batch * group->world_size(),
                    group->world_size()));
  }
  result.steps_done = start;
  const bool tail_done =
      run.has_checkpoint("final") &&
      (split.held_out.empty() || std::filesystem::exists(run.file("held_out_metrics.csv")));
  if (steps_chosen && (start >= config.steps || plateau_stopped) && tail_done) {
    run.log("run already complete");
    return result;
  }
  run.start_metrics(start);

  std::map<std::string, std::string> label_names;
  for (const auto& [id, name] : dataset.labels) label_names[std::to_string(id)] = name;
  std::vector<int> foreground_classes;
  for (int c = 1; c < classes; ++c) foreground_classes.push_back(c);
  Postprocessing postprocessing;
  auto meta = [&](int64_t step) {
    return json{{"kind", "finetune"},
                {"step", step},
                {"config", config_json},
                {"plan", plan.to_json()},
                {"classes", classes},
                {"labels", label_names},
                {"backbone", plan::backbone_json(plan)},
                {"patch", plan.patch},
                {"best_mean_dice", result.best_mean_dice},
                {"val_rounds_since_best", rounds_since_best},
                {"plateau_stopped", plateau_stopped},
                {"skipped_steps", guard.skipped()},
                {"grad_scaler", scaler.to_json()},
                {"postprocessing", postprocessing.to_json()},
                {"pgl_version", version()}};
  };
  auto save = [&](const std::string& name, int64_t step) {
    train::NamedTensors state;
    std::vector<torch::Tensor> tensors;
    for (const auto& item : net->named_parameters()) {
      state.insert(item.key(), item.value());
      tensors.push_back(item.value());
    }
    group->check_identical(tensors, "weights");
    if (group->writes())
      train::save_checkpoint(run.checkpoint(name), {meta(step), state, {}}, optimizer.get());
    if (name == "latest") last_good = fmt::format("{} (step {})", run.checkpoint(name), step);
  };

  SegBatchOptions batch_options;
  batch_options.patch = dhw(plan.patch);
  batch_options.batch = plan.batch;
  batch_options.foreground_share = plan.foreground_share;
  batch_options.seed = config.seed;
  batch_options.rank = group->rank();
  batch_options.world_size = group->world_size();
  batch_options.flip_axes = mirror_flags(config.mirror_axes);
  SegBatchSource source(train_pool, batch_options);
  train::Prefetcher<SegBatch> prefetcher(
      [&source](int64_t step) {
        train::configure_worker_thread();
        return source.make(step);
      },
      start, steps_chosen ? config.steps : std::numeric_limits<int64_t>::max(), config.data_workers,
      config.prefetch);
  SlidingWindowOptions window;
  window.patch = dhw(plan.patch);

  net->train();
  auto run_validation = [&](int64_t done) {
    const double t_val = budget_clock.seconds();  // on the budget's clock: a pause is not validation time
    // Each rank scores cases rank, rank + N, ...; the tallies add up to one process's Dice (the ranks then
    // agree on "best" too).
    std::vector<train::PooledVolume> share;
    for (size_t k = static_cast<size_t>(group->rank()); k < val_pool.size();
         k += static_cast<size_t>(group->world_size()))
      share.push_back(val_pool[k]);
    DiceTally tally(classes);
    tally.add(validation_predictions(net, share, window, config.precision));
    std::vector<double> flat = tally.flat();
    group->sum(flat);
    tally.set_flat(flat);
    ValidationResult v = tally.result();
    const double seconds = budget_clock.seconds() - t_val;
    json dice = json::object();
    for (const auto& [cls, d] : v.dice) {
      auto name =
          label_names.count(std::to_string(cls)) ? label_names[std::to_string(cls)] : std::to_string(cls);
      dice[name] = std::isnan(d) ? json(nullptr) : json(d);
    }
    result.last_dice = v.dice;
    const bool improved = v.mean_dice > result.best_mean_dice;
    rounds_since_best = improved ? 0 : rounds_since_best + 1;
    run.log_metrics({{"step", done},
                     {"val_mean_dice", v.mean_dice},
                     {"val_dice", dice},
                     {"val_rounds_since_best", rounds_since_best},
                     {"val_seconds", seconds}});
    if (improved) {
      result.best_mean_dice = v.mean_dice;
      save("best", done);
    }
    run.log(fmt::format("step {}: validation mean Dice {:.4f} (best {:.4f})", done, v.mean_dice,
                        result.best_mean_dice));
    return seconds;
  };
  train::LoopSettings settings = train::loop_settings("finetune", config, start, steps_chosen, plan.batch);
  settings.val_every = config.val_every;
  train::LoopHooks hooks;
  hooks.before_step = [&](int64_t step) { set_encoder_frozen(net, step < config.freeze_encoder_steps); };
  hooks.loss = [&](int64_t, double* wait) {
    SegBatch batch = prefetcher.next(wait);
    train::PrecisionScope precision(config.precision, device.is_cuda());
    return dice_ce_loss(net->forward(batch.image.to(device)), batch.labels.to(device));
  };
  hooks.lr = [&](int64_t step) { return schedule->lr(step); };
  hooks.save = save;
  hooks.steps_changed = [&](int64_t steps) {
    config.steps = steps;
    steps_chosen = true;  // recorded in config.json: a resume keeps the count
    config_json = write_config();
    schedule = std::make_unique<train::PolySchedule>(config.lr, config.steps, config.poly_exponent,
                                                     config.warmup_steps);
  };
  if (!val_pool.empty()) hooks.validate = run_validation;
  if (!val_pool.empty() && config.until_plateau > 0)
    hooks.plateaued = [&] { return plateau_stopped = rounds_since_best >= config.until_plateau; };
  if (!val_pool.empty() && plans_validation)
    hooks.plan_validation = [&](double seconds) {
      // The round's wall time per case: the ranks scored their shares side by side, the busiest
      // ceil(cases / N) of them.
      const auto ranks = static_cast<size_t>(group->world_size());
      const double rounds = static_cast<double>((val_pool.size() + ranks - 1) / ranks);
      train::ValidationPlan v = train::plan_validation(
          60 * config.time_budget, budget.seconds_per_step(), seconds / rounds / static_cast<double>(ranks),
          static_cast<int64_t>(all_val.size()), config.val_every);
      v.every = group->from_rank0(v.every);  // rank 0's timing decides for all
      v.cases = group->from_rank0(v.cases);
      val_pool.assign(all_val.begin(), all_val.begin() + v.cases);
      config.val_every = v.every;  // recorded with the chosen step count (steps_changed)
      config.val_max_cases = v.cases;
      run.log(
          fmt::format("time budget: validation on {} of {} cases every {} steps, about {:.0f} s a round "
                      "(at most {:.0f}% of the budget)",
                      v.cases, all_val.size(), v.every, v.round_seconds, 100 * train::kValidationShare));
      return v;
    };
  train::LoopOutcome outcome;
  outcome.steps_done = start;
  if (!plateau_stopped)  // else a resume after the plateau: only the steps after training are left
    outcome = train::run_training_loop(settings, hooks,
                                       {*group, run, *optimizer, net->parameters(), budget, budget_clock,
                                        guard, scaler, last_good, started});
  result.steps_done = outcome.steps_done;
  if (outcome.stopped) return result;
  if (plateau_stopped)
    run.log(fmt::format("plateau: {} validation rounds without a new best; training ends at step {} of {}",
                        config.until_plateau, result.steps_done, config.steps));

  // Post-processing decided on the validation cases with the model that prediction uses (best), then stored
  // in both final checkpoints.
  if (group->writes() && !val_pool.empty() && run.has_checkpoint("best")) {
    train::Checkpoint best = train::load_checkpoint(run.checkpoint("best"));
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> current;
    for (auto& item : net->named_parameters()) {
      current.push_back(item.value().clone());
      item.value().copy_(best.state[item.key()]);
    }
    std::vector<std::string> lines;
    postprocessing = decide_postprocessing(validation_predictions(net, val_pool, window, config.precision),
                                           foreground_classes, &lines);
    for (const auto& line : lines) run.log("post-processing: " + line);
    run.write_json("postprocessing.json", postprocessing.to_json());
    best.meta["postprocessing"] = postprocessing.to_json();
    train::save_checkpoint(run.checkpoint("best"), best, nullptr);
    size_t k = 0;
    for (auto& item : net->named_parameters()) item.value().copy_(current[k++]);
  }
  save("final", result.steps_done);
  if (val_pool.empty()) save("best", result.steps_done);  // without validation, best is the final model
  result.seconds = elapsed();
  run.log(fmt::format("done: {} steps in {:.1f} s{}; best validation mean Dice {:.4f}", result.steps_done,
                      result.seconds, train::paused_note(budget_clock), result.best_mean_dice));
  if (!split.held_out.empty() && group->writes())
    predict_held_out(run, dataset, split.held_out, config.threads);
  return result;
}

}  // namespace pgl::seg
