// `pgl evaluate` through the real program: CSV rows, summary JSON, the printed table, and one clear error
// line (exit status 1) for mismatched grids and missing predictions.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "pgl/io/volume_io.h"
#include "support/test_support.h"

namespace pgl {
namespace {
namespace fs = std::filesystem;

using pgl::test::read_text;

// A 6-voxel cube of `label` starting at z = z0 on a 10x10x12 grid with 3 mm slices.
LabelMap cube(uint16_t label, int64_t z0, const Vec3& spacing = {1, 1, 3}) {
  Geometry g;
  g.size = {10, 10, 12};
  g.spacing = spacing;
  LabelMap m(g, 0);
  for (int64_t k = z0; k < z0 + 6; ++k)
    for (int64_t j = 2; j < 8; ++j)
      for (int64_t i = 2; i < 8; ++i) m.at(i, j, k) = label;
  return m;
}

struct Folders {
  test::TempDir dir;
  Folders() {
    fs::create_directories(dir / "pred");
    fs::create_directories(dir / "ref");
    write_label_map(cube(1, 2), dir / "ref/p1.nii.gz");
    write_label_map(cube(1, 2), dir / "pred/p1.nii.gz");
    write_label_map(cube(1, 2), dir / "ref/p2.nii.gz");
    write_label_map(cube(1, 4), dir / "pred/p2.nii.gz");  // shifted by 2 slices = 6 mm
    std::ofstream(dir / "dataset.json") << R"({"labels": {"0": "background", "1": "spleen", "2": "tumour"}})";
  }
  std::string args() const {
    return "evaluate --pred " + (dir / "pred") + " --ref " + (dir / "ref") + " --labels " +
           (dir / "dataset.json") + " --out " + (dir / "out/metrics.csv");
  }
};

TEST(EvaluateCli, WritesCsvSummaryAndTable) {
  Folders f;
  test::CommandResult r = test::run_pgl(f.args() + " --threads 2 --nsd-tolerance 6.5");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string csv = read_text(f.dir / "out/metrics.csv");
  EXPECT_EQ(csv,
            "case,class,class_name,dice,hd95_mm,nsd,pred_voxels,ref_voxels\n"
            "p1,1,spleen,1,0,1,216,216\n"
            "p1,2,tumour,nan,nan,nan,0,0\n"
            "p2,1,spleen,0.666667,6,1,216,216\n"
            "p2,2,tumour,nan,nan,nan,0,0\n");
  const auto j = nlohmann::json::parse(read_text(f.dir / "out/metrics_summary.json"));
  EXPECT_EQ(j["n_cases"], 2);
  EXPECT_EQ(j["nsd_tolerance_mm"], 6.5);
  EXPECT_DOUBLE_EQ(j["classes"]["1"]["dice"]["mean"].get<double>(), (1 + 2.0 / 3) / 2);
  EXPECT_EQ(j["classes"]["1"]["dice"]["n"], 2);
  EXPECT_DOUBLE_EQ(j["classes"]["1"]["hd95_mm"]["mean"].get<double>(), 3);
  EXPECT_EQ(j["classes"]["2"]["n_nan_both_empty"], 2);
  EXPECT_TRUE(j["classes"]["2"]["dice"]["mean"].is_null());
  EXPECT_NE(r.output.find("1 spleen"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0.8333 ± 0.1667 (2)"), std::string::npos) << r.output;
}

TEST(EvaluateCli, EmptyPredictionWritesInf) {
  Folders f;
  write_label_map(LabelMap(cube(1, 2).geometry, 0), f.dir / "pred/p2.nii.gz");
  test::CommandResult r = test::run_pgl(f.args());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(read_text(f.dir / "out/metrics.csv").find("\np2,1,spleen,0,inf,0,0,216\n"), std::string::npos);
  const auto j = nlohmann::json::parse(read_text(f.dir / "out/metrics_summary.json"));
  EXPECT_EQ(j["classes"]["1"]["hd95_mm"]["n_inf"], 1);
  EXPECT_EQ(j["classes"]["1"]["hd95_mm"]["n"], 1);
}

TEST(EvaluateCli, RefusesDifferentGridsNamingBothFiles) {
  Folders f;
  write_label_map(cube(1, 2, {1, 1, 2.5}), f.dir / "pred/p2.nii.gz");
  test::CommandResult r = test::run_pgl(f.args());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(r.output.rfind("pgl: error: ", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find(f.dir / "pred/p2.nii.gz"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(f.dir / "ref/p2.nii.gz"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(f.dir / "out/metrics.csv"));
}

TEST(EvaluateCli, MissingPredictionsFailUnlessAllowed) {
  Folders f;
  fs::remove(f.dir / "pred/p2.nii.gz");
  write_label_map(cube(1, 2), f.dir / "pred/extra.nii.gz");
  test::CommandResult r = test::run_pgl(f.args());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("no prediction for 1 of 2 reference cases: p2"), std::string::npos) << r.output;
  r = test::run_pgl(f.args() + " --allow-missing");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("warning: 1 reference case(s) have no prediction"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("prediction(s) have no reference case and were not evaluated: extra"),
            std::string::npos)
      << r.output;
  const auto j = nlohmann::json::parse(read_text(f.dir / "out/metrics_summary.json"));
  EXPECT_EQ(j["missing_predictions"], nlohmann::json::array({"p2"}));
  EXPECT_EQ(j["unmatched_predictions"], nlohmann::json::array({"extra"}));
}

TEST(EvaluateCli, BadInput) {
  Folders f;
  test::CommandResult r = test::run_pgl("evaluate --pred " + (f.dir / "nope") + " --ref " + (f.dir / "ref") +
                                        " --out " + (f.dir / "m.csv"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("nope: no such folder"), std::string::npos) << r.output;
  r = test::run_pgl(f.args() + " --nsd-tolerance -1");
  EXPECT_EQ(r.status, 2) << r.output;  // usage error
}

}  // namespace
}  // namespace pgl
