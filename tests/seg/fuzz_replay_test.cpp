// The fuzz targets of the LibTorch readers (checkpoints, weights.pt), replayed on their seeds and regressions
// (tests/support/fuzz_replay.h).
#include "support/fuzz_replay.h"

namespace pgl {
namespace {

TEST(FuzzReplay, Checkpoint) { test::replay_fuzz_inputs("checkpoint", fuzz::checkpoint); }
TEST(FuzzReplay, Weights) { test::replay_fuzz_inputs("weights", fuzz::weights); }

}  // namespace
}  // namespace pgl
