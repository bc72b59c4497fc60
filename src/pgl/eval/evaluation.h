#pragma once
// Evaluation of a folder of predicted label maps against reference label maps: pairing by case id, metrics
// per case and class (in parallel over cases), metrics.csv and a summary JSON. Used by `pgl evaluate` and the
// experiment runner. Conventions: docs/metrics.md.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pgl/eval/metrics.h"

namespace pgl::eval {

struct EvaluationOptions {
  std::string pred;    // folder of predicted label maps (file name = case id + extension)
  std::string ref;     // folder of reference label maps, or a data set folder (MSD / nnU-Net raw)
  std::string labels;  // dataset.json (or a folder holding one) naming the classes; "" = data set's / union
  MetricOptions metrics;
  int threads = 2;             // cases evaluated in parallel
  bool allow_missing = false;  // reference cases without a prediction: skipped with a warning, not an error
};

struct CasePair {
  std::string id, pred, ref;  // case id and the two file paths
};

// Which files are compared. pairs are sorted by case id.
struct Pairing {
  std::vector<CasePair> pairs;
  std::vector<std::string> missing_predictions;    // reference case ids without a prediction
  std::vector<std::string> unmatched_predictions;  // prediction files without a reference case
  std::map<int, std::string> labels;               // declared classes (without background); empty = unknown
};

// Lists both sides and pairs them by case id (pgl::case_id_from_path). Throws pgl::Error for unreadable
// folders, duplicate case ids, a --labels file without labels, and nothing to compare. Does not enforce
// options.allow_missing (evaluate_folder does).
Pairing pair_cases(const EvaluationOptions& options);

// Class ids -> names from a dataset.json (MSD {"1": "liver"} or nnU-Net v2 {"liver": 1}); background (0) is
// left out. `path` may be the file or a folder holding it.
std::map<int, std::string> read_label_names(const std::string& path);

struct CaseResult {
  std::string id, pred, ref;
  std::vector<ClassMetrics> metrics;  // one per class of EvaluationResult::classes, same order
};

struct EvaluationResult {
  std::vector<int> classes;           // evaluated class ids, ascending
  std::map<int, std::string> names;   // class names where known
  std::vector<CaseResult> cases;      // sorted by case id
  std::vector<ClassSummary> summary;  // one per class
  std::vector<std::string> missing_predictions, unmatched_predictions;
  std::map<int, std::vector<std::string>> undeclared_labels;  // values outside `classes` -> case ids
  MetricOptions metrics;
  std::string pred, ref;
};

// Pairs, checks every pair's geometry from the headers first (pgl::Error naming both files when they differ),
// then reads and evaluates the cases on options.threads threads. `progress(done, total)` is called after each
// case (serialised). Throws pgl::Error for missing predictions unless options.allow_missing.
EvaluationResult evaluate_folder(const EvaluationOptions& options,
                                 const std::function<void(size_t done, size_t total)>& progress = {});

// One row per case and class: case,class,class_name,dice,hd95_mm,nsd,pred_voxels,ref_voxels (NaN as "nan",
// infinity as "inf"). Written atomically.
void write_metrics_csv(const EvaluationResult& result, const std::string& path);
// Per class mean/std/n/n_nan(/n_inf) of each metric and n_nan_both_empty, plus the run's settings. Atomic.
void write_summary_json(const EvaluationResult& result, const std::string& path);
// Where the summary goes for a CSV path: "out/metrics.csv" -> "out/metrics_summary.json".
std::string summary_path_for(const std::string& csv_path);
// Per class "mean ± std (n)" for Dice, HD95 and NSD, as printed by `pgl evaluate`.
std::string summary_table(const EvaluationResult& result);

}  // namespace pgl::eval
