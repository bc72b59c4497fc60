// Aggregation of results.csv on the fixture's known numbers (see fixture.h).
#include "pgl/report/aggregate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "fixture.h"
#include "pgl/report/tables.h"

namespace pgl::report {
namespace {

ExperimentStats fixture_stats(const std::string& skip = "") {
  pgl::test::TempDir dir;
  test::write_fixture(dir.path(), skip);
  return compute_statistics(read_experiment(dir.path()), read_results_csv(dir / "results.csv"));
}

TEST(Aggregate, MeansAndStdOverSeeds) {
  const ExperimentStats st = fixture_stats();
  EXPECT_EQ(st.methods, test::kMethods);
  EXPECT_EQ(st.fractions, test::kFractions);
  EXPECT_EQ(st.seeds, test::kSeeds);
  EXPECT_EQ(st.classes, (std::vector<int>{1, 2}));
  EXPECT_TRUE(st.missing_cells.empty());
  EXPECT_EQ(st.cells.size(), 6u);
  EXPECT_EQ(st.n_rows, 3 * 2 * 2 * 4 * 2);

  // random at 10%: cell scores 0.70 + 0.03 (mean case offset) + 0.01 seed -> 0.73, 0.74.
  const MethodFractionStats* r = st.find("random", 0.1);
  ASSERT_TRUE(r);
  EXPECT_NEAR(r->dice.cell_means[0], 0.73, 1e-12);
  EXPECT_NEAR(r->dice.cell_means[1], 0.74, 1e-12);
  EXPECT_NEAR(r->dice.over_seeds.mean, 0.735, 1e-12);
  EXPECT_NEAR(r->dice.over_seeds.std, 0.01 / std::sqrt(2.0), 1e-12);
  EXPECT_EQ(r->n_cases, 4);
  EXPECT_EQ(r->n_nan_dice, 2);  // c4 liver, two seeds
  EXPECT_EQ(r->n_inf_hd95, 2);  // c3 liver, two seeds
  // pgl at 100%: + 0.10 + mean gain 0.025.
  const MethodFractionStats* p = st.find("pgl", 1.0);
  ASSERT_TRUE(p);
  EXPECT_NEAR(p->dice.over_seeds.mean, 0.835 + 0.025, 1e-12);
  // Per class: liver is NaN in c4, so its mean is over c1..c3 (offsets 0, 0.02, 0.04 and pgl 0.02, 0.03,
  // 0.01).
  EXPECT_NEAR(r->class_dice.at(2).over_seeds.mean, 0.70 + 0.02 + 0.005, 1e-12);
  EXPECT_NEAR(p->class_dice.at(2).over_seeds.mean, 0.80 + 0.02 + 0.02 + 0.005, 1e-12);
  EXPECT_NEAR(p->class_dice.at(1).over_seeds.mean, 0.80 + 0.03 + 0.025 + 0.005, 1e-12);
  // NSD equals Dice in the fixture; HD95 = mean of 10 (1 - d) and 3.5 over the finite values.
  EXPECT_NEAR(p->nsd.over_seeds.mean, p->dice.over_seeds.mean, 1e-12);
  EXPECT_TRUE(std::isfinite(p->hd95.over_seeds.mean));
  // Case scores averaged over seeds.
  EXPECT_NEAR(p->case_dice.at("c2"), 0.80 + 0.02 + 0.03 + 0.005, 1e-12);
}

TEST(Aggregate, GainsOverRandomArePairedOverCases) {
  const ExperimentStats st = fixture_stats();
  ASSERT_EQ(st.gains.size(), 4u);  // byol and pgl at two fractions
  const auto it = std::find_if(st.gains.begin(), st.gains.end(),
                               [](const Comparison& c) { return c.method == "pgl" && c.fraction == 0.1; });
  ASSERT_NE(it, st.gains.end());
  const PairedTest& t = it->test;
  EXPECT_EQ(it->baseline, "random");
  EXPECT_EQ(t.n, 4);
  EXPECT_EQ(it->seeds, (std::vector<int>{0, 1}));
  // Differences {0.02, 0.03, 0.01, 0.04}: mean 0.025, sd sqrt(0.0005 / 3), t = 3.873, df 3.
  EXPECT_NEAR(t.mean_diff, 0.025, 1e-12);
  EXPECT_NEAR(t.sd_diff, std::sqrt(0.0005 / 3), 1e-12);
  EXPECT_NEAR(t.t, 3.872983346207417, 1e-9);
  EXPECT_NEAR(t.p_t, 0.030466291662170963, 1e-9);  // df = 3 closed form
  const double half = 3.182446305284263 * std::sqrt(0.0005 / 3) / 2;
  EXPECT_NEAR(t.ci_low, 0.025 - half, 1e-9);
  EXPECT_NEAR(t.ci_high, 0.025 + half, 1e-9);
  EXPECT_NEAR(t.p_wilcoxon, 0.1003482464622909, 1e-9);  // V = 10 of n = 4, continuity corrected
  // byol: {0.01, -0.01, 0.02, 0}: the zero is dropped by Wilcoxon but counts for the t-test.
  const auto b = std::find_if(st.gains.begin(), st.gains.end(),
                              [](const Comparison& c) { return c.method == "byol" && c.fraction == 1.0; });
  ASSERT_NE(b, st.gains.end());
  EXPECT_EQ(b->test.n, 4);
  EXPECT_NEAR(b->test.mean_diff, 0.005, 1e-12);
  // pgl versus byol.
  ASSERT_EQ(st.versus.size(), 2u);
  EXPECT_EQ(st.versus[0].method, "pgl");
  EXPECT_EQ(st.versus[0].baseline, "byol");
  EXPECT_NEAR(st.versus[0].test.mean_diff, 0.02, 1e-12);
}

TEST(Aggregate, MissingCellsAreListedAndTheRestStillCounts) {
  const ExperimentStats st = fixture_stats("byol-f0.1-s1");
  EXPECT_EQ(st.missing_cells, (std::vector<std::string>{"byol-f0.1-s1"}));
  const MethodFractionStats* b = st.find("byol", 0.1);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->dice.seeds, (std::vector<int>{0}));
  EXPECT_NEAR(b->dice.over_seeds.mean, 0.73 + 0.005, 1e-12);
  EXPECT_TRUE(std::isnan(b->dice.over_seeds.std));
  // The gain pairs seeds: byol seed 0 against random seed 0 only, not against random's mean over both seeds
  // (which would give 0.005 - 0.005 = 0).
  const auto g = std::find_if(st.gains.begin(), st.gains.end(),
                              [](const Comparison& c) { return c.method == "byol" && c.fraction == 0.1; });
  ASSERT_NE(g, st.gains.end());
  EXPECT_NEAR(g->test.mean_diff, 0.005, 1e-12);
  EXPECT_EQ(g->seeds, (std::vector<int>{0}));
  // A comparison on one seed says so under the table.
  EXPECT_NE(comparison_table(st.gains, "gains").note.find("With one seed"), std::string::npos);
  EXPECT_EQ(comparison_table(fixture_stats().gains, "gains").note.find("With one seed"), std::string::npos);
}

}  // namespace
}  // namespace pgl::report
