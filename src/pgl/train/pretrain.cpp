#include "pgl/train/pretrain.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/core/json_file.h"
#include "pgl/core/progress.h"
#include "pgl/core/version.h"
#include "pgl/data/cache.h"
#include "pgl/nn/model_stats.h"
#include "pgl/nn/presets.h"
#include "pgl/ssl/method.h"
#include "pgl/train/checkpoint.h"
#include "pgl/train/gradient_sync.h"
#include "pgl/train/prefetcher.h"
#include "pgl/train/resume.h"
#include "pgl/train/run_folder.h"
#include "pgl/train/runtime.h"
#include "pgl/train/schedule.h"
#include "pgl/train/ssl_batches.h"
#include "pgl/train/step_window.h"

namespace pgl::train {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

ssl::SslOptions ssl_options(const PretrainConfig& c) {
  ssl::SslOptions o;
  o.backbone = nn::ResUNet3DOptions(1).base(c.base).levels(c.levels);
  o.aligner.output_size(c.align_size).samples(c.align_samples).priors(ssl::parse_priors(c.priors));
  o.tau_base = c.tau_base;
  return o;
}

SslBatchOptions batch_options(const PretrainConfig& c, const PreprocessingPlan& plan) {
  SslBatchOptions o;
  o.method = c.method;
  o.batch = c.batch;
  o.seed = c.seed;
  o.views.patch = {c.patch, c.patch, c.patch};
  o.views.min_overlap = c.min_overlap;
  o.views.intensity.enabled = c.intensity_augmentation;
  o.ct = plan.is_ct();
  return o;
}

// An exclusion names a case by id (in every data set) or by its image path.
bool is_excluded(const Case& c, const std::vector<std::string>& exclude) {
  for (const auto& e : exclude) {
    if (e == c.id) return true;
    std::error_code ec;
    if (e.find('/') != std::string::npos && fs::equivalent(e, c.image, ec)) return true;
  }
  return false;
}

}  // namespace

PretrainResult run_pretraining(const PretrainConfig& requested, bool resume) {
  auto started = std::chrono::steady_clock::now();
  RunFolder run(requested.out, resume);
  PretrainConfig config = resume ? config_for_resume<PretrainConfig>(requested, run) : requested.resolved();
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
  PreprocessingPlan plan =
      resume ? PreprocessingPlan::from_json(read_json_file(run.file("plan.json")), run.file("plan.json"))
             : make_plan(datasets, config.plan, config.threads);
  json config_json = config.to_json();
  config_json["trajectory_hash"] = config.trajectory_hash();
  config_json["pgl_version"] = version();
  run.write_json("config.json", config_json);
  run.write_json("plan.json", plan.to_json());
  json used = json::array();  // which images the pretraining saw, so it is always known
  for (const auto& c : cases) used.push_back({{"id", c.id}, {"image", c.image}});
  run.write_json("cases.json", {{"pretraining", used}});
  run.log(fmt::format(
      "pgl {} pretrain: method {} (priors {}), preset {} (base {}, levels {}, patch {}^3, batch {}), "
      "{} steps, {} threads",
      version(), config.method, config.priors, config.preset, config.base, config.levels, config.patch,
      config.batch, config.steps, config.threads));
  run.log(fmt::format("data: {} volumes from {} data set(s); plan: {} spacing {:.3g}x{:.3g}x{:.3g} mm",
                      cases.size(), datasets.size(), plan.modality, plan.spacing[0], plan.spacing[1],
                      plan.spacing[2]));

  std::string cache_root = config.cache.empty() ? default_cache_root() : config.cache;
  auto entries = build_cache(cases, plan, cache_root, /*with_labels=*/false, config.threads);
  auto pool = open_volume_pool(entries, false);

  auto method = ssl::make_ssl_method(config.method, ssl_options(config));
  int64_t backbone_parameters = nn::count_parameters(*method->online_backbone());
  run.log(fmt::format("backbone parameters: {}", backbone_parameters));

  torch::optim::SGD optimizer(
      method->online_parameters(),
      torch::optim::SGDOptions(config.lr).momentum(config.momentum).weight_decay(config.weight_decay));
  WarmupCosineSchedule schedule(config.lr, config.warmup_steps, config.steps);
  GradientSync sync;

  int64_t start = 0;
  if (resume && run.has_checkpoint("latest")) {
    Checkpoint ck = load_checkpoint(run.checkpoint("latest"), &optimizer);
    method->load_named_state(ck.state);
    start = ck.meta.at("step").get<int64_t>();
    run.log(fmt::format("resumed from {} at step {}", run.checkpoint("latest"), start));
  }
  PretrainResult result;
  result.steps_done = start;
  if (start >= config.steps) {
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
                {"backbone", {{"base", config.base}, {"levels", config.levels}, {"in_channels", 1}}},
                {"backbone_parameters", backbone_parameters},
                {"pgl_version", version()}};
  };
  auto save = [&](const std::string& name, int64_t step) {
    save_checkpoint(run.checkpoint(name), {checkpoint_meta(step), method->named_state()}, &optimizer);
  };

  SslBatchSource source(pool, batch_options(config, plan));
  Prefetcher<ssl::SslBatch> prefetcher(
      [&source](int64_t step) {
        configure_worker_thread();
        return source.make(step);
      },
      start, config.steps, config.data_workers, config.prefetch);

  Progress progress("pretrain", config.steps);
  method->train();
  StepWindow window(config.batch, started);
  for (int64_t step = start; step < config.steps; ++step) {
    auto t0 = std::chrono::steady_clock::now();
    double wait = 0;
    ssl::SslBatch batch = prefetcher.next(&wait);
    double lr = schedule.lr(step);
    set_learning_rate(optimizer, lr);
    torch::Tensor loss;
    {
      PrecisionScope precision(config.precision);
      loss = method->loss(batch);
    }
    optimizer.zero_grad();
    loss.backward();
    sync.synchronize(method->online_parameters());  // gradients are complete from here on
    if (config.clip_grad > 0)
      torch::nn::utils::clip_grad_norm_(method->online_parameters(), config.clip_grad);
    optimizer.step();
    method->update_target(step, config.steps);

    double value = loss.item<double>();
    if (!std::isfinite(value))
      throw Error(run.path(),
                  fmt::format("loss became {} at step {}; lower --lr or set --clip-grad", value, step));
    window.add(value, wait, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (std::isfinite(method->target_spread())) window.add_value("target_spread", method->target_spread());
    progress.update(step + 1, fmt::format("loss {:.4f} lr {:.2e}", value, lr));
    bool last = step + 1 == config.steps;
    if ((step + 1) % config.log_every == 0 || last) {
      result.final_loss = window.mean_loss();
      nlohmann::json line = window.flush(step + 1, lr);
      line["tau"] = method->target_tau(step, config.steps);
      run.log_metrics(line);
    }
    bool stop = config.stop_at > 0 && step + 1 >= config.stop_at && !last;
    if ((step + 1) % config.checkpoint_every == 0 || last || stop) save("latest", step + 1);
    result.steps_done = step + 1;
    if (stop) {
      progress.finish("stopped");
      run.log(fmt::format("stopped at step {} (--stop-at); continue with --resume", step + 1));
      return result;
    }
  }
  progress.finish(fmt::format("loss {:.4f}", result.final_loss));
  save("final", config.steps);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  run.log(fmt::format("done: {} steps, final loss {:.4f}, {:.1f} s; checkpoints in {}", result.steps_done,
                      result.final_loss, result.seconds, run.file("checkpoints")));
  return result;
}

void export_backbone(const std::string& run_folder, const std::string& out_path) {
  fs::path folder(run_folder);
  std::string path = (folder / "checkpoints" / "final.pt").string();
  if (!fs::exists(path)) path = (folder / "checkpoints" / "latest.pt").string();
  if (!fs::exists(path))
    throw Error(run_folder, "no checkpoint to export (checkpoints/final.pt or latest.pt)");
  Checkpoint ck = load_checkpoint(path);
  if (ck.meta.value("kind", "") != "pretrain") throw Error(path, "not a pretraining checkpoint");
  const std::string prefix = "online.backbone.";
  NamedTensors backbone;
  for (const auto& item : ck.state)
    if (item.key().rfind(prefix, 0) == 0) backbone.insert(item.key().substr(prefix.size()), item.value());
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
                        {"norm", "InstanceNorm3d(affine=True)"},
                        {"activation", "LeakyReLU(0.01)"},
                        {"output", "base channels at input resolution"},
                        {"parameter_names", "docs/architecture.md"}}},
                      {"preset", config.at("preset")},
                      {"parameters", ck.meta.at("backbone_parameters")},
                      {"tensors", backbone.size()},
                      {"plan", ck.meta.at("plan")},
                      {"method", ck.meta.at("method")},
                      {"priors", config.at("priors")},
                      {"steps", ck.meta.at("step")},
                      {"data", config.at("data")},
                      {"source_checkpoint", path},
                      {"pgl_version", version()}};
  write_text_atomically(json_path, description.dump(2) + "\n");
}

}  // namespace pgl::train
