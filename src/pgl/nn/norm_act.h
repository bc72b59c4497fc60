#pragma once
// InstanceNorm (affine) + optional residual + LeakyReLU as one operation: the norm-activation pair that
// follows every convolution of ResUNet3D (DESIGN.md §1.2) and of the local heads (slope 0: ReLU).
//
// LibTorch runs it as three or four ops, each a pass over memory forward and again backward (InstanceNorm
// via batch_norm on a reshaped view, the add, leaky_relu), which cost about a quarter of a CPU training
// step (docs/performance.md). The fused CPU kernel makes two passes forward (statistics, then normalise, add,
// activate) and two backward, and keeps only the input and the output for backward. It is tested against
// LibTorch's composition, forward and backward, and by finite differences (tests/nn).
#include <torch/torch.h>

namespace pgl::nn {

// y = leaky_relu(instance_norm(x) * weight + bias [+ residual], negative_slope), per sample and channel over
// the spatial axes, with the biased variance and eps as in torch::nn::InstanceNorm3d.
// x: [N, C, ...] float, double or bfloat16; weight, bias: [C]; residual: undefined or x's shape.
// The fused kernel runs for CPU tensors with negative_slope >= 0 when fused_norm_act_enabled(); anything
// else (CUDA, other dtypes) takes instance_norm_act_reference.
torch::Tensor instance_norm_act(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                const torch::Tensor& residual, double negative_slope, double eps = 1e-5);

// The same with LibTorch's own ops: the path off the CPU, and the reference in tests.
torch::Tensor instance_norm_act_reference(const torch::Tensor& x, const torch::Tensor& weight,
                                          const torch::Tensor& bias, const torch::Tensor& residual,
                                          double negative_slope, double eps = 1e-5);

// On by default; PGL_FUSED_NORM_ACT=0 in the environment turns it off for A/B measurements (bench/).
bool fused_norm_act_enabled();
void set_fused_norm_act_enabled(bool enabled);

}  // namespace pgl::nn
