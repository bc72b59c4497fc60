#include "pgl/report/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <memory>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/core/version.h"
#include "pgl/io/volume_io.h"
#include "pgl/report/figures.h"
#include "pgl/report/html.h"
#include "pgl/report/overlay.h"
#include "pgl/report/tables.h"

namespace pgl::report {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kStyle = R"(
body { font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 1160px; margin: 24px auto; padding: 0 16px;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 2px; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 3px; margin-top: 36px; }
h3 { margin: 22px 0 6px; font-size: 16px; }
.sub { color: #666; margin-top: 0; }
nav a { margin-right: 14px; }
table { border-collapse: collapse; font-size: 14px; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 4px 10px; text-align: right; font-variant-numeric: tabular-nums;
         white-space: nowrap; }
th { background: #f3f3f3; }
.l { text-align: left; }
table.kv td { text-align: left; white-space: normal; }
table.kv td:first-child { color: #555; }
.note { color: #666; font-size: 13px; margin-top: 4px; }
.warn { background: #fff6dc; border: 1px solid #e3c35a; padding: 8px 12px; font-size: 14px; }
figure { margin: 14px 0 26px; }
figcaption { color: #555; font-size: 13px; }
img { max-width: 100%; height: auto; }
.scroll { overflow-x: auto; }
ul.defs li { margin-bottom: 4px; }
)";

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M UTC", &tm);
  return buffer;
}

// A JSON value as short text for the settings table.
std::string setting_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s;
    size_t n = 0;
    for (const json& e : v) {
      if (n == 20) {
        s += fmt::format(", ... ({} in all)", v.size());
        break;
      }
      s += (n++ ? ", " : "") + setting_text(e);
    }
    return s;
  }
  std::string s = v.dump();
  return s.size() > 240 ? s.substr(0, 237) + "..." : s;
}

std::string settings_html(const ExperimentData& data) {
  std::string html = "<table class=\"kv\">\n";
  auto row = [&](const std::string& key, const std::string& value) {
    html += "<tr><td>" + html_escape(key) + "</td><td>" + html_escape(value) + "</td></tr>\n";
  };
  for (const auto& [key, value] : data.spec.raw.items()) {
    if ((key == "test_images" || key == "test_labels") && value.is_object())
      row(key, fmt::format("{} paths", value.size()));
    else
      row(key, setting_text(value));
  }
  row("rows in results.csv", std::to_string(data.stats.n_rows));
  return html + "</table>\n";
}

// Case score (mean Dice over classes, NaN skipped) of one cell, from results.csv; NaN when absent.
double case_score(const std::vector<ResultRow>& rows, const std::string& method, double fraction, int seed,
                  const std::string& case_id) {
  double sum = 0;
  int n = 0;
  const std::string tag = fraction_tag(fraction);
  for (const ResultRow& r : rows)
    if (r.method == method && r.seed == seed && r.case_id == case_id && fraction_tag(r.fraction) == tag &&
        std::isfinite(r.dice)) {
      sum += r.dice;
      ++n;
    }
  return n ? sum / n : kNaN;
}

std::string find_prediction(const std::string& dir, const std::string& case_id) {
  for (const char* ext : {".nii.gz", ".nii", ".nrrd", ".mha"}) {
    const fs::path p = fs::path(dir) / (case_id + ext);
    if (fs::exists(p)) return p.string();
  }
  return "";
}

std::string overlays_html(const ExperimentData& data, const ReportOptions& options,
                          std::vector<std::string>* warnings) {
  const ExperimentSpec& spec = data.spec;
  const ExperimentStats& st = data.stats;
  if (st.fractions.empty() || options.overlay_cases <= 0)
    return "<p class=\"note\">No overlays requested.</p>\n";
  const double fraction = st.fractions.back();
  const int seed = std::find(st.seeds.begin(), st.seeds.end(), 0) != st.seeds.end() || st.seeds.empty()
                       ? 0
                       : st.seeds.front();
  std::string html = fmt::format(
      "<p>Reference and each method's prediction at {:g}% labels, seed {}, on the axial slice with the most "
      "reference foreground. Radiological convention (patient's right on the left, anterior at the top); "
      "translucent fill with an opaque contour per class; window [-160, 240] HU for CT, the 1st to 99th "
      "percentile otherwise. Dice in the captions: this case's mean over classes.</p>\n",
      100 * fraction, seed);
  int shown = 0;
  for (const std::string& case_id : spec.test_cases) {
    if (shown >= options.overlay_cases) break;
    auto image_it = spec.test_images.find(case_id), label_it = spec.test_labels.find(case_id);
    if (image_it == spec.test_images.end() || label_it == spec.test_labels.end()) continue;
    try {
      // Only the shown slice of each volume is kept: a few full CT volumes per method add up.
      const Volume full = read_volume(image_it->second);
      const LabelMap full_reference = read_label_map(label_it->second);
      if (!full_reference.geometry.same_grid(full.geometry))
        throw Error(label_it->second, "reference is not on the test image's grid (" +
                                          full_reference.geometry.grid_difference(full.geometry) + ")");
      const int axis = axial_axis(full.geometry);
      const int64_t slice = slice_with_most_foreground(full_reference, axis);
      const int64_t slices = full.size()[static_cast<size_t>(axis)];
      const Volume image = extract_slice(full, axis, slice);
      const LabelMap reference = extract_slice(full_reference, axis, slice);
      std::vector<std::unique_ptr<LabelMap>> predictions;
      std::vector<OverlayPanel> panels{{"reference", &reference, ""}};
      for (const std::string& method : st.methods) {
        OverlayPanel panel;
        const double dice = case_score(data.rows, method, fraction, seed, case_id);
        panel.title = std::isfinite(dice) ? fmt::format("{} (Dice {:.1f})", method, 100 * dice) : method;
        const std::string path = find_prediction(prediction_dir(spec.dir, method, fraction, seed), case_id);
        if (path.empty()) {
          panel.note = "no prediction";
        } else {
          const LabelMap labels = read_label_map(path);
          if (labels.geometry.same_grid(full.geometry)) {
            predictions.push_back(std::make_unique<LabelMap>(extract_slice(labels, axis, slice)));
            panel.labels = predictions.back().get();
          } else {
            panel.note = "not on the image grid";
            if (warnings) warnings->push_back(path + ": prediction is not on the test image's grid");
          }
        }
        panels.push_back(std::move(panel));
      }
      OverlayOptions o;
      o.title = fmt::format("{}: axial slice {} of {}", case_id, slice, slices);
      o.panel_size = options.overlay_panel_size;
      for (int label : st.classes) o.class_names[label] = st.class_name(label);
      const std::string png = render_overlay_png(image, axis, 0, panels, o);
      html += "<figure><img alt=\"overlay " + html_escape(case_id) + "\" src=\"" +
              data_uri("image/png", png) + "\"></figure>\n";
      ++shown;
    } catch (const std::exception& e) {
      if (warnings) warnings->push_back(fmt::format("overlay of case {} skipped: {}", case_id, e.what()));
    }
  }
  if (shown == 0)
    html += "<p class=\"note\">No overlay: no test case with a readable image and reference.</p>\n";
  return html;
}

}  // namespace

std::string report_html(const ExperimentData& data, const ReportOptions& options,
                        std::vector<std::string>* warnings) {
  const ExperimentStats& st = data.stats;
  std::vector<std::string> local_warnings;
  std::vector<std::string>& warn = warnings ? *warnings : local_warnings;
  const std::string name = fs::path(data.spec.dir).filename().string().empty()
                               ? fs::path(data.spec.dir).parent_path().filename().string()
                               : fs::path(data.spec.dir).filename().string();

  // Overlays first: their warnings belong at the top of the page.
  const std::string overlays = overlays_html(data, options, &warn);
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>PGL experiment report: " + html_escape(name) + "</title>\n<style>" + kStyle +
       "</style>\n</head>\n<body>\n";
  h += "<h1>PGL experiment report: " + html_escape(name) + "</h1>\n";
  h += fmt::format(
      "<p class=\"sub\">Prior-Guided Local self-supervised pretraining for 3D medical image "
      "segmentation · generated {} by pgl {}</p>\n",
      now_utc(), html_escape(version()));
  h += "<nav><a href=\"#settings\">Settings</a><a href=\"#results\">Results</a><a href=\"#plots\">Plots</a>"
       "<a href=\"#classes\">Per class</a><a href=\"#overlays\">Examples</a><a "
       "href=\"#notes\">Definitions</a></nav>\n";
  if (!st.missing_cells.empty())
    warn.insert(warn.begin(),
                fmt::format("{} cell(s) have no rows in results.csv: {}", st.missing_cells.size(),
                            fmt::format("{}", fmt::join(st.missing_cells, ", "))));
  if (!warn.empty()) {
    h += "<div class=\"warn\"><b>Incomplete:</b><ul>\n";
    for (const std::string& w : warn) h += "<li>" + html_escape(w) + "</li>\n";
    h += "</ul></div>\n";
  }

  h += "<h2 id=\"settings\">Settings</h2>\n" + settings_html(data);

  h += "<h2 id=\"results\">Results</h2>\n<div class=\"scroll\">\n" + render_html(dice_table(st));
  if (!st.gains.empty())
    h += render_html(comparison_table(st.gains, fmt::format("Gain over {} (Dice points)", st.baseline)));
  if (!st.versus.empty())
    h += render_html(
        comparison_table(st.versus, fmt::format("{} versus the other pretrainings", kFocusMethod)));
  h += "</div>\n";

  h += "<h2 id=\"plots\">Plots</h2>\n";
  for (const NamedFigure& f : experiment_figures(data.spec, st))
    h += fmt::format(
        "<figure><img alt=\"{0}\" width=\"{1}\" src=\"{2}\"><figcaption>{3}</figcaption></figure>\n", f.name,
        f.figure.width, data_uri("image/svg+xml", render_svg(f.figure)), html_escape(f.caption));

  h += "<h2 id=\"classes\">Per class</h2>\n<div class=\"scroll\">\n" + render_html(class_table(st)) +
       render_html(surface_table(st)) + "</div>\n";
  h += "<h2 id=\"overlays\">Qualitative examples</h2>\n" + overlays;

  h += "<h2 id=\"notes\">How the numbers were computed</h2>\n<ul class=\"defs\">\n";
  h +=
      "<li>Metrics per test case and class come from results.csv (Dice, HD95 in mm, normalised surface "
      "Dice), "
      "computed on the test image grids by <code>pgl::eval</code>; Dice is NaN when prediction and reference "
      "are both empty.</li>\n";
  h +=
      "<li><b>Case score</b>: mean Dice over the foreground classes of one test case in one cell (a cell is "
      "one method, label fraction and seed), NaN classes skipped. <b>Cell score</b>: mean of the case scores "
      "over the test cases.</li>\n";
  h +=
      "<li><b>Mean ± std</b>: mean and sample standard deviation (ddof 1) over seeds of the cell scores; one "
      "seed shows the mean only. Per class: the class's Dice averaged over test cases, then over "
      "seeds.</li>\n";
  h += fmt::format(
      "<li><b>Gain over {0}</b>, tested over seeds with the test cases nested in them: in each seed both "
      "have, the mean over test cases of the case score of the method minus that of {0} at the same label "
      "fraction (the per-seed differences, listed in the table and drawn as faint points); Δ is their mean "
      "over seeds. <b>95% interval</b>: hierarchical percentile bootstrap, {2} resamples, each drawing the "
      "seeds with replacement and, within each drawn seed, its test cases with replacement (statistic: the "
      "mean over the drawn seeds of their mean case difference; fixed RNG seed {3}, so the report is "
      "reproducible). <b>p</b>: two-sided paired t-test over the per-seed differences (df = seeds − 1), and "
      "the Wilcoxon signed-rank test over them (normal approximation). <b>Significant</b>: two seeds or more "
      "and p (t, seeds) &lt; {4:g}, not corrected for multiple comparisons. A comparison with one seed is "
      "not "
      "tested (\"1 seed: not tested\"): one run says nothing about how much another seed would move it. The "
      "same comparison sets {1} against every other pretraining. summary.json keeps a per-case test "
      "(seed-averaged differences over test cases) as a secondary record, never the verdict.</li>\n",
      html_escape(st.baseline), kFocusMethod, kBootstrapResamples, kBootstrapSeed, kSignificanceLevel);
  h +=
      "<li>Dice, NSD and their differences are shown in points (× 100). HD95 means leave out infinite values "
      "(exactly one mask empty), which are counted.</li>\n";
  h += "<li>The same numbers, unrounded, are in <code>summary.json</code> beside "
       "<code>experiment.json</code>; the comparison tables are also in <code>comparisons.csv</code>.</li>\n";
  h += "</ul>\n</body>\n</html>\n";
  return h;
}

ReportResult write_report(const std::string& exp, const std::string& out_html, const ReportOptions& options) {
  const ExperimentData data = load_experiment(exp);
  if (options.write_summary) write_summary(data);
  ReportResult r;
  r.path = out_html;
  const std::string html = report_html(data, options, &r.warnings);
  write_text_atomically(out_html, html);
  r.bytes = html.size();
  return r;
}

}  // namespace pgl::report
