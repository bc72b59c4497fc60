#include "pgl/core/image.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace pgl {

Vec3 Geometry::index_to_point(const Vec3& index) const {
  Vec3 p = origin;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) p[r] += direction[r * 3 + c] * spacing[c] * index[c];
  return p;
}

Vec3 Geometry::point_to_index(const Vec3& point) const {
  // direction is orthonormal for every image pgl accepts, so its inverse is its transpose.
  Vec3 d{point[0] - origin[0], point[1] - origin[1], point[2] - origin[2]};
  Vec3 index{};
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    for (int r = 0; r < 3; ++r) s += direction[r * 3 + c] * d[r];
    index[c] = s / spacing[c];
  }
  return index;
}

std::string Geometry::orientation_code() const {
  static const char positive[3] = {'L', 'P', 'S'};
  static const char negative[3] = {'R', 'A', 'I'};
  std::string code;
  for (int c = 0; c < 3; ++c) {
    int best = 0;
    for (int r = 1; r < 3; ++r)
      if (std::fabs(direction[r * 3 + c]) > std::fabs(direction[best * 3 + c])) best = r;
    code += direction[best * 3 + c] >= 0 ? positive[best] : negative[best];
  }
  return code;
}

std::string Geometry::grid_difference(const Geometry& o, double tol) const {
  std::ostringstream why;
  if (size != o.size) {
    why << "size " << size[0] << "x" << size[1] << "x" << size[2] << " vs " << o.size[0] << "x" << o.size[1]
        << "x" << o.size[2];
    return why.str();
  }
  double min_spacing = std::min({spacing[0], spacing[1], spacing[2]});
  for (int a = 0; a < 3; ++a)
    if (std::fabs(spacing[a] - o.spacing[a]) > tol * std::max(spacing[a], 1.0)) {
      why << "spacing differs on axis " << a << " (" << spacing[a] << " vs " << o.spacing[a] << " mm)";
      return why.str();
    }
  for (int a = 0; a < 3; ++a)
    if (std::fabs(origin[a] - o.origin[a]) > 0.1 * min_spacing) {  // a tenth of a voxel
      why << "origin differs on axis " << a << " (" << origin[a] << " vs " << o.origin[a] << " mm)";
      return why.str();
    }
  for (int e = 0; e < 9; ++e)
    if (std::fabs(direction[e] - o.direction[e]) > tol) {
      why << "direction differs (element " << e << ": " << direction[e] << " vs " << o.direction[e] << ")";
      return why.str();
    }
  return "";
}

bool Geometry::same_grid(const Geometry& other, double tolerance) const {
  return grid_difference(other, tolerance).empty();
}

}  // namespace pgl
