#include "pgl/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <torch/csrc/jit/serialization/import_read.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/train/archive_guard.h"

namespace pgl::train {
namespace {

constexpr const char* kFormat = "pgl-checkpoint-1";

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

// torch::pickle_load reads its buffer through LibTorch's VectorReader, which copies past the end of the
// buffer when a truncated file's zip directory points beyond it (ASan: heap-buffer-overflow in
// mz_zip_reader_init, found by fuzz/checkpoint.cpp). The same reading, through a reader that stops at the
// end.
class BoundedReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BoundedReader(std::vector<char> bytes) : bytes_(std::move(bytes)) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<size_t>(n, bytes_.size() - static_cast<size_t>(pos));
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  std::vector<char> bytes_;
};

// A zip archive written by LibTorch, opened for reading after the checks of archive_guard.h (on the archive
// and on every pickle in it).
std::unique_ptr<caffe2::serialize::PyTorchStreamReader> open_archive(std::vector<char> bytes,
                                                                     const std::string& path) {
  const ArchiveMembers members = check_torch_archive(bytes, path);
  auto reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(
      std::make_shared<BoundedReader>(std::move(bytes)));
  auto ends_with = [](const std::string& s, const char* end) {
    return s.size() >= std::strlen(end) && s.compare(s.size() - std::strlen(end), std::strlen(end), end) == 0;
  };
  for (const auto& name : reader->getAllRecords())
    if (ends_with(name, "pkl") || ends_with(name, ".py")) {  // data.pkl, constants.pkl, *.py.debug_pkl
      auto [data, size] = reader->getRecord(name);
      if (ends_with(name, "pkl"))  // data.pkl's tensors are in data/, constants.pkl's in constants/
        check_pickle(static_cast<const char*>(data.get()), size, path, members,
                     name.substr(0, name.find('.')) + "/");
      if (ends_with(name, ".py")) check_source(static_cast<const char*>(data.get()), size, path);
    }
  return reader;
}

c10::IValue load_pickle(const std::string& path) {
  auto bytes = read_bytes(path);
  try {
    auto reader = open_archive(std::move(bytes), path);
    return torch::jit::readArchiveAndTensors("data", "", "", /*type_resolver=*/{}, /*obj_loader=*/{},
                                             /*device=*/{}, *reader);
  } catch (const Error&) {
    throw;
  } catch (const std::exception&) {  // c10::Error, and std::exceptions of the unpickler (fuzz/checkpoint.cpp)
    throw Error(path, "not a readable checkpoint (truncated or not written by pgl)");
  }
}

// The metadata entries pgl reads, of the types it reads them as (a damaged file's "kind": 7 made
// nlohmann::json throw a type_error that named no file, found by fuzz/checkpoint.cpp).
void check_meta_types(const nlohmann::json& meta, const std::string& path) {
  using T = nlohmann::json::value_t;
  static const std::vector<std::pair<const char*, std::vector<T>>> kTypes = {
      {"kind", {T::string}},
      {"method", {T::string}},
      {"pgl_version", {T::string}},
      {"step", {T::number_unsigned, T::number_integer}},
      {"skipped_steps", {T::number_unsigned, T::number_integer}},
      {"val_rounds_since_best", {T::number_unsigned, T::number_integer}},
      {"classes", {T::number_unsigned, T::number_integer}},
      {"backbone_parameters", {T::number_unsigned, T::number_integer}},
      {"best_mean_dice", {T::number_float, T::number_unsigned, T::number_integer}},
      {"plateau_stopped", {T::boolean}},
      {"config", {T::object}},
      {"plan", {T::object}},
      {"backbone", {T::object}},
      {"postprocessing", {T::object, T::null}},
      {"grad_scaler", {T::object}},
      {"provenance", {T::object, T::null}}};
  for (const auto& [key, types] : kTypes)
    if (meta.contains(key) && std::find(types.begin(), types.end(), meta.at(key).type()) == types.end())
      throw Error(path, fmt::format("checkpoint metadata: \"{}\" is a {}", key, meta.at(key).type_name()));
}

// The first line of an exception's message (c10::Error appends a backtrace).
std::string first_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string s = c10_error ? c10_error->msg() : e.what();
  return s.substr(0, s.find('\n'));
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
  const std::vector<char> bytes = torch::pickle_save(root);
  write_bytes_atomically(path, bytes.data(), bytes.size());
}

Checkpoint load_checkpoint(const std::string& path, torch::optim::Optimizer* optimizer) {
  c10::IValue value = load_pickle(path);
  // A damaged or foreign file can hold anything: a missing key, a value of another type, optimiser or RNG
  // state that does not fit end in one error naming the file, not in a c10::Error or std::out_of_range (found
  // by fuzz/checkpoint.cpp).
  try {
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
    if (!c.meta.is_object()) throw Error(path, "checkpoint metadata is not a JSON object");
    check_meta_types(c.meta, path);
    c.state = from_dict(root.at("state"), path);
    if (optimizer) {
      if (!root.contains("optimizer")) throw Error(path, "checkpoint has no optimiser state to resume from");
      at::Tensor t = root.at("optimizer").toTensor().contiguous();
      std::string bytes(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()));
      open_archive({bytes.begin(), bytes.end()}, path);  // a TorchScript archive: the same checks
      std::istringstream stream(bytes);
      torch::serialize::InputArchive archive;
      // The optimiser state goes where its parameters are, whichever device wrote it.
      if (!optimizer->param_groups().empty() && !optimizer->param_groups()[0].params().empty())
        archive.load_from(stream, optimizer->param_groups()[0].params()[0].device());
      else
        archive.load_from(stream);
      optimizer->load(archive);
    }
    if (root.contains("torch_rng")) {
      c.rng_state = root.at("torch_rng").toTensor();
      // Validated on a generator of its own: loading never touches the global RNG.
      at::make_generator<at::CPUGeneratorImpl>().set_state(c.rng_state);
    }
    return c;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path, "damaged or foreign checkpoint: " + first_line(e));
  }
}

void restore_rng_state(const Checkpoint& checkpoint) {
  if (!checkpoint.rng_state.defined()) return;
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(checkpoint.rng_state);
}

void save_state_dict(const std::string& path, const NamedTensors& tensors) {
  const std::vector<char> bytes = torch::pickle_save(to_dict(tensors));
  write_bytes_atomically(path, bytes.data(), bytes.size());
}

NamedTensors load_state_dict(const std::string& path) { return from_dict(load_pickle(path), path); }

NamedTensors tensors_under(const NamedTensors& state, const std::string& prefix) {
  NamedTensors out;
  for (const auto& item : state)
    if (item.key().rfind(prefix, 0) == 0) out.insert(item.key().substr(prefix.size()), item.value());
  return out;
}

}  // namespace pgl::train
