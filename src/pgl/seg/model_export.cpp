#include "pgl/seg/model_export.h"

#include <filesystem>

#include "pgl/core/error.h"
#include "pgl/core/hash.h"
#include "pgl/core/json_file.h"
#include "pgl/core/version.h"
#include "pgl/train/checkpoint.h"
#include "pgl/train/run_folder.h"

namespace pgl::seg {
namespace fs = std::filesystem;

std::string export_model(const std::string& run_folder, const std::string& out_path) {
  const std::string path = train::find_checkpoint(run_folder, {"best", "final"});
  if (path.empty()) throw Error(run_folder, "no finished fine-tuning here (checkpoints/best.pt or final.pt)");
  train::Checkpoint ck = train::load_checkpoint(path);
  if (ck.meta.value("kind", "") != "finetune")
    throw Error(path, "not a fine-tuned model (a pretraining run exports its backbone: pgl export RUN)");

  // The weights' hash: their names, shapes and bytes, so that a copy can be checked against the record.
  std::string bytes;
  for (const auto& item : ck.state) {
    const torch::Tensor t = item.value().contiguous();
    bytes += item.key();
    for (int64_t d : t.sizes()) bytes += "," + std::to_string(d);
    bytes.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
  }
  const std::string weights_hash = fnv1a_hex(bytes);

  const nlohmann::json config = ck.meta.value("config", nlohmann::json::object());
  nlohmann::json provenance = {{"run", fs::absolute(run_folder).lexically_normal().string()},
                               {"checkpoint", fs::path(path).filename().string()},
                               {"data", config.value("data", "")},
                               {"init", config.value("init", "")},
                               {"step", ck.meta.value("step", int64_t{0})},
                               {"steps", config.value("steps", int64_t{0})},
                               {"best_validation_mean_dice", ck.meta.value("best_mean_dice", -1.0)},
                               {"trained_by", ck.meta.value("pgl_version", "")},
                               {"exported_by", version()},
                               {"weights_hash", weights_hash}};
  const auto cases = fs::path(run_folder) / "cases.json";
  if (fs::exists(cases)) provenance["cases"] = read_json_file(cases.string());
  ck.meta["provenance"] = provenance;
  train::save_checkpoint(out_path, ck, nullptr);
  return weights_hash;
}

}  // namespace pgl::seg
