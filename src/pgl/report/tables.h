#pragma once
// The summary tables, built once and rendered as Markdown (summary.md), HTML (the report) and CSV.
// Dice, NSD and their differences are shown in points (x 100), as in the paper.
#include <string>
#include <vector>

#include "pgl/report/aggregate.h"

namespace pgl::report {

struct Table {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::vector<bool>> bold;  // same shape as rows (may be empty): best values
  std::string note;                     // one line below the table
};

// Methods x fractions: mean +- std over seeds of the cell Dice (best mean per fraction in bold).
Table dice_table(const ExperimentStats& stats);
// Method and fraction x classes: per class mean +- std over seeds.
Table class_table(const ExperimentStats& stats);
// Method and fraction: NSD and HD95 (mean +- std over seeds) and the counts of NaN Dice / infinite HD95.
Table surface_table(const ExperimentStats& stats);
// Paired comparisons (gain over the baseline, or pgl versus the others), tested over seeds: seeds, mean
// difference, bootstrap 95% CI, p-values over seeds, verdict, the per-seed differences, cases.
Table comparison_table(const std::vector<Comparison>& comparisons, const std::string& title);
// "s0 +2.50, s1 +3.50" (x 100): the per-seed mean differences; "–" for none.
std::string format_seed_differences(const Comparison& c);

// "83.21 ± 1.05" (x 100); "83.21" for one seed; "–" for none.
std::string format_points(const Describe& d);
// "+1.23" (x 100, signed).
std::string format_gain(double difference);
// "0.023", "<0.001", "–" for NaN.
std::string format_p(double p);

std::string render_markdown(const Table& table);
std::string render_html(const Table& table);
// RFC 4180: one header line, then one line per row; fields with a comma, quote or newline are quoted.
std::string render_csv(const Table& table);

}  // namespace pgl::report
