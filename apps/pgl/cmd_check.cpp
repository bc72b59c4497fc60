// pgl check DATASET: validates a data set and prints a per-case table and a verdict.
#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "pgl/core/error.h"
#include "pgl/core/progress.h"
#include "pgl/data/check.h"

namespace pgl::cli {
namespace {

struct CheckCommandOptions {
  std::string path;
  int threads = 2;
  bool headers_only = false;
  bool quiet = false;
};

std::string values_text(const std::vector<int>& values) {
  std::string s;
  for (int v : values) s += (s.empty() ? "" : ",") + std::to_string(v);
  return s.empty() ? "-" : s;
}

void run_check(const CheckCommandOptions& o) {
  Dataset d = open_dataset(o.path);
  std::printf("data set %s: layout %s, %zu cases, %s, modality %s, %zu declared labels\n", d.name.c_str(),
              d.layout.c_str(), d.cases.size(), d.labeled() ? "labeled" : "unlabeled", d.modality.c_str(),
              d.labels.size());
  Progress progress("check", static_cast<int64_t>(d.cases.size()), "case");
  CheckOptions options;
  options.threads = o.threads;
  options.read_voxels = !o.headers_only;
  auto results = check_dataset(d, options, [&](size_t done) { progress.update(static_cast<int64_t>(done)); });
  progress.finish();
  size_t failed = 0;
  if (!o.quiet)
    std::printf("%-24s %-6s %-18s %-24s %-20s %s\n", "case", "status", "size", "spacing (mm)", "intensity",
                "labels");
  for (const auto& r : results) {
    if (!r.ok) ++failed;
    if (o.quiet && r.ok) continue;
    if (!r.ok) {
      std::printf("%-24s %-6s %s\n", r.id.c_str(), "FAIL", r.problem.c_str());
      continue;
    }
    const Geometry& g = r.geometry;
    std::printf("%-24s %-6s %-18s %-24s %-20s %s\n", r.id.c_str(), "ok",
                fmt::format("{}x{}x{}", g.size[0], g.size[1], g.size[2]).c_str(),
                fmt::format("{:.3g}x{:.3g}x{:.3g}", g.spacing[0], g.spacing[1], g.spacing[2]).c_str(),
                o.headers_only ? "-" : fmt::format("{:.0f}..{:.0f}", r.min, r.max).c_str(),
                values_text(r.label_values).c_str());
  }
  if (failed) {
    std::printf("verdict: FAIL (%zu of %zu cases have problems)\n", failed, results.size());
    throw Error(o.path, fmt::format("{} of {} cases failed the check", failed, results.size()));
  }
  std::printf("verdict: PASS (%zu cases)\n", results.size());
}

}  // namespace

void register_check(CLI::App& app) {
  auto opt = std::make_shared<CheckCommandOptions>();
  auto* cmd = app.add_subcommand("check", "Validate a data set (MSD, nnU-Net raw or a folder of volumes)");
  cmd->add_option("dataset", opt->path, "Data set folder")->required();
  cmd->add_option("--threads", opt->threads, "Cases checked in parallel")->check(CLI::Range(1, 256));
  cmd->add_flag("--headers-only", opt->headers_only,
                "Read headers only (fast; skips label values and NaN checks)");
  cmd->add_flag("--quiet", opt->quiet, "Print only failing cases and the verdict");
  cmd->footer("Example: pgl check ../shared/data/openkbp");
  cmd->callback([opt] { run_check(*opt); });
}

}  // namespace pgl::cli
