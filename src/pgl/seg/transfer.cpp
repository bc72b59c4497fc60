#include "pgl/seg/transfer.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "pgl/core/error.h"
#include "pgl/train/run_folder.h"

namespace pgl::seg {
namespace fs = std::filesystem;

namespace {
std::string shape_text(const torch::Tensor& t) {
  std::string s;
  for (int64_t d : t.sizes()) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}
}  // namespace

InitWeights load_init_weights(const std::string& spec) {
  InitWeights init;
  init.source = spec;
  if (spec == "random") return init;
  if (fs::is_directory(spec)) {
    const std::string path = train::find_checkpoint(spec, {"final", "latest"});
    if (path.empty())
      throw Error(spec, "no checkpoint in this run folder (checkpoints/final.pt or latest.pt)");
    train::Checkpoint ck = train::load_checkpoint(path);  // checks the types of the entries read here
    std::string kind = ck.meta.value("kind", "");
    // A pretraining run holds online.backbone.*; a fine-tuning run holds backbone.* (re-fine-tuning).
    init.backbone = train::tensors_under(ck.state, kind == "pretrain" ? "online.backbone." : "backbone.");
    if (init.backbone.is_empty()) throw Error(path, "checkpoint holds no backbone weights");
    if (fs::path(path).filename() == "latest.pt") {
      const auto& steps = ck.meta.value("config", nlohmann::json::object()).value("steps", nlohmann::json(0));
      if (!steps.is_number_integer())
        throw Error(path, "checkpoint metadata: config.steps is not an integer");
      const auto planned = steps.get<int64_t>();
      init.warning = fmt::format(
          "WARNING: {} is an unfinished run (no checkpoints/final.pt): its weights are those of step {} of "
          "{} "
          "(checkpoints/latest.pt), not of a finished pretraining",
          spec, ck.meta.value("step", int64_t{0}), planned);
    }
    init.description = ck.meta;
    init.description.erase("config");
    return init;
  }
  if (!fs::exists(spec))
    throw Error(spec, "no such file or run folder (expected a run folder, weights.pt or 'random')");
  init.backbone = train::load_state_dict(spec);
  std::string json_path =
      (fs::path(spec).parent_path() / (fs::path(spec).stem().string() + ".json")).string();
  if (fs::exists(json_path)) {
    std::ifstream in(json_path);
    try {
      init.description = nlohmann::json::parse(in);
      // weights.json from before planning describes the network under "architecture" only.
      const auto& a = init.description.value("architecture", nlohmann::json::object());
      if (!init.description.contains("backbone") && a.contains("base") && a.contains("levels"))
        init.description["backbone"] = {
            {"base", a.at("base")}, {"levels", a.at("levels")}, {"in_channels", a.value("in_channels", 1)}};
    } catch (const nlohmann::json::exception&) {
      throw Error(json_path, "not valid JSON");
    }
  }
  return init;
}

std::string TransferReport::to_text() const {
  std::string s = fmt::format(
      "weight transfer from {}: {} loaded, {} missing, {} unexpected, {} shape-mismatched, "
      "{} newly initialised\n",
      source, loaded.size(), missing.size(), unexpected.size(), mismatched.size(), reinitialised.size());
  auto list = [&](const char* title, const std::vector<std::string>& names) {
    for (const auto& n : names) s += fmt::format("  {:<12} {}\n", title, n);
  };
  list("missing", missing);
  list("unexpected", unexpected);
  list("mismatched", mismatched);
  list("new", reinitialised);
  return s;
}

nlohmann::json TransferReport::to_json() const {
  return {{"source", source},         {"loaded", loaded},         {"missing", missing},
          {"unexpected", unexpected}, {"mismatched", mismatched}, {"reinitialised", reinitialised}};
}

bool is_encoder_name(const std::string& name) {
  return name.rfind("stem.", 0) == 0 || name.rfind("enc.", 0) == 0;
}

TransferReport transfer_backbone(SegNet& net, const InitWeights& init, bool allow_partial,
                                 bool encoder_only) {
  TransferReport report;
  report.source = init.source;
  for (const auto& item : net->named_parameters())
    if (item.key().rfind("backbone.", 0) != 0) report.reinitialised.push_back(item.key());
  if (init.source == "random") {
    for (const auto& item : net->backbone->named_parameters())
      report.reinitialised.push_back("backbone." + item.key());
    return report;
  }
  torch::NoGradGuard no_grad;
  std::set<std::string> seen;
  auto copy_into = [&](const torch::OrderedDict<std::string, torch::Tensor>& targets) {
    for (const auto& item : targets) {
      const std::string& name = item.key();
      seen.insert(name);
      if (encoder_only && !is_encoder_name(name)) {
        report.reinitialised.push_back("backbone." + name);
        continue;
      }
      const torch::Tensor* source = init.backbone.find(name);
      if (!source) {
        report.missing.push_back("backbone." + name);
      } else if (source->sizes() != item.value().sizes()) {
        report.mismatched.push_back(fmt::format("backbone.{} (model {}, weights {})", name,
                                                shape_text(item.value()), shape_text(*source)));
      } else {
        item.value().copy_(*source);
        report.loaded.push_back("backbone." + name);
      }
    }
  };
  copy_into(net->backbone->named_parameters());
  copy_into(net->backbone->named_buffers());
  for (const auto& item : init.backbone)
    if (!seen.count(item.key())) report.unexpected.push_back(item.key());
  if (!report.complete() && !allow_partial)
    throw Error(init.source,
                fmt::format("weights do not fit the network ({} missing, {} unexpected, {} shape-"
                            "mismatched; wrong --preset?). First: {}. Use --allow-partial to load what fits",
                            report.missing.size(), report.unexpected.size(), report.mismatched.size(),
                            !report.mismatched.empty() ? report.mismatched.front()
                            : !report.missing.empty()  ? report.missing.front()
                                                       : report.unexpected.front()));
  return report;
}

}  // namespace pgl::seg
