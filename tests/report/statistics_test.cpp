// Student's t distribution, paired t-test and Wilcoxon signed-rank test against closed forms and published
// values (R's t.test / wilcox.test on the sleep data, t tables); the hierarchical bootstrap on cases whose
// answer is known.
#include "pgl/report/statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace pgl::report {
namespace {

TEST(IncompleteBeta, MatchesClosedForms) {
  for (double x : {0.0, 0.01, 0.3, 0.5, 0.77, 0.999, 1.0}) {
    EXPECT_NEAR(incomplete_beta(2.5, 1, x), std::pow(x, 2.5), 1e-13) << x;          // I_x(a, 1) = x^a
    EXPECT_NEAR(incomplete_beta(1, 3.5, x), 1 - std::pow(1 - x, 3.5), 1e-13) << x;  // I_x(1, b)
  }
  EXPECT_NEAR(incomplete_beta(7, 7, 0.5), 0.5, 1e-13);
  EXPECT_NEAR(incomplete_beta(300, 300, 0.5), 0.5, 1e-11);
  // I_x(a, b) = 1 - I_{1-x}(b, a)
  EXPECT_NEAR(incomplete_beta(3.2, 0.7, 0.4) + incomplete_beta(0.7, 3.2, 0.6), 1, 1e-13);
  EXPECT_TRUE(std::isnan(incomplete_beta(-1, 1, 0.5)));
  EXPECT_TRUE(std::isnan(incomplete_beta(1, 1, 1.5)));
}

TEST(StudentT, CdfMatchesClosedFormsAndTables) {
  for (double t : {-30.0, -3.0, -1.0, -0.2, 0.0, 0.5, 2.0, 12.0}) {
    EXPECT_NEAR(student_t_cdf(t, 1), 0.5 + std::atan(t) / M_PI, 1e-12) << t;             // Cauchy
    EXPECT_NEAR(student_t_cdf(t, 2), 0.5 + t / (2 * std::sqrt(2 + t * t)), 1e-12) << t;  // df = 2
    const double th = std::atan(t / std::sqrt(3.0));                                     // df = 3
    EXPECT_NEAR(student_t_cdf(t, 3), 0.5 + (th + std::sin(th) * std::cos(th)) / M_PI, 1e-12) << t;
  }
  EXPECT_NEAR(student_t_cdf(2.228, 10), 0.975, 1e-4);  // t table: t_{0.975, 10} = 2.228
  EXPECT_NEAR(student_t_cdf(2.776445, 4), 0.975, 1e-7);
  EXPECT_NEAR(student_t_cdf(1.96, 1e6), normal_cdf(1.96), 1e-6);
  EXPECT_NEAR(student_t_cdf(1.96, 1e6), 0.975, 1e-4);
  EXPECT_NEAR(student_t_cdf(-8, 5), 1 - student_t_cdf(8, 5), 1e-14);
  EXPECT_GT(student_t_cdf(-40, 5), 0);                           // far tails keep relative precision
  EXPECT_NEAR(student_t_cdf(-40, 5) / 9.205981086e-8, 1, 1e-6);  // df = 5 closed form
  EXPECT_EQ(student_t_cdf(INFINITY, 3), 1);
  EXPECT_TRUE(std::isnan(student_t_cdf(1, 0)));
}

TEST(StudentT, QuantilesMatchTables) {
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.706204736, 1e-6);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.302652730, 1e-7);
  EXPECT_NEAR(student_t_quantile(0.975, 3), 3.182446305, 1e-7);
  EXPECT_NEAR(student_t_quantile(0.975, 10), 2.228138852, 1e-7);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.042272456, 1e-7);
  EXPECT_NEAR(student_t_quantile(0.995, 9), 3.249835542, 1e-7);
  EXPECT_NEAR(student_t_quantile(0.025, 10), -2.228138852, 1e-7);
  EXPECT_EQ(student_t_quantile(0.5, 7), 0);
  EXPECT_NEAR(student_t_quantile(0.975, 1e7), 1.959963985, 1e-5);
  EXPECT_TRUE(std::isnan(student_t_quantile(1, 3)));
}

TEST(Normal, Cdf) {
  EXPECT_NEAR(normal_cdf(0), 0.5, 1e-15);
  EXPECT_NEAR(normal_cdf(1.96), 0.9750021048517795, 1e-13);
  EXPECT_NEAR(normal_cdf(-1), 0.15865525393145707, 1e-13);
}

TEST(Describe, SampleStdOverFiniteValues) {
  const Describe d = describe({1, 2, 3, 4, NAN, INFINITY});
  EXPECT_EQ(d.n, 4);
  EXPECT_DOUBLE_EQ(d.mean, 2.5);
  EXPECT_NEAR(d.std, std::sqrt(5.0 / 3.0), 1e-15);
  EXPECT_TRUE(std::isnan(describe({3}).std));
  EXPECT_TRUE(std::isnan(describe({}).mean));
}

// R: t.test(extra ~ group, data = sleep, paired = TRUE) -> t = -4.0621, df = 9, p-value = 0.002833,
// 95 percent CI -2.4598858 -0.7001142, mean difference -1.58.
// R: wilcox.test(g1, g2, paired = TRUE) -> V = 0, p-value = 0.009091 (normal approximation: ties and a zero).
TEST(PairedTest, SleepDataMatchesR) {
  const std::vector<double> g1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
  const std::vector<double> g2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};
  const PairedTest p = paired_test(g1, g2);
  EXPECT_EQ(p.n, 10);
  EXPECT_NEAR(p.mean_diff, -1.58, 1e-12);
  EXPECT_NEAR(p.t, -4.0621, 1e-4);
  EXPECT_DOUBLE_EQ(p.df, 9);
  EXPECT_NEAR(p.p_t, 0.002833, 1e-6);
  EXPECT_NEAR(p.ci_low, -2.4598858, 1e-7);
  EXPECT_NEAR(p.ci_high, -0.7001142, 1e-7);
  EXPECT_DOUBLE_EQ(p.wilcoxon_v, 0);
  EXPECT_NEAR(p.p_wilcoxon, 0.009091, 1e-6);
}

TEST(PairedTest, EdgeCases) {
  // No spread: the sign decides, the interval collapses.
  PairedTest same = paired_test(std::vector<double>{0.1, 0.1, 0.1});
  EXPECT_EQ(same.p_t, 0);
  EXPECT_DOUBLE_EQ(same.ci_low, 0.1);
  EXPECT_TRUE(std::isinf(same.t));
  EXPECT_EQ(paired_test(std::vector<double>{0.3 - 0.2, 0.1, 0.4 - 0.3}).p_t, 0);  // rounding is no spread
  PairedTest zero = paired_test(std::vector<double>{0, 0, 0});
  EXPECT_EQ(zero.p_t, 1);
  EXPECT_TRUE(std::isnan(zero.p_wilcoxon));  // no non-zero difference
  PairedTest one = paired_test(std::vector<double>{0.3});
  EXPECT_EQ(one.n, 1);
  EXPECT_DOUBLE_EQ(one.mean_diff, 0.3);
  EXPECT_TRUE(std::isnan(one.p_t));
  EXPECT_TRUE(std::isnan(one.ci_low));
  // Pairs with a non-finite side are dropped.
  PairedTest dropped = paired_test({1, NAN, 3, 4}, {0, 1, INFINITY, 2});
  EXPECT_EQ(dropped.n, 2);
  EXPECT_DOUBLE_EQ(dropped.mean_diff, 1.5);
}

TEST(Wilcoxon, NormalApproximationWithCorrections) {
  double v = 0;
  // 1..10, all positive: V = 55, z = (55 - 27.5 - 0.5) / sqrt(96.25).
  EXPECT_NEAR(wilcoxon_signed_rank_p({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, &v), 0.005921537024148771, 1e-12);
  EXPECT_DOUBLE_EQ(v, 55);
  // Symmetric around zero: V at its mean, p = 1.
  EXPECT_NEAR(wilcoxon_signed_rank_p({-1, 1, -2, 2}, &v), 1, 1e-12);
  EXPECT_DOUBLE_EQ(v, 5);
}

TEST(Quantile, LinearBetweenOrderStatistics) {
  // NumPy: np.quantile([1, 2, 3, 4], [0, 0.25, 0.5, 0.975, 1]) = 1, 1.75, 2.5, 3.925, 4.
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(sorted_quantile(v, 0), 1);
  EXPECT_DOUBLE_EQ(sorted_quantile(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(sorted_quantile(v, 0.5), 2.5);
  EXPECT_NEAR(sorted_quantile(v, 0.975), 3.925, 1e-12);
  EXPECT_DOUBLE_EQ(sorted_quantile(v, 1), 4);
  EXPECT_DOUBLE_EQ(sorted_quantile({7}, 0.3), 7);
  EXPECT_TRUE(std::isnan(sorted_quantile({}, 0.5)));
}

TEST(HierarchicalBootstrap, SeedsWithoutCaseSpreadGiveTheSeedPercentiles) {
  // Two seeds whose cases all differ by a = 0.01 and b = 0.05: a resample's statistic is a (both draws seed
  // 0, probability 1/4), (a + b) / 2 (1/2) or b (1/4), so its 2.5% and 97.5% quantiles are a and b exactly.
  const BootstrapInterval r = hierarchical_bootstrap({{0.01, 0.01, 0.01}, {0.05, 0.05}});
  EXPECT_EQ(r.n_groups, 2);
  EXPECT_NEAR(r.estimate, 0.03, 1e-15);
  EXPECT_NEAR(r.ci_low, 0.01, 1e-15);
  EXPECT_NEAR(r.ci_high, 0.05, 1e-15);
  EXPECT_EQ(r.resamples, kBootstrapResamples);
  EXPECT_EQ(r.rng_seed, kBootstrapSeed);
  // Nothing varies: the interval is the point.
  const BootstrapInterval same = hierarchical_bootstrap({{0.02, 0.02}, {0.02}, {0.02, 0.02, 0.02}});
  EXPECT_NEAR(same.ci_low, 0.02, 1e-15);
  EXPECT_NEAR(same.ci_high, 0.02, 1e-15);
}

TEST(HierarchicalBootstrap, IdenticalSeedsShrinkToTheCaseLevel) {
  // k identical seeds of n cases: resampling the seeds changes nothing, so only the case level is left: the
  // interval is the one-level bootstrap of the n k pooled cases, whose statistic has variance
  // var0 / (n k) (var0: the cases' variance with divisor n), i.e. a half-width of about 1.96 sqrt(var0 / n
  // k).
  std::vector<double> cases;
  for (int c = 0; c < 20; ++c) cases.push_back(0.01 * (c % 5) - 0.01);  // -0.01 .. 0.03, mean 0.01
  const int k = 4;
  const std::vector<std::vector<double>> seeds(k, cases);
  std::vector<double> pooled;
  for (int s = 0; s < k; ++s) pooled.insert(pooled.end(), cases.begin(), cases.end());
  const BootstrapInterval nested = hierarchical_bootstrap(seeds);
  const BootstrapInterval flat = hierarchical_bootstrap({pooled});
  double var0 = 0;
  for (double x : cases) var0 += (x - 0.01) * (x - 0.01) / static_cast<double>(cases.size());
  const double half = 1.959964 * std::sqrt(var0 / static_cast<double>(cases.size() * k));
  EXPECT_NEAR(nested.estimate, 0.01, 1e-15);
  EXPECT_NEAR(0.5 * (nested.ci_high - nested.ci_low), half, 0.1 * half);
  EXPECT_NEAR(nested.ci_high - nested.ci_low, flat.ci_high - flat.ci_low, 0.1 * half);
  EXPECT_NEAR(0.5 * (nested.ci_low + nested.ci_high), 0.01, 0.1 * half);
  // One seed of the same cases: the interval is wider by about sqrt(k).
  const BootstrapInterval one = hierarchical_bootstrap({cases});
  EXPECT_NEAR((one.ci_high - one.ci_low) / (nested.ci_high - nested.ci_low), std::sqrt(k), 0.2);
}

TEST(HierarchicalBootstrap, SeedSpreadWidensTheIntervalPastZero) {
  // The same cases shifted per seed by +0.06, -0.04, +0.01: the case level alone gives a narrow interval
  // around 0.01; the seeds' spread makes it wide and hold 0.
  const std::vector<double> noise = {-0.001, 0, 0.001, 0.0005, -0.0005};
  std::vector<std::vector<double>> seeds, agreeing;
  for (double shift : {0.06, -0.04, 0.01}) {
    seeds.emplace_back();
    agreeing.emplace_back();
    for (double e : noise) {
      seeds.back().push_back(shift + e);
      agreeing.back().push_back(0.01 + e);
    }
  }
  const BootstrapInterval wide = hierarchical_bootstrap(seeds);
  const BootstrapInterval narrow = hierarchical_bootstrap(agreeing);
  EXPECT_NEAR(wide.estimate, 0.01, 1e-12);
  EXPECT_LT(wide.ci_low, 0);
  EXPECT_GT(wide.ci_high, 0);
  EXPECT_GT(wide.ci_high - wide.ci_low, 0.05);
  EXPECT_GT(narrow.ci_low, 0.009);
  EXPECT_LT(narrow.ci_high, 0.011);
}

TEST(HierarchicalBootstrap, ReproducibleAndRobust) {
  // Values with few ties, so that the resampled statistics have many distinct values.
  const std::vector<std::vector<double>> g = {
      {0.113, -0.207, 0.051}, {0.301, 0.007}, {-0.097, 0.213, 0.149, 0.011}};
  const BootstrapInterval a = hierarchical_bootstrap(g), b = hierarchical_bootstrap(g);
  EXPECT_EQ(a.ci_low, b.ci_low);  // the fixed RNG seed: bit for bit
  EXPECT_EQ(a.ci_high, b.ci_high);
  const BootstrapInterval other = hierarchical_bootstrap(g, 0.95, kBootstrapResamples, kBootstrapSeed + 1);
  EXPECT_TRUE(a.ci_low != other.ci_low || a.ci_high != other.ci_high);  // the seed is used
  EXPECT_NEAR(a.ci_low, other.ci_low, 0.02);
  // A 50% interval lies inside the 95% one.
  const BootstrapInterval half = hierarchical_bootstrap(g, 0.5);
  EXPECT_GT(half.ci_low, a.ci_low);
  EXPECT_LT(half.ci_high, a.ci_high);
  // Non-finite values and empty seeds are dropped; nothing left gives NaN.
  const BootstrapInterval dropped = hierarchical_bootstrap({{0.02, NAN}, {}, {INFINITY}});
  EXPECT_EQ(dropped.n_groups, 1);
  EXPECT_NEAR(dropped.ci_low, 0.02, 1e-15);
  const BootstrapInterval none = hierarchical_bootstrap({{}, {NAN}});
  EXPECT_EQ(none.n_groups, 0);
  EXPECT_TRUE(std::isnan(none.estimate));
  EXPECT_TRUE(std::isnan(none.ci_low));
}

}  // namespace
}  // namespace pgl::report
