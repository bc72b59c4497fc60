#include "pgl/ssl/method.h"

#include "pgl/core/error.h"
#include "pgl/ssl/byol_model.h"
#include "pgl/ssl/genesis_model.h"
#include "pgl/ssl/pgl_model.h"

namespace pgl::ssl {

torch::OrderedDict<std::string, torch::Tensor> SslMethod::named_state() const {
  torch::OrderedDict<std::string, torch::Tensor> state;
  for (const auto& item : named_parameters()) state.insert(item.key(), item.value());
  for (const auto& item : named_buffers()) state.insert(item.key(), item.value());
  return state;
}

void SslMethod::load_named_state(const torch::OrderedDict<std::string, torch::Tensor>& state) {
  auto own = named_state();
  for (const auto& item : state) {
    if (!own.contains(item.key())) throw Error("checkpoint: unexpected tensor '" + item.key() + "'");
  }
  torch::NoGradGuard no_grad;
  for (auto& item : own) {
    const torch::Tensor* source = state.find(item.key());
    if (!source) throw Error("checkpoint: missing tensor '" + item.key() + "'");
    if (!source->sizes().equals(item.value().sizes()))
      throw Error("checkpoint: tensor '" + item.key() + "' has the wrong shape");
    item.value().copy_(*source);
  }
}

std::shared_ptr<SslMethod> make_ssl_method(const std::string& name, const SslOptions& options) {
  if (name == "pgl") return std::make_shared<PglModel>(options);
  if (name == "byol") return std::make_shared<ByolModel>(options);
  if (name == "genesis") return std::make_shared<GenesisModel>(options);
  throw Error("unknown pretraining method '" + name + "' (expected pgl | byol | genesis)");
}

}  // namespace pgl::ssl
