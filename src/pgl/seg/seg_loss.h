#pragma once
// Fine-tuning loss (DESIGN.md §2): soft Dice over the foreground classes, computed over the whole batch
// ("batch Dice", smooth 1e-5), plus cross-entropy, with equal weights.
#include <torch/torch.h>

namespace pgl::seg {

// logits [N, K, ...], target [N, ...] int64 in 0..K-1. Returns the scalar loss.
torch::Tensor dice_ce_loss(const torch::Tensor& logits, const torch::Tensor& target, double smooth = 1e-5);

// 1 - mean soft Dice over classes 1..K-1 (exposed for tests).
torch::Tensor soft_dice_loss(const torch::Tensor& probabilities, const torch::Tensor& one_hot,
                             double smooth = 1e-5);

}  // namespace pgl::seg
