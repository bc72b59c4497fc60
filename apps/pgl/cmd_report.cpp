// pgl report: one self-contained HTML page (tables, plots, overlays) from an experiment folder.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "pgl/core/error.h"
#include "pgl/report/report.h"

namespace pgl::cli {
namespace {

struct ReportCommandOptions {
  std::string exp, out;
  report::ReportOptions report;
  bool no_summary = false;
};

void run_report(ReportCommandOptions o) {
  if (!std::filesystem::is_directory(o.exp))
    throw Error(o.exp, "not a folder (expected an experiment folder)");
  if (o.out.empty()) o.out = (std::filesystem::path(o.exp) / "report.html").string();
  o.report.write_summary = !o.no_summary;
  const report::ReportResult r = report::write_report(o.exp, o.out, o.report);
  for (const std::string& w : r.warnings) std::fprintf(stderr, "pgl: warning: %s\n", w.c_str());
  if (o.report.write_summary)
    std::printf("wrote %s/summary.json, summary.md, comparisons.csv and plots/\n", o.exp.c_str());
  std::printf("wrote %s (%.1f MB, self-contained)\n", r.path.c_str(), static_cast<double>(r.bytes) / 1e6);
}

}  // namespace

void register_report(CLI::App& app) {
  auto opt = std::make_shared<ReportCommandOptions>();
  auto* cmd = app.add_subcommand("report", "HTML report (tables, plots, overlays) of an experiment folder");
  cmd->add_option("experiment", opt->exp, "Experiment folder (made by pgl experiment)")->required();
  cmd->add_option("--out", opt->out, "HTML file to write (default: EXP/report.html)");
  cmd->add_option("--overlay-cases", opt->report.overlay_cases, "Test cases shown as slice overlays")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  cmd->add_option("--panel-size", opt->report.overlay_panel_size,
                  "Pixels of the longer side of an overlay panel")
      ->capture_default_str()
      ->check(CLI::Range(64, 1024));
  cmd->add_flag("--no-summary", opt->no_summary,
                "Do not (re)write EXP/summary.json, summary.md and plots/ (the page is built either way)");
  cmd->footer("Example: pgl report runs/exp1 --out runs/exp1/report.html");
  cmd->callback([opt] { run_report(*opt); });
}

}  // namespace pgl::cli
