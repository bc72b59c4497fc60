#pragma once
// The experiment's figures, built from its statistics and its metrics.jsonl logs:
// - dice_vs_fraction: Dice (%) against label fraction per method (error bars: std over seeds; each seed's
//   cell score a faint point beside the mean), and the gain over the baseline with its 95% bootstrap
//   interval and each seed's difference;
// - pretrain_loss: pretraining loss against step, one panel per method (each seed faint, their mean
//   smoothed), and a last panel with every method's target_spread (collapse check) where logged;
// - finetune_validation: validation mean Dice against step, one panel per label fraction (mean over seeds).
#include <map>
#include <string>
#include <vector>

#include "pgl/report/aggregate.h"
#include "pgl/report/plot.h"

namespace pgl::report {

// One colour and marker per method, the same in every figure.
struct MethodStyle {
  Color color;
  Marker marker = Marker::Circle;
};
std::map<std::string, MethodStyle> method_styles(const std::vector<std::string>& methods);

Figure dice_vs_fraction_figure(const ExperimentStats& stats);
Figure pretrain_loss_figure(const ExperimentSpec& spec, const ExperimentStats& stats);
// target_spread against step, one series per method that logged it (mean over seeds); no series if none did.
Chart target_spread_chart(const ExperimentSpec& spec, const ExperimentStats& stats);
Figure finetune_validation_figure(const ExperimentSpec& spec, const ExperimentStats& stats);

struct NamedFigure {
  std::string name;  // file stem under EXP/plots
  std::string caption;
  Figure figure;
};
std::vector<NamedFigure> experiment_figures(const ExperimentSpec& spec, const ExperimentStats& stats);

// Half window of the moving average for a curve of n points: n / 40 (0, no smoothing, below 40 points).
size_t smoothing_window(size_t n);

}  // namespace pgl::report
