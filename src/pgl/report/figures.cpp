#include "pgl/report/figures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace pgl::report {
namespace fs = std::filesystem;

std::map<std::string, MethodStyle> method_styles(const std::vector<std::string>& methods) {
  std::map<std::string, MethodStyle> styles;
  size_t n = 0;
  for (const std::string& m : methods) {
    if (m == kBaselineMethod) {
      styles[m] = {method_color(m, 0), Marker::Circle};
      continue;
    }
    styles[m] = {method_color(m, n), palette_marker(n + 1)};
    ++n;
  }
  return styles;
}

size_t smoothing_window(size_t n) { return n / 40; }

namespace {

std::vector<std::pair<double, std::string>> fraction_ticks(const std::vector<double>& fractions) {
  std::vector<std::pair<double, std::string>> ticks;
  for (double f : fractions) ticks.emplace_back(f, fmt::format("{:g}%", 100 * f));
  return ticks;
}

// Spreads the methods a little along log-x so that their error bars do not cover each other.
double jitter(double fraction, size_t index, size_t count) {
  const double offset = (static_cast<double>(index) - (static_cast<double>(count) - 1) / 2) * 0.028;
  return fraction * std::pow(10.0, offset);
}

// Where a method's per-seed points go: just right of its mean (x from jitter), inside its share of log-x.
double beside(double x) { return x * std::pow(10.0, 0.013); }

// The per-seed values of one method as faint markers, left out of the legend.
Series seed_points(const MethodStyle& style) {
  Series s;
  s.color = style.color.with_alpha(0.5);
  s.marker = style.marker;
  s.marker_size = 2.6;
  s.line_width = 0;
  return s;
}

// Lays the charts out in up to three columns; a figure with no chart gets one that says why.
void lay_out_grid(Figure& fig, const std::string& empty_title, const std::string& empty_message) {
  if (fig.charts.empty()) {
    Chart empty;
    empty.title = empty_title;
    empty.empty_message = empty_message;
    fig.charts.push_back(std::move(empty));
  }
  fig.columns = std::min<int>(3, static_cast<int>(fig.charts.size()));
  const int rows = (static_cast<int>(fig.charts.size()) + fig.columns - 1) / fig.columns;
  fig.width = fig.columns == 1 ? 700 : fig.columns == 2 ? 920 : 1140;
  fig.height = 32 + 300 * rows;
}

// One curve of `key` against step per seed whose pretraining metrics.jsonl logs it.
std::vector<Curve> pretrain_curves(const ExperimentSpec& spec, const ExperimentStats& stats,
                                   const std::string& method, const std::string& key) {
  std::vector<Curve> curves;
  for (int seed : stats.seeds) {
    Curve c =
        curve_from_jsonl(read_jsonl(pretrain_dir(spec.dir, method, seed) + "/metrics.jsonl"), "step", key);
    if (!c.empty()) curves.push_back(std::move(c));
  }
  return curves;
}

}  // namespace

Figure dice_vs_fraction_figure(const ExperimentStats& stats) {
  const auto styles = method_styles(stats.methods);
  Figure fig;
  fig.width = 900;
  fig.height = 400;
  Chart dice;
  dice.title = "Dice against label fraction";
  dice.x.label = "labelled training cases (fraction, log scale)";
  dice.x.log = true;
  dice.x.ticks = fraction_ticks(stats.fractions);
  if (!stats.fractions.empty()) {  // the same x range in both panels
    dice.x.min = stats.fractions.front() / 1.45;
    dice.x.max = stats.fractions.back() * 1.45;
  }
  dice.y.label = "Dice (%), mean ± std over seeds; faint: each seed";
  for (size_t m = 0; m < stats.methods.size(); ++m) {
    Series s;
    s.label = stats.methods[m];
    s.color = styles.at(s.label).color;
    s.marker = styles.at(s.label).marker;
    s.dashed = s.label == kBaselineMethod;
    Series seeds = seed_points(styles.at(s.label));
    for (double f : stats.fractions) {
      const MethodFractionStats* c = stats.find(s.label, f);
      if (!c) continue;
      s.x.push_back(jitter(f, m, stats.methods.size()));
      s.y.push_back(100 * c->dice.over_seeds.mean);
      s.error.push_back(100 * c->dice.over_seeds.std);
      for (double cell : c->dice.cell_means) {
        seeds.x.push_back(beside(s.x.back()));
        seeds.y.push_back(100 * cell);
      }
    }
    if (!s.x.empty()) dice.series.push_back(std::move(s));
    if (!seeds.x.empty()) dice.series.push_back(std::move(seeds));
  }
  fig.charts.push_back(std::move(dice));
  if (stats.gains.empty()) return fig;

  Chart gain;
  gain.title = fmt::format("Gain over {} (paired by seed)", stats.baseline);
  gain.x.label = "labelled training cases (fraction, log scale)";
  gain.x.log = true;
  gain.x.ticks = fraction_ticks(stats.fractions);
  gain.x.min = stats.fractions.front() / 1.45;
  gain.x.max = stats.fractions.back() * 1.45;
  gain.y.label = "Δ Dice (points), 95% bootstrap CI; faint: each seed";
  Series zero;
  zero.x = {stats.fractions.front() / 2, stats.fractions.back() * 2};
  zero.y = {0, 0};
  zero.color = {0.35, 0.35, 0.35};
  zero.line_width = 1;
  zero.dashed = true;
  gain.series.push_back(zero);
  for (size_t m = 0; m < stats.methods.size(); ++m) {
    Series s;
    s.label = stats.methods[m];
    if (s.label == stats.baseline) continue;
    s.color = styles.at(s.label).color;
    s.marker = styles.at(s.label).marker;
    Series seeds = seed_points(styles.at(s.label));
    for (const Comparison& c : stats.gains) {
      if (c.method != s.label) continue;
      s.x.push_back(jitter(c.fraction, m, stats.methods.size()));
      s.y.push_back(100 * c.over_seeds.mean_diff);
      s.error.push_back(100 * (c.interval.ci_high - c.over_seeds.mean_diff));
      s.error_below.push_back(100 * (c.over_seeds.mean_diff - c.interval.ci_low));
      for (const SeedDifference& d : c.per_seed) {
        seeds.x.push_back(beside(s.x.back()));
        seeds.y.push_back(100 * d.mean_diff);
      }
    }
    if (!s.x.empty()) gain.series.push_back(std::move(s));
    if (!seeds.x.empty()) gain.series.push_back(std::move(seeds));
  }
  fig.columns = 2;
  fig.width = 1100;
  fig.charts.push_back(std::move(gain));
  return fig;
}

Figure pretrain_loss_figure(const ExperimentSpec& spec, const ExperimentStats& stats) {
  const auto styles = method_styles(stats.methods);
  Figure fig;
  fig.title = "Pretraining loss";
  for (const std::string& method : stats.methods) {
    if (method == kBaselineMethod) continue;
    const std::vector<Curve> curves = pretrain_curves(spec, stats, method, "loss");
    if (curves.empty()) continue;
    Chart chart;
    chart.title = method;
    chart.x.label = "step";
    chart.y.label = "loss";
    const Color color = styles.at(method).color;
    for (const Curve& c : curves) {
      Series s;
      s.x = c.x;
      s.y = c.y;
      s.color = color.with_alpha(0.25);
      s.line_width = 1;
      chart.series.push_back(std::move(s));
    }
    const Curve mean = mean_curve(curves);
    Series s;
    const size_t window = smoothing_window(mean.y.size());
    s.label = fmt::format("mean of {} seed{}{}", curves.size(), curves.size() == 1 ? "" : "s",
                          window ? ", smoothed" : "");
    s.x = mean.x;
    s.y = smooth(mean.y, window);
    s.color = color;
    chart.series.push_back(std::move(s));
    fig.charts.push_back(std::move(chart));
  }
  Chart spread = target_spread_chart(spec, stats);
  if (!spread.series.empty()) fig.charts.push_back(std::move(spread));
  lay_out_grid(fig, "no pretraining logs", "no pretrain/<method>-s<seed>/metrics.jsonl");
  return fig;
}

Chart target_spread_chart(const ExperimentSpec& spec, const ExperimentStats& stats) {
  const auto styles = method_styles(stats.methods);
  Chart chart;
  chart.title = "collapse check: target spread";
  chart.x.label = "step";
  chart.y.label = "spread (1 spread out, 0 collapsed)";
  chart.y.min = 0;
  for (const std::string& method : stats.methods) {
    const std::vector<Curve> curves = pretrain_curves(spec, stats, method, "target_spread");
    if (curves.empty()) continue;  // Genesis, random, or a run logged before target_spread existed
    const Curve mean = mean_curve(curves);
    Series s;
    s.label = method;
    s.x = mean.x;
    s.y = mean.y;
    s.color = styles.at(method).color;
    chart.series.push_back(std::move(s));
  }
  return chart;
}

Figure finetune_validation_figure(const ExperimentSpec& spec, const ExperimentStats& stats) {
  const auto styles = method_styles(stats.methods);
  Figure fig;
  fig.title = "Fine-tuning validation Dice";
  bool any = false;
  for (double fraction : stats.fractions) {
    Chart chart;
    chart.title = fmt::format("{:g}% labels", 100 * fraction);
    chart.x.label = "step";
    chart.y.label = "validation mean Dice (%)";
    for (const std::string& method : stats.methods) {
      std::vector<Curve> curves;
      for (int seed : stats.seeds) {
        Curve c =
            curve_from_jsonl(read_jsonl(finetune_dir(spec.dir, method, fraction, seed) + "/metrics.jsonl"),
                             "step", "val_mean_dice");
        if (!c.empty()) curves.push_back(std::move(c));
      }
      if (curves.empty()) continue;
      const Curve mean = mean_curve(curves);
      Series s;
      s.label =
          curves.size() == stats.seeds.size() ? method : fmt::format("{} ({} seeds)", method, curves.size());
      s.x = mean.x;
      for (double y : mean.y) s.y.push_back(100 * y);
      s.color = styles.at(method).color;
      s.dashed = method == kBaselineMethod;
      s.line_width = 1.8;
      if (s.x.size() <= 30) s.marker = styles.at(method).marker;
      chart.series.push_back(std::move(s));
    }
    any = any || !chart.series.empty();
    fig.charts.push_back(std::move(chart));
  }
  if (!any) fig.charts.clear();
  lay_out_grid(fig, "no validation logs", "no finetune/<cell>/metrics.jsonl with val_mean_dice");
  return fig;
}

std::vector<NamedFigure> experiment_figures(const ExperimentSpec& spec, const ExperimentStats& stats) {
  return {
      {"dice_vs_fraction",
       "Dice against the fraction of labelled training cases (mean ± std over seeds, each seed's cell "
       "score as a faint point beside the mean) and the gain over random initialisation (mean over seeds, "
       "each seed's mean case difference as a faint point) with its 95% hierarchical bootstrap interval "
       "over seeds and test cases.",
       dice_vs_fraction_figure(stats)},
      {"pretrain_loss",
       "Pretraining loss per method: each seed faint, their mean smoothed (centred moving average over "
       "1/20 of the steps). Last panel, where the logs have it: the spread of the target projections' "
       "directions, mean over seeds; near 0 the outputs no longer depend on the input (collapse), and a "
       "loss near 0 then means nothing.",
       pretrain_loss_figure(spec, stats)},
      {"finetune_validation", "Validation mean Dice during fine-tuning, mean over seeds, per label fraction.",
       finetune_validation_figure(spec, stats)},
  };
}

}  // namespace pgl::report
