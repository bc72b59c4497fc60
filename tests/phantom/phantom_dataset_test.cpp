// Phantom data sets on disk: MSD layout, dataset.json, geometry read back by pgl's readers, same bytes
// whatever the number of threads, unlabeled mode, preview PNG, refusing foreign folders.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "pgl/core/error.h"
#include "pgl/io/volume_io.h"
#include "pgl/phantom/dataset_writer.h"
#include "support/test_support.h"

namespace pgl::phantom {
namespace {
namespace fs = std::filesystem;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

using test::read_json;

DatasetOptions options(const std::string& out, Task task, int cases) {
  DatasetOptions o;
  o.phantom.task = task;
  o.phantom.size = {48, 48, 24};
  o.cases = cases;
  o.seed = 42;
  o.out = out;
  o.threads = 2;
  o.progress = false;
  return o;
}

TEST(PhantomDataset, MsdLayoutReadBack) {
  test::TempDir dir;
  DatasetOptions o = options(dir / "liver", Task::kLiver, 3);
  o.preview = dir / "preview.png";
  write_phantom_dataset(o);

  nlohmann::json j = read_json(dir / "liver/dataset.json");
  EXPECT_EQ(j["modality"], (nlohmann::json{{"0", "CT"}}));
  EXPECT_EQ(j["labels"], (nlohmann::json{{"0", "background"}, {"1", "liver"}, {"2", "tumour"}}));
  EXPECT_EQ(j["numTraining"], 3);
  ASSERT_EQ(j["training"].size(), 3u);
  EXPECT_EQ(j["training"][0]["image"], "./imagesTr/case_000.nii.gz");
  EXPECT_EQ(j["training"][2]["label"], "./labelsTr/case_002.nii.gz");
  EXPECT_TRUE(j["name"].is_string());
  EXPECT_TRUE(j["description"].is_string());
  EXPECT_EQ(j["pgl_phantom"]["seed"], 42);

  for (int n = 0; n < 3; ++n) {
    std::string id = "case_00" + std::to_string(n);
    PhantomCase expected = generate_case(o.phantom, case_seed(42, n));
    Volume image = read_volume(dir / ("liver/imagesTr/" + id + ".nii.gz"));
    LabelMap labels = read_label_map(dir / ("liver/labelsTr/" + id + ".nii.gz"));
    EXPECT_TRUE(image.geometry.same_grid(expected.image.geometry))
        << image.geometry.grid_difference(expected.image.geometry);
    EXPECT_TRUE(labels.geometry.same_grid(expected.image.geometry))
        << labels.geometry.grid_difference(expected.image.geometry);
    EXPECT_EQ(image.geometry.orientation_code(), "LPS");
    EXPECT_TRUE(image.data == expected.image.data) << id;
    EXPECT_TRUE(labels.data == expected.labels.data) << id;
  }

  std::string png = read_bytes(dir / "preview.png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

TEST(PhantomDataset, ThreadCountDoesNotChangeBytes) {
  test::TempDir dir;
  DatasetOptions one = options(dir / "a", Task::kKidney, 3), two = options(dir / "b", Task::kKidney, 3);
  one.threads = 1;
  two.threads = 3;
  write_phantom_dataset(one);
  write_phantom_dataset(two);
  for (const char* f : {"imagesTr/case_000.nii.gz", "imagesTr/case_002.nii.gz", "labelsTr/case_001.nii.gz"})
    EXPECT_TRUE(read_bytes(dir / (std::string("a/") + f)) == read_bytes(dir / (std::string("b/") + f))) << f;
  EXPECT_EQ(read_bytes(dir / "a/dataset.json"), read_bytes(dir / "b/dataset.json"));
}

TEST(PhantomDataset, UnlabeledHasImagesOnly) {
  test::TempDir dir;
  DatasetOptions o = options(dir / "pre", Task::kMultiorgan, 2);
  o.labeled = false;
  write_phantom_dataset(o);
  EXPECT_FALSE(fs::exists(dir / "pre/labelsTr"));
  EXPECT_TRUE(fs::exists(dir / "pre/imagesTr/case_001.nii.gz"));
  nlohmann::json j = read_json(dir / "pre/dataset.json");
  ASSERT_EQ(j["training"].size(), 2u);
  EXPECT_EQ(j["training"][1], (nlohmann::json{{"image", "./imagesTr/case_001.nii.gz"}}));
  EXPECT_EQ(j["labels"], (nlohmann::json{{"0", "background"}}));
}

TEST(PhantomDataset, RegenerationReplacesEarlierPhantom) {
  test::TempDir dir;
  write_phantom_dataset(options(dir / "d", Task::kSpleen, 3));
  DatasetOptions fewer = options(dir / "d", Task::kSpleen, 1);
  fewer.labeled = false;
  write_phantom_dataset(fewer);
  EXPECT_TRUE(fs::exists(dir / "d/imagesTr/case_000.nii.gz"));
  EXPECT_FALSE(fs::exists(dir / "d/imagesTr/case_002.nii.gz"));
  EXPECT_FALSE(fs::exists(dir / "d/labelsTr"));
  EXPECT_EQ(read_json(dir / "d/dataset.json")["numTraining"], 1);
}

TEST(PhantomDataset, RefusesForeignFolder) {
  test::TempDir dir;
  std::ofstream(dir / "notes.txt") << "mine";
  EXPECT_THROW(write_phantom_dataset(options(dir.path(), Task::kSpleen, 1)), Error);
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));
  DatasetOptions bad = options(dir / "x", Task::kSpleen, 0);
  EXPECT_THROW(write_phantom_dataset(bad), Error);
}

}  // namespace
}  // namespace pgl::phantom
