#pragma once
// summary.json, summary.md, comparisons.csv and the plots of an experiment folder. write_summary is what the
// experiment runner calls after every cell (and what `pgl report` calls first).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pgl/report/aggregate.h"

namespace pgl::report {

// Everything read from an experiment folder and computed from it.
struct ExperimentData {
  ExperimentSpec spec;
  std::vector<ResultRow> rows;
  ExperimentStats stats;
  // The same cells scored on `pgl experiment --test-data` (EXP/results_test_data.csv), when it has one; its
  // spec names that data set and its cases.
  std::shared_ptr<const ExperimentData> test_data;
};
// Reads EXP/experiment.json and EXP/results.csv (and results_test_data.csv) and computes the statistics.
// Throws pgl::Error naming the file.
ExperimentData load_experiment(const std::string& exp);

// The numbers of the summary (raw Dice in [0, 1]; NaN as null) with the definitions used.
nlohmann::json summary_json(const ExperimentData& data);
// The same as Markdown tables (Dice in points).
std::string summary_markdown(const ExperimentData& data);

// The gain and versus tables as one CSV (the markdown tables' cells, Dice in points).
std::string comparisons_csv(const ExperimentStats& stats);

struct SummaryFiles {
  std::string json, markdown, comparisons_csv;
  std::vector<std::string> plots;  // every PNG and SVG written
};
// Writes EXP/summary.json, EXP/summary.md, EXP/comparisons.csv and EXP/plots/<figure>.{png,svg}, each
// atomically.
SummaryFiles write_summary(const ExperimentData& data);
SummaryFiles write_summary(const std::string& exp);

}  // namespace pgl::report
