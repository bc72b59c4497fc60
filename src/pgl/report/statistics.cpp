#include "pgl/report/statistics.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace pgl::report {

Describe describe(const std::vector<double>& values) {
  Describe d;
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) {
      sum += v;
      ++d.n;
    }
  if (d.n == 0) return d;
  d.mean = sum / static_cast<double>(d.n);
  if (d.n < 2) return d;
  double ss = 0;
  for (double v : values)
    if (std::isfinite(v)) ss += (v - d.mean) * (v - d.mean);
  d.std = std::sqrt(ss / static_cast<double>(d.n - 1));
  return d;
}

double finite_mean(const std::vector<double>& values) { return describe(values).mean; }

namespace {

// Continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz). y = 1 - x, passed separately
// so that callers keep its precision when x is close to 1.
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 200000;  // O(sqrt(max(a, b))) are needed: df = 1e6 takes ~1000
  constexpr double kEps = 1e-15, kTiny = 1e-300;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < kEps) break;
  }
  return h;
}

double incomplete_beta_xy(double a, double b, double x, double y) {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(y >= 0) || std::isnan(x + y)) return kNaN;
  if (x == 0) return 0;
  if (y == 0) return 1;
  // x^a y^b / (a B(a, b)), in logarithms so that large a and b do not overflow.
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(y));
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, y) / b;
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (!(x >= 0 && x <= 1)) return kNaN;
  return incomplete_beta_xy(a, b, x, 1 - x);
}

double student_t_cdf(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return t > 0 ? 1 : 0;
  // P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2); both x and 1 - x computed without cancellation.
  const double t2 = t * t;
  const double tail = 0.5 * incomplete_beta_xy(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
  return t > 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double df) {
  if (!(p > 0 && p < 1) || !(df > 0)) return kNaN;
  if (p == 0.5) return 0;
  if (p < 0.5) return -student_t_quantile(1 - p, df);
  double lo = 0, hi = 1;
  while (student_t_cdf(hi, df) < p && hi < 1e300) {
    lo = hi;
    hi *= 2;
  }
  for (int n = 0; n < 400 && hi - lo > 1e-13 * hi; ++n) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double wilcoxon_signed_rank_p(const std::vector<double>& differences, double* v) {
  std::vector<double> d;
  for (double x : differences)
    if (std::isfinite(x) && x != 0) d.push_back(x);
  if (v) *v = kNaN;
  if (d.empty()) return kNaN;
  std::sort(d.begin(), d.end(), [](double a, double b) { return std::fabs(a) < std::fabs(b); });
  const double n = static_cast<double>(d.size());
  double v_plus = 0, ties = 0;
  for (size_t i = 0; i < d.size();) {
    size_t j = i;
    while (j < d.size() && std::fabs(d[j]) == std::fabs(d[i])) ++j;
    const double rank = 0.5 * static_cast<double>(i + 1 + j);  // average of ranks i+1 .. j
    const double t = static_cast<double>(j - i);
    ties += t * t * t - t;
    for (size_t k = i; k < j; ++k)
      if (d[k] > 0) v_plus += rank;
    i = j;
  }
  if (v) *v = v_plus;
  const double mu = n * (n + 1) / 4;
  const double sigma = std::sqrt(n * (n + 1) * (2 * n + 1) / 24 - ties / 48);
  double z = v_plus - mu;
  const double correction = z > 0 ? 0.5 : (z < 0 ? -0.5 : 0.0);
  z = (z - correction) / sigma;
  return std::min(1.0, 2 * std::min(normal_cdf(z), normal_cdf(-z)));
}

PairedTest paired_test(const std::vector<double>& differences, double confidence) {
  PairedTest r;
  std::vector<double> d;
  for (double x : differences)
    if (std::isfinite(x)) d.push_back(x);
  const Describe s = describe(d);
  r.n = s.n;
  r.mean_diff = s.mean;
  r.sd_diff = s.std;
  r.p_wilcoxon = wilcoxon_signed_rank_p(d, &r.wilcoxon_v);
  if (r.n < 2) return r;
  r.df = static_cast<double>(r.n - 1);
  double largest = 0;
  for (double x : d) largest = std::max(largest, std::fabs(x));
  const double se = s.std / std::sqrt(static_cast<double>(r.n));
  // Every difference equal (up to rounding, e.g. 0.1 + 0.2 - 0.2): no spread, the sign decides.
  if (s.std <= 1e-12 * largest || se == 0) {
    r.t = s.mean == 0 ? kNaN : std::copysign(INFINITY, s.mean);
    r.p_t = s.mean == 0 ? 1 : 0;
    r.ci_low = r.ci_high = s.mean;
    return r;
  }
  r.t = s.mean / se;
  r.p_t = std::min(1.0, 2 * student_t_cdf(-std::fabs(r.t), r.df));
  const double q = student_t_quantile(0.5 + confidence / 2, r.df);
  r.ci_low = s.mean - q * se;
  r.ci_high = s.mean + q * se;
  return r;
}

double sorted_quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty() || !(p >= 0 && p <= 1)) return kNaN;
  const double h = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

namespace {

// A uniform index in [0, n), n > 0, by rejection: std::uniform_int_distribution is implementation-defined,
// and a report should not change with the standard library.
size_t uniform_index(std::mt19937_64& rng, size_t n) {
  const uint64_t range = n;
  const uint64_t threshold =
      (uint64_t{0} - range) % range;  // 2^64 mod n: the draws below it would bias the modulo
  for (;;) {
    const uint64_t r = rng();
    if (r >= threshold) return static_cast<size_t>(r % range);
  }
}

}  // namespace

BootstrapInterval hierarchical_bootstrap(const std::vector<std::vector<double>>& groups, double confidence,
                                         int64_t resamples, uint64_t rng_seed) {
  std::vector<std::vector<double>> g;
  for (const auto& group : groups) {
    std::vector<double> finite;
    for (double x : group)
      if (std::isfinite(x)) finite.push_back(x);
    if (!finite.empty()) g.push_back(std::move(finite));
  }
  BootstrapInterval r;
  r.n_groups = static_cast<int64_t>(g.size());
  r.resamples = std::max<int64_t>(resamples, 0);
  r.rng_seed = rng_seed;
  if (g.empty()) return r;
  std::vector<double> group_means;
  for (const auto& group : g) group_means.push_back(finite_mean(group));
  r.estimate = finite_mean(group_means);
  if (r.resamples == 0) return r;
  std::mt19937_64 rng(rng_seed);
  std::vector<double> statistics(static_cast<size_t>(r.resamples));
  for (double& statistic : statistics) {
    double sum_of_means = 0;
    for (size_t s = 0; s < g.size(); ++s) {
      const std::vector<double>& group = g[uniform_index(rng, g.size())];
      double sum = 0;
      for (size_t c = 0; c < group.size(); ++c) sum += group[uniform_index(rng, group.size())];
      sum_of_means += sum / static_cast<double>(group.size());
    }
    statistic = sum_of_means / static_cast<double>(g.size());
  }
  std::sort(statistics.begin(), statistics.end());
  r.ci_low = sorted_quantile(statistics, (1 - confidence) / 2);
  r.ci_high = sorted_quantile(statistics, (1 + confidence) / 2);
  return r;
}

PairedTest paired_test(const std::vector<double>& a, const std::vector<double>& b, double confidence) {
  std::vector<double> d;
  for (size_t n = 0; n < a.size() && n < b.size(); ++n)
    if (std::isfinite(a[n]) && std::isfinite(b[n])) d.push_back(a[n] - b[n]);
  return paired_test(d, confidence);
}

}  // namespace pgl::report
