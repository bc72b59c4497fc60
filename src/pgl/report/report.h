#pragma once
// `pgl report`: one self-contained HTML file (every image embedded as a data URI, no external resource)
// with the experiment's settings, the summary tables, the plots, qualitative overlays and the definitions.
#include <string>
#include <vector>

#include "pgl/report/summary.h"

namespace pgl::report {

struct ReportOptions {
  int overlay_cases = 3;  // test cases shown as overlays (the first ones with an image and a reference)
  int overlay_panel_size = 240;  // pixels of a panel's longer side
  bool write_summary = true;     // also (re)write EXP/summary.json, summary.md and plots/ first
};

struct ReportResult {
  std::string path;
  size_t bytes = 0;
  std::vector<std::string> warnings;  // what could not be shown (missing images, predictions), one line each
};

// The page, from data already loaded. Warnings are appended to *warnings when given.
std::string report_html(const ExperimentData& data, const ReportOptions& options,
                        std::vector<std::string>* warnings = nullptr);
// Loads EXP, optionally writes the summary files, and writes the page to out_html atomically.
ReportResult write_report(const std::string& exp, const std::string& out_html,
                          const ReportOptions& options = {});

}  // namespace pgl::report
