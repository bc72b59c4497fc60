// pgl's side of the PyTorch comparison (bench/compare_torch.py, issue 16): median time of one
//   pretrain:  PGL step (online forward + backward on both views, target forward, aligner, loss, SGD, EMA)
//   finetune:  fine-tuning step (forward, Dice + CE, backward, the fine-tuning optimiser)
//   inference: sliding-window inference of one volume with Gaussian blending (predict_probabilities, the
//              function `pgl predict` runs), windows batched as pgl predict does
// on one fixed synthetic batch (data preparation excluded), as one machine-readable line:
//   RESULT impl=pgl kind=... preset=... base=... precision=... threads=... median_ms=... peak_rss_mb=...
// bench/torch_reference.py prints the same line for the PyTorch eager reference.
//
// Usage: bench_pgl_steps --kind pretrain|finetune|inference [--preset tiny|small] [--base N]
//   [--precision fp32|bf16] [--threads 2] [--steps 5] [--warmup 2] [--batch N] [--classes 8]
//   [--optimizer adam|sgd] [--input CASE.nii.gz] [--spacing 3.91,3.91,2.5] [--volume D,H,W]
//   [--window-batch 0] [--dump FILE [--check-steps 3]]
// --dump writes the initial weights, the batch and pgl's losses of the first --check-steps steps (inference:
// the probabilities, unless --check-steps is 0) to FILE instead of timing; torch_reference.py --check FILE
// compares them, and --data FILE times the reference on the same weights and data. An inference dump is also
// a fine-tuned checkpoint that `pgl predict --model FILE` runs; a synthetic input volume is written beside it
// (FILE.input.nii.gz).
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "pgl/augment/views.h"
#include "pgl/data/plan.h"
#include "pgl/io/volume_io.h"
#include "pgl/nn/presets.h"
#include "pgl/seg/finetune_config.h"
#include "pgl/seg/seg_loss.h"
#include "pgl/seg/seg_net.h"
#include "pgl/seg/sliding_window.h"
#include "pgl/seg/validation.h"
#include "pgl/ssl/pgl_model.h"
#include "pgl/train/checkpoint.h"
#include "pgl/train/pretrain_config.h"
#include "pgl/train/runtime.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
  std::string kind, preset = "small", precision = "fp32", optimizer, input, dump;
  int64_t base = 0, batch = 0, classes = 8, window_batch = 0;
  int threads = 2, steps = 5, warmup = 2, check_steps = 3;
  std::vector<double> spacing{3.91, 3.91, 2.5};  // x, y, z (mm): OpenKBP's median spacing
  std::vector<int64_t> volume{154, 177, 177};    // D, H, W: OpenKBP pt_201 at that spacing
};

template <typename T>
std::vector<T> parse_list(const std::string& text) {
  std::vector<T> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    out.push_back(static_cast<T>(std::stod(text.substr(start, comma - start))));
    start = comma + 1;
  }
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  std::map<std::string, std::function<void(const std::string&)>> set = {
      {"--kind", [&](const std::string& v) { a.kind = v; }},
      {"--preset", [&](const std::string& v) { a.preset = v; }},
      {"--base", [&](const std::string& v) { a.base = std::stoll(v); }},
      {"--precision", [&](const std::string& v) { a.precision = v; }},
      {"--threads", [&](const std::string& v) { a.threads = std::stoi(v); }},
      {"--steps", [&](const std::string& v) { a.steps = std::stoi(v); }},
      {"--warmup", [&](const std::string& v) { a.warmup = std::stoi(v); }},
      {"--batch", [&](const std::string& v) { a.batch = std::stoll(v); }},
      {"--classes", [&](const std::string& v) { a.classes = std::stoll(v); }},
      {"--optimizer", [&](const std::string& v) { a.optimizer = v; }},
      {"--input", [&](const std::string& v) { a.input = v; }},
      {"--spacing", [&](const std::string& v) { a.spacing = parse_list<double>(v); }},
      {"--volume", [&](const std::string& v) { a.volume = parse_list<int64_t>(v); }},
      {"--window-batch", [&](const std::string& v) { a.window_batch = std::stoll(v); }},
      {"--dump", [&](const std::string& v) { a.dump = v; }},
      {"--check-steps", [&](const std::string& v) { a.check_steps = std::stoi(v); }},
  };
  for (int i = 1; i < argc; i += 2) {
    const auto it = set.find(argv[i]);
    if (it == set.end() || i + 1 >= argc) throw std::runtime_error(std::string("bad argument ") + argv[i]);
    it->second(argv[i + 1]);
  }
  if (a.kind != "pretrain" && a.kind != "finetune" && a.kind != "inference")
    throw std::runtime_error("--kind must be pretrain, finetune or inference");
  if (a.spacing.size() != 3 || a.volume.size() != 3)
    throw std::runtime_error("--spacing and --volume take 3 values");
  return a;
}

struct Setup {
  pgl::nn::Preset preset;
  pgl::nn::ResUNet3DOptions backbone;
  int64_t batch = 0;
};

Setup setup(const Args& a) {
  Setup s{pgl::nn::preset(a.preset), pgl::nn::ResUNet3DOptions(), 0};
  if (a.base > 0) s.preset.base = a.base;
  s.backbone = s.preset.backbone_options();
  s.batch = a.batch > 0 ? a.batch : s.preset.batch;
  return s;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Milliseconds of each of `steps` calls after `warmup` calls, sorted.
std::vector<double> time_calls(const std::function<void(int)>& call, int warmup, int steps) {
  for (int k = 0; k < warmup; ++k) call(k);
  std::vector<double> ms;
  for (int k = 0; k < steps; ++k) {
    const auto start = Clock::now();
    call(warmup + k);
    ms.push_back(1e3 * std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms;
}

void print_result(const Args& a, const Setup& s, const std::vector<double>& ms, const std::string& extra) {
  std::printf(
      "RESULT impl=pgl kind=%s preset=%s base=%lld levels=%lld patch=%lld batch=%lld precision=%s threads=%d "
      "steps=%zu median_ms=%.1f best_ms=%.1f peak_rss_mb=%.1f%s\n",
      a.kind.c_str(), a.preset.c_str(), static_cast<long long>(s.preset.base),
      static_cast<long long>(s.preset.levels), static_cast<long long>(s.preset.patch),
      static_cast<long long>(s.batch), a.precision.c_str(), a.threads, ms.size(), ms[ms.size() / 2], ms[0],
      peak_rss_mb(), extra.c_str());
}

json common_meta(const Args& a, const Setup& s) {
  return {{"preset", a.preset},      {"base", s.preset.base}, {"levels", s.preset.levels},
          {"patch", s.preset.patch}, {"batch", s.batch},      {"precision", a.precision},
          {"threads", a.threads},    {"classes", a.classes},  {"check_steps", a.check_steps}};
}

int64_t count(const std::vector<torch::Tensor>& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

// A smooth random field [1, 1, D, H, W] (seeded): interpolated coarse noise, like ssl_step_bench's volume.
torch::Tensor smooth_field(const std::vector<int64_t>& size, int64_t seed) {
  torch::manual_seed(static_cast<uint64_t>(seed));
  const torch::Tensor coarse =
      torch::randn({1, 1, std::max<int64_t>(2, size[0] / 12), std::max<int64_t>(2, size[1] / 12),
                    std::max<int64_t>(2, size[2] / 12)});
  return torch::nn::functional::interpolate(
      coarse,
      torch::nn::functional::InterpolateFuncOptions().size(size).mode(torch::kTrilinear).align_corners(true));
}

// ---- PGL pretraining step ----

int run_pretrain(const Args& a, const Setup& s) {
  const pgl::train::PretrainConfig config;  // pgl pretrain's defaults: lr, momentum, weight decay, EMA
  const int64_t patch = s.preset.patch;
  const torch::Tensor volume = smooth_field({120, 160, 160}, 0)[0][0];
  pgl::augment::ViewOptions view_options;
  view_options.patch = {patch, patch, patch};
  std::mt19937_64 rng(1);
  pgl::ssl::SslBatch batch;
  std::vector<torch::Tensor> v1, v2;
  for (int64_t b = 0; b < s.batch; ++b) {
    const auto pair = pgl::augment::make_view_pair(volume, view_options, rng);
    v1.push_back(pair.view1);
    v2.push_back(pair.view2);
    batch.priors1.push_back(pair.priors1);
    batch.priors2.push_back(pair.priors2);
  }
  batch.view1 = torch::stack(v1);
  batch.view2 = torch::stack(v2);

  pgl::ssl::SslOptions options;
  options.backbone = s.backbone;
  options.aligner.output_size(config.align_size).samples(config.align_samples);
  options.tau_base = config.tau_base;
  torch::manual_seed(1);
  pgl::ssl::PglModel model(options);
  torch::optim::SGD optimizer(
      model.online_parameters(),
      torch::optim::SGDOptions(config.lr).momentum(config.momentum).weight_decay(config.weight_decay));
  auto step = [&](int k, int total) {
    torch::Tensor loss;
    {
      pgl::train::PrecisionScope precision(a.precision);
      loss = model.loss(batch);
    }
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    model.update_target(k, total);
    return loss;
  };

  if (!a.dump.empty()) {
    pgl::train::NamedTensors state;
    for (const auto& item : model.named_state()) state.insert(item.key(), item.value().clone());
    json losses = json::array();
    for (int k = 0; k < a.check_steps; ++k) losses.push_back(step(k, a.check_steps).item<double>());
    auto priors = [](const std::vector<pgl::augment::ViewPriors>& all) {
      torch::Tensor t = torch::zeros({static_cast<int64_t>(all.size()), 9}, torch::kFloat64);
      for (size_t b = 0; b < all.size(); ++b)
        for (int i = 0; i < 3; ++i) {
          t[static_cast<int64_t>(b)][i] = all[b].box.start[static_cast<size_t>(i)];
          t[static_cast<int64_t>(b)][3 + i] = all[b].box.size[static_cast<size_t>(i)];
          t[static_cast<int64_t>(b)][6 + i] = all[b].flip[static_cast<size_t>(i)] ? 1.0 : 0.0;
        }
      return t;
    };
    state.insert("bench.view1", batch.view1);
    state.insert("bench.view2", batch.view2);
    state.insert("bench.priors1", priors(batch.priors1));
    state.insert("bench.priors2", priors(batch.priors2));
    json meta = common_meta(a, s);
    meta["kind"] = "bench-pretrain";
    meta["step"] = 0;
    meta["backbone_parameters"] = count(model.backbone->parameters());
    meta["online_parameters"] = count(model.online_parameters());
    meta["parameters"] = count(model.parameters());
    meta["optimizer"] = {{"name", "sgd"},
                         {"lr", config.lr},
                         {"momentum", config.momentum},
                         {"weight_decay", config.weight_decay}};
    meta["tau_base"] = config.tau_base;
    meta["align_size"] = config.align_size;
    meta["align_samples"] = config.align_samples;
    meta["losses"] = losses;
    pgl::train::save_checkpoint(a.dump, {meta, state, {}}, nullptr);
    std::printf("DUMP %s losses %s\n", a.dump.c_str(), losses.dump().c_str());
    return 0;
  }
  const int total = a.warmup + a.steps;
  print_result(a, s, time_calls([&](int k) { step(k, total); }, a.warmup, a.steps), "");
  return 0;
}

// ---- fine-tuning step ----

int run_finetune(const Args& a, const Setup& s) {
  const pgl::seg::FinetuneConfig config;  // pgl finetune's defaults: optimiser, weight decay
  const std::string name = a.optimizer.empty() ? config.optimizer : a.optimizer;
  const double lr = config.lr > 0 ? config.lr : (name == "adam" ? 1e-3 : 1e-2);
  const int64_t p = s.preset.patch;
  const torch::Tensor image = smooth_field({s.batch * p, p, p}, 2).view({s.batch, 1, p, p, p});
  // Classes in bands of the field, so that every class is present.
  const torch::Tensor scaled = (image - image.min()) / (image.max() - image.min());
  const torch::Tensor labels =
      (scaled * static_cast<double>(a.classes)).floor().clamp(0, a.classes - 1).to(torch::kLong).squeeze(1);

  torch::manual_seed(1);
  pgl::seg::SegNet net(s.backbone, a.classes);
  net->train();
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (name == "adam")
    optimizer = std::make_unique<torch::optim::Adam>(
        net->parameters(), torch::optim::AdamOptions(lr).weight_decay(config.weight_decay));
  else
    optimizer =
        std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(lr)
                                                                   .momentum(config.momentum)
                                                                   .nesterov(true)
                                                                   .weight_decay(config.weight_decay));
  auto step = [&] {
    torch::Tensor loss;
    {
      pgl::train::PrecisionScope precision(a.precision);
      loss = pgl::seg::dice_ce_loss(net->forward(image), labels);
    }
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    return loss;
  };

  if (!a.dump.empty()) {
    pgl::train::NamedTensors state;
    for (const auto& item : net->named_parameters()) state.insert(item.key(), item.value().clone());
    json losses = json::array();
    for (int k = 0; k < a.check_steps; ++k) losses.push_back(step().item<double>());
    state.insert("bench.image", image);
    state.insert("bench.labels", labels);
    json meta = common_meta(a, s);
    meta["kind"] = "bench-finetune";
    meta["step"] = 0;
    meta["backbone_parameters"] = count(net->backbone->parameters());
    meta["parameters"] = count(net->parameters());
    meta["optimizer"] = {
        {"name", name}, {"lr", lr}, {"momentum", config.momentum}, {"weight_decay", config.weight_decay}};
    meta["losses"] = losses;
    pgl::train::save_checkpoint(a.dump, {meta, state, {}}, nullptr);
    std::printf("DUMP %s losses %s\n", a.dump.c_str(), losses.dump().c_str());
    return 0;
  }
  print_result(a, s, time_calls([&](int) { step(); }, a.warmup, a.steps), "");
  return 0;
}

// ---- sliding-window inference ----

int run_inference(const Args& a, const Setup& s) {
  pgl::PreprocessingPlan plan;  // CT window, canonical LPS, the given spacing
  plan.spacing = {a.spacing[0], a.spacing[1], a.spacing[2]};
  pgl::Volume raw;
  std::string input = a.input;
  if (input.empty()) {
    // Synthetic CT in HU on the plan's grid: preprocessing keeps its size.
    const torch::Tensor field = (400.0 * smooth_field(a.volume, 3)).round().contiguous();
    pgl::Geometry g;
    g.size = {a.volume[2], a.volume[1], a.volume[0]};
    g.spacing = plan.spacing;
    raw = pgl::Volume(g);
    std::copy_n(field.data_ptr<float>(), raw.data.size(), raw.data.begin());
    if (!a.dump.empty()) {
      input = a.dump + ".input.nii.gz";
      pgl::write_volume(raw, input);
    }
  } else {
    raw = pgl::read_volume(input);
  }
  pgl::Volume pre = pgl::preprocess_image(raw, plan);
  const pgl::Geometry& g = pre.geometry;
  const torch::Tensor volume =
      torch::from_blob(pre.data.data(), {1, g.size[2], g.size[1], g.size[0]}, torch::kFloat).clone();
  const float pad = *std::min_element(pre.data.begin(), pre.data.end());

  torch::manual_seed(1);
  pgl::seg::SegNet net(s.backbone, a.classes);
  net->eval();
  const int64_t p = s.preset.patch;
  pgl::seg::SlidingWindowOptions window;
  window.patch = {p, p, p};
  window.batch = a.window_batch > 0 ? a.window_batch : pgl::seg::windows_per_batch(window.patch);
  int64_t windows = 1;
  for (size_t i = 0; i < 3; ++i)
    windows *= static_cast<int64_t>(
        pgl::seg::window_starts(std::max(volume.size(static_cast<int64_t>(i) + 1), p), p, window.step)
            .size());
  auto infer = [&] { return pgl::seg::predict_probabilities(net, volume, window, pad, a.precision); };

  if (!a.dump.empty()) {
    pgl::train::NamedTensors state;
    for (const auto& item : net->named_parameters()) state.insert(item.key(), item.value().clone());
    state.insert("bench.volume", volume);
    if (a.check_steps > 0) {  // 0: weights and volume only, for timing
      using torch::indexing::Slice;
      const torch::Tensor probabilities = infer();
      state.insert("bench.labels", probabilities.argmax(0).to(torch::kUInt8));
      // Every 4th voxel per axis: the full maps would take K x 4 bytes per voxel.
      state.insert("bench.probabilities_sub",
                   probabilities.index({Slice(), Slice(0, {}, 4), Slice(0, {}, 4), Slice(0, {}, 4)}));
    }
    json meta = common_meta(a, s);
    // What Predictor::load needs: `pgl predict --model FILE` runs this network.
    meta["kind"] = "finetune";
    meta["step"] = 0;
    meta["plan"] = plan.to_json();
    json names = json::object();
    for (int64_t k = 0; k < a.classes; ++k)
      names[std::to_string(k)] = k == 0 ? "background" : "class" + std::to_string(k);
    meta["labels"] = names;
    meta["backbone"] = {{"base", s.preset.base}, {"levels", s.preset.levels}, {"in_channels", 1}};
    meta["config"] = {{"precision", a.precision}, {"mirror_axes", "xyz"}};
    meta["backbone_parameters"] = count(net->backbone->parameters());
    meta["parameters"] = count(net->parameters());
    meta["pad_value"] = pad;
    meta["window_batch"] = window.batch;
    meta["windows"] = windows;
    meta["input"] = input;
    pgl::train::save_checkpoint(a.dump, {meta, state, {}}, nullptr);
    std::printf("DUMP %s volume %lldx%lldx%lld windows %lld input %s\n", a.dump.c_str(),
                static_cast<long long>(volume.size(1)), static_cast<long long>(volume.size(2)),
                static_cast<long long>(volume.size(3)), static_cast<long long>(windows), input.c_str());
    return 0;
  }
  Setup shown = s;
  shown.batch = window.batch;  // windows per forward pass
  const std::string extra = " windows=" + std::to_string(windows) +
                            " volume=" + std::to_string(volume.size(1)) + "x" +
                            std::to_string(volume.size(2)) + "x" + std::to_string(volume.size(3));
  print_result(a, shown, time_calls([&](int) { infer(); }, a.warmup, a.steps), extra);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    torch::set_num_threads(a.threads);
    const Setup s = setup(a);
    if (a.kind == "pretrain") return run_pretrain(a, s);
    if (a.kind == "finetune") return run_finetune(a, s);
    return run_inference(a, s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_pgl_steps: %s\n", e.what());
    return 1;
  }
}
