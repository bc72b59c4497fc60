#pragma once
// The network's levels for a patch and spacing (nnU-Net's pooling and kernel rules, DESIGN.md §3 revision):
// pool an axis only while its spacing is less than twice the finest and its size stays at least twice the
// bottleneck edge; convolve along an axis with kernel 3 once its spacing is less than twice the finest (1
// before: 1x3x3 stages for thick slices). Everything is along the canonical axes x, y, z.
#include <cstdint>
#include <vector>

#include "pgl/core/image.h"

namespace pgl::plan {

struct Topology {
  std::vector<Size3> strides;  // per level; level 0 is 1,1,1; otherwise 1 or 2 per axis
  std::vector<Size3> kernels;  // per level; 1 or 3 per axis; the deepest level is 3,3,3
  int64_t levels() const { return static_cast<int64_t>(strides.size()); }
  // Product of the strides per axis: patch sizes must be multiples of it.
  Size3 size_multiple() const;
  bool operator==(const Topology& o) const { return strides == o.strides && kernels == o.kernels; }
};

// min_edge: smallest bottleneck edge (nnU-Net: 4); max_levels caps the depth.
Topology plan_topology(const Vec3& spacing, const Size3& patch, int64_t min_edge = 4, int64_t max_levels = 6);

// The isotropic network of the presets: stride 2 and kernel 3 on every axis.
Topology isotropic_topology(int64_t levels);

// Each axis rounded up to a multiple of the topology's size_multiple.
Size3 pad_to_multiple(const Size3& patch, const Topology& topology);

}  // namespace pgl::plan
