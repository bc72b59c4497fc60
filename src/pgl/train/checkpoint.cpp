#include "pgl/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"

namespace pgl::train {
namespace {

constexpr const char* kFormat = "pgl-checkpoint-1";

void write_bytes_atomically(const std::string& path, const std::vector<char>& bytes) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw Error(path, "cannot write file (disk full?)");
  });
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot open file");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

c10::Dict<std::string, at::Tensor> to_dict(const NamedTensors& tensors) {
  c10::Dict<std::string, at::Tensor> d;
  for (const auto& item : tensors) d.insert(item.key(), item.value().detach().to(torch::kCPU).contiguous());
  return d;
}

NamedTensors from_dict(const c10::IValue& value, const std::string& path) {
  if (!value.isGenericDict()) throw Error(path, "not a pgl state dict");
  NamedTensors out;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor())
      throw Error(path, "state dict holds a non-tensor entry");
    out.insert(item.key().toStringRef(), item.value().toTensor());
  }
  return out;
}

c10::IValue load_pickle(const std::string& path) {
  auto bytes = read_bytes(path);
  try {
    return torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw Error(path, "not a readable checkpoint (truncated or not written by pgl)");
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint,
                     torch::optim::Optimizer* optimizer) {
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert(std::string("format"), std::string(kFormat));
  root.insert(std::string("meta"), checkpoint.meta.dump());
  root.insert(std::string("state"), to_dict(checkpoint.state));
  if (optimizer) {
    torch::serialize::OutputArchive archive;
    optimizer->save(archive);
    std::ostringstream stream;
    archive.save_to(stream);
    std::string bytes = stream.str();
    auto t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
    std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
    root.insert(std::string("optimizer"), t);
  }
  auto generator = at::detail::getDefaultCPUGenerator();
  root.insert(std::string("torch_rng"), generator.get_state());
  write_bytes_atomically(path, torch::pickle_save(root));
}

Checkpoint load_checkpoint(const std::string& path, torch::optim::Optimizer* optimizer) {
  c10::IValue value = load_pickle(path);
  if (!value.isGenericDict()) throw Error(path, "not a pgl checkpoint");
  auto root = value.toGenericDict();
  if (!root.contains("format") || root.at("format").toStringRef() != kFormat)
    throw Error(path, "not a pgl checkpoint (unknown format)");
  Checkpoint c;
  try {
    c.meta = nlohmann::json::parse(root.at("meta").toStringRef());
  } catch (const nlohmann::json::exception&) {
    throw Error(path, "checkpoint metadata is not valid JSON");
  }
  c.state = from_dict(root.at("state"), path);
  if (optimizer) {
    if (!root.contains("optimizer")) throw Error(path, "checkpoint has no optimiser state to resume from");
    at::Tensor t = root.at("optimizer").toTensor().contiguous();
    std::string bytes(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()));
    std::istringstream stream(bytes);
    torch::serialize::InputArchive archive;
    // The optimiser state goes where its parameters are, whichever device wrote it.
    c10::optional<torch::Device> device;
    if (!optimizer->param_groups().empty() && !optimizer->param_groups()[0].params().empty())
      device = optimizer->param_groups()[0].params()[0].device();
    archive.load_from(stream, device);
    optimizer->load(archive);
  }
  if (root.contains("torch_rng")) c.rng_state = root.at("torch_rng").toTensor();
  return c;
}

void restore_rng_state(const Checkpoint& checkpoint) {
  if (!checkpoint.rng_state.defined()) return;
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(checkpoint.rng_state);
}

void save_state_dict(const std::string& path, const NamedTensors& tensors) {
  write_bytes_atomically(path, torch::pickle_save(to_dict(tensors)));
}

NamedTensors load_state_dict(const std::string& path) { return from_dict(load_pickle(path), path); }

NamedTensors tensors_under(const NamedTensors& state, const std::string& prefix) {
  NamedTensors out;
  for (const auto& item : state)
    if (item.key().rfind(prefix, 0) == 0) out.insert(item.key().substr(prefix.size()), item.value());
  return out;
}

}  // namespace pgl::train
