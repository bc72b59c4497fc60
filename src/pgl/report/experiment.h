#pragma once
// The experiment folder: its settings (experiment.json), the names of its run folders, results.csv and the
// metrics.jsonl logs. This file is the contract between the runner (`pgl experiment`) and the report.
//
// EXP/experiment.json                                 settings (ExperimentSpec)
// EXP/pretrain/<method>-s<seed>/metrics.jsonl          pretraining log (none for "random")
// EXP/finetune/<method>-f<fraction>-s<seed>/metrics.jsonl   fine-tuning log with validation lines
// EXP/predictions/<method>-f<fraction>-s<seed>/<case>.nii.gz  label maps on the test image grids
// EXP/results.csv   method,fraction,seed,case,class,class_name,dice,hd95_mm,nsd
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pgl::report {

// The method every other one is compared with.
inline constexpr const char* kBaselineMethod = "random";

// Shortest text that reads back as the same double: 0.1 -> "0.1", 0.25 -> "0.25", 1 -> "1".
std::string fraction_tag(double fraction);
// "<method>-s<seed>" (pretraining run) and "<method>-f<fraction>-s<seed>" (fine-tuning cell).
std::string pretrain_run_name(const std::string& method, int seed);
std::string cell_name(const std::string& method, double fraction, int seed);
std::string pretrain_dir(const std::string& exp, const std::string& method, int seed);
std::string finetune_dir(const std::string& exp, const std::string& method, double fraction, int seed);
std::string prediction_dir(const std::string& exp, const std::string& method, double fraction, int seed);

struct ExperimentSpec {
  std::string dir;     // the experiment folder
  nlohmann::json raw;  // the whole experiment.json (unknown fields are kept for the report)
  std::string data, preset;
  int64_t base = 0;  // channels of level 0 when the preset's were overridden, else 0
  std::vector<std::string> test_cases, methods;
  std::vector<double> fractions;
  std::vector<int> seeds;
  std::map<int, std::string> labels;                            // class id -> name, background left out
  std::map<std::string, std::string> test_images, test_labels;  // case -> path (resolved, see below)

  // Name of a class: its label name, else "class <id>".
  std::string class_name(int label) const;
};

// Reads EXP/experiment.json. Relative image paths are taken relative to EXP when such a file exists there,
// else as given (relative to the working folder). Throws pgl::Error naming the file and the problem.
ExperimentSpec read_experiment(const std::string& exp);

// One row of results.csv.
struct ResultRow {
  std::string method;
  double fraction = 0;
  int seed = 0;
  std::string case_id;
  int label = 0;
  std::string class_name;
  double dice = 0, hd95 = 0, nsd = 0;  // "nan" / "inf" read as NaN / +inf
};
// Columns are found by name in the header (order and extra columns do not matter). Throws pgl::Error naming
// the file and line for a missing column or a value that is not a number.
std::vector<ResultRow> read_results_csv(const std::string& path);

// The JSON objects of a metrics.jsonl file, in order. Lines that are not valid JSON objects are skipped (a
// run killed while writing leaves a partial last line). A missing file gives an empty list.
std::vector<nlohmann::json> read_jsonl(const std::string& path);

// (x, y) pairs of the lines that hold both keys as finite numbers, e.g. ("step", "loss").
struct Curve {
  std::vector<double> x, y;
  bool empty() const { return x.empty(); }
};
Curve curve_from_jsonl(const std::vector<nlohmann::json>& lines, const std::string& x_key,
                       const std::string& y_key);
// Mean of several curves at each x value (the union of their x values; a curve without that x does not
// count).
Curve mean_curve(const std::vector<Curve>& curves);

}  // namespace pgl::report
