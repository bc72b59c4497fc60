#include "pgl/seg/predictor.h"

#include <fmt/format.h>

#include <filesystem>

#include "pgl/core/error.h"
#include "pgl/io/spatial.h"
#include "pgl/plan/backbone.h"
#include "pgl/seg/finetune_config.h"
#include "pgl/seg/validation.h"
#include "pgl/train/checkpoint.h"
#include "pgl/train/device.h"
#include "pgl/train/run_folder.h"

namespace pgl::seg {
namespace fs = std::filesystem;

Predictor Predictor::load(const std::string& model, const std::string& which, const std::string& device) {
  const c10::Device where = train::resolve_device(device);  // a missing GPU fails before any work
  std::string path = model;
  if (fs::is_directory(model)) {
    path = train::find_checkpoint(model, which.empty() ? std::vector<std::string>{"best", "final", "latest"}
                                                       : std::vector<std::string>{which});
    if (path.empty()) throw Error(model, "no fine-tuned checkpoint in this run folder");
  }
  train::Checkpoint ck = train::load_checkpoint(path);
  if (ck.meta.value("kind", "") != "finetune")
    throw Error(path,
                "not a fine-tuned segmentation model (pretraining runs are used with `pgl finetune --init`)");
  Predictor p;
  p.checkpoint_ = path;
  p.plan_ = PreprocessingPlan::from_json(ck.meta.at("plan"), path);
  p.net_ = SegNet(plan::backbone_options_from_json(ck.meta.at("backbone"), path),
                  ck.meta.at("classes").get<int64_t>());
  torch::NoGradGuard no_grad;
  for (auto& item : p.net_->named_parameters()) {
    const torch::Tensor* t = ck.state.find(item.key());
    if (!t || t->sizes() != item.value().sizes())
      throw Error(path, "checkpoint does not match its network: " + item.key());
    item.value().copy_(*t);
  }
  p.net_->to(where);
  p.net_->eval();
  const auto& patch = ck.meta.at("patch");  // x,y,z voxels; a single number (a cube) before planning
  if (patch.is_number()) {
    p.window_.patch = {patch.get<int64_t>(), patch.get<int64_t>(), patch.get<int64_t>()};
  } else {
    auto xyz = patch.get<std::array<int64_t, 3>>();
    p.window_.patch = {xyz[2], xyz[1], xyz[0]};
  }
  p.postprocessing_ = Postprocessing::from_json(ck.meta.value("postprocessing", nlohmann::json()));
  for (const auto& [id, name] : ck.meta.at("labels").items())
    p.label_names_[std::stoi(id)] = name.get<std::string>();
  p.precision_ = ck.meta.at("config").value("precision", "fp32");
  if (p.precision_ == "fp16" && !where.is_cuda()) p.precision_ = "fp32";  // CPU autocast has no fp16
  p.mirror_axes_ = mirror_flags(ck.meta.at("config").value("mirror_axes", "xyz"));
  return p;
}

uint64_t Predictor::memory_needed(const Geometry& input, bool probabilities) const {
  // Measured (bench/large_ct_memory.sh: 4.6 GiB for 262 M voxels, LibTorch and a small model included):
  // 18 bytes a voxel at the peak, where the input, the best probability so far and one class resampled
  // (float each), the labels and the resampling's intermediates coexist. With probabilities, one float volume
  // per class more. The class count does not matter otherwise: classes are compared one at a time.
  const auto voxels = static_cast<uint64_t>(input.voxels());
  return voxels * (18 + (probabilities ? 4 * static_cast<uint64_t>(net_->classes()) : 0));
}

LabelMap Predictor::predict(const Volume& input, bool mirror, std::vector<Volume>* probabilities) {
  torch::NoGradGuard no_grad;
  Reorientation orientation = canonical_reorientation(input.geometry);
  Volume pre = preprocess_image(input, plan_);  // reorients the same way, then resamples and normalises
  const Geometry& g = pre.geometry;
  auto volume = torch::from_blob(pre.data.data(), {1, g.size[2], g.size[1], g.size[0]}, torch::kFloat);
  float pad = *std::min_element(pre.data.begin(), pre.data.end());
  SlidingWindowOptions options = window_;
  if (mirror) options.mirror_axes = mirror_axes_;
  auto probs = predict_probabilities(net_, volume, options, pad, precision_);

  // Back to the input grid: each class's probability resampled (linear) onto the canonical input grid and
  // compared with the best so far, one class at a time, so that memory does not grow with the classes (a CT
  // of 512 x 512 x 1000 is 1 GiB per class). Voxels the preprocessed grid does not reach get background.
  const Geometry target = reoriented_geometry(input.geometry, orientation);
  const int64_t classes = net_->classes();
  LabelMap labels(target);
  Volume best;
  if (probabilities) probabilities->clear();
  for (int64_t k = 0; k < classes; ++k) {
    Volume channel(g);
    auto c = probs[k].contiguous();
    std::copy_n(c.data_ptr<float>(), channel.data.size(), channel.data.begin());
    Volume resampled = resample_volume_to(channel, target, k == 0 ? 1.f : 0.f);
    if (k == 0) {
      best = std::move(resampled);
    } else {
      for (size_t n = 0; n < labels.data.size(); ++n)
        if (resampled.data[n] > best.data[n]) {  // ties go to the lower class
          best.data[n] = resampled.data[n];
          labels.data[n] = static_cast<uint16_t>(k);
        }
    }
    if (probabilities) probabilities->push_back(undo_reorientation(k == 0 ? best : resampled, orientation));
  }
  best = Volume();
  if (!postprocessing_.empty()) {
    std::vector<int> foreground;
    for (int64_t k = 1; k < classes; ++k) foreground.push_back(static_cast<int>(k));
    apply_postprocessing(labels, postprocessing_, foreground);
  }
  LabelMap out = undo_reorientation(labels, orientation);
  out.geometry = input.geometry;  // bit-exact header: the same numbers, not a recomputed origin
  return out;
}

}  // namespace pgl::seg
