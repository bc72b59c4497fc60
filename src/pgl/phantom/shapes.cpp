#include "pgl/phantom/shapes.h"

namespace pgl::phantom {

Mat3 rotation(double ax, double ay, double az) {
  double cx = std::cos(ax), sx = std::sin(ax), cy = std::cos(ay), sy = std::sin(ay), cz = std::cos(az),
         sz = std::sin(az);
  // R = Rz * Ry * Rx
  return {cz * cy,
          cz * sy * sx - sz * cx,
          cz * sy * cx + sz * sx,  //
          sz * cy,
          sz * sy * sx + cz * cx,
          sz * sy * cx - cz * sx,  //
          -sy,
          cy * sx,
          cy * cx};
}

Box Ellipsoid::box() const {
  // Half-extent along patient axis w of an ellipsoid whose local axis c is row c of `axes`.
  Box b;
  for (int w = 0; w < 3; ++w) {
    double e = 0;
    for (int c = 0; c < 3; ++c) e += (axes[c * 3 + w] * radii[c]) * (axes[c * 3 + w] * radii[c]);
    e = std::sqrt(e);
    b.lo[w] = centre[w] - e;
    b.hi[w] = centre[w] + e;
  }
  return b;
}

Box Segment::box() const {
  Box box;
  for (int w = 0; w < 3; ++w) {
    box.lo[w] = std::min(a[w] - ra, b[w] - rb);
    box.hi[w] = std::max(a[w] + ra, b[w] + rb);
  }
  return box;
}

double Deformation::max_shift() const {
  double s = 0;
  for (const Term& t : terms) s += norm(t.amplitude);
  return s;
}

}  // namespace pgl::phantom
