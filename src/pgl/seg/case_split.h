#pragma once
// Which cases a fine-tuning run trains on, labels and validates with: always seeded, always written to the
// run folder (cases.json), so that which cases were used is known.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pgl/data/dataset.h"
#include "pgl/seg/finetune_config.h"

namespace pgl::seg {

struct CaseSplit {
  std::vector<Case> train;       // candidate training cases
  std::vector<Case> labeled;     // the subset whose labels are used
  std::vector<Case> validation;  // held out for validation (best checkpoint, post-processing)
  std::vector<Case> held_out;    // the cross-validation fold's test cases (never seen by the run)
  nlohmann::json to_json() const;
};

CaseSplit split_cases(const Dataset& dataset, const FinetuneConfig& config);

// A seeded permutation of 0..n-1 (portable: does not depend on the standard library's shuffle).
std::vector<size_t> seeded_permutation(size_t n, uint64_t seed);

}  // namespace pgl::seg
