// The whole pipeline through the `pgl` program on phantom data: phantom -> pretrain (the loss falls) ->
// export -> finetune from the pretrained run (every backbone tensor transferred) -> predict (exact input
// geometry, also for real and reoriented headers) -> evaluate.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pgl/io/spatial.h"
#include "pgl/io/volume_io.h"
#include "support/test_support.h"

namespace pgl {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

using test::read_json;

std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(json::parse(line));
  return lines;
}

void expect_same_header(const Geometry& a, const Geometry& b) {
  EXPECT_EQ(a.size, b.size);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(a.spacing[k], b.spacing[k], 1e-5);
    EXPECT_NEAR(a.origin[k], b.origin[k], 1e-3);
  }
  for (int k = 0; k < 9; ++k) EXPECT_NEAR(a.direction[k], b.direction[k], 1e-5);
}

class Pipeline : public ::testing::Test {
 protected:
  // One phantom data set, pretraining run and fine-tuning run for all tests (they take a minute), made once
  // for every test process. Tests write only new names into it.
  static void SetUpTestSuite() {
    dir_ = test::shared_fixture("pipeline", [](const std::string& d) {
      auto r = test::run_pgl("phantom --task spleen --cases 6 --seed 5 --out " + d + "/spleen");
      ASSERT_EQ(r.status, 0) << r.output;
      r = test::run_pgl("pretrain --data " + d + "/spleen --preset tiny --steps 40 --log-every 5 --lr 0.02" +
                        common(d) + "--out " + d + "/pre");
      ASSERT_EQ(r.status, 0) << r.output;
      r = test::run_pgl("finetune --data " + d + "/spleen --init " + d +
                        "/pre --preset tiny --steps 20 --val-every 20" + common(d) + "--out " + d + "/ft");
      ASSERT_EQ(r.status, 0) << r.output;
    });
    common_ = common(dir_);
  }
  static std::string common(const std::string& d) {
    return " --cache " + d + "/cache --spacing 4,4,4 --threads 2 ";
  }
  static std::string path(const std::string& name) { return dir_ + "/" + name; }
  // Each test writes its own outputs into a fresh folder.
  std::string out(const std::string& name) const { return scratch_ / name; }
  test::TempDir scratch_;
  static std::string dir_;
  static std::string common_;
};
std::string Pipeline::dir_;
std::string Pipeline::common_;

TEST_F(Pipeline, PretrainingLossFallsOnPhantoms) {
  auto lines = read_jsonl(path("pre/metrics.jsonl"));
  ASSERT_EQ(lines.size(), 8u);
  double first = (lines[0]["loss"].get<double>() + lines[1]["loss"].get<double>()) / 2;
  double last = (lines[6]["loss"].get<double>() + lines[7]["loss"].get<double>()) / 2;
  EXPECT_LT(last, first * 0.8) << "first " << first << " last " << last;
  for (const auto& l : lines)
    for (const char* key :
         {"step", "loss", "lr", "tau", "target_spread", "step_ms", "samples_per_s", "data_wait"})
      EXPECT_TRUE(l.contains(key)) << key;
  // A freshly initialised PGL target is far from collapsed.
  EXPECT_GT(lines[0]["target_spread"].get<double>(), 0.1);
}

TEST_F(Pipeline, ExcludedCasesNeverReachPretraining) {
  const std::string by_path = fs::absolute(path("spleen/imagesTr/case_000.nii.gz")).string();
  auto r = test::run_pgl("pretrain --data " + path("spleen") + " --exclude " + by_path +
                         ",case_001 --preset tiny --steps 1" + common_ + "--out " + out("pre-exclude"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto used = read_json(out("pre-exclude/cases.json"))["pretraining"];
  EXPECT_EQ(used.size(), 4u);
  for (const auto& c : used) {
    EXPECT_NE(c["id"], "case_000");
    EXPECT_NE(c["id"], "case_001");
  }
}

TEST_F(Pipeline, FinetuneTransfersEveryBackboneTensor) {
  auto transfer = read_json(path("ft/transfer.json"));
  EXPECT_TRUE(transfer["missing"].empty());
  EXPECT_TRUE(transfer["unexpected"].empty());
  EXPECT_TRUE(transfer["mismatched"].empty());
  EXPECT_GT(transfer["loaded"].size(), 30u);
  for (const auto& name : transfer["reinitialised"])
    EXPECT_EQ(name.get<std::string>().rfind("head.", 0), 0u) << name;
  auto cases = read_json(path("ft/cases.json"));
  EXPECT_EQ(cases["train"].size() + cases["validation"].size(), 6u);
  EXPECT_TRUE(fs::exists(path("ft/checkpoints/best.pt")));
  EXPECT_TRUE(fs::exists(path("ft/checkpoints/final.pt")));
}

TEST_F(Pipeline, EncoderOnlyTransferKeepsTheFreshDecoder) {
  auto r = test::run_pgl("finetune --data " + path("spleen") + " --init " + path("pre") +
                         " --transfer encoder --preset tiny --steps 1 --val-fraction 0" + common_ + "--out " +
                         out("ft-encoder"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto transfer = read_json(out("ft-encoder/transfer.json"));
  EXPECT_TRUE(transfer["missing"].empty());
  EXPECT_TRUE(transfer["unexpected"].empty());
  ASSERT_FALSE(transfer["loaded"].empty());
  for (const auto& name : transfer["loaded"]) {
    const std::string n = name.get<std::string>();
    EXPECT_TRUE(n.rfind("backbone.stem.", 0) == 0 || n.rfind("backbone.enc.", 0) == 0) << n;
  }
  size_t decoder = 0;
  for (const auto& name : transfer["reinitialised"])
    decoder += name.get<std::string>().rfind("backbone.dec.", 0) == 0;
  EXPECT_GT(decoder, 10u);
}

TEST_F(Pipeline, WrongPresetIsRefusedWithAClearMessage) {
  auto r = test::run_pgl("finetune --data " + path("spleen") + " --init " + path("pre") +
                         " --preset small --steps 1" + common_ + "--out " + out("ft-wrong"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("weights do not fit the network"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--preset"), std::string::npos) << r.output;
}

TEST_F(Pipeline, ExportedWeightsInitialiseFinetuning) {
  auto r = test::run_pgl("export " + path("pre") + " --out " + out("weights.pt"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto description = read_json(out("weights.json"));
  EXPECT_EQ(description["architecture"]["base"], 4);
  EXPECT_EQ(description["parameters"], 32732);
  const std::string finetune = " --preset tiny --steps 3 --log-every 1 --val-fraction 0 --seed 7";
  r = test::run_pgl("finetune --data " + path("spleen") + " --init " + out("weights.pt") + finetune +
                    common_ + "--out " + out("ft-weights"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(read_json(out("ft-weights/transfer.json"))["missing"].empty());
  // The same weights from the run folder give the same run: loading a checkpoint must not hand the
  // pretraining's RNG state to the new head (it is initialised from --seed).
  r = test::run_pgl("finetune --data " + path("spleen") + " --init " + path("pre") + finetune + common_ +
                    "--out " + out("ft-run"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto from_weights = read_jsonl(out("ft-weights/metrics.jsonl"));
  auto from_run = read_jsonl(out("ft-run/metrics.jsonl"));
  ASSERT_EQ(from_weights.size(), 3u);
  ASSERT_EQ(from_run.size(), 3u);
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(from_weights[k]["loss"], from_run[k]["loss"]) << "step " << k + 1;
}

TEST_F(Pipeline, PlanPrintsItsReasonsAndWritesAPlanFile) {
  auto r = test::run_pgl("plan " + path("spleen") + " --preset tiny --cache " + path("cache") + " --out " +
                         out("plan.json"));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* text : {"median spacing", "foreground intensities", "spacing", "normalisation", "patch",
                           "network", "low-resolution rule"})
    EXPECT_NE(r.output.find(text), std::string::npos) << text << "\n" << r.output;
  auto plan = read_json(out("plan.json"));
  EXPECT_EQ(plan["normalization_scheme"], "ct-foreground");
  EXPECT_EQ(plan["patch_voxels_xyz"].size(), 3u);
  EXPECT_EQ(plan["network"]["strides_xyz"].size(), plan["network"]["levels"].get<size_t>());
  // --plan takes the file as it is; an override beside it is refused.
  r = test::run_pgl("finetune --data " + path("spleen") +
                    " --init random --preset tiny --steps 1 --val-fraction 0 "
                    "--plan " +
                    out("plan.json") + " --spacing 5,5,5 --cache " + path("cache") + " --out " +
                    out("ft-plan"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--plan fixes the whole plan"), std::string::npos) << r.output;
}

TEST_F(Pipeline, TimeBudgetChoosesTheStepsAndAFoldIsPredictedAndScored) {
  auto r = test::run_pgl("finetune --data " + path("spleen") +
                         " --init random --preset tiny --folds 3 --fold 1 "
                         "--time-budget 0.4 --val-every 20 --threads 2 --cache " +
                         path("cache") + " --out " + out("ft-budget"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto config = read_json(out("ft-budget/config.json"));
  EXPECT_EQ(config["steps_chosen_by_budget"], true);
  EXPECT_GT(config["steps"].get<int64_t>(), 30);  // chosen after the 30 timed steps
  EXPECT_NE(r.output.find("time budget 0.4 min"), std::string::npos) << r.output;
  auto cases = read_json(out("ft-budget/cases.json"));
  ASSERT_EQ(cases["held_out"].size(), 2u);
  for (const auto& id : cases["held_out"]) {
    for (const char* part : {"train", "validation"})
      for (const auto& other : cases[part]) EXPECT_NE(id, other) << part;
    EXPECT_TRUE(fs::exists(out("ft-budget/held_out/" + id.get<std::string>() + ".nii.gz")));
  }
  EXPECT_EQ(read_json(out("ft-budget/held_out_metrics_summary.json"))["n_cases"], 2);
  auto post = read_json(out("ft-budget/postprocessing.json"));
  EXPECT_TRUE(post.contains("largest_foreground_component"));
  // predict applies the stored rules unless told not to; they only ever remove voxels.
  const std::string held = path("spleen/imagesTr/" + cases["held_out"][0].get<std::string>() + ".nii.gz");
  const bool rules = post["largest_foreground_component"] == true || !post["largest_class_component"].empty();
  r = test::run_pgl("predict --model " + out("ft-budget") + " --input " + held + " --out " +
                    out("pp-stored"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(rules ? "post-processing: largest" : "post-processing: none"), std::string::npos)
      << r.output;
  r = test::run_pgl("predict --model " + out("ft-budget") + " --input " + held +
                    " --postprocessing none --out " + out("pp-none"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("post-processing: none"), std::string::npos) << r.output;
  const std::string file = "/" + cases["held_out"][0].get<std::string>() + ".nii.gz";
  const auto with = read_label_map(out("pp-stored") + file).data,
             without = read_label_map(out("pp-none") + file).data;
  ASSERT_EQ(with.size(), without.size());
  size_t added = 0;  // voxels the rules labelled that the network had not
  for (size_t n = 0; n < with.size(); ++n) added += with[n] != without[n] && with[n] != 0;
  EXPECT_EQ(added, 0u);
  EXPECT_NE(test::run_pgl("predict --model " + out("ft-budget") + " --input " + held +
                          " --postprocessing largest --out " + out("pp-bad"))
                .status,
            0);
  // The chosen count is the run's: resuming the finished run changes nothing.
  r = test::run_pgl("finetune --data " + path("spleen") +
                    " --init random --preset tiny --folds 3 --fold 1 "
                    "--time-budget 0.4 --val-every 20 --threads 2 --cache " +
                    path("cache") + " --out " + out("ft-budget") + " --resume");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("already complete"), std::string::npos) << r.output;
}

TEST_F(Pipeline, FinetuneResumesBitIdenticallyAndRefusesOtherStepsSayingWhy) {
  const std::string excluded = fs::absolute(path("spleen/imagesTr/case_000.nii.gz")).string();
  const std::string args = " --data " + path("spleen") + " --init random --preset tiny --val-every 15 " +
                           "--checkpoint-every 10 --log-every 1 --seed 4 --exclude " + excluded + common_;
  auto r = test::run_pgl("finetune" + args + "--steps 30 --out " + out("full"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = test::run_pgl("finetune" + args + "--steps 30 --stop-at 10 --out " + out("part"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = test::run_pgl("finetune" + args + "--steps 30 --out " + out("part") + " --resume");
  ASSERT_EQ(r.status, 0) << r.output;
  auto full = read_jsonl(out("full/metrics.jsonl")), part = read_jsonl(out("part/metrics.jsonl"));
  ASSERT_EQ(full.size(), part.size());
  size_t validations = 0;
  for (size_t k = 0; k < full.size(); ++k) {
    EXPECT_EQ(full[k]["step"], part[k]["step"]);
    EXPECT_EQ(full[k].value("loss", -1.0), part[k].value("loss", -1.0)) << "line " << k;
    EXPECT_EQ(full[k].value("val_mean_dice", -1.0), part[k].value("val_mean_dice", -1.0)) << "line " << k;
    validations += full[k].contains("val_mean_dice");
  }
  EXPECT_EQ(validations, 2u);
  // A run that named its preset (as every run did before --preset auto) resumes without the option: the
  // default, auto, keeps the stored preset.
  std::string without_preset = args;
  without_preset.erase(without_preset.find(" --preset tiny"), std::string(" --preset tiny").size());
  r = test::run_pgl("finetune" + args + "--steps 30 --stop-at 10 --out " + out("named"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = test::run_pgl("finetune" + without_preset + "--steps 30 --out " + out("named") + " --resume");
  ASSERT_EQ(r.status, 0) << r.output;
  auto named = read_jsonl(out("named/metrics.jsonl"));
  ASSERT_EQ(named.size(), full.size());
  for (size_t k = 0; k < full.size(); ++k)
    EXPECT_EQ(named[k].value("loss", -1.0), full[k].value("loss", -1.0)) << "line " << k;
  // Excluded by image path, as in pretraining.
  auto cases = read_json(out("full/cases.json"));
  for (const char* part_name : {"train", "validation"})
    for (const auto& id : cases[part_name]) EXPECT_NE(id, "case_000");
  // Another step count is refused, and the message says which setting and why.
  r = test::run_pgl("finetune" + args + "--steps 40 --out " + out("part") + " --resume");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("steps (stored 30, requested 40)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("learning-rate schedule"), std::string::npos) << r.output;
}

// --until-plateau: with a learning rate too small to change any prediction, every round after the first
// brings no new best, so the run ends after the second round, complete, and a resume has nothing left to do.
TEST_F(Pipeline, UntilPlateauEndsTheRunAtThePlateau) {
  const std::string args = " --data " + path("spleen") +
                           " --init random --preset tiny --lr 1e-12 --val-every 5 " +
                           "--until-plateau 1 --steps 40 --log-every 5 --seed 4" + common_;
  auto r = test::run_pgl("finetune" + args + "--out " + out("plateau"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("plateau: 1 validation rounds without a new best; training ends at step 10 of 40"),
            std::string::npos)
      << r.output;
  size_t validations = 0;
  for (const auto& line : read_jsonl(out("plateau/metrics.jsonl"))) {
    EXPECT_LE(line["step"].get<int64_t>(), 10) << line;
    validations += line.contains("val_mean_dice");
  }
  EXPECT_EQ(validations, 2u);
  EXPECT_TRUE(fs::exists(out("plateau/checkpoints/final.pt")));
  r = test::run_pgl("finetune" + args + "--out " + out("plateau") + " --resume");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("already complete"), std::string::npos) << r.output;
}

TEST_F(Pipeline, PredictKeepsTheInputGeometryAndEvaluateScoresIt) {
  std::string image = path("spleen/imagesTr/case_000.nii.gz");
  auto r = test::run_pgl("predict --model " + path("ft") + " --input " + image + " --out " + out("pred"));
  ASSERT_EQ(r.status, 0) << r.output;
  LabelMap prediction = read_label_map(out("pred/case_000.nii.gz"));
  expect_same_header(prediction.geometry, read_image_info(image).geometry);
  fs::create_directories(out("ref"));
  fs::copy_file(path("spleen/labelsTr/case_000.nii.gz"), out("ref/case_000.nii.gz"));
  r = test::run_pgl("evaluate --pred " + out("pred") + " --ref " + out("ref") + " --out " + out("m.csv"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(out("m_summary.json")));
}

// `pgl export` packs a fine-tuning run into one file that predicts exactly what the run predicts.
TEST_F(Pipeline, PackedModelPredictsLikeItsRun) {
  auto r = test::run_pgl("export " + path("ft") + " --out " + out("model.pt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("packed model, weights hash"), std::string::npos) << r.output;
  const std::string image = path("spleen/imagesTr/case_001.nii.gz");
  r = test::run_pgl("predict --model " + out("model.pt") + " --input " + image + " --out " + out("packed"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = test::run_pgl("predict --model " + path("ft") + " --input " + image + " --out " + out("run"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_label_map(out("packed/case_001.nii.gz")).data,
            read_label_map(out("run/case_001.nii.gz")).data);
  // A pretraining run still exports its backbone; a packed model is not an initialisation for --init RUN.
  r = test::run_pgl("export " + path("pre") + " --out " + out("weights.pt"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("packed"), std::string::npos) << r.output;
}

TEST_F(Pipeline, PredictKeepsRealAndReorientedHeaders) {
  PGL_REQUIRE_SHARED("samples/msd_spleen_8.nii.gz");
  std::string real = test::shared_path("samples/msd_spleen_8.nii.gz");
  // A reoriented copy: axes permuted and flipped, same patient-space content.
  Volume v = read_volume(real);
  Reorientation r{{2, 0, 1}, {true, false, true}};
  Volume odd = reorient(v, r);
  write_volume(odd, out("odd.nii.gz"));
  for (const std::string& input : {real, out("odd.nii.gz")}) {
    auto result =
        test::run_pgl("predict --model " + path("ft") + " --input " + input + " --out " + out("pred-real"));
    ASSERT_EQ(result.status, 0) << result.output;
    std::string id = fs::path(input).filename().string();
    id = id.substr(0, id.size() - 7);
    LabelMap prediction = read_label_map(out("pred-real/" + id + ".nii.gz"));
    expect_same_header(prediction.geometry, read_image_info(input).geometry);
  }
}

}  // namespace
}  // namespace pgl
