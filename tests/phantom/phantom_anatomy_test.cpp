// Anatomy of generated phantoms: organ volumes and HU in human ranges, laterality in patient coordinates
// (LPS: +x left, +y posterior, +z superior), tumours inside their organ.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "pgl/phantom/phantom.h"
#include "support/test_support.h"

namespace pgl::phantom {
namespace {

struct LabelStats {
  int64_t voxels = 0;
  double ml = 0;
  double interior_hu = 0;  // mean HU of voxels whose 6 neighbours have the same label (no partial volume)
  int64_t interior = 0;
  Vec3 centroid{0, 0, 0};  // mm, patient space
};

std::map<int, LabelStats> label_stats(const PhantomCase& c) {
  const Geometry& g = c.labels.geometry;
  const double voxel_ml = g.spacing[0] * g.spacing[1] * g.spacing[2] / 1000.0;
  std::map<int, LabelStats> stats;
  std::map<int, Vec3> index_sum;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        int l = c.labels.at(i, j, k);
        LabelStats& s = stats[l];
        ++s.voxels;
        Vec3& sum = index_sum[l];
        sum[0] += static_cast<double>(i), sum[1] += static_cast<double>(j), sum[2] += static_cast<double>(k);
        if (i == 0 || j == 0 || k == 0 || i == g.size[0] - 1 || j == g.size[1] - 1 || k == g.size[2] - 1)
          continue;
        if (c.labels.at(i - 1, j, k) == l && c.labels.at(i + 1, j, k) == l && c.labels.at(i, j - 1, k) == l &&
            c.labels.at(i, j + 1, k) == l && c.labels.at(i, j, k - 1) == l && c.labels.at(i, j, k + 1) == l) {
          s.interior_hu += c.image.at(i, j, k);
          ++s.interior;
        }
      }
  for (auto& [l, s] : stats) {
    s.ml = static_cast<double>(s.voxels) * voxel_ml;
    if (s.interior > 0) s.interior_hu /= static_cast<double>(s.interior);
    const Vec3& sum = index_sum[l];
    double n = static_cast<double>(s.voxels);
    s.centroid = g.index_to_point({sum[0] / n, sum[1] / n, sum[2] / n});
  }
  return stats;
}

PhantomCase make(Task task, uint64_t seed, Size3 size = {128, 128, 64}) {
  CaseOptions o;
  o.task = task;
  o.size = size;
  return generate_case(o, case_seed(seed, 0));
}

bool contrast(const PhantomCase& c) { return c.info.phase == Phase::kPortalVenous; }

TEST(PhantomAnatomy, MultiorganVolumesHuAndLaterality) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    PhantomCase c = make(Task::kMultiorgan, seed);
    auto s = label_stats(c);
    for (int l : {1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13})
      EXPECT_GT(s[l].voxels, 0) << "label " << l << " missing";
    for (const auto& [l, st] : s) EXPECT_LE(l, 13);
    // Volumes (ml) in adult ranges.
    EXPECT_GT(s[6].ml, 1000);
    EXPECT_LT(s[6].ml, 2500);
    EXPECT_GT(s[1].ml, 100);
    EXPECT_LT(s[1].ml, 500);
    for (int kidney : {2, 3}) {
      EXPECT_GT(s[kidney].ml, 100) << "kidney " << kidney;
      EXPECT_LT(s[kidney].ml, 300) << "kidney " << kidney;
    }
    EXPECT_GT(s[11].ml, 25);
    EXPECT_LT(s[11].ml, 150);
    if (s.count(4)) {
      EXPECT_LT(s[4].ml, 120);
    }
    // Mean HU away from organ borders.
    if (contrast(c)) {
      EXPECT_NEAR(s[6].interior_hu, 117, 20) << "liver, portal venous";
      EXPECT_NEAR(s[1].interior_hu, 120, 20) << "spleen, portal venous";
      EXPECT_GT(s[8].interior_hu, 120) << "aorta, portal venous";
    } else {
      EXPECT_NEAR(s[6].interior_hu, 60, 15) << "liver, non-contrast";
      EXPECT_NEAR(s[1].interior_hu, 50, 15) << "spleen, non-contrast";
      EXPECT_NEAR(s[8].interior_hu, 42, 20) << "aorta, non-contrast";
    }
    // Laterality: liver and IVC on the patient's right (-x), spleen and aorta on the left.
    EXPECT_LT(s[6].centroid[0], s[1].centroid[0]);
    EXPECT_LT(s[6].centroid[0], 0);
    EXPECT_GT(s[1].centroid[0], 0);
    EXPECT_LT(s[2].centroid[0], 0) << "right kidney on the right";
    EXPECT_GT(s[3].centroid[0], 0) << "left kidney on the left";
    EXPECT_LT(s[9].centroid[0], s[8].centroid[0]) << "IVC right of the aorta";
    EXPECT_LT(s[12].centroid[0], s[13].centroid[0]) << "adrenals";
    // Front to back: pancreas in front of the aorta, kidneys behind the liver.
    EXPECT_LT(s[11].centroid[1], s[8].centroid[1]);
    EXPECT_LT(s[6].centroid[1], s[2].centroid[1]);
    // Head to feet: liver and spleen above the kidneys, esophagus above the stomach.
    EXPECT_GT(s[6].centroid[2], s[2].centroid[2]);
    EXPECT_GT(s[1].centroid[2], s[3].centroid[2]);
    EXPECT_GT(s[5].centroid[2], s[7].centroid[2]);
  }
}

TEST(PhantomAnatomy, TissuesInHu) {
  PhantomCase c = make(Task::kMultiorgan, 4);
  const Geometry& g = c.image.geometry;
  // Bone (the spine) lies behind the aorta, near the midline; air surrounds the body.
  auto s = label_stats(c);
  double bone_y = 0, bone_n = 0;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        if (c.image.at(i, j, k) < 400) continue;
        Vec3 p = g.index_to_point({static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)});
        if (std::fabs(p[0]) > 40) continue;
        bone_y += p[1];
        ++bone_n;
      }
  ASSERT_GT(bone_n, 100);
  EXPECT_GT(bone_y / bone_n, s[8].centroid[1]) << "spine posterior to the aorta";
  EXPECT_LT(c.image.at(0, 0, 0), -900) << "air in the corner";
  float lo = 1e9f, hi = -1e9f;
  for (float v : c.image.data) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, -1024);
  EXPECT_LE(hi, 3071);
  EXPECT_GT(hi, 300) << "some bone";
  // Lungs at the top: air inside the body in the upper slices.
  int64_t lung = 0, k = g.size[2] - 2;
  for (int64_t j = g.size[1] / 4; j < 3 * g.size[1] / 4; ++j)
    for (int64_t i = g.size[0] / 4; i < 3 * g.size[0] / 4; ++i)
      if (c.image.at(i, j, k) < -700) ++lung;
  EXPECT_GT(lung, 50) << "lung bases in the top slice";
}

// Fraction of the non-tumour face neighbours of tumour voxels that belong to the host organ label.
double host_contact(const PhantomCase& c, uint16_t tumour, uint16_t host) {
  const Size3& n = c.labels.size();
  int64_t total = 0, on_host = 0;
  for (int64_t k = 1; k < n[2] - 1; ++k)
    for (int64_t j = 1; j < n[1] - 1; ++j)
      for (int64_t i = 1; i < n[0] - 1; ++i) {
        if (c.labels.at(i, j, k) != tumour) continue;
        for (auto [di, dj, dk] :
             {std::array<int, 3>{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}}) {
          uint16_t l = c.labels.at(i + di, j + dj, k + dk);
          if (l == tumour) continue;
          ++total;
          on_host += l == host;
        }
      }
  return total ? static_cast<double>(on_host) / static_cast<double>(total) : 1.0;
}

TEST(PhantomAnatomy, LiverTumoursInsideLiver) {
  int with_tumours = 0;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    PhantomCase c = make(Task::kLiver, seed);
    auto s = label_stats(c);
    for (const auto& [l, st] : s) EXPECT_LE(l, 2);
    EXPECT_GT(s[1].ml, 1000);
    EXPECT_LT(s[1].ml, 2500);
    if (s.count(2) == 0) continue;
    ++with_tumours;
    EXPECT_LT(s[2].ml, 0.5 * s[1].ml);
    EXPECT_GT(host_contact(c, 2, 1), 0.6) << "seed " << seed;
    EXPECT_LT(s[2].centroid[0], 40) << "tumour centroid in the liver's half of the body";
  }
  EXPECT_GE(with_tumours, 3);
}

TEST(PhantomAnatomy, KidneyTumoursAtKidneys) {
  int with_tumours = 0;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    PhantomCase c = make(Task::kKidney, seed);
    auto s = label_stats(c);
    for (const auto& [l, st] : s) EXPECT_LE(l, 2);
    EXPECT_GT(s[1].ml, 200) << "both kidneys";
    EXPECT_LT(s[1].ml, 600);
    if (s.count(2) == 0) continue;
    ++with_tumours;
    EXPECT_GT(host_contact(c, 2, 1), 0.25) << "seed " << seed;  // kidney tumours may bulge out
  }
  EXPECT_GE(with_tumours, 3);
}

TEST(PhantomAnatomy, SpleenTask) {
  PhantomCase c = make(Task::kSpleen, 5);
  auto s = label_stats(c);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_GT(s[1].ml, 100);
  EXPECT_LT(s[1].ml, 500);
  EXPECT_GT(s[1].centroid[0], 0) << "spleen on the patient's left";
}

}  // namespace
}  // namespace pgl::phantom
