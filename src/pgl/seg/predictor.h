#pragma once
// Inference with a fine-tuned model (DESIGN.md §2): the stored preprocessing plan, sliding-window inference,
// optional mirror TTA, probabilities resampled back to the input grid, labels with the input's exact
// geometry.
#include <map>
#include <string>
#include <vector>

#include "pgl/core/image.h"
#include "pgl/data/plan.h"
#include "pgl/seg/postprocess.h"
#include "pgl/seg/seg_net.h"
#include "pgl/seg/sliding_window.h"

namespace pgl::seg {

class Predictor {
 public:
  // model: a fine-tuning run folder (checkpoint best, else final, else latest unless `which` names one) or a
  // checkpoint file. Throws pgl::Error naming the path.
  // `device`: where the network runs (--device; see train/device.h).
  static Predictor load(const std::string& model, const std::string& which = "",
                        const std::string& device = "cpu");

  // Labels on the input's own grid. probabilities (optional) receives one volume per class, same grid.
  LabelMap predict(const Volume& input, bool mirror, std::vector<Volume>* probabilities = nullptr);
  // Bytes predict() takes at its peak for an input of this geometry (beyond the model).
  uint64_t memory_needed(const Geometry& input, bool probabilities) const;

  // Windows per forward pass (0 = automatic, see windows_per_batch): trades memory for speed only.
  void set_window_batch(int64_t windows) { window_.batch = windows; }
  void set_blending(const std::string& blend) { window_.blend = blend; }  // SlidingWindowOptions::blend
  // Replaces the post-processing stored with the model (an empty one: the network's labels as they are).
  void set_postprocessing(Postprocessing p) { postprocessing_ = std::move(p); }

  const PreprocessingPlan& plan() const { return plan_; }
  int64_t classes() const { return net_->classes(); }
  const std::map<int, std::string>& label_names() const { return label_names_; }
  const std::string& checkpoint_path() const { return checkpoint_; }
  const Postprocessing& postprocessing() const { return postprocessing_; }

 private:
  Predictor() = default;
  SegNet net_{nullptr};
  PreprocessingPlan plan_;
  SlidingWindowOptions window_;
  std::array<bool, 3> mirror_axes_{true, true, true};  // the axes the training flipped: TTA uses these
  std::map<int, std::string> label_names_;
  Postprocessing postprocessing_;  // decided on validation after fine-tuning; applied to every prediction
  std::string checkpoint_, precision_ = "fp32";
};

}  // namespace pgl::seg
