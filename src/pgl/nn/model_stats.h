#pragma once
// Sizes and analytic costs of the networks, for tests, logs and throughput figures.
#include <torch/torch.h>

#include <array>
#include <cstdint>

#include "pgl/nn/heads.h"
#include "pgl/nn/resunet.h"

namespace pgl::nn {

// Number of scalar parameters (trainable or not) of `module` and its children.
int64_t count_parameters(const torch::nn::Module& module);

// Multiply-accumulates of one forward pass for one sample, counting convolutions only (Conv3d and
// ConvTranspose3d: output voxels * kernel volume * in * out channels). Norms, activations, additions and
// concatenations are left out (< 2% of the total for these nets). FLOPs = 2 * MACs.
int64_t resunet_forward_macs(const ResUNet3DOptions& options, const std::array<int64_t, 3>& patch);
int64_t local_head_forward_macs(const HeadOptions& options, const std::array<int64_t, 3>& patch);

}  // namespace pgl::nn
