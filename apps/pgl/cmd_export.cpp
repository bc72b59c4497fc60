// pgl export: a pretraining run's backbone as a PyTorch state dict (+ a JSON description), or a fine-tuning
// run packed into one model file for `pgl predict --model FILE`.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "pgl/core/json_file.h"
#include "pgl/seg/model_export.h"
#include "pgl/train/pretrain.h"

namespace pgl::cli {

void register_export(CLI::App& app) {
  auto run = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("export",
                                 "Export a pretraining run's backbone (weights.pt + weights.json), or pack a "
                                 "fine-tuning run into one model file");
  cmd->add_option("run", *run, "Pretraining or fine-tuning run folder")->required();
  cmd->add_option("--out", *out,
                  "Output file (.pt). Pretraining: a state dict, with a .json description beside it. "
                  "Fine-tuning: the packed model for pgl predict --model FILE")
      ->required();
  cmd->footer(
      "Examples: pgl export runs/pgl-tiny --out weights.pt   (Python: torch.load('weights.pt'))\n"
      "          pgl export runs/ft --out model.pt && pgl predict --model model.pt --input ct.nii.gz --out "
      "pred/");
  cmd->callback([run, out] {
    const auto config = std::filesystem::path(*run) / "config.json";
    // A fine-tuning run's config names its initialisation; a pretraining run's names its method.
    if (std::filesystem::exists(config) && read_json_file(config.string()).contains("init")) {
      const std::string hash = seg::export_model(*run, *out);
      std::printf("wrote %s (packed model, weights hash %s)\n", out->c_str(), hash.c_str());
    } else {
      train::export_backbone(*run, *out);
      std::printf("wrote %s\n", out->c_str());
    }
  });
}

}  // namespace pgl::cli
