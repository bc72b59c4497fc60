// Student's t distribution, paired t-test and Wilcoxon signed-rank test against closed forms and published
// values (R's t.test / wilcox.test on the sleep data, t tables).
#include "pgl/report/statistics.h"

#include <gtest/gtest.h>

#include <cmath>

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

}  // namespace
}  // namespace pgl::report
