#pragma once
// Statistics for comparing methods: descriptive summaries, Student's t distribution, the paired t-test with
// its 95% confidence interval, the Wilcoxon signed-rank test (normal approximation) and the hierarchical
// bootstrap of a mean difference over seeds and the cases nested in them. Definitions and the reference
// values the tests check: docs/report.md.
#include <cstdint>
#include <limits>
#include <vector>

namespace pgl::report {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Mean and sample standard deviation (ddof 1) of the finite values; std is NaN for fewer than two values,
// mean is NaN for none.
struct Describe {
  double mean = kNaN, std = kNaN;
  int64_t n = 0;
};
Describe describe(const std::vector<double>& values);
// Mean of the finite values (NaN for none).
double finite_mean(const std::vector<double>& values);

// Regularised incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1] (continued fraction, modified
// Lentz, with the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where it converges faster). NaN for bad arguments.
double incomplete_beta(double a, double b, double x);
// Cumulative distribution of Student's t with df > 0 degrees of freedom.
double student_t_cdf(double t, double df);
// The t with student_t_cdf(t, df) = p, p in (0, 1) (bisection on the CDF to ~1e-12 relative).
double student_t_quantile(double p, double df);
// Standard normal cumulative distribution.
double normal_cdf(double z);

// Paired comparison of a[i] against b[i] on the differences d = a - b (pairs with a non-finite side are
// dropped).
struct PairedTest {
  int64_t n = 0;                         // pairs used
  double mean_diff = kNaN;               // mean of d
  double sd_diff = kNaN;                 // sample standard deviation of d (ddof 1)
  double ci_low = kNaN, ci_high = kNaN;  // mean_diff -+ t_{0.975, n-1} sd / sqrt(n)
  double t = kNaN;                       // mean_diff / (sd / sqrt(n)); +-inf when sd = 0 and the mean is not
  double df = kNaN;                      // n - 1
  double p_t = kNaN;                     // two-sided p of the paired t-test; NaN for n < 2
  double p_wilcoxon = kNaN;  // two-sided p of the Wilcoxon signed-rank test; NaN without non-zero d
  double wilcoxon_v = kNaN;  // sum of the ranks of the positive differences (R's V)
};
// confidence: level of the interval (0.95 by default).
PairedTest paired_test(const std::vector<double>& a, const std::vector<double>& b, double confidence = 0.95);
PairedTest paired_test(const std::vector<double>& differences, double confidence = 0.95);

// Wilcoxon signed-rank test on differences, normal approximation: zeros dropped, average ranks for ties with
// the tie correction of the variance, continuity correction; as R's
// wilcox.test(d, exact = FALSE, correct = TRUE). Returns the two-sided p (NaN when no difference is
// non-zero) and sets *v to the sum of the positive ranks when v is given.
double wilcoxon_signed_rank_p(const std::vector<double>& differences, double* v = nullptr);

// Quantile p in [0, 1] of sorted values, linear between order statistics (Hyndman and Fan's type 7, R's and
// NumPy's default). NaN for no values.
double sorted_quantile(const std::vector<double>& sorted, double p);

// Resamples and RNG seed of the reports' bootstrap: fixed, so that a report is reproducible to the digit.
inline constexpr int64_t kBootstrapResamples = 10000;
inline constexpr uint64_t kBootstrapSeed = 20240501;

// Two-level (hierarchical) percentile bootstrap of a mean difference with cases nested in seeds. groups[s]
// holds the case differences of seed s (non-finite values and empty groups dropped). The statistic is the
// mean over seeds of the seed's mean case difference. One resample draws as many seeds as there are, with
// replacement, and within each drawn seed as many of its cases as it has, with replacement. The interval is
// the (1 -+ confidence) / 2 quantiles of the resampled statistics. The RNG is std::mt19937_64 with
// rejection sampling for the indices, whose outputs the C++ standard fixes: the same on every platform.
struct BootstrapInterval {
  int64_t n_groups = 0;                  // seeds used
  double estimate = kNaN;                // the statistic on the data
  double ci_low = kNaN, ci_high = kNaN;  // percentile interval
  int64_t resamples = 0;
  uint64_t rng_seed = 0;
};
BootstrapInterval hierarchical_bootstrap(const std::vector<std::vector<double>>& groups,
                                         double confidence = 0.95, int64_t resamples = kBootstrapResamples,
                                         uint64_t rng_seed = kBootstrapSeed);

}  // namespace pgl::report
