// End-to-end pretraining runs on small synthetic volumes: run folder contents, resume equality, export.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "pgl/core/error.h"
#include "pgl/core/progress.h"
#include "pgl/io/volume_io.h"
#include "pgl/train/checkpoint.h"
#include "pgl/train/pretrain.h"
#include "support/test_support.h"

namespace pgl {
namespace {
namespace fs = std::filesystem;

// A few smooth random "CT" volumes with blobs of different HU, in a plain folder.
void write_volumes(const std::string& folder, int count) {
  fs::create_directories(folder);
  std::mt19937 rng(42);
  for (int n = 0; n < count; ++n) {
    Geometry g;
    g.size = {40, 36, 30};
    g.spacing = {1.5, 1.5, 2.0};
    Volume v(g, -1000.f);
    std::uniform_real_distribution<double> u(0, 1);
    for (int blob = 0; blob < 6; ++blob) {
      double cx = u(rng) * 40, cy = u(rng) * 36, cz = u(rng) * 30, r = 4 + 8 * u(rng),
             hu = -200 + 600 * u(rng);
      for (int64_t k = 0; k < 30; ++k)
        for (int64_t j = 0; j < 36; ++j)
          for (int64_t i = 0; i < 40; ++i)
            if ((i - cx) * (i - cx) + (j - cy) * (j - cy) + (k - cz) * (k - cz) < r * r)
              v.at(i, j, k) = float(hu);
    }
    write_volume(v, folder + "/vol" + std::to_string(n) + ".nii.gz");
  }
}

std::vector<double> losses(const std::string& run) {
  std::vector<double> out;
  std::ifstream in(run + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line).at("loss").get<double>());
  return out;
}

train::PretrainConfig tiny_config(const test::TempDir& dir, const std::string& out) {
  train::PretrainConfig c;
  c.data = {dir / "data"};
  c.out = dir / out;
  c.preset = "tiny";
  c.levels = 3;  // the preset's isotropic network (32,732 parameters), on the planned patch
  c.steps = 8;
  c.log_every = 1;
  c.checkpoint_every = 4;
  c.cache = dir / "cache";
  c.seed = 3;
  c.threads = 2;
  return c;
}

class PretrainRun : public ::testing::Test {
 protected:
  void SetUp() override {
    Progress::set_quiet(true);
    write_volumes(dir / "data", 3);
  }
  test::TempDir dir;
};

TEST_F(PretrainRun, WritesTheRunFolderAndResumesExactly) {
  auto full = tiny_config(dir, "full");
  train::run_pretraining(full, false);
  for (const char* f : {"config.json", "plan.json", "metrics.jsonl", "log.txt", "checkpoints/latest.pt",
                        "checkpoints/final.pt"})
    EXPECT_TRUE(fs::exists(dir / ("full/" + std::string(f)))) << f;
  auto reference = losses(dir / "full");
  ASSERT_EQ(reference.size(), 8u);

  auto part = tiny_config(dir, "part");
  part.stop_at = 4;
  auto first = train::run_pretraining(part, false);
  EXPECT_EQ(first.steps_done, 4);
  EXPECT_FALSE(fs::exists(dir / "part/checkpoints/final.pt"));
  part.stop_at = 0;
  train::run_pretraining(part, true);
  auto resumed = losses(dir / "part");
  ASSERT_EQ(resumed.size(), 8u);
  for (size_t n = 0; n < 8; ++n) EXPECT_DOUBLE_EQ(resumed[n], reference[n]) << "step " << n + 1;
}

TEST_F(PretrainRun, RefusesToOverwriteOrToResumeWithOtherSettings) {
  auto c = tiny_config(dir, "run");
  c.steps = 2;
  train::run_pretraining(c, false);
  EXPECT_THROW(train::run_pretraining(c, false), Error);
  c.lr = 0.5;
  EXPECT_THROW(train::run_pretraining(c, true), Error);
}

TEST_F(PretrainRun, ExportWritesATorchLoadableStateDictAndDescription) {
  auto c = tiny_config(dir, "run");
  c.steps = 2;
  train::run_pretraining(c, false);
  train::export_backbone(dir / "run", dir / "weights.pt");
  auto weights = train::load_state_dict(dir / "weights.pt");
  int64_t count = 0;
  for (const auto& item : weights) count += item.value().numel();
  EXPECT_EQ(count, 32732);  // the tiny backbone, nothing else
  std::ifstream in(dir / "weights.json");
  auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j.at("method"), "pgl");
  EXPECT_EQ(j.at("steps"), 2);
  EXPECT_EQ(j.at("architecture").at("base"), 4);
}

}  // namespace
}  // namespace pgl
