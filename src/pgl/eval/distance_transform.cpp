#include "pgl/eval/distance_transform.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "pgl/core/error.h"

namespace pgl::eval {
namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

void distance_transform_1d(double* f, int64_t n, double spacing, std::vector<double>& out,
                           std::vector<int64_t>& vertices, std::vector<double>& boundaries) {
  out.resize(static_cast<size_t>(n));
  vertices.resize(static_cast<size_t>(n));
  boundaries.resize(static_cast<size_t>(n) + 1);
  // Lower envelope of the parabolas y = f[p] + (x - x_p)^2 with x in mm. Only finite f take part: an infinite
  // one would make the intersection formula produce NaN.
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (!std::isfinite(f[q])) continue;
    const double xq = spacing * static_cast<double>(q);
    double s = -kInf;
    while (k >= 0) {
      const int64_t p = vertices[static_cast<size_t>(k)];
      const double xp = spacing * static_cast<double>(p);
      s = ((f[q] + xq * xq) - (f[p] + xp * xp)) / (2.0 * (xq - xp));
      if (s <= boundaries[static_cast<size_t>(k)]) {
        --k;  // parabola k is hidden below the new one everywhere it mattered
      } else {
        break;
      }
    }
    ++k;
    vertices[static_cast<size_t>(k)] = q;
    boundaries[static_cast<size_t>(k)] = k == 0 ? -kInf : s;
    boundaries[static_cast<size_t>(k) + 1] = kInf;
  }
  if (k < 0) {
    for (int64_t q = 0; q < n; ++q) f[q] = kInf;
    return;
  }
  int64_t j = 0;
  for (int64_t q = 0; q < n; ++q) {
    const double xq = spacing * static_cast<double>(q);
    while (boundaries[static_cast<size_t>(j) + 1] < xq) ++j;
    const int64_t p = vertices[static_cast<size_t>(j)];
    const double d = xq - spacing * static_cast<double>(p);
    out[static_cast<size_t>(q)] = d * d + f[p];
  }
  for (int64_t q = 0; q < n; ++q) f[q] = out[static_cast<size_t>(q)];
}

std::vector<double> squared_distance_transform(const std::vector<uint8_t>& feature, const Size3& size,
                                               const Vec3& spacing) {
  const int64_t nx = size[0], ny = size[1], nz = size[2];
  if (nx < 0 || ny < 0 || nz < 0 || static_cast<int64_t>(feature.size()) != nx * ny * nz)
    throw Error("squared_distance_transform: feature mask does not match the grid size");
  for (double s : spacing)
    if (!(s > 0) || !std::isfinite(s)) throw Error("squared_distance_transform: spacing must be positive");
  std::vector<double> d(feature.size());
  for (size_t n = 0; n < feature.size(); ++n) d[n] = feature[n] ? 0.0 : kInf;

  std::vector<double> out, boundaries, line;
  std::vector<int64_t> vertices;
  // Axis 0: lines are contiguous.
  for (int64_t kj = 0; kj < ny * nz; ++kj)
    distance_transform_1d(&d[static_cast<size_t>(kj * nx)], nx, spacing[0], out, vertices, boundaries);
  // Axes 1 and 2: copy each strided line into a contiguous buffer.
  line.resize(static_cast<size_t>(std::max(ny, nz)));
  for (int64_t k = 0; k < nz; ++k)
    for (int64_t i = 0; i < nx; ++i) {
      const int64_t base = k * ny * nx + i;
      for (int64_t j = 0; j < ny; ++j) line[static_cast<size_t>(j)] = d[static_cast<size_t>(base + j * nx)];
      distance_transform_1d(line.data(), ny, spacing[1], out, vertices, boundaries);
      for (int64_t j = 0; j < ny; ++j) d[static_cast<size_t>(base + j * nx)] = line[static_cast<size_t>(j)];
    }
  const int64_t plane = nx * ny;
  for (int64_t ji = 0; ji < plane; ++ji) {
    for (int64_t k = 0; k < nz; ++k) line[static_cast<size_t>(k)] = d[static_cast<size_t>(ji + k * plane)];
    distance_transform_1d(line.data(), nz, spacing[2], out, vertices, boundaries);
    for (int64_t k = 0; k < nz; ++k) d[static_cast<size_t>(ji + k * plane)] = line[static_cast<size_t>(k)];
  }
  return d;
}

}  // namespace pgl::eval
