#include "pgl/report/aggregate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace pgl::report {

const MethodFractionStats* ExperimentStats::find(const std::string& method, double fraction) const {
  for (const auto& c : cells)
    if (c.method == method && fraction_tag(c.fraction) == fraction_tag(fraction)) return &c;
  return nullptr;
}

std::string ExperimentStats::class_name(int label) const {
  auto it = class_names.find(label);
  return it != class_names.end() && !it->second.empty() ? it->second : fmt::format("class {}", label);
}

std::vector<int> Comparison::seeds() const {
  std::vector<int> seeds;
  for (const SeedDifference& d : per_seed) seeds.push_back(d.seed);
  return seeds;
}

bool Comparison::significant() const {
  return tested() && std::isfinite(over_seeds.p_t) && over_seeds.p_t < kSignificanceLevel;
}

std::string Comparison::verdict() const {
  if (per_seed.empty()) return "no paired cases";
  if (!tested()) return "1 seed: not tested";
  if (!significant()) return "not significant";
  return fmt::format("{} (p < {:g})", over_seeds.mean_diff > 0 ? "higher" : "lower", kSignificanceLevel);
}

namespace {

// Rows of one (method, fraction), grouped: seed -> case -> rows.
using CellRows = std::map<int, std::map<std::string, std::vector<const ResultRow*>>>;

double mean_of(const std::vector<const ResultRow*>& rows, double ResultRow::*metric) {
  double sum = 0;
  int n = 0;
  for (const ResultRow* r : rows)
    if (std::isfinite(r->*metric)) {
      sum += r->*metric;
      ++n;
    }
  return n ? sum / n : kNaN;
}

// Cell score of each seed for one metric, given a per-case score function; seeds without any finite case
// score are left out.
template <class CaseScore>
MetricStats over_seeds(const CellRows& cell, CaseScore case_score) {
  MetricStats m;
  for (const auto& [seed, cases] : cell) {
    std::vector<double> scores;
    for (const auto& [id, rows] : cases) scores.push_back(case_score(rows));
    const double mean = finite_mean(scores);
    if (!std::isfinite(mean)) continue;
    m.seeds.push_back(seed);
    m.cell_means.push_back(mean);
  }
  m.over_seeds = describe(m.cell_means);
  return m;
}

MethodFractionStats stats_of(const std::string& method, double fraction, const CellRows& cell,
                             const std::set<int>& classes) {
  MethodFractionStats s;
  s.method = method;
  s.fraction = fraction;
  for (const auto& [seed, cases] : cell) s.seeds.push_back(seed);
  s.dice = over_seeds(cell, [](const auto& rows) { return mean_of(rows, &ResultRow::dice); });
  s.nsd = over_seeds(cell, [](const auto& rows) { return mean_of(rows, &ResultRow::nsd); });
  s.hd95 = over_seeds(cell, [](const auto& rows) { return mean_of(rows, &ResultRow::hd95); });
  for (int label : classes) {
    MetricStats m = over_seeds(cell, [label](const auto& rows) {
      for (const ResultRow* r : rows)
        if (r->label == label) return r->dice;
      return kNaN;
    });
    if (!m.cell_means.empty()) s.class_dice[label] = std::move(m);
  }
  std::map<std::string, std::vector<double>> per_case;
  for (const auto& [seed, cases] : cell)
    for (const auto& [id, rows] : cases) {
      const double score = mean_of(rows, &ResultRow::dice);
      per_case[id].push_back(score);
      if (std::isfinite(score)) s.case_seed_dice[id][seed] = score;
      for (const ResultRow* r : rows) {
        s.n_nan_dice += std::isnan(r->dice);
        s.n_inf_hd95 += std::isinf(r->hd95);
      }
    }
  for (const auto& [id, scores] : per_case) {
    const double mean = finite_mean(scores);
    if (std::isfinite(mean)) s.case_dice[id] = mean;
  }
  s.n_cases = static_cast<int64_t>(s.case_dice.size());
  return s;
}

Comparison compare(const MethodFractionStats& method, const MethodFractionStats& baseline) {
  Comparison c;
  c.method = method.method;
  c.baseline = baseline.method;
  c.fraction = method.fraction;
  // Seeds are paired: the runner fine-tunes every method of a seed with that same seed. A pair is one case in
  // one seed where both have a score.
  std::map<int, std::vector<double>> by_seed;  // seed -> case differences
  std::vector<double> case_differences;        // per case, averaged over its paired seeds
  for (const auto& [id, seeds] : method.case_seed_dice) {
    auto it = baseline.case_seed_dice.find(id);
    if (it == baseline.case_seed_dice.end()) continue;
    std::vector<double> paired;
    for (const auto& [seed, score] : seeds)
      if (auto b = it->second.find(seed); b != it->second.end()) {
        paired.push_back(score - b->second);
        by_seed[seed].push_back(paired.back());
      }
    if (!paired.empty()) case_differences.push_back(finite_mean(paired));
  }
  std::vector<std::vector<double>> groups;
  std::vector<double> seed_means;
  for (auto& [seed, differences] : by_seed) {
    c.per_seed.push_back({seed, static_cast<int64_t>(differences.size()), finite_mean(differences)});
    seed_means.push_back(c.per_seed.back().mean_diff);
    groups.push_back(std::move(differences));
  }
  c.interval = hierarchical_bootstrap(groups);
  c.over_seeds = paired_test(seed_means);
  // One seed has no spread to test against; wilcoxon_signed_rank_p would still give p = 1.
  if (!c.tested()) c.over_seeds.p_wilcoxon = c.over_seeds.wilcoxon_v = kNaN;
  c.over_cases = paired_test(case_differences);
  return c;
}

}  // namespace

ExperimentStats compute_statistics(const ExperimentSpec& spec, const std::vector<ResultRow>& rows) {
  ExperimentStats st;
  st.n_rows = static_cast<int64_t>(rows.size());
  st.methods = spec.methods;
  std::set<std::string> fraction_tags;
  std::set<int> seeds(spec.seeds.begin(), spec.seeds.end()), classes;
  for (double f : spec.fractions)
    if (fraction_tags.insert(fraction_tag(f)).second) st.fractions.push_back(f);
  st.class_names = spec.labels;
  for (const auto& [label, name] : spec.labels) classes.insert(label);

  // method -> fraction tag -> seed -> case -> rows
  std::map<std::string, std::map<std::string, CellRows>> grouped;
  for (const ResultRow& r : rows) {
    if (std::find(st.methods.begin(), st.methods.end(), r.method) == st.methods.end())
      st.methods.push_back(r.method);
    if (fraction_tags.insert(fraction_tag(r.fraction)).second) st.fractions.push_back(r.fraction);
    seeds.insert(r.seed);
    classes.insert(r.label);
    if (!st.class_names.count(r.label) && !r.class_name.empty()) st.class_names[r.label] = r.class_name;
    grouped[r.method][fraction_tag(r.fraction)][r.seed][r.case_id].push_back(&r);
  }
  std::sort(st.fractions.begin(), st.fractions.end());
  st.seeds.assign(seeds.begin(), seeds.end());
  st.classes.assign(classes.begin(), classes.end());

  for (const std::string& method : st.methods)
    for (double fraction : st.fractions) {
      const std::string tag = fraction_tag(fraction);
      auto m = grouped.find(method);
      const CellRows* cell = nullptr;
      if (m != grouped.end()) {
        auto f = m->second.find(tag);
        if (f != m->second.end()) cell = &f->second;
      }
      for (int seed : spec.seeds)
        if (!cell || !cell->count(seed)) st.missing_cells.push_back(cell_name(method, fraction, seed));
      if (cell) st.cells.push_back(stats_of(method, fraction, *cell, classes));
    }

  for (double fraction : st.fractions) {
    const MethodFractionStats* base = st.find(st.baseline, fraction);
    const MethodFractionStats* focus = st.find(kFocusMethod, fraction);
    for (const std::string& method : st.methods) {
      const MethodFractionStats* s = st.find(method, fraction);
      if (!s) continue;
      if (base && method != st.baseline) st.gains.push_back(compare(*s, *base));
      if (focus && method != kFocusMethod && method != st.baseline) st.versus.push_back(compare(*focus, *s));
    }
  }
  return st;
}

}  // namespace pgl::report
