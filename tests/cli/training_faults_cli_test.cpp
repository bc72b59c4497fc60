// Faults during training (docs/reliability.md). A step whose loss is not finite (injected with the hidden
// --debug-nan-at-step) never reaches the optimiser: by default the run stops naming the step and the last
// good checkpoint, and resumes from it with a lower --lr through --change-on-resume; with --skip-nonfinite it
// is skipped and counted. A checkpoint write that fails (a file size limit standing in for a full disk) stops
// the run with one error and leaves the previous checkpoint intact.
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace pgl {
namespace {
using nlohmann::json;

class NonFinite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = test::shared_fixture("nonfinite", [](const std::string& d) {
      auto r = test::run_pgl("phantom --task spleen --cases 4 --seed 8 --out " + d + "/data");
      ASSERT_EQ(r.status, 0) << r.output;
    });
  }
  static std::string common() {
    return " --data " + dir_ + "/data --cache " + dir_ + "/cache --spacing 6,6,6 --preset tiny --base 8 " +
           "--patch 32 --threads 2 --steps 30 --log-every 5 --checkpoint-every 10 ";
  }
  // The metrics lines of a run: every logged loss must be finite.
  static std::vector<json> metrics(const std::string& run) {
    std::vector<json> lines;
    std::ifstream in(run + "/metrics.jsonl");
    std::string line;
    while (std::getline(in, line)) lines.push_back(json::parse(line));
    return lines;
  }
  static std::string dir_;
  test::TempDir scratch_;
};
std::string NonFinite::dir_;

TEST_F(NonFinite, StopsNamingTheStepAndResumesWithALowerLearningRate) {
  const std::string run = scratch_ / "pre";
  auto r = test::run_pgl("pretrain" + common() + "--debug-nan-at-step 14 --out " + run);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("step 15: the loss is nan; the model was not updated"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("checkpoints/latest.pt (step 10)"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(run + "/checkpoints/final.pt"));
  // A new learning rate needs the explicit option, which records it.
  r = test::run_pgl("pretrain" + common() + "--lr 0.01 --resume --out " + run);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("lr (stored 0.02, requested 0.01)"), std::string::npos) << r.output;
  r = test::run_pgl("pretrain" + common() + "--lr 0.01 --change-on-resume --resume --out " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(test::read_json(run + "/config.json")["resume_changes"],
            json::array({"lr 0.020000 -> 0.010000"}));
  const auto lines = metrics(run);
  ASSERT_EQ(lines.size(), 6u);
  for (const auto& line : lines) EXPECT_TRUE(std::isfinite(line["loss"].get<double>())) << line;
}

TEST_F(NonFinite, SkippedStepsAreCountedAndTheRunFinishes) {
  const std::string run = scratch_ / "pre";
  auto r = test::run_pgl("pretrain" + common() + "--debug-nan-at-step 14 --skip-nonfinite 1 --out " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto lines = metrics(run);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_FALSE(lines[1].contains("skipped_steps")) << lines[1];
  for (size_t i = 2; i < lines.size(); ++i)  // steps 11-15 hold the skipped one; the count stays
    EXPECT_EQ(lines[i].value("skipped_steps", 0.0), 1.0) << lines[i];
  for (const auto& line : lines) EXPECT_TRUE(std::isfinite(line["loss"].get<double>())) << line;
  // A second one is past the allowance.
  r = test::run_pgl("pretrain" + common() + "--debug-nan-at-step 3 --skip-nonfinite 0 --out " +
                    scratch_ / "b");
  EXPECT_EQ(r.status, 1) << r.output;
}

TEST_F(NonFinite, FineTuningStopsToo) {
  auto r = test::run_pgl("finetune --init random --val-every 100" + common() +
                         "--debug-nan-at-step 3 --out " + scratch_ / "ft");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("step 4: the loss is nan; the model was not updated"), std::string::npos)
      << r.output;
}

using WriteFailure = NonFinite;

TEST_F(WriteFailure, CheckpointWriteErrorKeepsThePreviousCheckpoint) {
  const std::string run = scratch_ / "pre";
  auto r = test::run_pgl("pretrain" + common() + "--stop-at 10 --out " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  // 100 KB per file: the checkpoint of step 20 (a few MB) cannot be written.
  r = test::run_shell("ulimit -f 100; " + test::pgl_binary() + " pretrain" + common() + "--resume --out " +
                      run);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(run + "/checkpoints/latest.pt: cannot write file"), std::string::npos) << r.output;
  for (const auto& e : std::filesystem::directory_iterator(run + "/checkpoints"))
    EXPECT_EQ(e.path().filename().string().rfind(".tmp", 0), std::string::npos)
        << "left behind: " << e.path();
  r = test::run_pgl("pretrain" + common() + "--resume --out " + run);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("at step 10"), std::string::npos) << r.output;
}

// Fine-tuning from a pretraining run that did not finish says so, loudly, with the step it took.
using UnfinishedRun = NonFinite;
TEST_F(UnfinishedRun, FinetuningFromItWarnsWithItsStep) {
  const std::string pre = scratch_ / "pre";
  auto r = test::run_pgl("pretrain" + common() + "--stop-at 10 --out " + pre);
  ASSERT_EQ(r.status, 0) << r.output;
  r = test::run_pgl("finetune --data " + dir_ + "/data --cache " + dir_ + "/cache --init " + pre +
                    " --steps 5 --val-every 5 --threads 2 --out " + scratch_ / "ft");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("WARNING: " + pre +
                          " is an unfinished run (no checkpoints/final.pt): its weights are "
                          "those of step 10 of 30"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace pgl
