// pgl predict: label maps for new volumes with a fine-tuned model.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "pgl/core/error.h"
#include "pgl/core/memory.h"
#include "pgl/core/progress.h"
#include "pgl/data/dataset.h"
#include "pgl/io/volume_io.h"
#include "pgl/seg/predictor.h"
#include "pgl/train/distributed.h"
#include "pgl/train/runtime.h"
#include "run_options.h"

namespace pgl::cli {
namespace fs = std::filesystem;

namespace {

struct PredictOptions {
  std::string model, input, out, checkpoint;
  bool tta = false, save_probabilities = false;
  int threads = 2;
  int64_t window_batch = 0;
  std::string device = "cpu", blend = "auto", postprocessing = "stored";
};

// A file, a DICOM series folder, or a folder of volume files.
std::vector<std::pair<std::string, std::string>> inputs_of(const std::string& input) {
  std::vector<std::pair<std::string, std::string>> out;  // (path, case id)
  if (!fs::exists(input)) throw Error(input, "no such file or folder");
  if (!fs::is_directory(input)) return {{input, case_id_from_path(input)}};
  for (const auto& e : fs::directory_iterator(input))
    if (e.is_regular_file() && is_supported_image_path(e.path().string()) &&
        e.path().filename().string()[0] != '.')
      out.emplace_back(e.path().string(), case_id_from_path(e.path().string()));
  if (out.empty()) return {{input, fs::path(input).filename().string()}};  // a DICOM series
  std::sort(out.begin(), out.end());
  return out;
}

void run_predict(const PredictOptions& o) {
  train::configure_threads(o.threads);
  auto predictor = seg::Predictor::load(o.model, o.checkpoint, o.device);
  predictor.set_window_batch(o.window_batch);
  predictor.set_blending(o.blend);
  if (o.postprocessing == "none") predictor.set_postprocessing({});
  auto inputs = inputs_of(o.input);
  // Under torchrun or SLURM the ranks share the inputs (no collectives: each writes its own cases).
  const train::LaunchEnvironment launch = train::launch_environment();
  if (launch.distributed()) {
    std::vector<std::pair<std::string, std::string>> share;
    for (size_t i = 0; i < inputs.size(); ++i)
      if (static_cast<int>(i % static_cast<size_t>(launch.world_size)) == launch.rank)
        share.push_back(inputs[i]);
    std::printf("rank %d of %d: %zu of the %zu inputs\n", launch.rank, launch.world_size, share.size(),
                inputs.size());
    inputs = std::move(share);
    if (launch.rank != 0) Progress::set_quiet(true);
  }
  std::printf("model %s (%lld classes); %zu input(s)%s; post-processing: %s\n",
              predictor.checkpoint_path().c_str(), static_cast<long long>(predictor.classes()), inputs.size(),
              o.tta ? ", mirror TTA" : "", predictor.postprocessing().describe().c_str());
  Progress progress("predict", static_cast<int64_t>(inputs.size()), "case");
  int64_t done = 0;
  for (const auto& [path, id] : inputs) {
    require_memory(path, predictor.memory_needed(read_image_info(path).geometry, o.save_probabilities),
                   "predict it");  // before reading it: read_volume checks only its own share
    Volume volume = read_volume(path);
    std::vector<Volume> probabilities;
    LabelMap labels = predictor.predict(volume, o.tta, o.save_probabilities ? &probabilities : nullptr);
    std::string out_path = (fs::path(o.out) / (id + ".nii.gz")).string();
    write_label_map(labels, out_path);
    for (size_t k = 0; k < probabilities.size(); ++k)
      write_volume(probabilities[k], (fs::path(o.out) / fmt::format("{}_prob_{}.nii.gz", id, k)).string(),
                   Storage::Float32);
    progress.update(++done);
    std::printf("%s -> %s\n", path.c_str(), out_path.c_str());
  }
  progress.finish();
}

}  // namespace

void register_predict(CLI::App& app) {
  auto o = std::make_shared<PredictOptions>();
  auto* cmd = app.add_subcommand("predict", "Segment volumes with a fine-tuned model");
  cmd->add_option("--model", o->model, "Fine-tuning run folder, checkpoint, or packed model (pgl export)")
      ->required();
  cmd->add_option("--input", o->input, "Volume file, DICOM series folder, or folder of volumes")->required();
  cmd->add_option("--out", o->out, "Output folder (CASE.nii.gz label maps)")->required();
  cmd->add_option("--checkpoint", o->checkpoint, "best | final | latest (default: best, else final)");
  cmd->add_flag("--tta", o->tta, "Mirror test-time augmentation (8 flips; 8x slower)");
  cmd->add_flag("--save-probabilities", o->save_probabilities, "Also write CASE_prob_K.nii.gz per class");
  cmd->add_option("--threads", o->threads, "LibTorch threads")->capture_default_str();
  add_device_option(cmd, &o->device);
  cmd->add_option("--window-batch", o->window_batch,
                  "Windows per forward pass (0 = automatic: 8 for 32^3 patches, 4 for 48^3, 2 from 64^3; "
                  "lower it when memory is short)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--blend-on", o->blend,
                  "Where the windows are blended: auto (on the GPU when its accumulators fit in 2 GiB), cpu, "
                  "device")
      ->check(CLI::IsMember({"auto", "cpu", "device"}))
      ->capture_default_str();
  cmd->add_option("--postprocessing", o->postprocessing,
                  "stored (the connected-component rules chosen on validation after fine-tuning, in the "
                  "model) | none (the network's labels as they are)")
      ->check(CLI::IsMember({"stored", "none"}))
      ->capture_default_str();
  cmd->footer("Example: pgl predict --model runs/ft --input ct.nii.gz --out predictions/");
  cmd->callback([o] { run_predict(*o); });
}

}  // namespace pgl::cli
