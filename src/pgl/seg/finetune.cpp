#include "pgl/seg/finetune.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "pgl/core/error.h"
#include "pgl/core/json_file.h"
#include "pgl/core/progress.h"
#include "pgl/core/version.h"
#include "pgl/data/cache.h"
#include "pgl/seg/case_split.h"
#include "pgl/seg/seg_batches.h"
#include "pgl/seg/seg_loss.h"
#include "pgl/seg/seg_net.h"
#include "pgl/seg/transfer.h"
#include "pgl/seg/validation.h"
#include "pgl/train/checkpoint.h"
#include "pgl/train/gradient_sync.h"
#include "pgl/train/prefetcher.h"
#include "pgl/train/resume.h"
#include "pgl/train/run_folder.h"
#include "pgl/train/runtime.h"
#include "pgl/train/schedule.h"
#include "pgl/train/step_window.h"

namespace pgl::seg {
using nlohmann::json;

namespace {

// The plan of the fine-tuning data. Intensity normalisation must match what the backbone saw in
// pretraining, so modality and CT window come from the pretrained weights' plan when they carry one; the
// spacing stays the fine-tuning data's own (median) unless --spacing is given.
PreprocessingPlan finetune_plan(const Dataset& dataset, const FinetuneConfig& c, const InitWeights& init,
                                train::RunFolder& run) {
  PlanOptions options = c.plan;
  if (init.description.contains("plan")) {
    auto pretrained = PreprocessingPlan::from_json(init.description.at("plan"), init.source);
    if (options.modality.empty()) options.modality = pretrained.modality;
    const bool window_given =
        options.window_low != PlanOptions{}.window_low || options.window_high != PlanOptions{}.window_high;
    if (window_given &&
        (options.window_low != pretrained.window_low || options.window_high != pretrained.window_high))
      run.log(fmt::format("--ct-window [{}, {}] ignored: the pretrained backbone fixes the normalisation",
                          options.window_low, options.window_high));
    options.window_low = pretrained.window_low;
    options.window_high = pretrained.window_high;
    run.log(fmt::format("normalisation from the pretrained plan: {} window [{}, {}]", pretrained.modality,
                        pretrained.window_low, pretrained.window_high));
  }
  return make_plan({dataset}, options, c.threads);
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

}  // namespace

FinetuneResult run_finetuning(const FinetuneConfig& requested, bool resume) {
  auto started = std::chrono::steady_clock::now();
  train::RunFolder run(requested.out, resume);
  // The data set's label names decide the "auto" mirror axes, so they are resolved before anything else.
  Dataset dataset = open_dataset(requested.data);
  FinetuneConfig with_axes = requested;
  with_axes.mirror_axes = resolve_mirror_axes(requested.mirror_axes, dataset.labels);
  FinetuneConfig config =
      resume ? train::config_for_resume<FinetuneConfig>(with_axes, run) : with_axes.resolved();
  train::configure_threads(config.threads);
  torch::manual_seed(config.seed);

  CaseSplit split = split_cases(dataset, config);
  InitWeights init = load_init_weights(config.init);
  PreprocessingPlan plan =
      resume ? PreprocessingPlan::from_json(read_json_file(run.file("plan.json")), run.file("plan.json"))
             : finetune_plan(dataset, config, init, run);
  const int64_t classes = class_count(dataset);
  json config_json = config.to_json();
  config_json["trajectory_hash"] = config.trajectory_hash();
  config_json["pgl_version"] = version();
  run.write_json("config.json", config_json);
  run.write_json("plan.json", plan.to_json());
  run.write_json("cases.json", split.to_json());
  run.log(fmt::format(
      "pgl {} finetune: init {}, preset {} (base {}, levels {}, patch {}^3, batch {}), {} classes, "
      "{} steps, {} {:.2g}",
      version(), config.init, config.preset, config.base, config.levels, config.patch, config.batch, classes,
      config.steps, config.optimizer, config.lr));
  if (requested.mirror_axes == "auto")
    run.log(fmt::format("mirror axes (augmentation and TTA): {}{}", config.mirror_axes,
                        config.mirror_axes == "yz" ? " (labels name a side: no left-right flips)" : ""));
  run.log(
      fmt::format("cases: {} labelled of {} training, {} validation; plan {} spacing {:.3g}x{:.3g}x{:.3g} mm",
                  split.labeled.size(), split.train.size(), split.validation.size(), plan.modality,
                  plan.spacing[0], plan.spacing[1], plan.spacing[2]));

  std::string cache_root = config.cache.empty() ? default_cache_root() : config.cache;
  auto train_pool =
      train::open_volume_pool(build_cache(split.labeled, plan, cache_root, true, config.threads), true);
  std::vector<Case> val_cases = split.validation;
  if (config.val_max_cases > 0 && static_cast<int64_t>(val_cases.size()) > config.val_max_cases)
    val_cases.resize(static_cast<size_t>(config.val_max_cases));
  auto val_pool =
      train::open_volume_pool(build_cache(val_cases, plan, cache_root, true, config.threads), true);

  SegNet net(nn::ResUNet3DOptions(1).base(config.base).levels(config.levels), classes);
  TransferReport report = transfer_backbone(net, init, config.allow_partial, config.transfer == "encoder");
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
  train::PolySchedule schedule(config.lr, config.steps, config.poly_exponent, config.warmup_steps);
  train::GradientSync sync;

  FinetuneResult result;
  int64_t start = 0;
  if (resume && run.has_checkpoint("latest")) {
    train::Checkpoint ck = train::load_checkpoint(run.checkpoint("latest"), optimizer.get());
    torch::NoGradGuard no_grad;
    for (auto& item : net->named_parameters()) item.value().copy_(ck.state[item.key()]);
    start = ck.meta.at("step").get<int64_t>();
    result.best_mean_dice = ck.meta.value("best_mean_dice", -1.0);
    run.log(fmt::format("resumed from {} at step {}", run.checkpoint("latest"), start));
  }
  result.steps_done = start;
  if (start >= config.steps) {
    run.log("run already complete");
    return result;
  }
  run.start_metrics(start);

  std::map<std::string, std::string> label_names;
  for (const auto& [id, name] : dataset.labels) label_names[std::to_string(id)] = name;
  auto meta = [&](int64_t step) {
    return json{{"kind", "finetune"},
                {"step", step},
                {"config", config_json},
                {"plan", plan.to_json()},
                {"classes", classes},
                {"labels", label_names},
                {"backbone", {{"base", config.base}, {"levels", config.levels}, {"in_channels", 1}}},
                {"patch", config.patch},
                {"best_mean_dice", result.best_mean_dice},
                {"pgl_version", version()}};
  };
  auto save = [&](const std::string& name, int64_t step) {
    train::NamedTensors state;
    for (const auto& item : net->named_parameters()) state.insert(item.key(), item.value());
    train::save_checkpoint(run.checkpoint(name), {meta(step), state}, optimizer.get());
  };

  SegBatchOptions batch_options;
  batch_options.patch = {config.patch, config.patch, config.patch};
  batch_options.batch = config.batch;
  batch_options.seed = config.seed;
  batch_options.flip_axes = mirror_flags(config.mirror_axes);
  SegBatchSource source(train_pool, batch_options);
  train::Prefetcher<SegBatch> prefetcher(
      [&source](int64_t step) {
        train::configure_worker_thread();
        return source.make(step);
      },
      start, config.steps, config.data_workers, config.prefetch);
  SlidingWindowOptions window;
  window.patch = {config.patch, config.patch, config.patch};

  Progress progress("finetune", config.steps);
  net->train();
  train::StepWindow metrics_window(config.batch, started);
  for (int64_t step = start; step < config.steps; ++step) {
    auto t0 = std::chrono::steady_clock::now();
    set_encoder_frozen(net, step < config.freeze_encoder_steps);
    double wait = 0;
    SegBatch batch = prefetcher.next(&wait);
    double lr = schedule.lr(step);
    train::set_learning_rate(*optimizer, lr);
    torch::Tensor loss;
    {
      train::PrecisionScope precision(config.precision);
      loss = dice_ce_loss(net->forward(batch.image), batch.labels);
    }
    optimizer->zero_grad();
    loss.backward();
    sync.synchronize(net->parameters());
    optimizer->step();
    double value = loss.item<double>();
    if (!std::isfinite(value))
      throw Error(run.path(), fmt::format("loss became {} at step {}; lower --lr", value, step));
    metrics_window.add(value, wait,
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    progress.update(step + 1, fmt::format("loss {:.4f}", value));
    const int64_t done = step + 1;
    bool last = done == config.steps;
    if (done % config.log_every == 0 || last) {
      run.log_metrics(metrics_window.flush(done, lr));
    }
    if (!val_pool.empty() && (done % config.val_every == 0 || last)) {
      auto t_val = std::chrono::steady_clock::now();
      ValidationResult v = validate(net, val_pool, classes, window, config.precision);
      json dice = json::object();
      for (const auto& [cls, d] : v.dice) {
        auto name =
            label_names.count(std::to_string(cls)) ? label_names[std::to_string(cls)] : std::to_string(cls);
        dice[name] = std::isnan(d) ? json(nullptr) : json(d);
      }
      run.log_metrics(
          {{"step", done},
           {"val_mean_dice", v.mean_dice},
           {"val_dice", dice},
           {"val_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t_val).count()}});
      result.last_dice = v.dice;
      if (v.mean_dice > result.best_mean_dice) {
        result.best_mean_dice = v.mean_dice;
        save("best", done);
      }
      run.log(fmt::format("step {}: validation mean Dice {:.4f} (best {:.4f})", done, v.mean_dice,
                          result.best_mean_dice));
    }
    bool stop = config.stop_at > 0 && done >= config.stop_at && !last;
    if (done % config.checkpoint_every == 0 || last || stop) save("latest", done);
    result.steps_done = done;
    if (stop) {
      progress.finish("stopped");
      run.log(fmt::format("stopped at step {} (--stop-at); continue with --resume", done));
      return result;
    }
  }
  progress.finish();
  save("final", config.steps);
  if (val_pool.empty()) save("best", config.steps);  // without validation, best is the final model
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  run.log(fmt::format("done: {} steps in {:.1f} s; best validation mean Dice {:.4f}", result.steps_done,
                      result.seconds, result.best_mean_dice));
  return result;
}

}  // namespace pgl::seg
