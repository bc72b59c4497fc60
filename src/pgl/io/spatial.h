#pragma once
// Geometry-changing operations that keep every voxel where it is in patient space.
#include "pgl/core/image.h"

namespace pgl {

// The axis permutation and flips that bring an image to pgl's canonical orientation (LPS: index axes along
// +x Left, +y Posterior, +z Superior, i.e. an identity-like direction). Exact (no interpolation).
struct Reorientation {
  std::array<int, 3> permutation{0, 1, 2};        // output axis a = input axis permutation[a]
  std::array<bool, 3> flip{false, false, false};  // flip output axis a
};
Reorientation canonical_reorientation(const Geometry& g);

// The grid reorient() produces, without touching voxels.
Geometry reoriented_geometry(const Geometry& g, const Reorientation& r);
template <class T>
Image<T> reorient(const Image<T>& image, const Reorientation& r);
template <class T>
Image<T> reorient_to_canonical(const Image<T>& image) {
  return reorient(image, canonical_reorientation(image.geometry));
}
// Inverse of reorient(image, r) (round trip is exact).
template <class T>
Image<T> undo_reorientation(const Image<T>& image, const Reorientation& r);

// Resample to a new spacing over the same physical extent (origin kept at the first voxel centre).
// Images: trilinear; labels: nearest. When one axis is more than 3x coarser than the others, it is
// resampled separately (in-plane linear, then nearest along that axis), as nnU-Net does.
Volume resample_volume(const Volume& image, const Vec3& spacing);
LabelMap resample_labels(const LabelMap& labels, const Vec3& spacing);
// Resample onto an exact target grid (used to bring predictions back to the input geometry).
Volume resample_volume_to(const Volume& image, const Geometry& target, float outside = 0.f);
LabelMap resample_labels_to(const LabelMap& labels, const Geometry& target);
// Size of a grid that covers the same extent at a new spacing.
Geometry resampled_geometry(const Geometry& g, const Vec3& spacing);

// Crop (start may be negative and the box may exceed the image: the outside is filled with `fill`).
// The origin moves so that kept voxels stay where they are in patient space.
template <class T>
Image<T> crop_or_pad(const Image<T>& image, const Size3& start, const Size3& size, T fill);

}  // namespace pgl
