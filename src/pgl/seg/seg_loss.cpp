#include "pgl/seg/seg_loss.h"

namespace pgl::seg {

torch::Tensor soft_dice_loss(const torch::Tensor& probabilities, const torch::Tensor& one_hot,
                             double smooth) {
  // Sum over batch and space, per class; background (class 0) excluded as in nnU-Net.
  std::vector<int64_t> reduce{0};
  for (int64_t d = 2; d < probabilities.dim(); ++d) reduce.push_back(d);
  auto p = probabilities.narrow(1, 1, probabilities.size(1) - 1);
  auto t = one_hot.narrow(1, 1, one_hot.size(1) - 1);
  auto intersection = (p * t).sum(reduce);
  auto denominator = p.sum(reduce) + t.sum(reduce);
  auto dice = (2 * intersection + smooth) / (denominator + smooth);
  return 1 - dice.mean();
}

torch::Tensor dice_ce_loss(const torch::Tensor& logits, const torch::Tensor& target, double smooth) {
  auto logits32 = logits.to(torch::kFloat);
  auto ce = torch::nn::functional::cross_entropy(logits32, target);
  auto probabilities = torch::softmax(logits32, 1);
  auto one_hot = torch::one_hot(target, logits.size(1)).movedim(-1, 1).to(torch::kFloat);
  return ce + soft_dice_loss(probabilities, one_hot, smooth);
}

}  // namespace pgl::seg
