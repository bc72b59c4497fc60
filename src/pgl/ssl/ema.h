#pragma once
// The target network's exponential moving average (DESIGN.md §1.4, BYOL's schedule).
#include <torch/torch.h>

#include <cstdint>

namespace pgl::ssl {

// tau_base = kTauAuto: chosen from the run's length by auto_tau_base.
constexpr double kTauAuto = -1.0;

// min(0.996, 1 - 2 ln(100) / K). Under the cosine schedule below the target keeps a share
// prod_k tau_k ~ exp(-(1 - tau_base) K / 2) of its random initialisation after K steps: at most 1% with this
// base. BYOL's 0.996 suits runs of 2300 steps and more; after 400 steps it would still leave 45%.
double auto_tau_base(int64_t total_steps);

// tau_k = 1 - (1 - tau_base) (cos(pi k / K) + 1) / 2: tau_base at k = 0, 1 at k = K (k clamped to [0, K]).
double ema_tau(int64_t step, int64_t total_steps, double tau_base = 0.996);

// target <- tau target + (1 - tau) online for every parameter, buffers copied. Matched by name; throws
// pgl::Error when the two modules' parameters or buffers differ in name or shape.
void ema_update(torch::nn::Module& target, const torch::nn::Module& online, double tau);

// requires_grad = false on every parameter: no gradient ever reaches the target.
void freeze(torch::nn::Module& module);

}  // namespace pgl::ssl
