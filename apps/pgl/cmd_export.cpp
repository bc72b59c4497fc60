// pgl export: the pretrained backbone as a PyTorch state dict (+ a JSON description).
#include <cstdio>

#include "commands.h"
#include "pgl/train/pretrain.h"

namespace pgl::cli {

void register_export(CLI::App& app) {
  auto run = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* cmd =
      app.add_subcommand("export", "Export a pretraining run's backbone as weights.pt + weights.json");
  cmd->add_option("run", *run, "Pretraining run folder")->required();
  cmd->add_option("--out", *out, "Output file (.pt); a .json description is written beside it")->required();
  cmd->footer("Example: pgl export runs/pgl-tiny --out weights.pt   (Python: torch.load('weights.pt'))");
  cmd->callback([run, out] {
    train::export_backbone(*run, *out);
    std::printf("wrote %s\n", out->c_str());
  });
}

}  // namespace pgl::cli
