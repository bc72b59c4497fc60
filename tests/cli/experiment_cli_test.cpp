// `pgl experiment` end to end on a few phantoms with a handful of steps: one results row per (cell, test
// case, class), the summary and its plots, test cases kept out of pretraining and fine-tuning, resuming
// without redoing finished cells, a grid that grows, and changed settings refused.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "support/test_support.h"

namespace pgl {
namespace {
namespace fs = std::filesystem;
using test::read_json;

int count_lines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
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
  // Two test cases of six (0.34 rounds to 2), random vs PGL, all labels, 4 steps per run.
  static std::string command(const std::string& d, const std::string& out, int seeds,
                             const std::string& extra = "") {
    return "experiment --data " + d + "/spleen --pretrain-data " + d +
           "/unlabeled --methods random,pgl --label-fractions 1 --seeds " + std::to_string(seeds) +
           " --preset tiny --pretrain-steps 4 --finetune-steps 4 --val-max-cases 1 --test-fraction 0.34"
           " --spacing 6,6,6 --threads 2 --cache " +
           d + "/cache --out " + out + extra;
  }
  static std::string exp(const std::string& name) { return dir_ + "/exp/" + name; }
  static std::string dir_;
};
std::string Experiment::dir_;

TEST_F(Experiment, ResultsHaveOneRowPerCellTestCaseAndClass) {
  // header + 2 methods x 1 fraction x 1 seed x 2 test cases x 1 class
  EXPECT_EQ(count_lines(exp("results.csv")), 1 + 4);
  auto description = read_json(exp("experiment.json"));
  EXPECT_EQ(description["test_cases"].size(), 2u);
  std::ifstream csv(exp("results.csv"));
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "method,fraction,seed,case,class,class_name,dice,hd95_mm,nsd");
}

TEST_F(Experiment, WritesSummaryAndPlots) {
  auto summary = read_json(exp("summary.json"));
  EXPECT_FALSE(summary.is_null());
  std::ifstream md(exp("summary.md"));
  std::stringstream text;
  text << md.rdbuf();
  EXPECT_NE(text.str().find("| random |"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("| pgl |"), std::string::npos) << text.str();
  size_t png = 0, svg = 0;
  for (const auto& f : fs::directory_iterator(exp("plots"))) {
    EXPECT_GT(fs::file_size(f.path()), 100u) << f.path();
    png += f.path().extension() == ".png";
    svg += f.path().extension() == ".svg";
  }
  EXPECT_GE(png, 2u);
  EXPECT_EQ(png, svg);
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

TEST_F(Experiment, RerunKeepsFinishedCellsAndTheGridCanGrow) {
  test::TempDir scratch;
  const std::string copy = scratch / "exp";
  fs::copy(dir_ + "/exp", copy, fs::copy_options::recursive);
  const auto final_pt = fs::path(copy) / "finetune/pgl-f1-s0/checkpoints/final.pt";
  const auto before = fs::last_write_time(final_pt);

  auto r = test::run_pgl(command(dir_, copy, 2));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(fs::last_write_time(final_pt), before) << "a finished cell was run again";
  EXPECT_EQ(r.output.find("== finetune pgl-f1-s0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("== finetune pgl-f1-s1"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines(copy + "/results.csv"), 1 + 8);
}

TEST_F(Experiment, ChangedSettingsAreRefused) {
  test::TempDir scratch;
  const std::string copy = scratch / "exp";
  fs::copy(dir_ + "/exp", copy, fs::copy_options::recursive);
  auto r = test::run_pgl(command(dir_, copy, 1, " --pretrain-lr 0.01"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("experiment.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("other settings"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace pgl
