#include "pgl/seg/validation.h"

#include <cmath>

#include "pgl/eval/metrics.h"
#include "pgl/train/runtime.h"

namespace pgl::seg {

torch::Tensor predict_probabilities(SegNet& net, const torch::Tensor& volume,
                                    const SlidingWindowOptions& options, float pad_value,
                                    const std::string& precision) {
  // Windows are cut and blended on the CPU; the network runs where its weights are.
  const torch::Device device = net->parameters().front().device();
  return sliding_window_probabilities(
      volume,
      [&](const torch::Tensor& x) {
        train::PrecisionScope scope(precision, device.is_cuda());
        return net->forward(x.to(device)).to(torch::kCPU);
      },
      net->classes(), options, pad_value);
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

ValidationResult score_validation(const LabelPairs& pairs, int64_t classes) {
  std::map<int, double> sum;
  std::map<int, int> count;
  std::vector<int> ids;
  for (int cls = 1; cls < classes; ++cls) ids.push_back(cls);
  for (const auto& [prediction, reference] : pairs) {
    auto scores = eval::dice_scores(prediction, reference, ids);
    for (size_t k = 0; k < ids.size(); ++k) {
      if (std::isnan(scores[k])) continue;  // absent from both: says nothing about this case
      sum[ids[k]] += scores[k];
      ++count[ids[k]];
    }
  }
  ValidationResult result;
  double total = 0;
  for (int cls = 1; cls < classes; ++cls) {
    double d = count[cls] ? sum[cls] / count[cls] : std::nan("");
    result.dice[cls] = d;
    if (!std::isnan(d)) total += d;
  }
  int defined = 0;
  for (const auto& [cls, d] : result.dice) defined += !std::isnan(d);
  result.mean_dice = defined ? total / defined : 0;
  return result;
}

ValidationResult validate(SegNet& net, const std::vector<train::PooledVolume>& cases, int64_t classes,
                          const SlidingWindowOptions& options, const std::string& precision) {
  return score_validation(validation_predictions(net, cases, options, precision), classes);
}

}  // namespace pgl::seg
