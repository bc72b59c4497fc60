#include "pgl/plan/topology.h"

#include <algorithm>

namespace pgl::plan {

Size3 Topology::size_multiple() const {
  Size3 m{1, 1, 1};
  for (const auto& s : strides)
    for (size_t a = 0; a < 3; ++a) m[a] *= s[a];
  return m;
}

Topology plan_topology(const Vec3& spacing, const Size3& patch, int64_t min_edge, int64_t max_levels) {
  Topology t;
  Vec3 current = spacing;
  Size3 size = patch;
  Size3 kernel{1, 1, 1};
  Size3 stride{1, 1, 1};  // the stride into the current level
  for (;;) {
    const double finest = *std::min_element(current.begin(), current.end());
    for (size_t a = 0; a < 3; ++a)
      if (current[a] < 2 * finest) kernel[a] = 3;  // once 3, an axis keeps 3
    // Axes that may be pooled: big enough, and not much coarser than the finest such axis.
    std::vector<size_t> candidates;
    for (size_t a = 0; a < 3; ++a)
      if (size[a] >= 2 * min_edge) candidates.push_back(a);
    std::vector<size_t> pool;
    if (!candidates.empty()) {
      double finest_candidate = current[candidates[0]];
      for (size_t a : candidates) finest_candidate = std::min(finest_candidate, current[a]);
      for (size_t a : candidates)
        if (current[a] < 2 * finest_candidate) pool.push_back(a);
    }
    if (pool.size() == 1 && size[pool[0]] < 3 * min_edge) pool.clear();
    if (pool.empty() || t.levels() + 1 >= max_levels) {
      t.strides.push_back(stride);
      t.kernels.push_back({3, 3, 3});  // the bottleneck
      return t;
    }
    t.strides.push_back(stride);
    t.kernels.push_back(kernel);
    stride = {1, 1, 1};
    for (size_t a : pool) {
      stride[a] = 2;
      current[a] *= 2;
      size[a] = (size[a] + 1) / 2;
    }
  }
}

Topology isotropic_topology(int64_t levels) {
  Topology t;
  for (int64_t level = 0; level < levels; ++level) {
    t.strides.push_back(level == 0 ? Size3{1, 1, 1} : Size3{2, 2, 2});
    t.kernels.push_back({3, 3, 3});
  }
  return t;
}

Size3 pad_to_multiple(const Size3& patch, const Topology& topology) {
  const Size3 m = topology.size_multiple();
  Size3 out{};
  for (size_t a = 0; a < 3; ++a) out[a] = (patch[a] + m[a] - 1) / m[a] * m[a];
  return out;
}

}  // namespace pgl::plan
