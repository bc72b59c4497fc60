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
  // pgl at 100%: + 0.10 + mean gain 0.025 + its mean seed shift 0.005.
  const MethodFractionStats* p = st.find("pgl", 1.0);
  ASSERT_TRUE(p);
  EXPECT_NEAR(p->dice.over_seeds.mean, 0.835 + 0.025 + 0.005, 1e-12);
  // Per class: liver is NaN in c4, so its mean is over c1..c3 (offsets 0, 0.02, 0.04 and pgl 0.02, 0.03,
  // 0.01, plus its seed shift).
  EXPECT_NEAR(r->class_dice.at(2).over_seeds.mean, 0.70 + 0.02 + 0.005, 1e-12);
  EXPECT_NEAR(p->class_dice.at(2).over_seeds.mean, 0.80 + 0.02 + 0.02 + 0.005 + 0.005, 1e-12);
  EXPECT_NEAR(p->class_dice.at(1).over_seeds.mean, 0.80 + 0.03 + 0.025 + 0.005 + 0.005, 1e-12);
  // NSD equals Dice in the fixture; HD95 = mean of 10 (1 - d) and 3.5 over the finite values.
  EXPECT_NEAR(p->nsd.over_seeds.mean, p->dice.over_seeds.mean, 1e-12);
  EXPECT_TRUE(std::isfinite(p->hd95.over_seeds.mean));
  // Case scores averaged over seeds.
  EXPECT_NEAR(p->case_dice.at("c2"), 0.80 + 0.02 + 0.03 + 0.005 + 0.005, 1e-12);
}

const Comparison& find_comparison(const std::vector<Comparison>& comparisons, const std::string& method,
                                  double fraction) {
  const auto it = std::find_if(comparisons.begin(), comparisons.end(), [&](const Comparison& c) {
    return c.method == method && c.fraction == fraction;
  });
  EXPECT_NE(it, comparisons.end()) << method << " " << fraction;
  return *it;
}

TEST(Aggregate, GainsOverRandomAreTestedOverSeeds) {
  const ExperimentStats st = fixture_stats();
  ASSERT_EQ(st.gains.size(), 4u);  // byol and pgl at two fractions
  const Comparison& c = find_comparison(st.gains, "pgl", 0.1);
  EXPECT_EQ(c.baseline, "random");
  EXPECT_EQ(c.seeds(), (std::vector<int>{0, 1}));
  // Per seed, the mean over the 4 cases of {0.02, 0.03, 0.01, 0.04} + 0.01 * seed.
  ASSERT_EQ(c.per_seed.size(), 2u);
  EXPECT_EQ(c.per_seed[0].n_cases, 4);
  EXPECT_NEAR(c.per_seed[0].mean_diff, 0.025, 1e-12);
  EXPECT_NEAR(c.per_seed[1].mean_diff, 0.035, 1e-12);
  EXPECT_NEAR(c.over_seeds.mean_diff, 0.03, 1e-12);
  EXPECT_NEAR(c.interval.estimate, 0.03, 1e-12);
  // Paired t over the two seeds: t = 0.03 / (0.01 / sqrt(2) / sqrt(2)) = 6, df = 1; two-sided p from the
  // Cauchy closed form 1 - 2 atan(6) / pi = 0.105137 (by hand).
  EXPECT_NEAR(c.over_seeds.t, 6, 1e-9);
  EXPECT_DOUBLE_EQ(c.over_seeds.df, 1);
  EXPECT_NEAR(c.over_seeds.p_t, 1 - 2 * std::atan(6.0) / M_PI, 1e-9);
  // Wilcoxon over 2 positive seeds: V = 3, z = (3 - 1.5 - 0.5) / sqrt(1.25), p = erfc(z / sqrt 2) (by hand).
  EXPECT_NEAR(c.over_seeds.p_wilcoxon, std::erfc(1 / std::sqrt(1.25) / std::sqrt(2.0)), 1e-12);
  EXPECT_TRUE(c.tested());
  EXPECT_FALSE(c.significant());
  EXPECT_EQ(c.verdict(), "not significant");
  // The interval lies within what resampling can reach (every case of seed 0 at its lowest, 0.01 + 0, to
  // every case of seed 1 at its highest, 0.04 + 0.01) and around the estimate.
  EXPECT_EQ(c.interval.resamples, kBootstrapResamples);
  EXPECT_GE(c.interval.ci_low, 0.01 - 1e-12);
  EXPECT_LT(c.interval.ci_low, 0.03);
  EXPECT_GT(c.interval.ci_high, 0.03);
  EXPECT_LE(c.interval.ci_high, 0.05 + 1e-12);

  // The per-case test of the seed-averaged differences {0.025, 0.035, 0.015, 0.045}, the old verdict, would
  // have called this gain significant (t = 4.648, df = 3, p = 0.0188 from the df = 3 closed form); it stays
  // as a secondary record only.
  EXPECT_EQ(c.over_cases.n, 4);
  EXPECT_NEAR(c.over_cases.mean_diff, 0.03, 1e-12);
  EXPECT_NEAR(c.over_cases.p_t, 0.018782784176974765, 1e-9);

  // byol: the same differences {0.01, -0.01, 0.02, 0} in both seeds. With no seed-to-seed spread the seed
  // level adds nothing and the interval is the case level's: narrower than with one seed of those cases
  // (the two seeds' cases are resampled independently), but wide enough to hold 0 (the differences do).
  const Comparison& b = find_comparison(st.gains, "byol", 1.0);
  EXPECT_NEAR(b.per_seed[0].mean_diff, 0.005, 1e-12);
  EXPECT_NEAR(b.per_seed[1].mean_diff, 0.005, 1e-12);
  EXPECT_NEAR(b.interval.estimate, 0.005, 1e-12);
  EXPECT_LT(b.interval.ci_low, 0);
  EXPECT_GT(b.interval.ci_high, 0);
  const BootstrapInterval one_seed = hierarchical_bootstrap({{0.01, -0.01, 0.02, 0}});
  EXPECT_LT(b.interval.ci_high - b.interval.ci_low, one_seed.ci_high - one_seed.ci_low);

  // pgl versus byol at 10%: per seed 0.025 - 0.005 and 0.035 - 0.005.
  ASSERT_EQ(st.versus.size(), 2u);
  EXPECT_EQ(st.versus[0].method, "pgl");
  EXPECT_EQ(st.versus[0].baseline, "byol");
  EXPECT_NEAR(st.versus[0].per_seed[0].mean_diff, 0.02, 1e-12);
  EXPECT_NEAR(st.versus[0].per_seed[1].mean_diff, 0.03, 1e-12);
  EXPECT_NEAR(st.versus[0].over_seeds.mean_diff, 0.025, 1e-12);
}

// A hand-made experiment: random and pgl at one fraction, seeds 0..2, three cases; pgl's case difference is
// seed_gain[seed] + case_gain[case].
std::vector<ResultRow> hand_made_rows(const std::vector<double>& seed_gain,
                                      const std::vector<double>& case_gain) {
  std::vector<ResultRow> rows;
  for (size_t s = 0; s < seed_gain.size(); ++s)
    for (size_t c = 0; c < case_gain.size(); ++c)
      for (const char* method : {"random", "pgl"}) {
        ResultRow r;
        r.method = method;
        r.fraction = 0.5;
        r.seed = static_cast<int>(s);
        r.case_id = "c" + std::to_string(c);
        r.label = 1;
        r.dice = 0.6 + 0.05 * static_cast<double>(c) + 0.02 * static_cast<double>(s);
        if (r.method == "pgl") r.dice += seed_gain[s] + case_gain[c];
        r.hd95 = r.nsd = r.dice;
        rows.push_back(r);
      }
  return rows;
}

ExperimentSpec hand_made_spec(size_t seeds) {
  ExperimentSpec spec;
  spec.methods = {"random", "pgl"};
  spec.fractions = {0.5};
  for (size_t s = 0; s < seeds; ++s) spec.seeds.push_back(static_cast<int>(s));
  return spec;
}

TEST(Aggregate, SeedLevelTTestMatchesTheClosedForm) {
  // Per-seed differences {0.02, 0.03, 0.04}: t = 0.03 / (0.01 / sqrt 3) = 3 sqrt 3, df = 2, and from the
  // df = 2 closed form of the t CDF, F(t) = 1/2 + t / (2 sqrt(2 + t^2)), the two-sided p is
  // 1 - sqrt(27 / 29) = 0.0350987 (by hand).
  const ExperimentStats st =
      compute_statistics(hand_made_spec(3), hand_made_rows({0.02, 0.03, 0.04}, {-0.01, 0, 0.01}));
  ASSERT_EQ(st.gains.size(), 1u);
  const Comparison& c = st.gains[0];
  ASSERT_EQ(c.per_seed.size(), 3u);
  EXPECT_NEAR(c.over_seeds.mean_diff, 0.03, 1e-12);
  EXPECT_NEAR(c.over_seeds.t, 3 * std::sqrt(3.0), 1e-9);
  EXPECT_DOUBLE_EQ(c.over_seeds.df, 2);
  EXPECT_NEAR(c.over_seeds.p_t, 1 - std::sqrt(27.0 / 29.0), 1e-9);
  // Wilcoxon over 3 positive seeds: V = 6, z = (6 - 3 - 0.5) / sqrt(3.5), p = erfc(z / sqrt 2) = 0.181449.
  EXPECT_DOUBLE_EQ(c.over_seeds.wilcoxon_v, 6);
  EXPECT_NEAR(c.over_seeds.p_wilcoxon, std::erfc(2.5 / std::sqrt(3.5) / std::sqrt(2.0)), 1e-12);
  EXPECT_TRUE(c.significant());
  EXPECT_EQ(c.verdict(), "higher (p < 0.05)");
  EXPECT_GT(c.interval.ci_low, 0);
}

TEST(Aggregate, SeedToSeedSpreadIsNotHiddenByManyAgreeingCases) {
  // Seeds disagree (+0.06, -0.04, +0.01) while the cases of each seed agree to within 0.001: the old per-case
  // test of seed-averaged differences sees 0.01 +- 0.001 and calls it significant; over seeds it is not, and
  // the interval is wide and holds 0.
  const ExperimentStats st =
      compute_statistics(hand_made_spec(3), hand_made_rows({0.06, -0.04, 0.01}, {-0.001, 0, 0.001}));
  const Comparison& c = st.gains[0];
  EXPECT_NEAR(c.over_seeds.mean_diff, 0.01, 1e-12);
  EXPECT_LT(c.over_cases.p_t, 0.05);
  EXPECT_GT(c.over_seeds.p_t, 0.5);
  EXPECT_FALSE(c.significant());
  EXPECT_EQ(c.verdict(), "not significant");
  EXPECT_LT(c.interval.ci_low, 0);
  EXPECT_GT(c.interval.ci_high, 0);
  EXPECT_GT(c.interval.ci_high - c.interval.ci_low, 0.05);
}

TEST(Aggregate, OneSeedIsNeverTested) {
  // Nine cases that all gain 0.05 +- 0.001: a per-case test would give p < 1e-10; with one seed there is no
  // p-value and no verdict, in the statistics and in the table.
  std::vector<double> cases;
  for (int c = 0; c < 9; ++c) cases.push_back(0.001 * (c % 3 - 1));
  const ExperimentStats st = compute_statistics(hand_made_spec(1), hand_made_rows({0.05}, cases));
  ASSERT_EQ(st.gains.size(), 1u);
  const Comparison& c = st.gains[0];
  EXPECT_EQ(c.per_seed.size(), 1u);
  EXPECT_NEAR(c.over_seeds.mean_diff, 0.05, 1e-12);
  EXPECT_LT(c.over_cases.p_t, 1e-10);
  EXPECT_FALSE(c.tested());
  EXPECT_FALSE(c.significant());
  EXPECT_EQ(c.verdict(), "1 seed: not tested");
  EXPECT_TRUE(std::isnan(c.over_seeds.p_t));
  EXPECT_TRUE(std::isnan(c.over_seeds.p_wilcoxon));
  const Table t = comparison_table(st.gains, "gains");
  ASSERT_EQ(t.rows.size(), 1u);
  const auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(t.header.begin(), t.header.end(), name) - t.header.begin());
  };
  EXPECT_EQ(t.rows[0][column("verdict")], "1 seed: not tested");
  EXPECT_EQ(t.rows[0][column("p (t, seeds)")], "–");
  EXPECT_EQ(t.rows[0][column("p (Wilcoxon, seeds)")], "–");
  EXPECT_EQ(t.rows[0][column("seeds")], "1");
  for (bool b : t.bold[0]) EXPECT_FALSE(b);
  for (const std::string& cell : t.rows[0]) EXPECT_EQ(cell.find('*'), std::string::npos) << cell;
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
  const Comparison& g = find_comparison(st.gains, "byol", 0.1);
  EXPECT_NEAR(g.over_seeds.mean_diff, 0.005, 1e-12);
  EXPECT_EQ(g.seeds(), (std::vector<int>{0}));
  // One paired seed: not tested, even though the experiment has two.
  EXPECT_EQ(g.verdict(), "1 seed: not tested");
  EXPECT_TRUE(std::isnan(g.over_seeds.p_t));
  EXPECT_EQ(find_comparison(st.gains, "byol", 1.0).verdict(), "higher (p < 0.05)");  // equal in both seeds
}

}  // namespace
}  // namespace pgl::report
