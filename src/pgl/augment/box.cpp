#include "pgl/augment/box.h"

#include <algorithm>

namespace pgl::augment {

Box intersect(const Box& a, const Box& b) {
  Box o;
  for (int axis = 0; axis < 3; ++axis) {
    o.start[axis] = std::max(a.start[axis], b.start[axis]);
    o.size[axis] = std::max(0.0, std::min(a.end(axis), b.end(axis)) - o.start[axis]);
  }
  return o;
}

double overlap_share(const Box& box, const Box& other) {
  const double v = box.volume();
  return v > 0 ? intersect(box, other).volume() / v : 0.0;
}

}  // namespace pgl::augment
