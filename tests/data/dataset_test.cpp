// Data set layouts and the checks behind `pgl check`.
#include <filesystem>
#include <fstream>

#include "pgl/core/error.h"
#include "pgl/data/check.h"
#include "pgl/data/dataset.h"
#include "pgl/io/volume_io.h"
#include "support/test_support.h"

namespace pgl {
namespace {
namespace fs = std::filesystem;

Geometry small_geometry() {
  Geometry g;
  g.size = {6, 5, 4};
  g.spacing = {1, 1, 2};
  return g;
}

void write_case(const std::string& image, const std::string& label, uint16_t label_value = 1) {
  Volume v(small_geometry(), -1000.f);
  v.at(2, 2, 2) = 50.f;
  write_volume(v, image);
  if (!label.empty()) {
    LabelMap l(small_geometry());
    l.at(2, 2, 2) = label_value;
    write_label_map(l, label);
  }
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string msd_json(const std::string& training) {
  return R"({"name": "t", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "organ"}, "training": )" +
         training + "}";
}

TEST(Dataset, OpensMsdLayoutWithSplits) {
  test::TempDir dir;
  fs::create_directories(dir / "imagesTr");
  fs::create_directories(dir / "labelsTr");
  write_case(dir / "imagesTr/a.nii.gz", dir / "labelsTr/a.nii.gz");
  write_case(dir / "imagesTr/b.nii.gz", dir / "labelsTr/b.nii.gz");
  write_text(dir / "dataset.json",
             R"({"labels": {"0": "background", "1": "organ"}, "training": [
      {"image": "./imagesTr/a.nii.gz", "label": "./labelsTr/a.nii.gz"},
      {"image": "./imagesTr/b.nii.gz", "label": "./labelsTr/b.nii.gz"}],
      "splits": {"train": ["a"], "validation": ["b"]}})");
  Dataset d = open_dataset(dir.path());
  EXPECT_EQ(d.layout, "msd");
  ASSERT_EQ(d.cases.size(), 2u);
  EXPECT_EQ(d.cases[0].id, "a");
  EXPECT_TRUE(d.labeled());
  EXPECT_EQ(d.split("validation").at(0).id, "b");
  EXPECT_THROW(d.split("test"), Error);
  auto results = check_dataset(d, {});
  for (const auto& r : results) EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(results[0].label_values, (std::vector<int>{0, 1}));
}

TEST(Dataset, OpensNnunetRawLayout) {
  test::TempDir dir;
  fs::create_directories(dir / "imagesTr");
  fs::create_directories(dir / "labelsTr");
  write_case(dir / "imagesTr/case1_0000.nii.gz", dir / "labelsTr/case1.nii.gz");
  write_case(dir / "imagesTr/case2_0000.nii.gz", dir / "labelsTr/case2.nii.gz");
  write_text(dir / "dataset.json", R"({"labels": {"background": 0, "organ": 1}, "channel_names": {"0": "CT"},
      "numTraining": 2, "file_ending": ".nii.gz"})");
  Dataset d = open_dataset(dir.path());
  EXPECT_EQ(d.layout, "nnunet");
  ASSERT_EQ(d.cases.size(), 2u);
  EXPECT_EQ(d.cases[1].id, "case2");
  EXPECT_EQ(d.labels.at(1), "organ");
  EXPECT_TRUE(d.labeled());
}

TEST(Dataset, OpensPlainFolderAsUnlabeled) {
  test::TempDir dir;
  write_case(dir / "x.nii.gz", "");
  write_case(dir / "y.mha", "");
  write_text(dir / "notes.txt", "not an image");
  Dataset d = open_dataset(dir.path());
  EXPECT_EQ(d.layout, "folder");
  EXPECT_EQ(d.cases.size(), 2u);
  EXPECT_FALSE(d.labeled());
}

struct BadJsonCase {
  std::string json;
  std::string message;
};

TEST(Dataset, RefusesBadDatasetJson) {
  const std::vector<BadJsonCase> cases = {
      {"{not json", "not valid JSON"},
      {R"({"labels": {}})", "lacks 'training'"},
      {msd_json(R"("imagesTr")"), "'training' must be an array"},
      {msd_json(R"([{"image": 3}])"), "training[0] must be an object"},
      {msd_json(R"([{"image": "../outside.nii.gz"}])"), "outside the data set folder"},
      {msd_json(R"([{"image": "/etc/passwd"}])"), "outside the data set folder"},
      {R"({"labels": {"x": "y"}, "training": []})", "label 'x': 'x' is not an integer in 0..65535"},
      {R"({"labels": {"4778777777777777777777778777777": "y"}, "training": []})", "not an integer in 0..65535"},
      {R"({"labels": {"liver": 70000}, "training": []})", "label 'liver': '70000' is not an integer"},
  };
  for (const auto& c : cases) {
    test::TempDir dir;
    write_text(dir / "dataset.json", c.json);
    try {
      open_dataset(dir.path());
      ADD_FAILURE() << "accepted: " << c.json;
    } catch (const Error& e) {
      std::string what = e.what();
      EXPECT_NE(what.find(c.message), std::string::npos) << what;
      EXPECT_NE(what.find("dataset.json"), std::string::npos) << what;
    }
  }
}

TEST(Dataset, CheckReportsGridMismatchAndUndeclaredLabels) {
  test::TempDir dir;
  fs::create_directories(dir / "imagesTr");
  fs::create_directories(dir / "labelsTr");
  write_case(dir / "imagesTr/good.nii.gz", dir / "labelsTr/good.nii.gz");
  write_case(dir / "imagesTr/undeclared.nii.gz", dir / "labelsTr/undeclared.nii.gz", 7);
  write_case(dir / "imagesTr/shifted.nii.gz", "");
  Geometry other = small_geometry();
  other.origin = {5, 0, 0};
  write_label_map(LabelMap(other), dir / "labelsTr/shifted.nii.gz");
  write_text(dir / "dataset.json", msd_json(R"([
      {"image": "imagesTr/good.nii.gz", "label": "labelsTr/good.nii.gz"},
      {"image": "imagesTr/undeclared.nii.gz", "label": "labelsTr/undeclared.nii.gz"},
      {"image": "imagesTr/shifted.nii.gz", "label": "labelsTr/shifted.nii.gz"},
      {"image": "imagesTr/missing.nii.gz", "label": "labelsTr/missing.nii.gz"}])"));
  auto results = check_dataset(open_dataset(dir.path()), {});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok) << results[0].problem;
  EXPECT_NE(results[1].problem.find("label value 7 is not declared"), std::string::npos) << results[1].problem;
  EXPECT_NE(results[2].problem.find("origin differs"), std::string::npos) << results[2].problem;
  EXPECT_NE(results[3].problem.find("no such file"), std::string::npos) << results[3].problem;
}

TEST(DatasetRealData, SharedDataSetsPassTheCheck) {
  for (const char* name : {"openkbp", "chaos_t2"}) {
    if (test::shared_path(name).empty()) {
      std::printf("skipped %s: ../shared/data/%s is absent\n", name, name);
      continue;
    }
    Dataset d = open_dataset(test::shared_path(name));
    EXPECT_TRUE(d.labeled());
    CheckOptions o;
    o.threads = 2;
    auto results = check_dataset(d, o);
    size_t ok = 0;
    for (const auto& r : results) ok += r.ok;
    EXPECT_EQ(ok, results.size()) << name;
  }
  PGL_REQUIRE_SHARED("openkbp");
  EXPECT_EQ(open_dataset(test::shared_path("openkbp")).split("validation").size(), 33u);
}

}  // namespace
}  // namespace pgl
