// The exact EDT against brute force, with anisotropic spacing.
#include "pgl/eval/distance_transform.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "pgl/core/error.h"

namespace pgl::eval {
namespace {

std::vector<double> brute_force(const std::vector<uint8_t>& feature, const Size3& s, const Vec3& sp) {
  std::vector<double> d(feature.size(), std::numeric_limits<double>::infinity());
  size_t n = 0;
  for (int64_t k = 0; k < s[2]; ++k)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t i = 0; i < s[0]; ++i, ++n) {
        size_t m = 0;
        for (int64_t c = 0; c < s[2]; ++c)
          for (int64_t b = 0; b < s[1]; ++b)
            for (int64_t a = 0; a < s[0]; ++a, ++m) {
              if (!feature[m]) continue;
              const double dx = (i - a) * sp[0], dy = (j - b) * sp[1], dz = (k - c) * sp[2];
              d[n] = std::min(d[n], dx * dx + dy * dy + dz * dz);
            }
      }
  return d;
}

TEST(DistanceTransform, MatchesBruteForceOnRandomMasks) {
  std::mt19937 rng(7);
  const Size3 size{11, 8, 6};
  for (const Vec3& spacing : {Vec3{1, 1, 1}, Vec3{0.7, 1.3, 2.9}, Vec3{3.0, 0.45, 1.0}})
    for (double density : {0.01, 0.05, 0.3}) {
      std::bernoulli_distribution on(density);
      std::vector<uint8_t> feature(static_cast<size_t>(size[0] * size[1] * size[2]));
      for (auto& f : feature) f = on(rng);
      feature[17] = 1;  // never empty
      const std::vector<double> got = squared_distance_transform(feature, size, spacing);
      const std::vector<double> want = brute_force(feature, size, spacing);
      ASSERT_EQ(got.size(), want.size());
      for (size_t n = 0; n < got.size(); ++n)
        ASSERT_NEAR(got[n], want[n], 1e-9 * (1 + want[n])) << "voxel " << n << " density " << density;
    }
}

TEST(DistanceTransform, SingleFeatureIsExact) {
  const Size3 size{5, 4, 3};
  std::vector<uint8_t> feature(60, 0);
  feature[0] = 1;
  const std::vector<double> d = squared_distance_transform(feature, size, {2, 3, 5});
  EXPECT_EQ(d[0], 0);
  EXPECT_EQ(d[4], 64);                        // (4 * 2)^2
  EXPECT_EQ(d[59], 8 * 8 + 9 * 9 + 10 * 10);  // last voxel (4, 3, 2)
}

TEST(DistanceTransform, NoFeatureIsInfinite) {
  std::vector<uint8_t> feature(24, 0);
  for (double v : squared_distance_transform(feature, {4, 3, 2}, {1, 1, 1})) EXPECT_TRUE(std::isinf(v));
}

TEST(DistanceTransform, RefusesBadInput) {
  std::vector<uint8_t> feature(23, 0);
  EXPECT_THROW(squared_distance_transform(feature, {4, 3, 2}, {1, 1, 1}), Error);
  feature.resize(24);
  EXPECT_THROW(squared_distance_transform(feature, {4, 3, 2}, {1, 0, 1}), Error);
}

}  // namespace
}  // namespace pgl::eval
