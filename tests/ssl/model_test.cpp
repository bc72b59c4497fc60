#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>

#include "pgl/augment/views.h"
#include "pgl/core/error.h"
#include "pgl/nn/model_stats.h"
#include "pgl/ssl/byol_model.h"
#include "pgl/ssl/genesis_model.h"
#include "pgl/ssl/method.h"
#include "pgl/ssl/pgl_model.h"

namespace {

using pgl::ssl::SslBatch;
using pgl::ssl::SslOptions;

SslOptions tiny_options() {
  SslOptions options;
  options.backbone = pgl::nn::ResUNet3DOptions(1).base(4).levels(3);
  options.aligner.output_size(8);
  return options;
}

// Two view pairs of patch 16 from a smooth random volume.
SslBatch make_batch(uint64_t seed) {
  torch::manual_seed(static_cast<uint64_t>(seed));
  const torch::Tensor coarse = torch::randn({1, 1, 6, 6, 6});
  const torch::Tensor volume =
      torch::nn::functional::interpolate(coarse, torch::nn::functional::InterpolateFuncOptions()
                                                     .size(std::vector<int64_t>{40, 40, 40})
                                                     .mode(torch::kTrilinear)
                                                     .align_corners(true))[0][0];
  pgl::augment::ViewOptions options;
  options.patch = {16, 16, 16};
  std::mt19937_64 rng(seed);
  SslBatch batch;
  std::vector<torch::Tensor> v1, v2;
  for (int b = 0; b < 2; ++b) {
    const auto pair = pgl::augment::make_view_pair(volume, options, rng);
    v1.push_back(pair.view1);
    v2.push_back(pair.view2);
    batch.priors1.push_back(pair.priors1);
    batch.priors2.push_back(pair.priors2);
  }
  batch.view1 = torch::stack(v1);
  batch.view2 = torch::stack(v2);
  batch.input = batch.view1;
  batch.target = batch.view2;
  return batch;
}

TEST(PglModel, TargetStartsAsACopyAndNeverGetsGradients) {
  pgl::ssl::PglModel model(tiny_options());
  const auto state = model.named_state();
  EXPECT_TRUE(
      torch::equal(state["online.backbone.stem.conv.weight"], state["target.backbone.stem.conv.weight"]));
  EXPECT_TRUE(torch::equal(state["online.projector.conv2.weight"], state["target.projector.conv2.weight"]));
  EXPECT_FALSE(state.contains("target.predictor.conv1.weight"));

  const torch::Tensor loss = model.loss(make_batch(1));
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_GT(loss.item<double>(), 0.0);
  EXPECT_LT(loss.item<double>(), 8.0);
  loss.backward();
  for (const auto& p : model.named_parameters()) {
    const bool is_target = p.key().rfind("target.", 0) == 0;
    EXPECT_EQ(p.value().requires_grad(), !is_target) << p.key();
    EXPECT_EQ(p.value().grad().defined(), !is_target) << p.key();
  }
  EXPECT_EQ(model.online_parameters().size(), model.backbone->parameters().size() +
                                                  model.projector->parameters().size() +
                                                  model.predictor->parameters().size());
}

TEST(PglModel, UpdateTargetAppliesTheEma) {
  pgl::ssl::PglModel model(tiny_options());
  {
    torch::NoGradGuard no_grad;
    model.backbone->named_parameters()["stem.conv.weight"].add_(1.0);
  }
  const torch::Tensor t0 = model.target_backbone->named_parameters()["stem.conv.weight"].clone();
  const torch::Tensor o = model.backbone->named_parameters()["stem.conv.weight"].detach();
  model.update_target(0, 100);  // tau = 0.996
  EXPECT_TRUE(torch::allclose(model.target_backbone->named_parameters()["stem.conv.weight"],
                              0.996 * t0 + 0.004 * o, 1e-6, 1e-6));
  EXPECT_DOUBLE_EQ(model.target_tau(100, 100), 1.0);
}

TEST(PglModel, LossDecreasesWithSgd) {
  torch::manual_seed(5);
  pgl::ssl::PglModel model(tiny_options());
  const SslBatch batch = make_batch(2);
  torch::optim::SGD optimizer(model.online_parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  const int steps = 20;
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    torch::Tensor loss = model.loss(batch);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    model.update_target(step, steps);
    losses.push_back(loss.item<double>());
  }
  EXPECT_LT(losses.back(), 0.7 * losses.front()) << losses.front() << " -> " << losses.back();
}

TEST(PglModel, NamedStateRoundTrips) {
  pgl::ssl::PglModel a(tiny_options()), b(tiny_options());
  b.load_named_state(a.named_state());
  for (const auto& item : a.named_state())
    EXPECT_TRUE(torch::equal(item.value(), b.named_state()[item.key()]));
  torch::OrderedDict<std::string, torch::Tensor> partial;
  partial.insert("online.backbone.stem.conv.weight", torch::zeros({1}));
  EXPECT_THROW(b.load_named_state(partial), pgl::Error);
}

TEST(PglModel, RunsUnderBf16Autocast) {
  pgl::ssl::PglModel model(tiny_options());
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  torch::Tensor loss;
  try {
    loss = model.loss(make_batch(3));
  } catch (...) {
    at::autocast::set_cpu_enabled(false);
    throw;
  }
  at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
  EXPECT_EQ(loss.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(std::isfinite(loss.item<double>()));
  loss.backward();
  EXPECT_TRUE(model.backbone->named_parameters()["stem.conv.weight"].grad().defined());
}

TEST(SslMethods, FactoryMakesEveryMethod) {
  const SslBatch batch = make_batch(4);
  for (const std::string name : {"pgl", "byol", "genesis"}) {
    auto method = pgl::ssl::make_ssl_method(name, tiny_options());
    EXPECT_EQ(method->method_name(), name);
    torch::Tensor loss = method->loss(batch);
    EXPECT_TRUE(std::isfinite(loss.item<double>())) << name;
    loss.backward();
    for (const auto& p : method->online_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
    method->update_target(0, 10);
    EXPECT_EQ(pgl::nn::count_parameters(*method->online_backbone()), 32'732) << name;
    EXPECT_TRUE(method->named_state().contains("online.backbone.enc.1.down.conv.weight")) << name;
  }
  EXPECT_THROW(pgl::ssl::make_ssl_method("simclr", tiny_options()), pgl::Error);
}

TEST(ByolModel, PriorsDoNotMatter) {
  pgl::ssl::ByolModel model(tiny_options());
  SslBatch batch = make_batch(5);
  const double a = model.loss(batch).item<double>();
  batch.priors1.clear();
  batch.priors2.clear();
  EXPECT_DOUBLE_EQ(model.loss(batch).item<double>(), a);
  EXPECT_TRUE(model.named_state().contains("target.projector.norm.weight"));
}

}  // namespace
