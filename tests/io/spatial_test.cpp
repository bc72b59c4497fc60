// Reorientation, resampling and crop/pad keep voxels where they are in patient space.
#include <cmath>

#include "pgl/io/spatial.h"
#include "support/test_support.h"

namespace pgl {
namespace {

Volume ramp_volume(const Geometry& g) {
  // Intensity = a linear function of the physical position, so resampling must reproduce it exactly
  // (up to float error) wherever trilinear interpolation applies.
  Volume v(g);
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        Vec3 p = g.index_to_point({double(i), double(j), double(k)});
        v.at(i, j, k) = static_cast<float>(0.5 * p[0] - 0.25 * p[1] + 0.1 * p[2]);
      }
  return v;
}

Geometry awkward_geometry() {
  Geometry g;
  g.size = {6, 9, 5};
  g.spacing = {0.8, 1.1, 4.0};
  g.origin = {10, -20, 30};
  g.direction = {0, 0, -1, -1, 0, 0, 0, 1, 0};  // axes point to I, R, P: a permuted and flipped frame
  return g;
}

TEST(Spatial, ReorientToCanonicalKeepsPhysicalPositions) {
  Volume v = ramp_volume(awkward_geometry());
  EXPECT_EQ(v.geometry.orientation_code(), "ASR");
  Volume c = reorient_to_canonical(v);
  EXPECT_EQ(c.geometry.orientation_code(), "LPS");
  for (int e = 0; e < 9; ++e) EXPECT_NEAR(c.geometry.direction[e], e % 4 == 0 ? 1.0 : 0.0, 1e-12);
  // Every voxel carries the value of its own physical position.
  Volume expected = ramp_volume(c.geometry);
  ASSERT_EQ(c.data.size(), expected.data.size());
  for (size_t n = 0; n < c.data.size(); ++n) EXPECT_NEAR(c.data[n], expected.data[n], 1e-4);
}

TEST(Spatial, ReorientRoundTripIsExact) {
  Geometry g = awkward_geometry();
  LabelMap labels(g);
  for (size_t n = 0; n < labels.data.size(); ++n) labels.data[n] = static_cast<uint16_t>(n);
  Reorientation r = canonical_reorientation(g);
  LabelMap back = undo_reorientation(reorient(labels, r), r);
  EXPECT_EQ(back.data, labels.data);
  EXPECT_EQ(back.geometry.size, g.size);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(back.geometry.origin[a], g.origin[a], 1e-9);
  for (int e = 0; e < 9; ++e) EXPECT_NEAR(back.geometry.direction[e], g.direction[e], 1e-12);
}

TEST(Spatial, ResampleLinearReproducesARamp) {
  Geometry g;
  g.size = {20, 16, 12};
  g.spacing = {1.0, 1.5, 2.0};
  g.direction = {0.6, 0.8, 0, -0.8, 0.6, 0, 0, 0, 1};  // oblique in-plane
  Volume v = ramp_volume(g);
  Volume r = resample_volume(v, {0.75, 0.75, 1.0});
  EXPECT_EQ(r.geometry.size, (Size3{27, 32, 24}));
  Volume expected = ramp_volume(r.geometry);
  // Interior voxels (the last half voxel lies outside the source's voxel centres).
  for (int64_t k = 0; k < r.geometry.size[2] - 2; ++k)
    for (int64_t j = 0; j < r.geometry.size[1] - 2; ++j)
      for (int64_t i = 0; i < r.geometry.size[0] - 2; ++i)
        ASSERT_NEAR(r.at(i, j, k), expected.at(i, j, k), 1e-3) << i << "," << j << "," << k;
}

TEST(Spatial, AnisotropicAxisIsResampledWithNearestNeighbour) {
  Geometry g;
  g.size = {8, 8, 4};
  g.spacing = {1, 1, 5};  // z more than 3x coarser
  Volume v(g);
  for (int64_t k = 0; k < 4; ++k)
    for (int64_t j = 0; j < 8; ++j)
      for (int64_t i = 0; i < 8; ++i) v.at(i, j, k) = static_cast<float>(100 * k);
  Volume r = resample_volume(v, {1, 1, 2.5});
  ASSERT_EQ(r.geometry.size, (Size3{8, 8, 8}));
  // Nearest along z: only values of existing slices appear, no blends like 50.
  for (float x : r.data) EXPECT_EQ(std::fmod(x, 100.f), 0.f) << x;
}

TEST(Spatial, LabelsResampleWithNearestNeighbour) {
  Geometry g;
  g.size = {10, 10, 10};
  LabelMap l(g);
  for (size_t n = 0; n < l.data.size(); ++n) l.data[n] = static_cast<uint16_t>((n / 7) % 3 * 2);
  LabelMap r = resample_labels(l, {0.7, 1.3, 0.9});
  for (uint16_t x : r.data) EXPECT_TRUE(x == 0 || x == 2 || x == 4) << x;
}

TEST(Spatial, CropOrPadKeepsVoxelsInPlace) {
  Volume v = ramp_volume(awkward_geometry());
  Volume c = crop_or_pad(v, {-2, 3, 1}, {10, 4, 3}, -1000.f);
  EXPECT_EQ(c.at(0, 0, 0), -1000.f);  // padding
  Volume expected = ramp_volume(c.geometry);
  for (int64_t k = 0; k < 3; ++k)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t i = 2; i < 8; ++i) EXPECT_NEAR(c.at(i, j, k), expected.at(i, j, k), 1e-4);
}

}  // namespace
}  // namespace pgl
