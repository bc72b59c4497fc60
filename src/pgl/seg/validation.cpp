#include "pgl/seg/validation.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "pgl/eval/metrics.h"
#include "pgl/train/runtime.h"

namespace pgl::seg {

torch::Tensor predict_probabilities(SegNet& net, const torch::Tensor& volume,
                                    const SlidingWindowOptions& options, float pad_value,
                                    const std::string& precision) {
  // Windows are cut on the CPU; the network runs where its weights are, and the blending where
  // options.blend says.
  const torch::Device device = net->parameters().front().device();
  const torch::Device blend_on = blending_device(options.blend, device, net->classes(), volume.numel());
  return sliding_window_probabilities(
      volume,
      [&](const torch::Tensor& x) {
        train::PrecisionScope scope(precision, device.is_cuda());
        return net->forward(x.to(device)).to(blend_on);
      },
      net->classes(), options, pad_value, blend_on);
}

torch::Tensor predict_labels(SegNet& net, const torch::Tensor& volume, const SlidingWindowOptions& options,
                             float pad_value, const std::string& precision) {
  return predict_probabilities(net, volume, options, pad_value, precision).argmax(0);
}

LabelPairs validation_predictions(SegNet& net, const std::vector<train::PooledVolume>& cases,
                                  const SlidingWindowOptions& options, const std::string& precision) {
  torch::NoGradGuard no_grad;
  bool was_training = net->is_training();
  net->eval();
  LabelPairs pairs;
  for (const auto& c : cases) {
    auto labels = predict_labels(net, c.image_tensor().unsqueeze(0), options, c.entry.background, precision);
    LabelMap prediction(c.entry.geometry), reference(c.entry.geometry);
    auto pred = labels.to(torch::kInt).contiguous();
    auto ref = c.label_tensor().to(torch::kInt).contiguous();
    const int* p = pred.data_ptr<int>();
    const int* r = ref.data_ptr<int>();
    for (size_t n = 0; n < prediction.data.size(); ++n) {
      prediction.data[n] = static_cast<uint16_t>(p[n]);
      reference.data[n] = static_cast<uint16_t>(r[n]);
    }
    pairs.emplace_back(std::move(prediction), std::move(reference));
  }
  net->train(was_training);
  return pairs;
}

DiceTally::DiceTally(int64_t classes)
    : sum(static_cast<size_t>(std::max<int64_t>(0, classes - 1)), 0.0), count(sum.size(), 0.0) {}

void DiceTally::add(const LabelPairs& pairs) {
  std::vector<int> ids;
  for (size_t k = 0; k < sum.size(); ++k) ids.push_back(static_cast<int>(k) + 1);
  for (const auto& [prediction, reference] : pairs) {
    auto scores = eval::dice_scores(prediction, reference, ids);
    for (size_t k = 0; k < ids.size(); ++k) {
      if (std::isnan(scores[k])) continue;  // absent from both: says nothing about this case
      sum[k] += scores[k];
      count[k] += 1;
    }
  }
}

ValidationResult DiceTally::result() const {
  ValidationResult result;
  double total = 0;
  int defined = 0;
  for (size_t k = 0; k < sum.size(); ++k) {
    const double d = count[k] > 0 ? sum[k] / count[k] : std::nan("");
    result.dice[static_cast<int>(k) + 1] = d;
    if (!std::isnan(d)) total += d, ++defined;
  }
  result.mean_dice = defined ? total / defined : 0;
  return result;
}

std::vector<double> DiceTally::flat() const {
  std::vector<double> out = sum;
  out.insert(out.end(), count.begin(), count.end());
  return out;
}

void DiceTally::set_flat(const std::vector<double>& values) {
  if (values.size() != 2 * sum.size()) throw std::invalid_argument("DiceTally::set_flat: wrong size");
  std::copy(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(sum.size()), sum.begin());
  std::copy(values.begin() + static_cast<std::ptrdiff_t>(sum.size()), values.end(), count.begin());
}

}  // namespace pgl::seg
