#pragma once
// Replays a fuzz target's seeds (fuzz/corpus) and the inputs the fuzzers found (fuzz/regressions) through the
// target's code (fuzz/*.cpp), without libFuzzer: every read must end in success or in one clean pgl::Error
// naming the file. Another exception fails the test; a crash or a broken contract (fuzz::require) aborts the
// process, which fails it too.
#include <gtest/gtest.h>

#include <string>

#include "fuzz_support.h"

namespace pgl::test {

// At least one read must succeed and, with `refusals`, one be refused (the seeds hold both): the inputs do
// reach the reader. (A bad cache sidecar is not refused: the case is preprocessed again.)
inline void replay_fuzz_inputs(const std::string& target, fuzz::Target run, bool refusals = true) {
  std::vector<std::string> inputs = fuzz::replay_inputs(target);
  ASSERT_FALSE(inputs.empty()) << "no inputs under fuzz/corpus/" << target;
  fuzz::outcomes() = {};
  for (const auto& path : inputs) {
    std::string bytes = fuzz::read_file(path);
    try {
      run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    } catch (const std::exception& e) {
      ADD_FAILURE() << path << ": an exception other than pgl::Error escaped: " << e.what();
    }
  }
  EXPECT_GT(fuzz::outcomes().succeeded, 0) << target << ": no input was read successfully";
  if (refusals) {
    EXPECT_GT(fuzz::outcomes().refused, 0) << target << ": no input was refused";
  }
}

}  // namespace pgl::test
