#include "pgl/report/summary.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>

#include "pgl/core/atomic_file.h"
#include "pgl/core/version.h"
#include "pgl/report/figures.h"
#include "pgl/report/tables.h"

namespace pgl::report {
namespace fs = std::filesystem;
using nlohmann::json;

ExperimentData load_experiment(const std::string& exp) {
  ExperimentData d;
  d.spec = read_experiment(exp);
  d.rows = read_results_csv((fs::path(exp) / "results.csv").string());
  d.stats = compute_statistics(d.spec, d.rows);
  const std::string external = (fs::path(exp) / "results_test_data.csv").string();
  if (fs::exists(external)) {
    auto t = std::make_shared<ExperimentData>();
    t->spec = d.spec;
    const json& raw = d.spec.raw;
    t->spec.data = raw.contains("test_data") && raw["test_data"].is_string()
                       ? raw["test_data"].get<std::string>()
                       : std::string("--test-data");
    t->spec.test_cases.clear();
    if (raw.contains("test_data_cases") && raw["test_data_cases"].is_array())
      for (const json& id : raw["test_data_cases"])
        if (id.is_string()) t->spec.test_cases.push_back(id.get<std::string>());
    t->rows = read_results_csv(external);
    t->stats = compute_statistics(t->spec, t->rows);
    d.test_data = t;
  }
  return d;
}

namespace {

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json numbers(const std::vector<double>& values) {
  json a = json::array();
  for (double v : values) a.push_back(number(v));
  return a;
}

json metric_json(const MetricStats& m) {
  return {{"mean", number(m.over_seeds.mean)},
          {"std", number(m.over_seeds.std)},
          {"n_seeds", m.over_seeds.n},
          {"seeds", m.seeds},
          {"seed_means", numbers(m.cell_means)}};
}

json comparison_json(const Comparison& c) {
  const PairedTest& seeds = c.over_seeds;
  const PairedTest& cases = c.over_cases;
  json per_seed = json::array();
  for (const SeedDifference& d : c.per_seed)
    per_seed.push_back({{"seed", d.seed}, {"n_cases", d.n_cases}, {"mean_diff", number(d.mean_diff)}});
  return {{"method", c.method},
          {"versus", c.baseline},
          {"fraction", c.fraction},
          {"n_seeds", c.per_seed.size()},
          {"seeds", c.seeds()},
          {"per_seed", per_seed},
          {"mean_diff", number(seeds.mean_diff)},
          {"ci95", {number(c.interval.ci_low), number(c.interval.ci_high)}},
          {"ci95_method", "hierarchical percentile bootstrap over seeds and the test cases within them"},
          {"bootstrap_resamples", c.interval.resamples},
          {"bootstrap_rng_seed", c.interval.rng_seed},
          {"sd_seeds", number(seeds.sd_diff)},
          {"t", number(seeds.t)},
          {"df", number(seeds.df)},
          {"p_t", number(seeds.p_t)},
          {"wilcoxon_v", number(seeds.wilcoxon_v)},
          {"p_wilcoxon", number(seeds.p_wilcoxon)},
          {"tested", c.tested()},
          {"significant", c.significant()},
          {"verdict", c.verdict()},
          {"n_cases", cases.n},
          {"secondary_over_cases",
           {{"note",
             "per test case, the difference averaged over seeds, tested over cases: leaves out the "
             "run-to-run variation of fine-tuning; never the verdict"},
            {"n_cases", cases.n},
            {"mean_diff", number(cases.mean_diff)},
            {"sd_diff", number(cases.sd_diff)},
            {"ci95_t", {number(cases.ci_low), number(cases.ci_high)}},
            {"t", number(cases.t)},
            {"df", number(cases.df)},
            {"p_t", number(cases.p_t)},
            {"wilcoxon_v", number(cases.wilcoxon_v)},
            {"p_wilcoxon", number(cases.p_wilcoxon)}}}};
}

const char* kDefinitions[][2] = {
    {"case_score",
     "mean Dice over the foreground classes of one test case in one cell; NaN classes (both "
     "masks empty) are skipped"},
    {"cell_score", "mean of the case scores over the test cases; a cell is one (method, fraction, seed)"},
    {"mean_std",
     "mean and sample standard deviation (ddof 1) over seeds of the cell scores; std is null "
     "with one seed"},
    {"per_class",
     "per class: mean over test cases of the class's Dice (NaN skipped), then mean and std over "
     "seeds"},
    {"gain",
     "in each seed both have: mean over the test cases both have of the case score of the method minus that "
     "of the comparator (per_seed); mean_diff = mean over seeds of these; ci95 = hierarchical percentile "
     "bootstrap (resample the seeds with replacement, then within each the test cases with replacement; "
     "statistic = mean over seeds of the mean case difference; bootstrap_resamples resamples, fixed "
     "bootstrap_rng_seed); p_t = two-sided paired t-test over the per-seed differences (df = seeds - 1), "
     "p_wilcoxon = Wilcoxon signed-rank test over them (normal approximation with tie and continuity "
     "corrections)"},
    {"significant",
     "two seeds or more and p_t < 0.05 (not corrected for multiple comparisons); one seed is never tested "
     "(verdict \"1 seed: not tested\", p null)"},
    {"hd95",
     "aggregated like Dice, leaving out infinite values (exactly one mask empty), counted in n_inf_hd95"},
    {"units", "Dice and NSD in [0, 1] here; summary.md and the report show them x 100 (points)"},
};

}  // namespace

json summary_json(const ExperimentData& data) {
  const ExperimentStats& st = data.stats;
  json j;
  j["pgl_version"] = version();
  j["experiment"] = data.spec.dir;
  j["baseline"] = st.baseline;
  j["methods"] = st.methods;
  j["fractions"] = st.fractions;
  j["seeds"] = st.seeds;
  json classes = json::object();
  for (int label : st.classes) classes[std::to_string(label)] = st.class_name(label);
  j["classes"] = classes;
  j["n_rows"] = st.n_rows;
  json cells = json::array();
  for (const MethodFractionStats& s : st.cells) {
    json per_class = json::object();
    for (const auto& [label, m] : s.class_dice) per_class[st.class_name(label)] = metric_json(m);
    json case_dice = json::object();
    for (const auto& [id, v] : s.case_dice) case_dice[id] = number(v);
    cells.push_back({{"method", s.method},
                     {"fraction", s.fraction},
                     {"n_cases", s.n_cases},
                     {"dice", metric_json(s.dice)},
                     {"nsd", metric_json(s.nsd)},
                     {"hd95_mm", metric_json(s.hd95)},
                     {"per_class_dice", per_class},
                     {"case_dice", case_dice},
                     {"n_nan_dice", s.n_nan_dice},
                     {"n_inf_hd95", s.n_inf_hd95}});
  }
  j["results"] = cells;
  json gains = json::array(), versus = json::array();
  for (const Comparison& c : st.gains) gains.push_back(comparison_json(c));
  for (const Comparison& c : st.versus) versus.push_back(comparison_json(c));
  j["gain_over_baseline"] = gains;
  j["versus_" + std::string(kFocusMethod)] = versus;
  j["missing_cells"] = st.missing_cells;
  json definitions = json::object();
  for (const auto& d : kDefinitions) definitions[d[0]] = d[1];
  j["definitions"] = definitions;
  if (data.test_data) j["test_data"] = summary_json(*data.test_data);
  return j;
}

std::string summary_markdown(const ExperimentData& data) {
  const ExperimentStats& st = data.stats;
  std::string md =
      fmt::format("# PGL experiment summary: {}\n\n", fs::path(data.spec.dir).filename().string());
  std::string fractions, seeds;
  for (double f : st.fractions) fractions += (fractions.empty() ? "" : ", ") + fmt::format("{:g}", f);
  for (int s : st.seeds) seeds += (seeds.empty() ? "" : ", ") + std::to_string(s);
  md += fmt::format(
      "- data: {}\n- preset: {}\n- methods: {}\n- label fractions: {}\n- seeds: {}\n- test cases: {}\n",
      data.spec.data.empty() ? "–" : data.spec.data,
      data.spec.preset.empty() ? "–"
      : data.spec.base > 0     ? fmt::format("{} (base {})", data.spec.preset, data.spec.base)
                               : data.spec.preset,
      fmt::format("{}", fmt::join(st.methods, ", ")), fractions, seeds, data.spec.test_cases.size());
  md += fmt::format("- rows in results.csv: {}\n\n", st.n_rows);
  if (!st.missing_cells.empty())
    md +=
        fmt::format("**Missing cells** (no rows in results.csv): {}\n\n", fmt::join(st.missing_cells, ", "));
  md += render_markdown(dice_table(st));
  if (!st.gains.empty())
    md += render_markdown(comparison_table(st.gains, fmt::format("Gain over {} (Dice points)", st.baseline)));
  if (!st.versus.empty())
    md += render_markdown(
        comparison_table(st.versus, fmt::format("{} versus the other pretrainings", kFocusMethod)));
  md += render_markdown(class_table(st));
  md += render_markdown(surface_table(st));
  if (data.test_data) {
    const ExperimentData& t = *data.test_data;
    md += fmt::format(
        "## On the test data set {}\n\n{} cases that no run trained, validated or planned on "
        "(`--test-data`); rows in results_test_data.csv: {}\n\n",
        t.spec.data, t.spec.test_cases.size(), t.stats.n_rows);
    if (!t.stats.missing_cells.empty())
      md += fmt::format("**Missing cells**: {}\n\n", fmt::join(t.stats.missing_cells, ", "));
    md += render_markdown(dice_table(t.stats));
    if (!t.stats.gains.empty())
      md += render_markdown(
          comparison_table(t.stats.gains, fmt::format("Gain over {} (Dice points)", t.stats.baseline)));
    if (!t.stats.versus.empty())
      md += render_markdown(
          comparison_table(t.stats.versus, fmt::format("{} versus the other pretrainings", kFocusMethod)));
    md += render_markdown(class_table(t.stats));
  }
  md += "### Plots\n\n";
  for (const char* name : {"dice_vs_fraction", "pretrain_loss", "finetune_validation"})
    md += fmt::format("- [{0}](plots/{0}.svg) ([PNG](plots/{0}.png))\n", name);
  md += "- [comparisons.csv](comparisons.csv): the comparison tables above as CSV\n";
  md += "\n### Definitions\n\n";
  for (const auto& d : kDefinitions) md += fmt::format("- {}: {}\n", d[0], d[1]);
  return md;
}

std::string comparisons_csv(const ExperimentStats& stats) {
  std::vector<Comparison> all = stats.gains;
  all.insert(all.end(), stats.versus.begin(), stats.versus.end());
  return render_csv(comparison_table(all, ""));
}

SummaryFiles write_summary(const ExperimentData& data) {
  SummaryFiles files;
  const fs::path exp(data.spec.dir);
  files.json = (exp / "summary.json").string();
  files.markdown = (exp / "summary.md").string();
  files.comparisons_csv = (exp / "comparisons.csv").string();
  for (const NamedFigure& f : experiment_figures(data.spec, data.stats)) {
    const std::string stem = (exp / "plots" / f.name).string();
    save_figure(f.figure, stem);
    files.plots.push_back(stem + ".png");
    files.plots.push_back(stem + ".svg");
  }
  write_text_atomically(files.json, summary_json(data).dump(2) + "\n");
  write_text_atomically(files.markdown, summary_markdown(data));
  write_text_atomically(files.comparisons_csv, comparisons_csv(data.stats));
  return files;
}

SummaryFiles write_summary(const std::string& exp) { return write_summary(load_experiment(exp)); }

}  // namespace pgl::report
