#include "pgl/report/tables.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "pgl/report/html.h"

namespace pgl::report {

std::string format_points(const Describe& d) {
  if (!std::isfinite(d.mean)) return "–";
  if (!std::isfinite(d.std)) return fmt::format("{:.2f}", 100 * d.mean);
  return fmt::format("{:.2f} ± {:.2f}", 100 * d.mean, 100 * d.std);
}

std::string format_gain(double difference) {
  return std::isfinite(difference) ? fmt::format("{:+.2f}", 100 * difference) : "–";
}

std::string format_p(double p) {
  if (!std::isfinite(p)) return "–";
  return p < 0.001 ? "<0.001" : fmt::format("{:.3f}", p);
}

namespace {

std::string seeds_suffix(const MetricStats& m, const ExperimentStats& stats) {
  return m.seeds.size() != stats.seeds.size()
             ? fmt::format(" ({} of {} seeds)", m.seeds.size(), stats.seeds.size())
             : "";
}

}  // namespace

Table dice_table(const ExperimentStats& stats) {
  Table t;
  t.title = "Dice (%) per method and label fraction: mean ± std over seeds";
  t.header.push_back("method");
  for (double f : stats.fractions) t.header.push_back(fmt::format("{:g}% labels", 100 * f));
  std::vector<double> best(stats.fractions.size(), -INFINITY);
  for (size_t c = 0; c < stats.fractions.size(); ++c)
    for (const std::string& method : stats.methods)
      if (const auto* s = stats.find(method, stats.fractions[c]); s && std::isfinite(s->dice.over_seeds.mean))
        best[c] = std::max(best[c], s->dice.over_seeds.mean);
  for (const std::string& method : stats.methods) {
    std::vector<std::string> row{method};
    std::vector<bool> bold{false};
    for (size_t c = 0; c < stats.fractions.size(); ++c) {
      const auto* s = stats.find(method, stats.fractions[c]);
      row.push_back(s ? format_points(s->dice.over_seeds) + seeds_suffix(s->dice, stats) : "–");
      bold.push_back(s && s->dice.over_seeds.mean == best[c]);
    }
    t.rows.push_back(std::move(row));
    t.bold.push_back(std::move(bold));
  }
  t.note =
      "Case Dice = mean over foreground classes (NaN skipped); cell Dice = mean over test cases; "
      "mean ± sample std over seeds. Best mean per column in bold.";
  return t;
}

Table class_table(const ExperimentStats& stats) {
  Table t;
  t.title = "Dice (%) per class: mean ± std over seeds";
  t.header = {"method", "fraction"};
  for (int label : stats.classes) t.header.push_back(stats.class_name(label));
  for (const MethodFractionStats& s : stats.cells) {
    std::vector<std::string> row{s.method, fmt::format("{:g}%", 100 * s.fraction)};
    for (int label : stats.classes) {
      auto it = s.class_dice.find(label);
      row.push_back(it != s.class_dice.end() ? format_points(it->second.over_seeds) : "–");
    }
    t.rows.push_back(std::move(row));
  }
  t.note = "Per class: mean over test cases where the class is not empty in both masks, then over seeds.";
  return t;
}

Table surface_table(const ExperimentStats& stats) {
  Table t;
  t.title = "Surface metrics: NSD (%) and HD95 (mm), mean ± std over seeds";
  t.header = {"method", "fraction", "NSD (%)", "HD95 (mm)", "cases", "NaN Dice", "inf HD95"};
  for (const MethodFractionStats& s : stats.cells) {
    const Describe& h = s.hd95.over_seeds;
    std::string hd95 = !std::isfinite(h.mean) ? "–"
                       : std::isfinite(h.std) ? fmt::format("{:.2f} ± {:.2f}", h.mean, h.std)
                                              : fmt::format("{:.2f}", h.mean);
    t.rows.push_back({s.method, fmt::format("{:g}%", 100 * s.fraction), format_points(s.nsd.over_seeds), hd95,
                      std::to_string(s.n_cases), std::to_string(s.n_nan_dice), std::to_string(s.n_inf_hd95)});
  }
  t.note =
      "Aggregated like Dice. HD95 leaves out infinite values (exactly one mask empty), counted in "
      "\"inf HD95\"; \"NaN Dice\" counts class rows where both masks are empty.";
  return t;
}

std::string format_seed_differences(const Comparison& c) {
  std::string text;
  for (const SeedDifference& d : c.per_seed)
    text += fmt::format("{}s{} {}", text.empty() ? "" : ", ", d.seed, format_gain(d.mean_diff));
  return text.empty() ? "–" : text;
}

Table comparison_table(const std::vector<Comparison>& comparisons, const std::string& title) {
  Table t;
  t.title = title;
  t.header = {"method",
              "vs",
              "fraction",
              "seeds",
              "Δ Dice (points)",
              "95% CI",
              "p (t, seeds)",
              "p (Wilcoxon, seeds)",
              "verdict",
              "Δ per seed (points)",
              "cases"};
  for (const Comparison& c : comparisons) {
    const BootstrapInterval& b = c.interval;
    // One seed: the bootstrap can only resample cases; the row says so, lest the interval read as a test.
    const std::string ci = std::isfinite(b.ci_low)
                               ? fmt::format("[{:+.2f}, {:+.2f}]{}", 100 * b.ci_low, 100 * b.ci_high,
                                             c.tested() ? "" : " cases only")
                               : "–";
    t.rows.push_back({c.method, c.baseline, fmt::format("{:g}%", 100 * c.fraction),
                      std::to_string(c.per_seed.size()), format_gain(c.over_seeds.mean_diff), ci,
                      format_p(c.over_seeds.p_t), format_p(c.over_seeds.p_wilcoxon), c.verdict(),
                      format_seed_differences(c), std::to_string(c.over_cases.n)});
    std::vector<bool> bold(t.header.size(), false);
    bold[8] = c.significant();
    t.bold.push_back(std::move(bold));
  }
  t.note = fmt::format(
      "Δ: in each seed, the mean over test cases of the case Dice of the method minus the comparator's (same "
      "seed), then the mean over seeds; the per-seed values are listed. 95% CI: hierarchical percentile "
      "bootstrap, {} resamples of the seeds and, within each, of the test cases (RNG seed {}). p: two-sided "
      "paired t-test and Wilcoxon signed-rank test over the per-seed differences. Verdict: p (t, seeds) < "
      "{:g}, not corrected for multiple comparisons; with few seeds the bootstrap interval is narrower than "
      "the t-test's (it cannot look past the seeds run), so it may leave out 0 where the verdict does not. A "
      "comparison with one seed is not tested: its interval covers the test cases only, not the run-to-run "
      "variation of fine-tuning (use --seeds 3 or more).",
      kBootstrapResamples, kBootstrapSeed, kSignificanceLevel);
  return t;
}

std::string render_markdown(const Table& table) {
  auto cell = [](std::string s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
  };
  std::string md = "### " + table.title + "\n\n|";
  for (const auto& h : table.header) md += " " + cell(h) + " |";
  md += "\n|";
  for (size_t n = 0; n < table.header.size(); ++n) md += n == 0 ? "---|" : "---:|";
  md += "\n";
  for (size_t r = 0; r < table.rows.size(); ++r) {
    md += "|";
    for (size_t c = 0; c < table.rows[r].size(); ++c) {
      const bool b = r < table.bold.size() && c < table.bold[r].size() && table.bold[r][c];
      md += " " + (b ? "**" + cell(table.rows[r][c]) + "**" : cell(table.rows[r][c])) + " |";
    }
    md += "\n";
  }
  if (table.rows.empty()) md += "| (no data) |\n";
  if (!table.note.empty()) md += "\n" + table.note + "\n";
  return md + "\n";
}

std::string render_csv(const Table& table) {
  auto field = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string quoted = "\"";
    for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  };
  std::string csv;
  for (size_t c = 0; c < table.header.size(); ++c) csv += (c ? "," : "") + field(table.header[c]);
  csv += "\n";
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) csv += (c ? "," : "") + field(row[c]);
    csv += "\n";
  }
  return csv;
}

std::string render_html(const Table& table) {
  std::string html = "<h3>" + html_escape(table.title) + "</h3>\n<table>\n<thead><tr>";
  for (size_t c = 0; c < table.header.size(); ++c)
    html += std::string(c == 0 ? "<th class=\"l\">" : "<th>") + html_escape(table.header[c]) + "</th>";
  html += "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < table.rows.size(); ++r) {
    html += "<tr>";
    for (size_t c = 0; c < table.rows[r].size(); ++c) {
      const bool b = r < table.bold.size() && c < table.bold[r].size() && table.bold[r][c];
      html += std::string(c == 0 ? "<td class=\"l\">" : "<td>") + (b ? "<b>" : "") +
              html_escape(table.rows[r][c]) + (b ? "</b>" : "") + "</td>";
    }
    html += "</tr>\n";
  }
  if (table.rows.empty())
    html +=
        fmt::format("<tr><td colspan=\"{}\">no data</td></tr>\n", std::max<size_t>(1, table.header.size()));
  html += "</tbody>\n</table>\n";
  if (!table.note.empty()) html += "<p class=\"note\">" + html_escape(table.note) + "</p>\n";
  return html;
}

}  // namespace pgl::report
