#pragma once
// Image<T>: voxels plus the geometry that places them in patient space. No LibTorch, no ITK here.
//
// Conventions (the same as ITK and DICOM):
// - index (i, j, k), i fastest in memory; as a tensor the voxels are [k][j][i] = [D][H][W];
// - physical points in millimetres in LPS (x to the patient's Left, y Posterior, z Superior);
// - direction is row-major 3x3; column c is the unit vector of index axis c in LPS.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace pgl {

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<double, 9>;  // row-major
using Size3 = std::array<int64_t, 3>;

struct Geometry {
  Size3 size{0, 0, 0};
  Vec3 spacing{1, 1, 1};
  Vec3 origin{0, 0, 0};
  Mat3 direction{1, 0, 0, 0, 1, 0, 0, 0, 1};

  int64_t voxels() const { return size[0] * size[1] * size[2]; }
  // Physical point (mm, LPS) of a continuous index.
  Vec3 index_to_point(const Vec3& index) const;
  // Continuous index of a physical point.
  Vec3 point_to_index(const Vec3& point) const;
  // Orientation code of the axes as the directions they point to, e.g. "LPS" for the identity direction,
  // "RAS" for the NIfTI/nibabel canonical one (DICOM / nibabel convention, not ITK's "from" letters).
  std::string orientation_code() const;
  // Same grid within tolerance: equal size; spacing, origin and direction close (relative to spacing).
  bool same_grid(const Geometry& other, double tolerance = 1e-3) const;
  // Human-readable difference for error messages ("" when same_grid).
  std::string grid_difference(const Geometry& other, double tolerance = 1e-3) const;
};

template <class T>
struct Image {
  Geometry geometry;
  std::vector<T> data;

  Image() = default;
  explicit Image(const Geometry& g, T fill = T{}) : geometry(g), data(static_cast<size_t>(g.voxels()), fill) {}

  int64_t offset(int64_t i, int64_t j, int64_t k) const {
    return (k * geometry.size[1] + j) * geometry.size[0] + i;
  }
  T& at(int64_t i, int64_t j, int64_t k) { return data[static_cast<size_t>(offset(i, j, k))]; }
  const T& at(int64_t i, int64_t j, int64_t k) const { return data[static_cast<size_t>(offset(i, j, k))]; }
  const Size3& size() const { return geometry.size; }
};

using Volume = Image<float>;        // intensities (HU for CT after rescale slope/intercept)
using LabelMap = Image<uint16_t>;   // class ids, 0 = background

}  // namespace pgl
