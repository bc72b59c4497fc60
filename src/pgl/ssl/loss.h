#pragma once
// Consistency losses (DESIGN.md §1.4): l(p, z) = 2 - 2 cos(p, z) over the channel dimension (dim 1), the
// normalised MSE of BYOL. Works for aligned maps [N, C, A, A, A] (per voxel) and pooled vectors [N, C].
// Computed in float32 whatever the input precision (bf16 autocast).
#include <torch/torch.h>

namespace pgl::ssl {

// 2 - 2 cos over dim 1: [N, C, ...] -> [N, ...].
torch::Tensor cosine_distance(const torch::Tensor& p, const torch::Tensor& z);
// Mean of cosine_distance over batch and voxels.
torch::Tensor consistency_loss(const torch::Tensor& p, const torch::Tensor& z);
// consistency_loss(p1, z2) + consistency_loss(p2, z1): in [0, 8], 0 when the predictions match.
torch::Tensor symmetric_consistency_loss(const torch::Tensor& p1, const torch::Tensor& z2,
                                         const torch::Tensor& p2, const torch::Tensor& z1);

// How spread out the directions of z [N, C, ...] are, to watch for collapse: z is normalised over dim 1, the
// std of every channel is taken over samples and positions, and their mean is scaled by sqrt(C). About 1 for
// directions spread evenly over the sphere, 0 when every output points the same way (a collapsed network
// makes the consistency loss 0 without learning anything). A plain number; no gradient.
double direction_spread(const torch::Tensor& z);

}  // namespace pgl::ssl
