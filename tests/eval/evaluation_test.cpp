// Folder evaluation: pairing by case id, data set references, class lists, CSV and summary JSON.
#include "pgl/eval/evaluation.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "pgl/core/error.h"
#include "pgl/io/volume_io.h"
#include "support/test_support.h"

namespace pgl::eval {
namespace {
namespace fs = std::filesystem;

LabelMap cube(uint16_t label, int64_t start, int64_t edge, const Vec3& spacing = {1, 1, 2}) {
  Geometry g;
  g.size = {10, 10, 8};
  g.spacing = spacing;
  g.origin = {-5, 3, 7};
  LabelMap m(g, 0);
  for (int64_t k = start; k < start + edge; ++k)
    for (int64_t j = start; j < start + edge; ++j)
      for (int64_t i = start; i < start + edge; ++i) m.at(i, j, k) = label;
  return m;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// pred/: a (perfect), b (shifted), c (no reference); ref/: a, b, d (no prediction).
struct Folders {
  test::TempDir dir;
  EvaluationOptions options;
  Folders() {
    fs::create_directories(dir / "pred");
    fs::create_directories(dir / "ref");
    write_label_map(cube(1, 2, 4), dir / "pred/a.nii.gz");
    write_label_map(cube(1, 2, 4), dir / "ref/a.nii.gz");
    write_label_map(cube(1, 3, 4), dir / "pred/b.nii.gz");
    write_label_map(cube(1, 2, 4), dir / "ref/b.nii.gz");
    write_label_map(cube(1, 2, 4), dir / "pred/c.nii.gz");
    write_label_map(cube(2, 1, 3), dir / "ref/d.nii.gz");
    options.pred = dir / "pred";
    options.ref = dir / "ref";
  }
};

TEST(Evaluation, PairsByCaseId) {
  Folders f;
  const Pairing p = pair_cases(f.options);
  ASSERT_EQ(p.pairs.size(), 2u);
  EXPECT_EQ(p.pairs[0].id, "a");
  EXPECT_EQ(p.pairs[1].id, "b");
  EXPECT_EQ(p.missing_predictions, std::vector<std::string>{"d"});
  EXPECT_EQ(p.unmatched_predictions, std::vector<std::string>{"c"});
  EXPECT_TRUE(p.labels.empty());
}

TEST(Evaluation, MissingPredictionsAreAnErrorUnlessAllowed) {
  Folders f;
  try {
    evaluate_folder(f.options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no prediction for 1 of 3 reference cases: d"), std::string::npos)
        << e.what();
  }
  f.options.allow_missing = true;
  f.options.threads = 2;
  const EvaluationResult r = evaluate_folder(f.options);
  ASSERT_EQ(r.cases.size(), 2u);
  EXPECT_EQ(r.classes, std::vector<int>{1});  // union of values present in the evaluated pairs
  EXPECT_EQ(r.cases[0].metrics[0].dice, 1);
  EXPECT_DOUBLE_EQ(r.cases[1].metrics[0].dice, 2.0 * 27 / 128);
  EXPECT_EQ(r.missing_predictions, std::vector<std::string>{"d"});
  EXPECT_EQ(r.unmatched_predictions, std::vector<std::string>{"c"});
  ASSERT_EQ(r.summary.size(), 1u);
  EXPECT_EQ(r.summary[0].dice.n, 2);
}

TEST(Evaluation, DeclaredLabelsAndCsv) {
  Folders f;
  fs::remove(f.dir / "ref/d.nii.gz");
  fs::remove(f.dir / "pred/c.nii.gz");
  std::ofstream(f.dir / "dataset.json")
      << R"({"labels": {"0": "background", "1": "liver", "2": "tumour, small"}})";
  f.options.labels = f.dir / "dataset.json";
  const EvaluationResult r = evaluate_folder(f.options);
  EXPECT_EQ(r.classes, (std::vector<int>{1, 2}));
  ASSERT_EQ(r.summary.size(), 2u);
  EXPECT_EQ(r.summary[1].n_both_empty, 2);
  EXPECT_EQ(r.summary[1].dice.n_nan, 2);

  const std::string csv = f.dir / "out/metrics.csv";
  write_metrics_csv(r, csv);
  write_summary_json(r, summary_path_for(csv));
  EXPECT_EQ(summary_path_for(csv), f.dir / "out/metrics_summary.json");
  const std::string text = read_text(csv);
  EXPECT_EQ(text.substr(0, text.find('\n')), "case,class,class_name,dice,hd95_mm,nsd,pred_voxels,ref_voxels");
  EXPECT_NE(text.find("\na,1,liver,1,0,1,64,64\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\na,2,\"tumour, small\",nan,nan,nan,0,0\n"), std::string::npos) << text;
  const auto j = nlohmann::json::parse(read_text(f.dir / "out/metrics_summary.json"));
  EXPECT_EQ(j["classes"]["1"]["name"], "liver");
  EXPECT_EQ(j["classes"]["1"]["dice"]["n"], 2);
  EXPECT_EQ(j["classes"]["2"]["n_nan_both_empty"], 2);
  EXPECT_TRUE(j["classes"]["2"]["dice"]["mean"].is_null());
  EXPECT_EQ(j["n_cases"], 2);
  EXPECT_NE(summary_table(r).find("1 liver"), std::string::npos);
}

TEST(Evaluation, UndeclaredValuesAreReported) {
  Folders f;
  fs::remove(f.dir / "ref/d.nii.gz");
  write_label_map(cube(3, 0, 2), f.dir / "pred/a.nii.gz");
  std::ofstream(f.dir / "labels.json") << R"({"labels": {"background": 0, "liver": 1}})";  // nnU-Net v2 style
  f.options.labels = f.dir / "labels.json";
  const EvaluationResult r = evaluate_folder(f.options);
  EXPECT_EQ(r.classes, std::vector<int>{1});
  ASSERT_EQ(r.undeclared_labels.count(3), 1u);
  EXPECT_EQ(r.undeclared_labels.at(3), std::vector<std::string>{"a"});
}

TEST(Evaluation, DatasetAsReference) {
  test::TempDir dir;
  fs::create_directories(dir / "ds/imagesTr");
  fs::create_directories(dir / "ds/labelsTr");
  fs::create_directories(dir / "pred");
  Volume image(cube(1, 0, 0).geometry, 0.f);
  for (const char* id : {"case_1", "case_2"}) {
    write_volume(image, dir / ("ds/imagesTr/" + std::string(id) + ".nii.gz"));
    write_label_map(cube(1, 2, 4), dir / ("ds/labelsTr/" + std::string(id) + ".nii.gz"));
    write_label_map(cube(1, 2, 3), dir / ("pred/" + std::string(id) + ".nii.gz"));
  }
  std::ofstream(dir / "ds/dataset.json") << R"({"name": "t", "labels": {"0": "background", "1": "spleen"},
    "training": [{"image": "./imagesTr/case_1.nii.gz", "label": "./labelsTr/case_1.nii.gz"},
                 {"image": "./imagesTr/case_2.nii.gz", "label": "./labelsTr/case_2.nii.gz"}]})";
  EvaluationOptions o;
  o.pred = dir / "pred";
  o.ref = dir / "ds";
  const EvaluationResult r = evaluate_folder(o);
  ASSERT_EQ(r.cases.size(), 2u);
  EXPECT_EQ(r.names.at(1), "spleen");
  EXPECT_DOUBLE_EQ(r.cases[1].metrics[0].dice, 2.0 * 27 / (27 + 64));
}

TEST(Evaluation, RefusesDifferentGridsNamingBothFiles) {
  Folders f;
  fs::remove(f.dir / "ref/d.nii.gz");
  write_label_map(cube(1, 2, 4, {1, 1, 3}), f.dir / "pred/b.nii.gz");
  try {
    evaluate_folder(f.options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("pred/b.nii.gz"), std::string::npos) << what;
    EXPECT_NE(what.find("ref/b.nii.gz"), std::string::npos) << what;
  }
}

TEST(Evaluation, BadInput) {
  test::TempDir dir;
  EvaluationOptions o;
  o.pred = dir / "nope";
  o.ref = dir.path();
  EXPECT_THROW(pair_cases(o), Error);
  fs::create_directories(dir / "empty");
  o.pred = dir / "empty";
  EXPECT_THROW(pair_cases(o), Error);
  std::ofstream(dir / "bad.json") << R"({"labels": {"one": "liver"}})";
  EXPECT_THROW(read_label_names(dir / "bad.json"), Error);
  std::ofstream(dir / "regions.json") << R"({"labels": {"background": 0, "kidney": [1, 2]}})";
  EXPECT_THROW(read_label_names(dir / "regions.json"), Error);
}

}  // namespace
}  // namespace pgl::eval
