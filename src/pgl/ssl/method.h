#pragma once
// SslMethod: the one interface the pretraining loop sees. PGL, BYOL and Models Genesis implement it, so the
// loop (src/pgl/train) treats them alike:
//
//   auto method = make_ssl_method("pgl", options);        // or construct PglModel etc. directly
//   method->to(device);
//   torch::optim::SGD optimizer(method->online_parameters(), ...);
//   for (step k = 0 .. K-1):
//     torch::Tensor loss = method->loss(batch);           // scalar; graph reaches online parameters only
//     optimizer.zero_grad(); loss.backward(); [all-reduce grads]; optimizer.step();
//     method->update_target(k, K);                        // EMA with tau_k (no-op for Genesis)
//     log method->target_spread()                         // near 0: the networks collapsed
//   export: method->online_backbone() (names: docs/architecture.md)
//
// Every method is a torch::nn::Module whose tree is the checkpoint state, with names
//   online.backbone.<ResUNet3D names>, online.projector.*, online.predictor.*, online.head.* (Genesis),
//   target.backbone.*, target.projector.*
// named_state() / load_named_state() give parameters and buffers together by those names. Target parameters
// have requires_grad = false and are never handed to the optimiser.
#include <torch/torch.h>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "pgl/augment/views.h"
#include "pgl/nn/resunet.h"
#include "pgl/ssl/aligner.h"

namespace pgl::ssl {

// Children of the "online" / "target" containers, by name.
using NamedModules = std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>;

// One batch; each method reads the fields it needs.
struct SslBatch {
  torch::Tensor view1, view2;                         // [N, 1, D, H, W] (PGL, BYOL)
  std::vector<augment::ViewPriors> priors1, priors2;  // N each (PGL)
  torch::Tensor input, target;                        // [N, 1, D, H, W] (Models Genesis)
};

struct SslOptions {
  nn::ResUNet3DOptions backbone;
  AlignerOptions aligner;   // PGL only
  double tau_base = 0.996;  // PGL and BYOL; pretraining passes its config's (ssl::kTauAuto by default)
};

class SslMethod : public torch::nn::Module {
 public:
  explicit SslMethod(const std::string& name) : torch::nn::Module(name) {}
  // "pgl", "byol" or "genesis".
  virtual std::string method_name() const = 0;
  // The scalar training loss of a batch (float32).
  virtual torch::Tensor loss(const SslBatch& batch) = 0;
  // What the optimiser updates (never the target).
  virtual std::vector<torch::Tensor> online_parameters() const = 0;
  // Called after optimizer.step() of step k (0-based) of K: the EMA update with tau_k. Default: nothing.
  virtual void update_target(int64_t step, int64_t total_steps) {}
  // The EMA momentum update_target(step, total) uses (1 when there is no target), for logs.
  virtual double target_tau(int64_t step, int64_t total_steps) const { return 1.0; }
  // The online backbone: what is exported and fine-tuned.
  virtual nn::ResUNet3D online_backbone() const = 0;
  // direction_spread() of the target projections of the last loss() call, for logs (NaN when the method
  // has no target: Genesis).
  double target_spread() const { return target_spread_; }

  // All parameters and buffers by name (online and target): the checkpoint state.
  torch::OrderedDict<std::string, torch::Tensor> named_state() const;
  // Copies a named_state() back in place; throws pgl::Error on a missing, unexpected or mis-shaped name.
  void load_named_state(const torch::OrderedDict<std::string, torch::Tensor>& state);

 protected:
  double target_spread_ = std::numeric_limits<double>::quiet_NaN();
};

// "pgl", "byol" or "genesis"; throws pgl::Error otherwise.
std::shared_ptr<SslMethod> make_ssl_method(const std::string& name, const SslOptions& options);

}  // namespace pgl::ssl
