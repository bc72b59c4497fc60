#pragma once
// From the rows of results.csv to the numbers of the summary: per (method, fraction) mean +- std over seeds,
// per class, and paired comparisons with the baseline over test cases. Definitions (docs/report.md):
//
// - case score: mean over the foreground classes of that case's Dice in one cell (NaN classes, both masks
//   empty, are skipped; a case with only NaN classes has no score);
// - cell score: mean over the test cases of the case scores (one cell = method, fraction, seed);
// - (method, fraction): mean and sample std (ddof 1) over seeds of the cell scores;
// - per class: the same with the class's Dice in place of the case score;
// - gain over the baseline at one fraction, tested over seeds with the cases nested in them: in each seed
// both
//   have, the mean over the cases both have of the case score differences (method minus baseline); the
//   estimate is the mean of these per-seed differences, its 95% interval comes from the hierarchical
//   bootstrap over seeds and cases, and its p-value from the paired t-test (and the Wilcoxon test) over the
//   per-seed differences. One seed is not tested. A per-case test (seed-averaged case differences) is kept as
//   a secondary record: it sees how cases vary, not how runs do.
// NSD and HD95 are aggregated like Dice; HD95 skips infinite values (one mask empty) and counts them.
#include <map>
#include <string>
#include <vector>

#include "pgl/report/experiment.h"
#include "pgl/report/statistics.h"

namespace pgl::report {

struct MetricStats {
  std::vector<int> seeds;          // seeds with a cell score, ascending
  std::vector<double> cell_means;  // the cell score of each of those seeds
  Describe over_seeds;             // mean and sample std of cell_means
};

struct MethodFractionStats {
  std::string method;
  double fraction = 0;
  std::vector<int> seeds;  // seeds with rows in results.csv
  int64_t n_cases = 0;     // test cases with a Dice case score in at least one seed
  MetricStats dice, nsd, hd95;
  std::map<int, MetricStats> class_dice;    // per class id
  std::map<std::string, double> case_dice;  // case -> case score averaged over seeds (finite only)
  std::map<std::string, std::map<int, double>> case_seed_dice;  // case -> seed -> case score (finite only)
  int64_t n_nan_dice = 0;                                       // rows with NaN Dice (both masks empty)
  int64_t n_inf_hd95 = 0;  // rows with infinite HD95 (exactly one mask empty)
};

// The difference of one seed: the mean over the test cases both have in that seed.
struct SeedDifference {
  int seed = 0;
  int64_t n_cases = 0;
  double mean_diff = kNaN;
};

struct Comparison {
  std::string method, baseline;
  double fraction = 0;
  std::vector<SeedDifference> per_seed;  // the seeds paired for at least one case, ascending
  BootstrapInterval interval;            // estimate: mean of per_seed; 95% hierarchical bootstrap interval
  // Paired t-test and Wilcoxon test over the per-seed differences (mean_diff equals interval.estimate);
  // the p-values are NaN with fewer than two seeds.
  PairedTest over_seeds;
  // Secondary, never a verdict: per test case, the mean over the seeds both have of the case differences,
  // tested over cases. It leaves out the run-to-run variation of fine-tuning.
  PairedTest over_cases;

  std::vector<int> seeds() const;
  // Two seeds or more: the only comparisons with a p-value.
  bool tested() const { return per_seed.size() >= 2; }
  // tested() and p (paired t over seeds) < kSignificanceLevel.
  bool significant() const;
  // "1 seed: not tested", "not significant", "higher (p < 0.05)" or "lower (p < 0.05)".
  std::string verdict() const;
};

inline constexpr double kSignificanceLevel = 0.05;

struct ExperimentStats {
  std::vector<std::string> methods;  // experiment.json's order, then any others found in results.csv
  std::vector<double> fractions;     // ascending
  std::vector<int> seeds;            // ascending
  std::vector<int> classes;          // ascending
  std::map<int, std::string> class_names;
  std::string baseline = kBaselineMethod;
  std::vector<MethodFractionStats> cells;  // methods x fractions (those with rows), in that order
  std::vector<Comparison> gains;           // every other method vs the baseline, per fraction
  std::vector<Comparison> versus;          // "pgl" vs every other non-baseline method (the RQ2 question)
  std::vector<std::string> missing_cells;  // expected (method, fraction, seed) cells without any row
  int64_t n_rows = 0;

  const MethodFractionStats* find(const std::string& method, double fraction) const;
  std::string class_name(int label) const;
};

// The method the "versus" comparisons are about.
inline constexpr const char* kFocusMethod = "pgl";

// spec gives the orders, the expected cells and the class names (results.csv's class_name fills gaps).
ExperimentStats compute_statistics(const ExperimentSpec& spec, const std::vector<ResultRow>& rows);

}  // namespace pgl::report
