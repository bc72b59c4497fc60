// The experiment folder contract: run names, experiment.json, results.csv and metrics.jsonl.
#include "pgl/report/experiment.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fixture.h"
#include "pgl/core/error.h"

namespace pgl::report {
namespace {

TEST(Layout, FractionTagsAndRunNames) {
  EXPECT_EQ(fraction_tag(0.1), "0.1");
  EXPECT_EQ(fraction_tag(0.25), "0.25");
  EXPECT_EQ(fraction_tag(1.0), "1");
  EXPECT_EQ(fraction_tag(0.05), "0.05");
  EXPECT_EQ(cell_name("pgl", 0.25, 2), "pgl-f0.25-s2");
  EXPECT_EQ(pretrain_run_name("byol", 0), "byol-s0");
  EXPECT_EQ(finetune_dir("exp", "pgl", 1.0, 1), "exp/finetune/pgl-f1-s1");
  EXPECT_EQ(prediction_dir("exp", "random", 0.1, 0), "exp/predictions/random-f0.1-s0");
  EXPECT_EQ(pretrain_dir("exp", "pgl", 3), "exp/pretrain/pgl-s3");
}

TEST(Layout, ReadsExperimentJson) {
  pgl::test::TempDir dir;
  test::write_fixture(dir.path());
  const ExperimentSpec s = read_experiment(dir.path());
  EXPECT_EQ(s.methods, test::kMethods);
  EXPECT_EQ(s.fractions, test::kFractions);
  EXPECT_EQ(s.seeds, test::kSeeds);
  EXPECT_EQ(s.test_cases, test::kCases);
  EXPECT_EQ(s.labels.at(1), "spleen");
  EXPECT_EQ(s.class_name(2), "liver");
  EXPECT_EQ(s.class_name(7), "class 7");
  EXPECT_EQ(s.preset, "tiny");
  // Relative image paths are resolved against the experiment folder; absolute ones are kept.
  EXPECT_EQ(s.test_images.at("c2"), dir.path() + "/images/c2.nii.gz");
  EXPECT_EQ(s.test_labels.at("c2"), dir.path() + "/labels/c2.nii.gz");
  EXPECT_TRUE(s.raw.contains("future_field"));
}

TEST(Layout, BadExperimentJsonNamesTheFile) {
  pgl::test::TempDir dir;
  EXPECT_THROW(read_experiment(dir.path()), Error);
  test::write_file(dir / "experiment.json", R"({"methods": "pgl"})");
  try {
    read_experiment(dir.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("experiment.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("methods"), std::string::npos);
  }
}

TEST(ResultsCsv, ReadsColumnsByNameWithNanAndInf) {
  pgl::test::TempDir dir;
  test::write_file(dir / "r.csv",
                   "case,method,fraction,seed,class,class_name,dice,hd95_mm,nsd,extra\n"
                   "c1,pgl,0.25,2,1,\"spleen, big\",0.5,inf,0.75,x\n"
                   "c2,pgl,1,0,3,kidney,nan,nan,nan,y\r\n");
  const auto rows = read_results_csv(dir / "r.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].method, "pgl");
  EXPECT_DOUBLE_EQ(rows[0].fraction, 0.25);
  EXPECT_EQ(rows[0].seed, 2);
  EXPECT_EQ(rows[0].case_id, "c1");
  EXPECT_EQ(rows[0].label, 1);
  EXPECT_EQ(rows[0].class_name, "spleen, big");
  EXPECT_DOUBLE_EQ(rows[0].dice, 0.5);
  EXPECT_TRUE(std::isinf(rows[0].hd95));
  EXPECT_DOUBLE_EQ(rows[0].nsd, 0.75);
  EXPECT_TRUE(std::isnan(rows[1].dice));
  EXPECT_EQ(rows[1].label, 3);
}

TEST(ResultsCsv, ErrorsNameFileAndLine) {
  pgl::test::TempDir dir;
  EXPECT_THROW(read_results_csv(dir / "missing.csv"), Error);
  test::write_file(dir / "a.csv", "method,fraction,seed,case,class\n");
  EXPECT_THROW(read_results_csv(dir / "a.csv"), Error);  // no dice column
  test::write_file(dir / "b.csv", "method,fraction,seed,case,class,dice\npgl,1,0,c1,1,abc\n");
  try {
    read_results_csv(dir / "b.csv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("b.csv: line 2"), std::string::npos) << e.what();
  }
  test::write_file(dir / "c.csv", "method,fraction,seed,case,class,dice\npgl,1,0,c1\n");
  EXPECT_THROW(read_results_csv(dir / "c.csv"), Error);
}

TEST(Jsonl, SkipsPartialLinesAndBuildsCurves) {
  pgl::test::TempDir dir;
  test::write_file(
      dir / "m.jsonl",
      "{\"step\": 1, \"loss\": 2.0}\n{\"step\": 2, \"loss\": null}\n{\"step\": 3, \"val_mean_dice\": 0.5}\n"
      "{\"step\": 4, \"loss\": 1.0}\n{\"step\": 5, \"lo");
  const auto lines = read_jsonl(dir / "m.jsonl");
  EXPECT_EQ(lines.size(), 4u);
  const Curve c = curve_from_jsonl(lines, "step", "loss");
  EXPECT_EQ(c.x, (std::vector<double>{1, 4}));
  EXPECT_EQ(c.y, (std::vector<double>{2, 1}));
  EXPECT_TRUE(read_jsonl(dir / "absent.jsonl").empty());
  const Curve m = mean_curve({{{1, 2}, {1, 3}}, {{1, 3}, {3, 5}}});
  EXPECT_EQ(m.x, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(m.y, (std::vector<double>{2, 3, 5}));
}

}  // namespace
}  // namespace pgl::report
