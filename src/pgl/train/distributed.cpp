#include "pgl/train/distributed.h"

// The Gloo process group is compiled only where this macro is set; LibTorch's own build sets it, a user of
// its headers must too.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "pgl/core/error.h"
#include "pgl/core/progress.h"
#include "pgl/train/rank_group.h"

namespace pgl::train {
namespace {

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

int env_int(const char* name, int fallback) {
  const char* text = env(name);
  if (!text) return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 0 || value > 1'000'000)
    throw Error(fmt::format("environment variable {}={} is not a valid count or index", name, text));
  return static_cast<int>(value);
}

// 25 MB per all-reduce: few calls for small networks, overlap of transfers for large ones (PyTorch's DDP
// bucket size).
constexpr int64_t kBucketBytes = 25 << 20;

class C10dRankGroup : public RankGroup {
 public:
  C10dRankGroup(const LaunchEnvironment& env, double timeout_seconds) : env_(env) {
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env.master_port);
    options.isServer = env.rank == 0 && !env.agent_store;
    if (!env.agent_store) options.numWorkers = static_cast<size_t>(env.world_size);
    options.waitWorkers = true;
    options.timeout = timeout;
    c10::intrusive_ptr<c10d::Store> tcp;
    try {
      tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    } catch (const std::exception& e) {
      throw Error(
          fmt::format("rank {} of {}: the rendezvous store at {}:{} ({}) did not come up within {:g} s "
                      "(--dist-timeout): {}",
                      env.rank, env.world_size, env.master_addr, env.master_port,
                      options.isServer ? "served by this rank" : "served by rank 0", timeout_seconds,
                      first_line(e.what())));
    }
    // Keys of a torchrun restart must not meet those of the attempt before it.
    store_ = c10::make_intrusive<c10d::PrefixStore>(
        env.agent_store ? fmt::format("/pgl/attempt_{}", env.restart_count) : "/pgl", tcp);
    auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"))
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
    else if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost")
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    guarded("connecting the process group", [&] {
      group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, env.rank, env.world_size, gloo);
    });
  }

  int rank() const override { return env_.rank; }
  int world_size() const override { return env_.world_size; }

  void average_gradients(const std::vector<torch::Tensor>& parameters) override {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> grads;
    for (const auto& p : parameters) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      grads.push_back(p.grad());
    }
    // Flat buckets, all sent before any is awaited.
    std::vector<std::vector<torch::Tensor>> buckets;
    std::vector<std::vector<torch::Tensor>> flats;
    int64_t bytes = 0;
    for (const auto& g : grads) {
      const auto size = static_cast<int64_t>(g.nbytes());
      if (buckets.empty() || (bytes + size > kBucketBytes && !buckets.back().empty())) {
        buckets.emplace_back();
        bytes = 0;
      }
      buckets.back().push_back(g);
      bytes += size;
    }
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    guarded("all-reduce of the gradients", [&] {
      for (const auto& bucket : buckets) {
        std::vector<torch::Tensor> parts;
        for (const auto& g : bucket) parts.push_back(g.reshape({-1}));
        flats.push_back({torch::cat(parts).to(torch::kCPU)});  // Gloo reduces CPU tensors (no NCCL here)
        works.push_back(group_->allreduce(flats.back()));
      }
      for (auto& work : works) work->wait();
    });
    const double scale = 1.0 / env_.world_size;
    for (size_t b = 0; b < buckets.size(); ++b) {
      int64_t offset = 0;
      for (auto& g : buckets[b]) {
        g.copy_(flats[b][0].narrow(0, offset, g.numel()).view_as(g)).mul_(scale);
        offset += g.numel();
      }
    }
  }

  void broadcast(const std::vector<torch::Tensor>& tensors) override {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts;
    for (const auto& t : tensors) parts.push_back(t.reshape({-1}).to(torch::kCPU).to(torch::kFloat64));
    if (parts.empty()) return;
    std::vector<torch::Tensor> flat{torch::cat(parts)};
    guarded("broadcast of rank 0's weights", [&] { group_->broadcast(flat)->wait(); });
    int64_t offset = 0;
    for (const auto& t : tensors) {
      t.copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }

  double mean(double value) override {
    std::vector<torch::Tensor> t{torch::full({1}, value, torch::kFloat64)};
    guarded("all-reduce of the loss", [&] { group_->allreduce(t)->wait(); });
    return t[0].item<double>() / env_.world_size;
  }

  void sum(std::vector<double>& values) override {
    if (values.empty()) return;
    std::vector<torch::Tensor> t{torch::tensor(values, torch::kFloat64)};
    guarded("all-reduce of the validation scores", [&] { group_->allreduce(t)->wait(); });
    const auto* summed = t[0].data_ptr<double>();
    for (size_t k = 0; k < values.size(); ++k) values[k] = summed[k];
  }

  int64_t from_rank0(int64_t value) override {
    std::vector<torch::Tensor> t{torch::full({1}, value, torch::kInt64)};
    guarded("broadcast from rank 0", [&] { group_->broadcast(t)->wait(); });
    return t[0].item<int64_t>();
  }

  std::string from_rank0(const std::string& text) override {
    const std::string key = fmt::format("text/{}", texts_++);
    std::string out = text;
    guarded("exchange through the store", [&] {
      if (env_.rank == 0) {
        store_->set(key, std::vector<uint8_t>(text.begin(), text.end()));
      } else {
        const std::vector<uint8_t> bytes = store_->get(key);
        out.assign(bytes.begin(), bytes.end());
      }
    });
    return out;
  }

  void barrier() override {
    guarded("barrier", [&] { group_->barrier()->wait(); });
  }

  void check_identical(const std::vector<torch::Tensor>& tensors, const std::string& what) override {
    // FNV-1a over the bytes: equal weights give equal hashes on every rank.
    uint64_t hash = 0xcbf29ce484222325ull;
    for (const auto& t : tensors) {
      torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
      const auto* bytes = static_cast<const uint8_t*>(c.data_ptr());
      for (size_t i = 0; i < c.nbytes(); ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ull;
    }
    const auto signed_hash = static_cast<int64_t>(hash);
    std::vector<torch::Tensor> low{torch::full({1}, signed_hash, torch::kInt64)};
    std::vector<torch::Tensor> high{torch::full({1}, signed_hash, torch::kInt64)};
    guarded("comparison of the weights", [&] {
      c10d::AllreduceOptions min, max;
      min.reduceOp = c10d::ReduceOp::MIN;
      max.reduceOp = c10d::ReduceOp::MAX;
      group_->allreduce(low, min)->wait();
      group_->allreduce(high, max)->wait();
    });
    if (low[0].item<int64_t>() != high[0].item<int64_t>())
      throw Error(
          fmt::format("rank {} of {}: the ranks hold different {}; data-parallel training has diverged",
                      env_.rank, env_.world_size, what));
  }

 private:
  static std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

  // Runs a collective; a failure becomes one error that says which rank is gone, as far as the store can
  // tell: the ranks still alive mark themselves, and those that do not within a few seconds are named.
  template <class F>
  void guarded(const char* what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      throw Error(fmt::format("rank {} of {}: {} failed: {}. {}", env_.rank, env_.world_size, what,
                              first_line(e.what()), missing_ranks()));
    }
  }

  std::string missing_ranks() {
    const std::string store_owner = env_.agent_store ? "torchrun's agent" : "rank 0";
    try {
      store_->set(fmt::format("failed/{}", env_.rank), std::vector<uint8_t>{1});
      std::this_thread::sleep_for(std::chrono::seconds(3));
      std::string missing;
      for (int r = 0; r < env_.world_size; ++r)
        if (!store_->check({fmt::format("failed/{}", r)}))
          missing += (missing.empty() ? "" : ", ") + std::to_string(r);
      if (missing.empty()) return "Every rank reports the failure.";
      return fmt::format("Rank(s) {} stopped or stopped answering; this rank stops too.", missing);
    } catch (const std::exception&) {
      return fmt::format("The rendezvous store, served by {}, is gone too: {} has probably stopped.",
                         store_owner, store_owner);
    }
  }

  LaunchEnvironment env_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  int64_t texts_ = 0;
};

}  // namespace

LaunchEnvironment launch_environment() {
  LaunchEnvironment e;
  if (env("WORLD_SIZE") || env("RANK")) {
    e.launcher = env("TORCHELASTIC_RUN_ID") ? "torchrun" : "environment";
    e.world_size = env_int("WORLD_SIZE", 1);
    e.rank = env_int("RANK", 0);
    e.local_rank = env_int("LOCAL_RANK", 0);
    e.agent_store =
        env("TORCHELASTIC_USE_AGENT_STORE") && std::string(env("TORCHELASTIC_USE_AGENT_STORE")) == "True";
    e.restart_count = env_int("TORCHELASTIC_RESTART_COUNT", 0);
  } else if (env("SLURM_PROCID") && env("SLURM_NTASKS")) {
    e.launcher = "SLURM";
    e.world_size = env_int("SLURM_NTASKS", 1);
    e.rank = env_int("SLURM_PROCID", 0);
    e.local_rank = env_int("SLURM_LOCALID", 0);
  } else {
    return e;
  }
  if (e.world_size < 1) throw Error("environment: WORLD_SIZE must be at least 1");
  if (e.rank >= e.world_size)
    throw Error(fmt::format("environment: rank {} is outside a world of {} processes", e.rank, e.world_size));
  if (e.distributed()) {
    const char* addr = env("MASTER_ADDR");
    if (!addr && e.launcher == "SLURM") addr = env("SLURM_LAUNCH_NODE_IPADDR");
    if (!addr)
      throw Error(fmt::format("environment: a job of {} processes needs MASTER_ADDR (the host of rank 0)",
                              e.world_size));
    e.master_addr = addr;
    e.master_port = env_int("MASTER_PORT", 29500);
    if (e.master_port < 1 || e.master_port > 65535)
      throw Error(fmt::format("environment: MASTER_PORT={} is not a port", e.master_port));
  }
  return e;
}

bool resumes_after_restart(const LaunchEnvironment& env, const std::string& run_folder) {
  return env.restart_count > 0 && std::filesystem::exists(std::filesystem::path(run_folder) / "config.json");
}

std::unique_ptr<RankGroup> make_rank_group(const LaunchEnvironment& env, double timeout_seconds) {
  if (!env.distributed()) return std::make_unique<RankGroup>();
  if (env.rank != 0) Progress::set_quiet(true);  // one progress bar per job: rank 0's
  return std::make_unique<C10dRankGroup>(env, timeout_seconds);
}

}  // namespace pgl::train
