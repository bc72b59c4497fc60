// `pgl experiment` end to end on a few phantoms with a handful of steps: one results row per (cell, test
// case, class), the summary and its plots, --base reaching every run, test cases kept out of pretraining and
// fine-tuning, resuming without redoing finished cells, a grid that grows or shrinks, and changed settings
// refused.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "support/test_support.h"

namespace pgl {
namespace {
namespace fs = std::filesystem;
using test::read_json;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

int count_lines(const std::string& path) { return static_cast<int>(read_lines(path).size()); }

// A fresh copy of the fixture's experiment folder, to rerun in.
std::string copy_experiment(const std::string& from, const test::TempDir& scratch) {
  const std::string copy = scratch / "exp";
  fs::copy(from, copy, fs::copy_options::recursive);
  return copy;
}

class Experiment : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = test::shared_fixture("experiment", [](const std::string& d) {
      auto r = test::run_pgl("phantom --task spleen --cases 6 --seed 7 --out " + d + "/spleen");
      ASSERT_EQ(r.status, 0) << r.output;
      r = test::run_pgl("phantom --task spleen --cases 2 --seed 8 --unlabeled --out " + d + "/unlabeled");
      ASSERT_EQ(r.status, 0) << r.output;
      r = test::run_pgl(command(d, d + "/exp", 1));
      ASSERT_EQ(r.status, 0) << r.output;
    });
  }
  // Two test cases of six (0.34 rounds to 2), random vs PGL, all labels, 4 steps per run, 6 channels.
  static std::string command(const std::string& d, const std::string& out, int seeds,
                             const std::string& extra = "", const std::string& methods = "random,pgl",
                             const std::string& fractions = "1") {
    return "experiment --data " + d + "/spleen --pretrain-data " + d + "/unlabeled --methods " + methods +
           " --label-fractions " + fractions + " --seeds " + std::to_string(seeds) +
           " --preset tiny --base 6 --pretrain-steps 4 --finetune-steps 4 --val-max-cases 1"
           " --test-fraction 0.34 --spacing 6,6,6 --threads 2 --cache " +
           d + "/cache --out " + out + extra;
  }
  static std::string exp(const std::string& name) { return dir_ + "/exp/" + name; }
  static std::string dir_;
};
std::string Experiment::dir_;

TEST_F(Experiment, ResultsHaveOneRowPerCellTestCaseAndClass) {
  auto description = read_json(exp("experiment.json"));
  ASSERT_EQ(description["test_cases"].size(), 2u);
  std::set<std::string> expected;  // method,fraction,seed,case,class
  for (const char* method : {"random", "pgl"})
    for (const auto& id : description["test_cases"])
      expected.insert(std::string(method) + ",1,0," + id.get<std::string>() + ",1");
  auto lines = read_lines(exp("results.csv"));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "method,fraction,seed,case,class,class_name,dice,hd95_mm,nsd");
  std::set<std::string> keys;
  for (size_t k = 1; k < lines.size(); ++k) {
    size_t comma = 0;
    for (int field = 0; field < 5; ++field) comma = lines[k].find(',', comma + 1);
    EXPECT_TRUE(keys.insert(lines[k].substr(0, comma)).second) << "duplicate row: " << lines[k];
  }
  EXPECT_EQ(keys, expected);
}

TEST_F(Experiment, EveryRunHasTheRequestedWidth) {
  EXPECT_EQ(read_json(exp("pretrain/pgl-s0/config.json"))["base"], 6);
  EXPECT_EQ(read_json(exp("finetune/pgl-f1-s0/config.json"))["base"], 6);
  EXPECT_EQ(read_json(exp("finetune/random-f1-s0/config.json"))["base"], 6);
  EXPECT_EQ(read_json(exp("experiment.json"))["base"], 6);
}

TEST_F(Experiment, WritesSummaryAndPlots) {
  auto summary = read_json(exp("summary.json"));
  EXPECT_TRUE(summary["missing_cells"].empty()) << summary["missing_cells"];
  EXPECT_EQ(summary["n_rows"], 4);
  EXPECT_EQ(summary["methods"], nlohmann::json({"random", "pgl"}));
  std::ifstream md(exp("summary.md"));
  std::stringstream text;
  text << md.rdbuf();
  EXPECT_NE(text.str().find("- preset: tiny (base 6)"), std::string::npos) << text.str();
  for (const char* figure : {"dice_vs_fraction", "pretrain_loss", "finetune_validation"})
    for (const char* extension : {".png", ".svg"}) {
      const std::string file = exp(std::string("plots/") + figure + extension);
      ASSERT_TRUE(fs::exists(file)) << file;
      EXPECT_GT(fs::file_size(file), 100u) << file;
    }
}

TEST_F(Experiment, TestCasesNeverReachPretrainingOrFinetuning) {
  auto description = read_json(exp("experiment.json"));
  std::set<std::string> test_ids, test_images;
  for (const auto& id : description["test_cases"]) test_ids.insert(id.get<std::string>());
  for (const auto& [id, image] : description["test_images"].items())
    test_images.insert(fs::canonical(image.get<std::string>()).string());
  ASSERT_EQ(test_images.size(), 2u);

  // Pretraining: the 4 other labelled images and both unlabeled ones (which reuse case ids 000 and 001).
  auto pretraining = read_json(exp("pretrain/pgl-s0/cases.json"))["pretraining"];
  EXPECT_EQ(pretraining.size(), 6u);
  for (const auto& c : pretraining)
    EXPECT_EQ(test_images.count(fs::canonical(c["image"].get<std::string>()).string()), 0u) << c;

  for (const char* cell : {"finetune/random-f1-s0/cases.json", "finetune/pgl-f1-s0/cases.json"}) {
    auto cases = read_json(exp(cell));
    size_t used = 0;
    for (const char* part : {"train", "validation"})
      for (const auto& c : cases[part]) {
        ++used;
        const std::string id = c.get<std::string>();
        EXPECT_EQ(test_ids.count(id), 0u) << cell << ": " << id;
      }
    EXPECT_EQ(used, 4u) << cell;
  }
}

// --test-data: a labelled data set scored by every cell beside the internal test cases, never trained on;
// one that overlaps the training data, or names other classes, is refused before any run.
TEST_F(Experiment, TestDataSetIsScoredBesideTheInternalSplitAndKeptApart) {
  test::TempDir scratch;
  auto r = test::run_pgl("phantom --task spleen --cases 2 --seed 9 --out " + scratch / "external");
  ASSERT_EQ(r.status, 0) << r.output;
  // The fixture's experiment, scored on the external set too (finished cells are not trained again, but
  // the test data is part of the settings: a new folder).
  r = test::run_pgl(command(dir_, scratch / "exp", 1, " --test-data " + scratch / "external"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto lines = read_lines(scratch / "exp/results_test_data.csv");
  ASSERT_EQ(lines.size(), 1u + 2 * 2) << "2 cells x 2 external cases x 1 class";
  for (const char* cell : {"random-f1-s0", "pgl-f1-s0"})
    for (const char* id : {"case_000", "case_001"})
      EXPECT_TRUE(
          fs::exists(fs::path(scratch / "exp/predictions-test-data") / cell / (std::string(id) + ".nii.gz")))
          << cell << " " << id;
  EXPECT_EQ(read_json(scratch / "exp/experiment.json")["test_data_cases"].size(), 2u);
  const std::string summary = test::read_text(scratch / "exp/summary.md");
  EXPECT_NE(summary.find("## On the test data set"), std::string::npos) << summary;
  EXPECT_TRUE(read_json(scratch / "exp/summary.json").contains("test_data"));
  EXPECT_EQ(count_lines(scratch / "exp/results.csv"), 1 + 4);  // the internal split as before

  r = test::run_pgl(command(dir_, scratch / "overlap", 1, " --test-data " + dir_ + "/spleen"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("is in --test-data and in the training data"), std::string::npos) << r.output;
  r = test::run_pgl("phantom --task kidney --cases 1 --seed 9 --out " + scratch / "kidney");
  ASSERT_EQ(r.status, 0) << r.output;
  r = test::run_pgl(command(dir_, scratch / "labels", 1, " --test-data " + scratch / "kidney"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("its labels differ"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(scratch / "overlap")) << "refused before anything was written";
  EXPECT_FALSE(fs::exists(scratch / "labels"));
}

TEST_F(Experiment, RerunKeepsFinishedCellsAndTheGridCanGrow) {
  test::TempDir scratch;
  const std::string copy = copy_experiment(dir_ + "/exp", scratch);
  const auto final_pt = fs::path(copy) / "finetune/pgl-f1-s0/checkpoints/final.pt";
  const auto before = fs::last_write_time(final_pt);

  auto r = test::run_pgl(command(dir_, copy, 2));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(fs::last_write_time(final_pt), before) << "a finished cell was run again";
  EXPECT_EQ(r.output.find("== pretrain pgl (seed 0)"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("== finetune pgl-f1-s0"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("== finetune random-f1-s0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("== finetune pgl-f1-s1"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines(copy + "/results.csv"), 1 + 8);
}

TEST_F(Experiment, TheGridGrowsByFractionAndShrinksByMethod) {
  test::TempDir scratch;
  const std::string copy = copy_experiment(dir_ + "/exp", scratch);
  auto r = test::run_pgl(command(dir_, copy, 1, "", "random,pgl", "1,0.5"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("== finetune pgl-f0.5-s0"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("== finetune pgl-f1-s0"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines(copy + "/results.csv"), 1 + 8);

  r = test::run_pgl(command(dir_, copy, 1, "", "random"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("== finetune"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines(copy + "/results.csv"), 1 + 2);
  EXPECT_EQ(read_json(copy + "/summary.json")["methods"], nlohmann::json({"random"}));
}

TEST_F(Experiment, SettingsWrittenBeforeANewFieldStillMatch) {
  test::TempDir scratch;
  const std::string copy = copy_experiment(dir_ + "/exp", scratch);
  auto description = read_json(copy + "/experiment.json");
  description["config"].erase("tta");  // as if written by a version without that field (default false)
  std::ofstream(copy + "/experiment.json") << description.dump(2);
  auto r = test::run_pgl(command(dir_, copy, 1));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("== finetune"), std::string::npos) << r.output;
}

TEST_F(Experiment, ChangedSettingsAreRefused) {
  test::TempDir scratch;
  const std::string copy = copy_experiment(dir_ + "/exp", scratch);
  auto r = test::run_pgl(command(dir_, copy, 1, " --pretrain-lr 0.01"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("experiment.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("other settings"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace pgl
