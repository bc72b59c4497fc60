#pragma once
// Axis-aligned boxes with continuous start and size in a volume's voxel coordinates, edge convention
// (voxel i covers [i, i + 1)), axes ordered (D, H, W) like the tensor [D, H, W].
#include <array>

namespace pgl::augment {

using Vec3d = std::array<double, 3>;

struct Box {
  Vec3d start{0, 0, 0};
  Vec3d size{0, 0, 0};

  double end(int axis) const { return start[axis] + size[axis]; }
  double volume() const { return size[0] * size[1] * size[2]; }
  bool empty() const { return size[0] <= 0 || size[1] <= 0 || size[2] <= 0; }
};

// Intersection; sizes are clamped at 0 when the boxes do not meet on an axis.
Box intersect(const Box& a, const Box& b);
// Fraction of `box`'s volume covered by `other` (0 for an empty box).
double overlap_share(const Box& box, const Box& other);

}  // namespace pgl::augment
