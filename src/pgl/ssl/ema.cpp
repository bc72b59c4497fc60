#include "pgl/ssl/ema.h"

#include <algorithm>
#include <cmath>

#include "pgl/core/error.h"

namespace pgl::ssl {

double auto_tau_base(int64_t total_steps) {
  const double k = static_cast<double>(std::max<int64_t>(total_steps, 1));
  return std::min(0.996, 1.0 - 2.0 * std::log(100.0) / k);
}

double ema_tau(int64_t step, int64_t total_steps, double tau_base) {
  if (total_steps <= 0) return 1.0;
  if (tau_base == kTauAuto) tau_base = auto_tau_base(total_steps);
  const double k = static_cast<double>(std::clamp<int64_t>(step, 0, total_steps));
  const double progress = k / static_cast<double>(total_steps);
  return 1.0 - (1.0 - tau_base) * (std::cos(M_PI * progress) + 1.0) / 2.0;
}

namespace {

void check_same(const torch::OrderedDict<std::string, torch::Tensor>& target,
                const torch::OrderedDict<std::string, torch::Tensor>& online, const char* what) {
  if (target.size() != online.size())
    throw Error(std::string("EMA: target and online differ in the number of ") + what);
  for (const auto& item : online) {
    const torch::Tensor* t = target.find(item.key());
    if (!t || !t->sizes().equals(item.value().sizes()))
      throw Error(std::string("EMA: target has no matching ") + what + " '" + item.key() + "'");
  }
}

}  // namespace

void ema_update(torch::nn::Module& target, const torch::nn::Module& online, double tau) {
  torch::NoGradGuard no_grad;
  auto target_params = target.named_parameters();
  const auto online_params = online.named_parameters();
  check_same(target_params, online_params, "parameters");
  for (const auto& item : online_params) target_params[item.key()].mul_(tau).add_(item.value(), 1.0 - tau);
  auto target_buffers = target.named_buffers();
  const auto online_buffers = online.named_buffers();
  check_same(target_buffers, online_buffers, "buffers");
  for (const auto& item : online_buffers) target_buffers[item.key()].copy_(item.value());
}

void freeze(torch::nn::Module& module) {
  for (auto& p : module.parameters()) p.set_requires_grad(false);
}

}  // namespace pgl::ssl
