// Step time of PGL pretraining (forward + backward + SGD step + EMA update) for the small preset: batch 2,
// patch 48^3, 2 intra-op threads, fp32 and bf16 autocast. Data preparation is excluded (one fixed batch).
// Usage: bench_ssl_step [threads=2] [steps=5] [batch=2]. samples/s counts view pairs.
//
// FLOPs are counted analytically (pgl/nn/model_stats.h): 2 * MACs of every convolution (Conv3d,
// ConvTranspose3d, 1x1 head convs); norms, activations, the aligner and the optimiser are left out. A step
// runs the online path (backbone + projector + predictor) forward and backward (backward = 2 x forward:
// input and weight gradients) and the target path (backbone + projector) forward only, each on 2 x batch
// views. Baseline from the same process: one Conv3d(32 -> 32, k3) on 24^3, the oneDNN kernel the net
// spends most of its time in.
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "pgl/augment/views.h"
#include "pgl/nn/model_stats.h"
#include "pgl/nn/presets.h"
#include "pgl/ssl/pgl_model.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

pgl::ssl::SslBatch make_batch(int64_t batch, int64_t patch) {
  torch::manual_seed(0);
  const torch::Tensor coarse = torch::randn({1, 1, 10, 12, 12});
  const torch::Tensor volume =
      torch::nn::functional::interpolate(coarse, torch::nn::functional::InterpolateFuncOptions()
                                                     .size(std::vector<int64_t>{120, 160, 160})
                                                     .mode(torch::kTrilinear)
                                                     .align_corners(true))[0][0];
  pgl::augment::ViewOptions options;
  options.patch = {patch, patch, patch};
  std::mt19937_64 rng(1);
  pgl::ssl::SslBatch out;
  std::vector<torch::Tensor> v1, v2;
  for (int64_t b = 0; b < batch; ++b) {
    const auto pair = pgl::augment::make_view_pair(volume, options, rng);
    v1.push_back(pair.view1);
    v2.push_back(pair.view2);
    out.priors1.push_back(pair.priors1);
    out.priors2.push_back(pair.priors2);
  }
  out.view1 = torch::stack(v1);
  out.view2 = torch::stack(v2);
  return out;
}

// Seconds of each of `steps` steps after `warmup` steps.
std::vector<double> time_steps(pgl::ssl::PglModel& model, const pgl::ssl::SslBatch& batch, bool bf16,
                               int warmup, int steps) {
  torch::optim::SGD optimizer(model.online_parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  auto step = [&](int k) {
    at::autocast::set_cpu_enabled(bf16);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    torch::Tensor loss = model.loss(batch);
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    model.update_target(k, warmup + steps);
  };
  for (int k = 0; k < warmup; ++k) step(k);
  std::vector<double> seconds;
  for (int k = 0; k < steps; ++k) {
    const auto start = Clock::now();
    step(warmup + k);
    seconds.push_back(seconds_since(start));
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds;
}

// The 1-minute load average: on a shared machine, step times mean little without it.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  return in >> one ? one : "?";
}

double conv_baseline_gflops() {
  torch::NoGradGuard no_grad;
  torch::nn::Conv3d conv(torch::nn::Conv3dOptions(32, 32, 3).padding(1).bias(false));
  const torch::Tensor x = torch::randn({2, 32, 24, 24, 24});
  for (int i = 0; i < 2; ++i) conv(x);
  double seconds = 1e9;  // best of 10: the machine is shared
  for (int i = 0; i < 10; ++i) {
    const auto start = Clock::now();
    conv(x);
    seconds = std::min(seconds, seconds_since(start));
  }
  const double flops = 2.0 * 2 * 24 * 24 * 24 * 27 * 32 * 32;
  return flops / seconds / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 5;
  torch::set_num_threads(threads);
  const auto& preset = pgl::nn::preset("small");
  const int64_t batch = argc > 3 ? std::atoi(argv[3]) : preset.batch, patch = preset.patch;

  pgl::ssl::SslOptions options;
  options.backbone = preset.backbone_options();
  const int64_t c0 = options.backbone.base();
  const std::array<int64_t, 3> shape{patch, patch, patch};
  const double backbone = static_cast<double>(pgl::nn::resunet_forward_macs(options.backbone, shape));
  const double projector =
      static_cast<double>(pgl::nn::local_head_forward_macs(pgl::nn::local_projector_options(c0), shape));
  const double predictor =
      static_cast<double>(pgl::nn::local_head_forward_macs(pgl::nn::local_predictor_options(c0), shape));
  const double views = 2.0 * static_cast<double>(batch);
  const double step_flops = 2.0 * views * (3.0 * (backbone + projector + predictor) + (backbone + projector));

  std::printf("PGL step, preset small (base %lld, levels %lld), batch %lld, patch %lld^3, %d threads\n",
              static_cast<long long>(preset.base), static_cast<long long>(preset.levels),
              static_cast<long long>(batch), static_cast<long long>(patch), threads);
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  std::printf("load average %s, OMP_WAIT_POLICY=%s (passive helps a lot when other jobs share the cores)\n",
              load_average().c_str(), wait_policy ? wait_policy : "(unset)");
  std::printf("analytic conv FLOPs per step: %.1f GFLOP (backbone forward %.2f GFLOP per view)\n",
              step_flops / 1e9, 2.0 * backbone / 1e9);
  std::printf("baseline Conv3d 32->32 k3 on 2x24^3 forward: %.1f GFLOP/s\n", conv_baseline_gflops());

  const pgl::ssl::SslBatch data = make_batch(batch, patch);
  for (bool bf16 : {false, true}) {
    torch::manual_seed(1);
    pgl::ssl::PglModel model(options);
    const std::vector<double> seconds = time_steps(model, data, bf16, 2, steps);
    // Median and best step: other jobs share the cores, the best step is the least disturbed one.
    for (const auto& [label, s] :
         {std::pair{"median", seconds[seconds.size() / 2]}, std::pair{"best", seconds[0]}}) {
      std::printf("%-5s %-6s %8.1f ms/step  %6.2f samples/s  %6.1f GFLOP/s\n", bf16 ? "bf16" : "fp32", label,
                  1e3 * s, static_cast<double>(batch) / s, step_flops / s / 1e9);
    }
  }
  return 0;
}
