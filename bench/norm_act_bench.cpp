// The fused InstanceNorm + residual + LeakyReLU kernel (pgl/nn/norm_act.h) against LibTorch's composition
// of the same ops (the baseline, in the same process), on the feature-map shapes of the small preset's
// PGL step (batch 2 x 2 views; c0 = 8 at 48^3, then 16 at 24^3 and 32 at 12^3): forward under no-grad,
// and forward + backward (torch::autograd::grad with respect to the input, weight and bias, so no
// gradient accumulation is timed). Median over repeats; ratio = fused / LibTorch.
// Usage: bench_norm_act [threads=2] [repeats=15] [bf16]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "pgl/nn/norm_act.h"

namespace {

double median_ms(const std::function<void()>& work, int repeats) {
  work();  // warm-up: allocator and first-touch costs
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    work();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 15;
  const bool bf16 = argc > 3 && std::strcmp(argv[3], "bf16") == 0;
  torch::set_num_threads(threads);
  std::printf("threads %d, %s, median of %d; ratio = fused / LibTorch ops\n", threads, bf16 ? "bf16" : "fp32",
              repeats);
  std::printf("%-22s %-9s %10s %10s %6s %12s %12s %6s\n", "shape", "residual", "fwd lt", "fwd fused", "ratio",
              "fwd+bwd lt", "fwd+bwd fus", "ratio");
  const std::vector<std::vector<int64_t>> shapes{
      {4, 8, 48, 48, 48}, {4, 16, 24, 24, 24}, {4, 32, 12, 12, 12}};
  for (const auto& shape : shapes) {
    for (const bool with_residual : {false, true}) {
      torch::manual_seed(0);
      const auto dtype = bf16 ? torch::kBFloat16 : torch::kFloat;
      const auto x = torch::randn(shape).to(dtype).requires_grad_();
      const auto w = (torch::rand({shape[1]}) + 0.5).requires_grad_(),
                 b = torch::randn({shape[1]}).requires_grad_();
      const auto r = with_residual ? torch::randn(shape).to(dtype).requires_grad_() : torch::Tensor();
      const auto g = torch::randn(shape).to(dtype);
      double ms[2][2];
      for (const bool fused : {false, true}) {
        pgl::nn::set_fused_norm_act_enabled(fused);
        ms[fused][0] = median_ms(
            [&] {
              torch::NoGradGuard no_grad;
              pgl::nn::instance_norm_act(x, w, b, r, 0.01);
            },
            repeats);
        ms[fused][1] = median_ms(
            [&] {
              const auto y = pgl::nn::instance_norm_act(x, w, b, r, 0.01);
              torch::autograd::grad({y}, {x, w, b}, {g});
            },
            repeats);
      }
      char name[64];
      std::snprintf(name, sizeof name, "%lldx%lldx%lld^3", static_cast<long long>(shape[0]),
                    static_cast<long long>(shape[1]), static_cast<long long>(shape[2]));
      std::printf("%-22s %-9s %10.2f %10.2f %6.2f %12.2f %12.2f %6.2f\n", name, with_residual ? "yes" : "no",
                  ms[0][0], ms[1][0], ms[1][0] / ms[0][0], ms[0][1], ms[1][1], ms[1][1] / ms[0][1]);
    }
  }
  return 0;
}
