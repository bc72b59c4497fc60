#include "pgl/train/grad_scaler.h"

#include <cmath>

#include "pgl/core/error.h"

namespace pgl::train {

GradScaler::GradScaler(double initial_scale) : scale_(initial_scale) {
  if (initial_scale < 0 || !std::isfinite(initial_scale))
    throw Error("--loss-scale must be 0 (off) or a positive number");
  if (initial_scale > 0) scale_ = std::exp2(std::round(std::log2(initial_scale)));  // exact scaling
}

torch::Tensor GradScaler::scaled(const torch::Tensor& loss) const { return enabled() ? loss * scale_ : loss; }

bool GradScaler::unscale(const std::vector<torch::Tensor>& parameters) {
  if (!enabled()) return true;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> finite;  // on the gradients' device: one transfer to the host in all
  for (const auto& p : parameters)
    if (p.grad().defined()) finite.push_back(torch::isfinite(p.grad()).all());
  const bool all_finite = finite.empty() || torch::stack(finite).all().item<bool>();
  if (!all_finite && scale_ > kMinScale) {
    for (const auto& p : parameters)
      if (p.grad().defined()) p.grad().zero_();
    scale_ *= 0.5;
    good_steps_ = 0;
    ++overflows_;
    return false;
  }
  for (const auto& p : parameters)
    if (p.grad().defined()) p.grad().mul_(1.0 / scale_);
  return true;  // at the floor, non-finite gradients are left to the non-finite guard: a fault
}

void GradScaler::step_taken() {
  if (!enabled()) return;
  if (++good_steps_ >= kGrowthInterval) {
    scale_ *= 2;
    good_steps_ = 0;
  }
}

nlohmann::json GradScaler::to_json() const {
  return {{"scale", scale_}, {"good_steps", good_steps_}, {"overflows", overflows_}};
}

void GradScaler::load(const nlohmann::json& meta, const std::string& source) {
  if (!enabled() || !meta.is_object() || !meta.contains("grad_scaler")) return;
  try {
    const auto& s = meta.at("grad_scaler");
    const double scale = s.at("scale").get<double>();
    if (!(scale > 0) || !std::isfinite(scale)) throw Error(source, "grad_scaler: the scale must be positive");
    scale_ = scale;
    good_steps_ = s.at("good_steps").get<int64_t>();
    overflows_ = s.at("overflows").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source, std::string("malformed grad_scaler entry: ") + e.what());
  }
}

}  // namespace pgl::train
