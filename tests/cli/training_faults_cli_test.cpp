// Faults during training (docs/reliability.md). A step whose loss is not finite (injected with the hidden
// --debug-nan-at-step) never reaches the optimiser: by default the run stops naming the step and the last
// good checkpoint, and resumes from it with a lower --lr through --change-on-resume; with --skip-nonfinite it
// is skipped and counted. A checkpoint write that fails (a file size limit standing in for a full disk) stops
// the run with one error and leaves the previous checkpoint intact.
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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

// Loss scaling (fp16's gradient scaler, train/grad_scaler.h), checked on the CPU through --loss-scale with
// fp32: a power-of-two scale is exact, so the run equals an unscaled one; a scale so large that the scaled
// gradients overflow skips those steps and halves the scale until they fit, without counting them as faults.
TEST_F(NonFinite, LossScalingIsExactAndBacksOffFromOverflow) {
  auto r = test::run_pgl("pretrain" + common() + "--out " + scratch_ / "plain");
  ASSERT_EQ(r.status, 0) << r.output;
  r = test::run_pgl("pretrain" + common() + "--loss-scale 1024 --out " + scratch_ / "scaled");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto plain = metrics(scratch_ / "plain"), scaled = metrics(scratch_ / "scaled");
  ASSERT_EQ(plain.size(), scaled.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_NEAR(scaled[i]["loss"].get<double>(), plain[i]["loss"].get<double>(),
                1e-6 * std::abs(plain[i]["loss"].get<double>()))
        << i;
    EXPECT_EQ(scaled[i]["loss_scale"].get<double>(), 1024.0) << scaled[i];
    EXPECT_FALSE(plain[i].contains("loss_scale")) << plain[i];
  }
  // 1e39 rounds to 2^130, beyond float32's range: every scaled gradient is infinite until the scale has been
  // halved to 2^127 (3 skipped steps); then training goes on, unscaled exactly.
  r = test::run_pgl("pretrain" + common() + "--loss-scale 1e39 --out " + scratch_ / "overflow");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto lines = metrics(scratch_ / "overflow");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["loss_scale_overflows"].get<int>(), 3) << lines.back();
  EXPECT_EQ(lines.back()["loss_scale"].get<double>(), std::ldexp(1.0, 127)) << lines.back();
  EXPECT_FALSE(lines.back().contains("skipped_steps")) << "overflows are not non-finite faults";
  for (const auto& line : lines) {  // a line whose steps all overflowed has no loss
    if (line.contains("loss")) {
      EXPECT_TRUE(std::isfinite(line["loss"].get<double>())) << line;
    }
  }
  EXPECT_TRUE(lines.back().contains("loss")) << lines.back();
  // fp16 needs CUDA: on the CPU it is refused before any work.
  r = test::run_pgl("pretrain" + common() + "--precision fp16 --device cpu --out " + scratch_ / "fp16");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--precision fp16 needs a CUDA device"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(scratch_ / "fp16"));
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

// A real full disk: a small tmpfs in a private mount namespace (`unshare -rm`, no root needed where user
// namespaces are allowed). A checkpoint, a cache entry, a prediction and an evaluation written to it fail
// with one error naming the file (ENOSPC); what was there before stays whole and no temporary is left.
TEST_F(WriteFailure, FullDiskFailsEachWriterCleanly) {
  if (test::run_shell("unshare -rm sh -c 'mount -t tmpfs -o size=1m tmpfs " + scratch_.path() + "'").status !=
      0)
    GTEST_SKIP()
        << "cannot mount a tmpfs in a user namespace here (unshare -rm); the full-disk test needs one";
  const std::string disk = scratch_ / "disk", saved = scratch_ / "saved", pgl = test::pgl_binary();
  auto r =
      test::run_pgl("finetune --data " + dir_ + "/data --cache " + dir_ + "/cache --spacing 6,6,6 " +
                    "--preset tiny --base 8 --patch 32 --threads 2 --init random --steps 2 --val-every 2 " +
                    "--out " + scratch_ / "model");
  ASSERT_EQ(r.status, 0) << r.output;
  // Leaves KB kibibytes free on the disk.
  auto fill = [&](int kb, const std::string& name) {
    return "dd if=/dev/zero of=" + disk + "/" + name + " bs=1K count=$(( $(df --output=avail -k " + disk +
           " | tail -1) - " + std::to_string(kb) + " )) 2>/dev/null; ";
  };
  // Each step's output and exit status go to saved/NAME.txt; the disk's listing after it to saved/NAME.ls.
  auto step = [&](const std::string& name, const std::string& command) {
    return command + " > " + saved + "/" + name + ".txt 2>&1; echo $? > " + saved + "/" + name +
           ".rc; ls -aR " + disk + " > " + saved + "/" + name + ".ls; ";
  };
  const std::string script =
      "set -u; mkdir -p " + disk + " " + saved + "; mount -t tmpfs -o size=64m tmpfs " + disk +
      " || exit 9; " +
      step("pretrain", pgl + " pretrain" + common() + "--stop-at 10 --out " + disk + "/run") + "cp " + disk +
      "/run/checkpoints/latest.pt " + saved + "/latest-before.pt; " + fill(300, "filler1") +
      step("checkpoint", pgl + " pretrain" + common() + "--resume --out " + disk + "/run") + "cp " + disk +
      "/run/checkpoints/latest.pt " + saved + "/latest-after.pt; " + fill(20, "filler2") +
      step("cache", pgl + " finetune --data " + dir_ + "/data --cache " + disk + "/cache --spacing 5,5,5 " +
                        "--preset tiny --init random --steps 1 --out " + scratch_ / "ft") +
      fill(0, "filler3") +
      step("predict", pgl + " predict --model " + scratch_ / "model" + " --input " + dir_ +
                          "/data/imagesTr --out " + disk + "/pred") +
      step("evaluate", pgl + " evaluate --pred " + dir_ + "/data/labelsTr --ref " + dir_ + "/data --out " +
                           disk + "/metrics.csv");
  r = test::run_shell("unshare -rm bash -c '" + script + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  auto output = [&](const std::string& name) { return test::read_text(saved + "/" + name + ".txt"); };
  auto status = [&](const std::string& name) {
    return std::stoi(test::read_text(saved + "/" + name + ".rc"));
  };
  auto listing = [&](const std::string& name) { return test::read_text(saved + "/" + name + ".ls"); };
  ASSERT_EQ(status("pretrain"), 0) << output("pretrain");
  const std::pair<const char*, const char*> expected[] = {{"checkpoint", "/run/checkpoints/latest.pt"},
                                                          {"cache", "/cache/"},
                                                          {"predict", "/pred/"},
                                                          {"evaluate", "/metrics"}};
  for (const auto& [name, file] : expected) {
    SCOPED_TRACE(name);
    EXPECT_EQ(status(name), 1) << output(name);
    EXPECT_NE(output(name).find(disk + file), std::string::npos) << output(name);
    EXPECT_TRUE(output(name).find("No space left on device") != std::string::npos ||
                output(name).find("disk full") != std::string::npos)
        << output(name);
    const size_t error = output(name).find("pgl: error:");
    EXPECT_EQ(output(name).find("pgl: error:", error + 1), std::string::npos)
        << "one error: " << output(name);
    EXPECT_EQ(listing(name).find(".tmp."), std::string::npos) << "left behind:\n" << listing(name);
  }
  // The checkpoint of step 10 is untouched; no cache entry, prediction or table appears half-written.
  EXPECT_EQ(test::read_text(saved + "/latest-before.pt"), test::read_text(saved + "/latest-after.pt"));
  std::istringstream cache_files(listing("cache"));
  for (std::string line; std::getline(cache_files, line);)  // a sidecar marks a complete entry
    EXPECT_FALSE(line.rfind("case_", 0) == 0 && line.size() > 5 && line.substr(line.size() - 5) == ".json")
        << line;
  EXPECT_EQ(listing("predict").find(".nii.gz"), std::string::npos) << listing("predict");
  EXPECT_EQ(listing("evaluate").find("metrics.csv"), std::string::npos) << listing("evaluate");
}

// Two runs started at once on the same data share one cache folder: both preprocess the same cases at the
// same moment. Entries are renamed into place whole and a sidecar marks a complete one, so both runs
// succeed, train on the same inputs as a run with a cache of its own, and leave no temporary file behind.
using SharedCache = NonFinite;
TEST_F(SharedCache, TwoRunsStartedAtOnceNeitherCorruptNorReadHalfEntries) {
  const std::string args = " --data " + dir_ + "/data --spacing 4,4,4 --preset tiny --base 8 --patch 32 " +
                           "--threads 1 --init random --steps 3 --log-every 1 --val-every 3 --seed 5 ";
  auto r = test::run_pgl("finetune" + args + "--cache " + scratch_ / "own" + " --out " + scratch_ / "alone");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto alone = metrics(scratch_ / "alone");
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string cache = scratch_ / ("shared" + std::to_string(round)), pgl = test::pgl_binary();
    const std::string a = scratch_ / ("a" + std::to_string(round)),
                      b = scratch_ / ("b" + std::to_string(round));
    r = test::run_shell(pgl + " finetune" + args + "--cache " + cache + " --out " + a + " > " + a +
                        ".txt 2>&1 & " + pgl + " finetune" + args + "--cache " + cache + " --out " + b +
                        " > " + b + ".txt 2>&1 & " + "wait %1; s1=$?; wait %2; s2=$?; echo status $s1 $s2");
    EXPECT_NE(r.output.find("status 0 0"), std::string::npos)
        << r.output << test::read_text(a + ".txt") << test::read_text(b + ".txt");
    for (const auto& run : {a, b}) {
      const auto lines = metrics(run);
      ASSERT_EQ(lines.size(), alone.size()) << run;
      for (size_t k = 0; k < lines.size(); ++k)
        EXPECT_EQ(lines[k].value("loss", -1.0), alone[k].value("loss", -1.0));
    }
    for (const auto& e : std::filesystem::recursive_directory_iterator(cache))
      EXPECT_NE(e.path().filename().string().rfind(".tmp.", 0), 0u) << "left behind: " << e.path();
  }
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
