#pragma once
// Validation during fine-tuning: sliding-window inference on held-out cases in the preprocessed space and
// Dice per class against their (preprocessed) labels.
#include <map>
#include <vector>

#include "pgl/seg/postprocess.h"
#include "pgl/seg/seg_net.h"
#include "pgl/seg/sliding_window.h"
#include "pgl/train/volume_pool.h"

namespace pgl::seg {

struct ValidationResult {
  std::map<int, double> dice;  // class -> mean Dice over cases where it is defined
  double mean_dice = 0;        // mean over classes
};

// Softmax probabilities [K, D, H, W] of a preprocessed volume [1, D, H, W] (sliding window, in `precision`).
torch::Tensor predict_probabilities(SegNet& net, const torch::Tensor& volume,
                                    const SlidingWindowOptions& options, float pad_value,
                                    const std::string& precision);

// The label map (argmax) of a preprocessed volume [1, D, H, W].
torch::Tensor predict_labels(SegNet& net, const torch::Tensor& volume, const SlidingWindowOptions& options,
                             float pad_value, const std::string& precision);

// (prediction, reference) label maps of every case, on the preprocessed grid.
LabelPairs validation_predictions(SegNet& net, const std::vector<train::PooledVolume>& cases,
                                  const SlidingWindowOptions& options, const std::string& precision);

// Dice summed per class 1..classes-1 over the cases where it is defined, and those cases counted: what the
// ranks of a data-parallel run add up when each scores a share of the validation cases.
struct DiceTally {
  std::vector<double> sum, count;  // index class - 1
  explicit DiceTally(int64_t classes);
  void add(const LabelPairs& pairs);
  // Dice per class: the mean over the cases where it is defined; mean_dice over the defined classes.
  ValidationResult result() const;
  std::vector<double> flat() const;  // sum then count, for RankGroup::sum
  void set_flat(const std::vector<double>& values);
};

}  // namespace pgl::seg
