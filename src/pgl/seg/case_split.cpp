#include "pgl/seg/case_split.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "pgl/augment/random.h"
#include "pgl/core/error.h"
#include "pgl/train/seeding.h"

namespace pgl::seg {

std::vector<size_t> seeded_permutation(size_t n, uint64_t seed) {
  std::vector<size_t> order(n);
  for (size_t k = 0; k < n; ++k) order[k] = k;
  std::mt19937_64 rng(seed);
  for (size_t k = n; k > 1; --k)
    std::swap(order[k - 1], order[static_cast<size_t>(augment::uniform_int(rng, 0, int64_t(k) - 1))]);
  return order;
}

nlohmann::json CaseSplit::to_json() const {
  auto ids = [](const std::vector<Case>& cases) {
    std::vector<std::string> out;
    for (const auto& c : cases) out.push_back(c.id);
    return out;
  };
  nlohmann::json j = {{"train", ids(train)}, {"labeled", ids(labeled)}, {"validation", ids(validation)}};
  if (!held_out.empty()) j["held_out"] = ids(held_out);
  return j;
}

CaseSplit split_cases(const Dataset& all, const FinetuneConfig& config) {
  if (!all.labeled()) throw Error(all.root, "fine-tuning needs a labelled data set (some cases lack labels)");
  Dataset dataset = all;
  std::set<std::string> excluded;
  for (const auto& c : all.cases)
    if (is_excluded(c, config.exclude)) excluded.insert(c.id);
  CaseSplit split;
  if (!config.test_split.empty()) {
    for (const auto& c : all.split(config.test_split))
      if (!excluded.count(c.id)) split.held_out.push_back(c);
    for (const auto& c : split.held_out) excluded.insert(c.id);
  }
  if (config.folds > 1) {
    // Folds are contiguous runs of one fixed permutation (not of --seed): every seed holds out the same
    // cases, and the folds together test every case once.
    auto order = seeded_permutation(all.cases.size(), 12345);
    const size_t n = all.cases.size(), folds = static_cast<size_t>(config.folds);
    if (n < folds) throw Error(all.root, fmt::format("{} cases cannot make {} folds", n, folds));
    size_t begin = 0;
    for (size_t f = 0; f < static_cast<size_t>(config.fold); ++f) begin += n / folds + (f < n % folds);
    const size_t end = begin + n / folds + (static_cast<size_t>(config.fold) < n % folds);
    for (size_t k = begin; k < end; ++k) {
      const Case& c = all.cases[order[k]];
      if (excluded.count(c.id)) continue;  // --exclude wins: never read
      split.held_out.push_back(c);
      excluded.insert(c.id);
    }
    std::sort(split.held_out.begin(), split.held_out.end(),
              [](const Case& a, const Case& b) { return a.id < b.id; });
  }
  dataset.cases.clear();
  for (const auto& c : all.cases)
    if (!excluded.count(c.id)) dataset.cases.push_back(c);
  for (auto& [name, ids] : dataset.splits)
    ids.erase(
        std::remove_if(ids.begin(), ids.end(), [&](const std::string& id) { return excluded.count(id) > 0; }),
        ids.end());
  if (!config.val_split.empty()) {
    split.validation = dataset.split(config.val_split);
    std::set<std::string> held;
    for (const auto& c : split.validation) held.insert(c.id);
    std::vector<Case> candidates = dataset.splits.count("train") ? dataset.split("train") : dataset.cases;
    for (const auto& c : candidates)
      if (!held.count(c.id)) split.train.push_back(c);
  } else {
    auto order = seeded_permutation(dataset.cases.size(), train::mix_seed({config.seed, 0x7a1ull}));
    auto n_val =
        static_cast<size_t>(std::llround(config.val_fraction * static_cast<double>(dataset.cases.size())));
    if (config.val_fraction > 0) n_val = std::max<size_t>(n_val, 1);
    for (size_t k = 0; k < order.size(); ++k)
      (k < n_val ? split.validation : split.train).push_back(dataset.cases[order[k]]);
    auto by_id = [](const Case& a, const Case& b) { return a.id < b.id; };
    std::sort(split.validation.begin(), split.validation.end(), by_id);
    std::sort(split.train.begin(), split.train.end(), by_id);
  }
  if (split.train.empty())
    throw Error(dataset.root, "no training cases left after holding out validation cases");
  size_t n_labeled =
      config.num_labeled > 0
          ? static_cast<size_t>(config.num_labeled)
          : std::max<size_t>(1, static_cast<size_t>(std::llround(config.label_fraction *
                                                                 static_cast<double>(split.train.size()))));
  if (n_labeled > split.train.size())
    throw Error(dataset.root,
                fmt::format("--num-labeled {} exceeds the {} training cases", n_labeled, split.train.size()));
  // The labelled subset is drawn independently of the validation split, so smaller fractions are nested in
  // larger ones for the same seed (10% ⊂ 25% ⊂ 100%).
  auto order = seeded_permutation(split.train.size(), train::mix_seed({config.seed, 0x1abull}));
  for (size_t k = 0; k < n_labeled; ++k) split.labeled.push_back(split.train[order[k]]);
  std::sort(split.labeled.begin(), split.labeled.end(),
            [](const Case& a, const Case& b) { return a.id < b.id; });
  return split;
}

}  // namespace pgl::seg
