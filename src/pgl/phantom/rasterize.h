#pragma once
// Evaluates the anatomical model at voxel centres: noise-free HU (with tissue texture) and structure ids.
#include <cstdint>
#include <vector>

#include "pgl/phantom/anatomy.h"

namespace pgl::phantom {

// Anatomical coordinates (mm) of the voxel centres along each index axis (identity direction).
struct AnatomicalGrid {
  std::vector<double> x, y, z;
  Size3 size() const {
    return {static_cast<int64_t>(x.size()), static_cast<int64_t>(y.size()), static_cast<int64_t>(z.size())};
  }
};

// texture: unit-variance smooth noise on the grid (tissue heterogeneity). Writes hu and organ (Organ ids)
// for every voxel, in index order (i fastest).
void rasterize(const Anatomy& anatomy, const AnatomicalGrid& grid, const std::vector<float>& texture,
               std::vector<float>* hu, std::vector<uint8_t>* organ);

// The structure at one anatomical point (no texture); used to place lesions inside organs.
Organ organ_at(const Anatomy& anatomy, const Vec3& p);

}  // namespace pgl::phantom
