// pgl evaluate: Dice, HD95 and normalised surface Dice of predicted label maps against references.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "commands.h"
#include "pgl/core/error.h"
#include "pgl/core/progress.h"
#include "pgl/eval/evaluation.h"

namespace pgl::cli {
namespace {

struct EvaluateCommandOptions {
  eval::EvaluationOptions eval;
  std::string out;
  std::string hd95 = "pooled";
};

void warn(const std::string& message) { std::fprintf(stderr, "pgl: warning: %s\n", message.c_str()); }

std::string ids_text(const std::vector<std::string>& ids) {
  std::string s;
  for (size_t n = 0; n < ids.size() && n < 10; ++n) s += (n ? ", " : "") + ids[n];
  if (ids.size() > 10) s += fmt::format(" ... and {} more", ids.size() - 10);
  return s;
}

void run_evaluate(EvaluateCommandOptions o) {
  o.eval.metrics.hd95 = o.hd95 == "max" ? eval::Hd95Definition::MaxDirected : eval::Hd95Definition::Pooled;
  std::unique_ptr<Progress> progress;
  eval::EvaluationResult r = eval::evaluate_folder(o.eval, [&](size_t done, size_t total) {
    if (!progress) progress = std::make_unique<Progress>("evaluate", static_cast<int64_t>(total), "case");
    progress->update(static_cast<int64_t>(done));
  });
  if (progress) progress->finish();
  if (!r.missing_predictions.empty())
    warn(fmt::format("{} reference case(s) have no prediction and were skipped: {}",
                     r.missing_predictions.size(), ids_text(r.missing_predictions)));
  if (!r.unmatched_predictions.empty())
    warn(fmt::format("{} prediction(s) have no reference case and were not evaluated: {}",
                     r.unmatched_predictions.size(), ids_text(r.unmatched_predictions)));
  for (const auto& [label, ids] : r.undeclared_labels)
    warn(fmt::format("label value {} is not a declared class (not evaluated) in {} case(s): {}", label,
                     ids.size(), ids_text(ids)));

  eval::write_metrics_csv(r, o.out);
  const std::string summary = eval::summary_path_for(o.out);
  eval::write_summary_json(r, summary);
  std::printf("%zu cases, %zu classes (NSD tolerance %g mm, HD95 %s)\n", r.cases.size(), r.classes.size(),
              o.eval.metrics.nsd_tolerance, o.hd95 == "max" ? "max of directed 95th percentiles" : "pooled");
  std::printf("%s", eval::summary_table(r).c_str());
  std::printf("mean ± std (n) over cases; n leaves out NaN (both empty) and inf (one side empty) values\n");
  std::printf("wrote %s and %s\n", o.out.c_str(), summary.c_str());
}

}  // namespace

void register_evaluate(CLI::App& app) {
  auto opt = std::make_shared<EvaluateCommandOptions>();
  auto* cmd =
      app.add_subcommand("evaluate", "Dice, HD95 and normalised surface Dice of predictions vs references");
  cmd->add_option("--pred", opt->eval.pred, "Folder of predicted label maps (CASE.nii.gz, ...)")->required();
  cmd->add_option("--ref", opt->eval.ref,
                  "Folder of reference label maps, or a data set folder (MSD / nnU-Net)")
      ->required();
  cmd->add_option(
      "--labels", opt->eval.labels,
      "dataset.json naming the classes (default: the data set's labels, else every value present)");
  cmd->add_option("--out", opt->out,
                  "Per case and class CSV; the summary goes to <stem>_summary.json beside it")
      ->required();
  cmd->add_option("--nsd-tolerance", opt->eval.metrics.nsd_tolerance,
                  "Normalised surface Dice tolerance (mm)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--hd95", opt->hd95, "pooled (medpy) | max (MONAI: max of the directed percentiles)")
      ->capture_default_str()
      ->check(CLI::IsMember({"pooled", "max"}));
  cmd->add_option("--threads", opt->eval.threads, "Cases evaluated in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--allow-missing", opt->eval.allow_missing,
                "Skip reference cases without a prediction (warning) instead of failing");
  cmd->footer(
      "Example: pgl evaluate --pred runs/ft/pred --ref ../shared/data/openkbp --out runs/ft/metrics.csv");
  cmd->callback([opt] { run_evaluate(*opt); });
}

}  // namespace pgl::cli
