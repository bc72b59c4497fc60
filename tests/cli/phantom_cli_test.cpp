// `pgl phantom` through the real program: files, dataset.json, preview, and clear errors for bad options.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "pgl/io/volume_io.h"
#include "support/test_support.h"

namespace pgl {
namespace {
namespace fs = std::filesystem;

using test::read_json;

TEST(PhantomCli, WritesMsdDataset) {
  test::TempDir dir;
  test::CommandResult r =
      test::run_pgl("phantom --task spleen --cases 2 --seed 3 --size 48,48,24 --threads 2 --out " +
                    (dir / "spleen") + " --preview " + (dir / "spleen.png"));
  ASSERT_EQ(r.status, 0) << r.output;
  nlohmann::json j = read_json(dir / "spleen/dataset.json");
  EXPECT_EQ(j["numTraining"], 2);
  EXPECT_EQ(j["modality"]["0"], "CT");
  EXPECT_EQ(j["labels"], (nlohmann::json{{"0", "background"}, {"1", "spleen"}}));
  ASSERT_EQ(j["training"].size(), 2u);
  for (int n = 0; n < 2; ++n) {
    std::string image = dir / ("spleen/" + j["training"][n]["image"].get<std::string>());
    std::string label = dir / ("spleen/" + j["training"][n]["label"].get<std::string>());
    ImageInfo info = read_image_info(image);
    EXPECT_EQ(info.geometry.size, (Size3{48, 48, 24}));
    LabelMap labels = read_label_map(label);
    EXPECT_TRUE(labels.geometry.same_grid(info.geometry)) << labels.geometry.grid_difference(info.geometry);
  }
  EXPECT_TRUE(fs::file_size(dir / "spleen.png") > 100);
}

TEST(PhantomCli, UnlabeledAndSpacing) {
  test::TempDir dir;
  test::CommandResult r =
      test::run_pgl("phantom --task multiorgan --cases 1 --unlabeled --spacing 8,8,10 --out " + (dir / "u"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(dir / "u/labelsTr"));
  nlohmann::json j = read_json(dir / "u/dataset.json");
  EXPECT_FALSE(j["training"][0].contains("label"));
  ImageInfo info = read_image_info(dir / "u/imagesTr/case_000.nii.gz");
  EXPECT_NEAR(info.geometry.spacing[0], 8, 1e-4);
  EXPECT_NEAR(info.geometry.spacing[2], 10, 1e-4);
}

TEST(PhantomCli, BadOptions) {
  test::TempDir dir;
  test::CommandResult r = test::run_pgl("phantom --task brain --out " + (dir / "x"));
  EXPECT_EQ(r.status, 2) << r.output;  // usage error
  r = test::run_pgl("phantom --size 10,10 --out " + (dir / "x"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--size"), std::string::npos) << r.output;
  std::ofstream(dir / "notes.txt") << "not a phantom";
  r = test::run_pgl("phantom --cases 1 --size 16,16,8 --out " + dir.path());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("not empty"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace pgl
