#pragma once
// Exact Euclidean distance transform with anisotropic spacing (Felzenszwalb & Huttenlocher 2012, "Distance
// Transforms of Sampled Functions": the lower envelope of parabolas, applied separably along each axis).
#include <cstdint>
#include <vector>

#include "pgl/core/image.h"

namespace pgl::eval {

// Squared Euclidean distance in mm^2 from every voxel to the nearest voxel whose feature value is non-zero,
// with `spacing` mm between voxel centres along each axis. Voxels are indexed like Image (i fastest).
// Every voxel is +inf when there is no feature voxel at all. Exact up to floating-point rounding.
std::vector<double> squared_distance_transform(const std::vector<uint8_t>& feature, const Size3& size,
                                               const Vec3& spacing);

// One line of the transform, in place: f[q] <- min_p f[p] + (spacing * (q - p))^2. Infinite entries take part
// as "no feature". Scratch buffers are passed in to avoid allocations per line.
void distance_transform_1d(double* f, int64_t n, double spacing, std::vector<double>& out,
                           std::vector<int64_t>& vertices, std::vector<double>& boundaries);

}  // namespace pgl::eval
