// Dice, HD95 and NSD on hand-made masks with known answers, and against a brute-force reference.
#include "pgl/eval/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "eval/brute_force.h"
#include "pgl/core/error.h"

namespace pgl::eval {
namespace {
using namespace pgl::eval::test_reference;

LabelMap make_labels(const Size3& size, const Vec3& spacing) {
  Geometry g;
  g.size = size;
  g.spacing = spacing;
  return LabelMap(g, 0);
}

// Fills the box [lo, lo + edge), clipped to the grid, with `label`.
void fill_box(LabelMap& m, const Size3& lo, const Size3& edge, uint16_t label) {
  const Size3& s = m.size();
  for (int64_t k = lo[2]; k < std::min(lo[2] + edge[2], s[2]); ++k)
    for (int64_t j = lo[1]; j < std::min(lo[1] + edge[1], s[1]); ++j)
      for (int64_t i = lo[0]; i < std::min(lo[0] + edge[0], s[0]); ++i) m.at(i, j, k) = label;
}

TEST(Metrics, IdenticalCubes) {
  LabelMap a = make_labels({12, 12, 12}, {0.8, 1.1, 2.5});
  fill_box(a, {2, 3, 4}, {6, 5, 4}, 1);
  const auto m = evaluate_case(a, a, {1}, 1.0);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].label, 1);
  EXPECT_EQ(m[0].dice, 1);
  EXPECT_EQ(m[0].hd95, 0);
  EXPECT_EQ(m[0].nsd, 1);
  EXPECT_EQ(m[0].pred_voxels, 6 * 5 * 4);
  EXPECT_EQ(m[0].ref_voxels, 6 * 5 * 4);
}

// A cube of edge 6 shifted by 2 voxels along z with 3 mm slices: 72 of the 304 surface voxels (the top face
// of the prediction, the bottom face of the reference) are exactly 6 mm from the other surface, all others
// closer.
TEST(Metrics, ShiftAlongThickSlices) {
  LabelMap ref = make_labels({10, 10, 12}, {1, 1, 3});
  LabelMap pred = ref;
  fill_box(ref, {2, 2, 2}, {6, 6, 6}, 1);
  fill_box(pred, {2, 2, 4}, {6, 6, 6}, 1);
  const auto m = evaluate_case(pred, ref, {1}, 1.0);
  EXPECT_DOUBLE_EQ(m[0].dice, 4.0 / 6.0);
  EXPECT_EQ(m[0].hd95, 6.0);
  const Reference r = brute_force(pred, ref, 1);
  ASSERT_EQ(r.pred_to_ref.size() + r.ref_to_pred.size(), 304u);
  EXPECT_NEAR(m[0].nsd, nsd_of(r, 1.0), 1e-12);
  // Tolerance just below / at / above the shift.
  EXPECT_DOUBLE_EQ(evaluate_case(pred, ref, {1}, 5.99)[0].nsd, 232.0 / 304.0);
  EXPECT_DOUBLE_EQ(evaluate_case(pred, ref, {1}, 6.0)[0].nsd, 1.0);
  EXPECT_DOUBLE_EQ(evaluate_case(pred, ref, {1}, 6.01)[0].nsd, 1.0);
  // Both HD95 definitions agree here.
  MetricOptions o;
  o.hd95 = Hd95Definition::MaxDirected;
  EXPECT_EQ(evaluate_case(pred, ref, {1}, o)[0].hd95, 6.0);
}

// The same shift along each axis in turn, each time with a different spacing on that axis.
TEST(Metrics, ShiftAlongEachAxisHonoursItsSpacing) {
  const Vec3 spacing{0.5, 2.0, 1.25};
  for (int axis = 0; axis < 3; ++axis) {
    LabelMap ref = make_labels({14, 14, 14}, spacing);
    LabelMap pred = ref;
    fill_box(ref, {3, 3, 3}, {6, 6, 6}, 2);
    Size3 lo{3, 3, 3};
    lo[static_cast<size_t>(axis)] += 2;
    fill_box(pred, lo, {6, 6, 6}, 2);
    const auto m = evaluate_case(pred, ref, {2}, 1.0);
    EXPECT_DOUBLE_EQ(m[0].dice, 4.0 / 6.0) << "axis " << axis;
    const Reference r = brute_force(pred, ref, 2);
    EXPECT_NEAR(m[0].hd95, pooled_hd95(r), 1e-9) << "axis " << axis;
    EXPECT_NEAR(m[0].nsd, nsd_of(r, 1.0), 1e-12) << "axis " << axis;
  }
  // Along x the shift is 2 x 0.5 mm: every distance is at most 1 mm and more than 5% are exactly 1 mm.
  LabelMap ref = make_labels({14, 14, 14}, spacing);
  LabelMap pred = ref;
  fill_box(ref, {3, 3, 3}, {6, 6, 6}, 2);
  fill_box(pred, {5, 3, 3}, {6, 6, 6}, 2);
  const auto m = evaluate_case(pred, ref, {2}, 0.99);
  EXPECT_EQ(m[0].hd95, 1.0);
  EXPECT_LT(m[0].nsd, 1.0);
  EXPECT_EQ(evaluate_case(pred, ref, {2}, 1.0)[0].nsd, 1.0);
}

TEST(Metrics, DisjointObjects) {
  LabelMap ref = make_labels({20, 6, 6}, {1.5, 1, 1});
  LabelMap pred = ref;
  fill_box(ref, {1, 1, 1}, {4, 4, 4}, 1);
  fill_box(pred, {12, 1, 1}, {4, 4, 4}, 1);
  const auto m = evaluate_case(pred, ref, {1}, 2.0);
  EXPECT_EQ(m[0].dice, 0);
  EXPECT_EQ(m[0].nsd, 0);
  EXPECT_NEAR(m[0].hd95, pooled_hd95(brute_force(pred, ref, 1)), 1e-9);
  EXPECT_GE(m[0].hd95, (12 - 4) * 1.5);  // at least the gap between the two faces
}

TEST(Metrics, EmptyPredictionIsInfinite) {
  LabelMap ref = make_labels({8, 8, 8}, {1, 1, 1});
  LabelMap pred = ref;
  fill_box(ref, {2, 2, 2}, {3, 3, 3}, 1);
  auto m = evaluate_case(pred, ref, {1}, 1.0);
  EXPECT_EQ(m[0].dice, 0);
  EXPECT_TRUE(std::isinf(m[0].hd95) && m[0].hd95 > 0);
  EXPECT_EQ(m[0].nsd, 0);
  EXPECT_EQ(m[0].pred_voxels, 0);
  EXPECT_EQ(m[0].ref_voxels, 27);
  // And the other way round (a false positive where the reference is empty).
  m = evaluate_case(ref, pred, {1}, 1.0);
  EXPECT_EQ(m[0].dice, 0);
  EXPECT_TRUE(std::isinf(m[0].hd95));
  EXPECT_EQ(m[0].nsd, 0);
}

TEST(Metrics, BothEmptyIsNaNAndCountedApart) {
  LabelMap a = make_labels({8, 8, 8}, {1, 1, 1});
  fill_box(a, {2, 2, 2}, {3, 3, 3}, 1);
  const auto m = evaluate_case(a, a, {1, 2}, 1.0);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].dice, 1);
  EXPECT_TRUE(m[1].both_empty());
  EXPECT_TRUE(std::isnan(m[1].dice));
  EXPECT_TRUE(std::isnan(m[1].hd95));
  EXPECT_TRUE(std::isnan(m[1].nsd));

  LabelMap b = make_labels({8, 8, 8}, {1, 1, 1});
  fill_box(b, {0, 0, 0}, {2, 2, 2}, 2);
  const auto m2 = evaluate_case(b, b, {1, 2}, 1.0);
  const auto s = summarize_classes({m, m2}, {1, 2});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].n_both_empty, 1);
  EXPECT_EQ(s[0].dice.n, 1);
  EXPECT_EQ(s[0].dice.n_nan, 1);
  EXPECT_EQ(s[0].dice.mean, 1);
  EXPECT_EQ(s[1].n_both_empty, 1);
  EXPECT_EQ(s[1].hd95.mean, 0);
}

// Random blobs of two classes with anisotropic spacing against the brute-force reference.
TEST(Metrics, RandomMasksMatchBruteForce) {
  std::mt19937 rng(11);
  const Vec3 spacing{0.8, 1.7, 3.0};
  int compared = 0;
  for (int trial = 0; trial < 6; ++trial) {
    LabelMap pred = make_labels({13, 11, 9}, spacing);
    LabelMap ref = pred;
    std::uniform_int_distribution<int> pos(0, 9), edge(1, 5), label(1, 2);
    for (int n = 0; n < 5; ++n) {
      fill_box(pred, {pos(rng), pos(rng), pos(rng) % 7}, {edge(rng), edge(rng), edge(rng)},
               static_cast<uint16_t>(label(rng)));
      fill_box(ref, {pos(rng), pos(rng), pos(rng) % 7}, {edge(rng), edge(rng), edge(rng)},
               static_cast<uint16_t>(label(rng)));
    }
    MetricOptions pooled, max;
    pooled.nsd_tolerance = max.nsd_tolerance = 2.0;
    max.hd95 = Hd95Definition::MaxDirected;
    const auto mp = evaluate_case(pred, ref, {1, 2}, pooled);
    const auto mm = evaluate_case(pred, ref, {1, 2}, max);
    for (int c = 1; c <= 2; ++c) {
      const auto& m = mp[static_cast<size_t>(c - 1)];
      if (m.pred_voxels == 0 || m.ref_voxels == 0) continue;
      const Reference r = brute_force(pred, ref, c);
      ++compared;
      EXPECT_NEAR(m.hd95, pooled_hd95(r), 1e-9) << "trial " << trial << " class " << c;
      EXPECT_NEAR(m.nsd, nsd_of(r, 2.0), 1e-12) << "trial " << trial << " class " << c;
      EXPECT_NEAR(mm[static_cast<size_t>(c - 1)].hd95,
                  std::max(numpy_percentile(r.pred_to_ref, 95), numpy_percentile(r.ref_to_pred, 95)), 1e-9);
    }
    const auto dice = dice_scores(pred, ref, {1, 2});
    for (size_t c = 0; c < 2; ++c) {
      if (std::isnan(mp[c].dice)) {
        EXPECT_TRUE(std::isnan(dice[c]));
      } else {
        EXPECT_EQ(dice[c], mp[c].dice);
      }
    }
  }
  EXPECT_GE(compared, 8);
}

TEST(Metrics, SurfaceIncludesTheImageBorder) {
  LabelMap a = make_labels({4, 4, 4}, {1, 1, 1});
  for (auto& v : a.data) v = 3;
  const auto s = surface_mask(a, 3);
  int64_t count = 0;
  for (auto v : s) count += v;
  EXPECT_EQ(count, 64 - 8);  // all but the 2x2x2 interior
  EXPECT_EQ(surface_mask(a, 1), std::vector<uint8_t>(64, 0));
}

TEST(Metrics, DiceOnlySkipsSurfaces) {
  LabelMap ref = make_labels({8, 8, 8}, {1, 1, 1});
  LabelMap pred = ref;
  fill_box(ref, {1, 1, 1}, {4, 4, 4}, 1);
  fill_box(pred, {1, 1, 1}, {4, 4, 2}, 1);
  MetricOptions o;
  o.dice_only = true;
  const auto m = evaluate_case(pred, ref, {1}, o);
  EXPECT_DOUBLE_EQ(m[0].dice, 2.0 * 32 / 96);
  EXPECT_TRUE(std::isnan(m[0].hd95));
}

TEST(Metrics, RefusesDifferentGridsAndBadClasses) {
  LabelMap a = make_labels({8, 8, 8}, {1, 1, 1});
  LabelMap b = make_labels({8, 8, 8}, {1, 1, 2});
  EXPECT_THROW(evaluate_case(a, b, {1}), Error);
  EXPECT_THROW(dice_scores(a, b, {1}), Error);
  EXPECT_THROW(evaluate_case(a, a, {0}), Error);
  EXPECT_THROW(evaluate_case(a, a, {70000}), Error);
}

TEST(Metrics, PercentileAndSummary) {
  std::vector<double> v{4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(percentile(v, 95), 3.85);  // numpy.percentile([1, 2, 3, 4], 95)
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 100), 4);
  std::vector<double> one{7};
  EXPECT_EQ(percentile(one, 95), 7);
  std::vector<double> none;
  EXPECT_TRUE(std::isnan(percentile(none, 95)));

  const MetricSummary s = summarize({1, 3, kNaN, INFINITY});
  EXPECT_EQ(s.mean, 2);
  EXPECT_EQ(s.std, 1);
  EXPECT_EQ(s.n, 2);
  EXPECT_EQ(s.n_nan, 1);
  EXPECT_EQ(s.n_inf, 1);
  const MetricSummary e = summarize({kNaN});
  EXPECT_TRUE(std::isnan(e.mean));
  EXPECT_EQ(e.n, 0);
}

TEST(Metrics, PresentLabels) {
  LabelMap a = make_labels({4, 4, 4}, {1, 1, 1});
  a.data[3] = 5;
  a.data[9] = 2;
  a.data[10] = 5;
  EXPECT_EQ(present_labels(a), (std::vector<int>{2, 5}));
}

}  // namespace
}  // namespace pgl::eval
