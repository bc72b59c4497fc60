#include "pgl/seg/postprocess.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <map>

#include "pgl/eval/metrics.h"
#include "pgl/io/components.h"

namespace pgl::seg {
namespace {

// Per class, the mean Dice over the cases where it is defined (NaN when never).
std::map<int, double> class_means(const LabelPairs& pairs, const std::vector<int>& classes) {
  std::map<int, double> sum;
  std::map<int, int> count;
  for (const auto& [prediction, reference] : pairs) {
    auto scores = eval::dice_scores(prediction, reference, classes);
    for (size_t k = 0; k < classes.size(); ++k)
      if (!std::isnan(scores[k])) {
        sum[classes[k]] += scores[k];
        ++count[classes[k]];
      }
  }
  std::map<int, double> means;
  for (int c : classes) means[c] = count[c] ? sum[c] / count[c] : std::nan("");
  return means;
}

double overall(const std::map<int, double>& means) {
  double total = 0;
  int n = 0;
  for (const auto& [c, d] : means)
    if (!std::isnan(d)) total += d, ++n;
  return n ? total / n : std::nan("");
}

LabelPairs with_step(LabelPairs pairs, const std::set<int>& labels) {
  for (auto& pair : pairs) keep_largest_component(pair.first, labels);
  return pairs;
}

}  // namespace

nlohmann::json Postprocessing::to_json() const {
  return {{"largest_foreground_component", largest_foreground_component},
          {"largest_class_component", largest_class_component}};
}

std::string Postprocessing::describe() const {
  if (empty()) return "none";
  std::vector<std::string> parts;
  if (largest_foreground_component) parts.emplace_back("largest foreground component");
  if (!largest_class_component.empty())
    parts.push_back(
        fmt::format("largest component of class(es) {}", fmt::join(largest_class_component, ", ")));
  return fmt::format("{}", fmt::join(parts, "; "));
}

Postprocessing Postprocessing::from_json(const nlohmann::json& j) {
  Postprocessing p;
  if (!j.is_object()) return p;
  p.largest_foreground_component = j.value("largest_foreground_component", false);
  p.largest_class_component = j.value("largest_class_component", std::vector<int>{});
  return p;
}

void apply_postprocessing(LabelMap& prediction, const Postprocessing& p, const std::vector<int>& classes) {
  if (p.largest_foreground_component)
    keep_largest_component(prediction, std::set<int>(classes.begin(), classes.end()));
  for (int c : p.largest_class_component) keep_largest_component(prediction, {c});
}

Postprocessing decide_postprocessing(const LabelPairs& validation, const std::vector<int>& classes,
                                     std::vector<std::string>* log) {
  Postprocessing decision;
  if (validation.empty() || classes.empty()) return decision;
  auto say = [&](const std::string& line) {
    if (log) log->push_back(line);
  };
  LabelPairs current = validation;
  auto base = class_means(current, classes);
  LabelPairs merged = with_step(current, std::set<int>(classes.begin(), classes.end()));
  auto after = class_means(merged, classes);
  bool no_drop = true;
  for (int c : classes)
    if (!std::isnan(base[c]) && after[c] < base[c]) no_drop = false;
  const bool accept = overall(after) > overall(base) && no_drop;
  say(fmt::format("largest foreground component: mean Dice {:.4f} -> {:.4f}{}: {}", overall(base),
                  overall(after), no_drop ? "" : " (a class drops)", accept ? "kept" : "not kept"));
  if (accept) {
    decision.largest_foreground_component = true;
    current = std::move(merged);
    base = after;
  }
  if (classes.size() > 1) {
    for (int c : classes) {
      LabelPairs candidate = with_step(current, {c});
      auto means = class_means(candidate, classes);
      const bool better = means[c] > base[c];
      say(fmt::format("largest component of class {}: Dice {:.4f} -> {:.4f}: {}", c, base[c], means[c],
                      better ? "kept" : "not kept"));
      if (better) {
        decision.largest_class_component.push_back(c);
        current = std::move(candidate);
        base = means;
      }
    }
  }
  return decision;
}

}  // namespace pgl::seg
