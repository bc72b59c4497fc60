#pragma once
// Implicit shapes in millimetres: approximate signed distances (negative inside) of ellipsoids and tubes,
// smooth random displacement fields, and axis-aligned bounding boxes for culling.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "pgl/core/image.h"

namespace pgl::phantom {

inline Vec3 operator+(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
inline Vec3 operator-(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
inline Vec3 operator*(double s, const Vec3& a) { return {s * a[0], s * a[1], s * a[2]}; }
inline double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
inline double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }

// Rotation (row-major) applying rotations about x, then y, then z (angles in radians).
Mat3 rotation(double about_x, double about_y, double about_z);

struct Box {
  Vec3 lo{1e30, 1e30, 1e30}, hi{-1e30, -1e30, -1e30};

  void add(const Box& b) {
    for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], b.lo[a]), hi[a] = std::max(hi[a], b.hi[a]);
  }
  void pad(double mm) {
    for (int a = 0; a < 3; ++a) lo[a] -= mm, hi[a] += mm;
  }
  bool contains(const Vec3& p) const {
    return p[0] >= lo[0] && p[0] <= hi[0] && p[1] >= lo[1] && p[1] <= hi[1] && p[2] >= lo[2] && p[2] <= hi[2];
  }
  bool empty() const { return lo[0] > hi[0]; }
};

// Ellipsoid with semi-axes `radii` along the rows of `axes` (local axes in patient space).
struct Ellipsoid {
  Vec3 centre{0, 0, 0};
  Vec3 radii{1, 1, 1};
  Mat3 axes{1, 0, 0, 0, 1, 0, 0, 0, 1};

  Vec3 local(const Vec3& p) const {
    Vec3 d = p - centre;
    return {axes[0] * d[0] + axes[1] * d[1] + axes[2] * d[2],
            axes[3] * d[0] + axes[4] * d[1] + axes[5] * d[2],
            axes[6] * d[0] + axes[7] * d[1] + axes[8] * d[2]};
  }
  // Approximate distance (exact on the axes, good near the surface).
  double sdf(const Vec3& p) const {
    Vec3 l = local(p);
    double k0 = 0, k1 = 0;
    for (int a = 0; a < 3; ++a) {
      double u = l[a] / radii[a];
      k0 += u * u;
      k1 += u * u / (radii[a] * radii[a]);
    }
    if (k1 < 1e-12) return -std::min({radii[0], radii[1], radii[2]});
    k0 = std::sqrt(k0);
    return k0 * (k0 - 1.0) / std::sqrt(k1);
  }
  Box box() const;
};

// Cone with rounded ends from a (radius ra) to b (radius rb): a tube segment.
struct Segment {
  Vec3 a{0, 0, 0}, b{0, 0, 0};
  double ra = 1, rb = 1;

  // Distance, and (optionally) the nearest point on the axis and the radius there.
  double sdf(const Vec3& p, Vec3* axis_point = nullptr, double* radius = nullptr) const {
    Vec3 ab = b - a, ap = p - a;
    double len2 = dot(ab, ab);
    double t = len2 > 0 ? std::clamp(dot(ap, ab) / len2, 0.0, 1.0) : 0.0;
    Vec3 c = a + t * ab;
    double r = ra + t * (rb - ra);
    if (axis_point) *axis_point = c;
    if (radius) *radius = r;
    return norm(p - c) - r;
  }
  Box box() const;
};

// Smooth random displacement: a sum of products of 1-D sinusoids along the patient axes. Shapes are
// evaluated at p + displacement(p), which bends and bulges them without tearing.
struct Deformation {
  struct Term {
    Vec3 amplitude{0, 0, 0};  // mm, per displacement component
    Vec3 frequency{0, 0, 0};  // rad/mm, per axis
    Vec3 phase{0, 0, 0};
  };
  std::array<Term, 3> terms{};

  double factor(const Term& t, const Vec3& p) const {
    return std::sin(t.frequency[0] * p[0] + t.phase[0]) * std::sin(t.frequency[1] * p[1] + t.phase[1]) *
           std::sin(t.frequency[2] * p[2] + t.phase[2]);
  }
  Vec3 at(const Vec3& p) const {
    Vec3 d{0, 0, 0};
    for (const Term& t : terms) d = d + factor(t, p) * t.amplitude;
    return d;
  }
  // Upper bound of the displacement length (for padding bounding boxes).
  double max_shift() const;
};

// Smooth union (polynomial smooth minimum, blend width k mm).
inline double smooth_min(double a, double b, double k) {
  double h = std::max(k - std::fabs(a - b), 0.0) / k;
  return std::min(a, b) - h * h * k * 0.25;
}

}  // namespace pgl::phantom
