#pragma once
// Volume filters used by the generator: separable Gaussian blur and random fields.
#include <cstdint>
#include <vector>

#include "pgl/core/image.h"

namespace pgl::phantom {

// Separable Gaussian blur in place; sigma per index axis in voxels (axes with sigma < 0.2 are skipped).
// Borders replicate the edge voxel.
void gaussian_blur(std::vector<float>* data, const Size3& size, const Vec3& sigma_voxels);

// Smooth noise with unit standard deviation: white Gaussian noise blurred by sigma (voxels) and rescaled.
std::vector<float> smooth_noise(const Size3& size, const Vec3& sigma_voxels, uint64_t seed);

// Adds white Gaussian noise of standard deviation sd.
void add_noise(std::vector<float>* data, double sd, uint64_t seed);

}  // namespace pgl::phantom
