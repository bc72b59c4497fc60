// Planning: nnU-Net's topology rules, the anisotropic spacing rule, the budgeted patch, the plan file, and
// the fingerprint of a small labelled CT data set.
#include "pgl/plan/planner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "pgl/core/error.h"
#include "pgl/io/volume_io.h"
#include "pgl/plan/fingerprint.h"
#include "pgl/train/time_budget.h"
#include "support/test_support.h"

namespace pgl::plan {
namespace {
namespace fs = std::filesystem;

DatasetFingerprint fingerprint_of(const Vec3& spacing, const std::vector<Size3>& sizes,
                                  const std::string& modality) {
  DatasetFingerprint f;
  f.modality = modality;
  for (size_t k = 0; k < sizes.size(); ++k)
    f.cases.push_back({"case_" + std::to_string(k), spacing, sizes[k], {0, 0, 0}, {}});
  return f;
}

TEST(Topology, HippocampusPatchPoolsThreeTimesOnEveryAxis) {
  // ../shared/nnunet-planning.md §4's cross-check: 1 mm, patch 40x56x40 -> 3 poolings per axis, 4 stages.
  Topology t = plan_topology({1, 1, 1}, {40, 56, 40});
  ASSERT_EQ(t.levels(), 4);
  EXPECT_EQ(t.strides[0], (Size3{1, 1, 1}));
  for (int l = 1; l < 4; ++l) EXPECT_EQ(t.strides[static_cast<size_t>(l)], (Size3{2, 2, 2}));
  for (const auto& k : t.kernels) EXPECT_EQ(k, (Size3{3, 3, 3}));
  EXPECT_EQ(t.size_multiple(), (Size3{8, 8, 8}));
}

TEST(Topology, ThickSlicesGetInPlaneKernelsAndPoolingFirst) {
  // Spacing (0.8, 0.8, 5) mm: kernels 3x3x1 twice, then 3x3x3; the first poolings are in-plane only.
  Topology t = plan_topology({0.8, 0.8, 5}, {160, 160, 20});
  ASSERT_GE(t.levels(), 4);
  EXPECT_EQ(t.kernels[0], (Size3{3, 3, 1}));
  EXPECT_EQ(t.kernels[1], (Size3{3, 3, 1}));
  EXPECT_EQ(t.kernels[2], (Size3{3, 3, 3}));
  EXPECT_EQ(t.strides[1], (Size3{2, 2, 1}));
  EXPECT_EQ(t.strides[2], (Size3{2, 2, 1}));
  EXPECT_EQ(t.strides[3], (Size3{2, 2, 2}));
  EXPECT_EQ(t.kernels.back(), (Size3{3, 3, 3}));
  EXPECT_EQ(pad_to_multiple({161, 150, 21}, t)[2] % t.size_multiple()[2], 0);
}

TEST(Planner, AnisotropicAxisKeepsItsSpacingAndThePatchFitsTheBudget) {
  // CHAOS-like: 1.25 x 1.25 x 7.7 mm, 256 x 256 x ~32 voxels.
  std::vector<Size3> sizes;
  for (int k = 0; k < 14; ++k) sizes.push_back({256, 256, 26 + k});
  auto f = fingerprint_of({1.25, 1.25, 7.7}, sizes, "MR");
  std::string reason;
  Vec3 full = planned_spacing(f, &reason);
  EXPECT_DOUBLE_EQ(full[2], 7.7);
  EXPECT_NE(reason.find("10th percentile"), std::string::npos) << reason;

  NetworkRequest request;  // small preset: base 8, budget of 4 levels at 48^3
  TrainingPlan p = make_training_plan(f, PlanOptions{}, request);
  EXPECT_EQ(p.preprocessing.normalization, "zscore");
  EXPECT_DOUBLE_EQ(p.preprocessing.spacing[2], 7.7);  // the coarse axis is not coarsened further
  EXPECT_GT(p.preprocessing.spacing[0], 1.25);        // the low-resolution rule coarsened the plane
  EXPECT_DOUBLE_EQ(p.preprocessing.spacing[0], p.preprocessing.spacing[1]);
  const Vec3 median = f.median_body_size_at(p.preprocessing.spacing);
  const double coverage =
      static_cast<double>(p.patch[0] * p.patch[1] * p.patch[2]) / (median[0] * median[1] * median[2]);
  EXPECT_GE(coverage, 0.25);
  const int64_t budget = network_macs(8, isotropic_topology(4), {48, 48, 48});
  EXPECT_LE(network_macs(p.base, p.topology, p.patch), budget);
  for (size_t a = 0; a < 3; ++a) EXPECT_EQ(p.patch[a] % p.topology.size_multiple()[a], 0);
  EXPECT_LT(p.patch[2], p.patch[0]);  // fewer voxels along the thick slices
  for (const char* key : {"spacing", "patch", "network", "normalization", "batch"})
    EXPECT_TRUE(p.reasons.count(key)) << key;
}

TEST(Planner, OverridesWinAndAreChecked) {
  auto f = fingerprint_of({1, 1, 1}, {{100, 100, 100}, {120, 110, 90}}, "CT");
  NetworkRequest request;
  request.patch = {32};
  request.levels = 3;
  PlanOptions options;
  options.spacing = {2, 2, 2};
  options.window_low = -200;
  options.window_high = 300;
  options.normalization = "ct-window";
  TrainingPlan p = make_training_plan(f, options, request);
  EXPECT_EQ(p.patch, (Size3{32, 32, 32}));
  EXPECT_EQ(p.topology.levels(), 3);
  EXPECT_EQ(p.preprocessing.spacing, (Vec3{2, 2, 2}));
  EXPECT_EQ(p.preprocessing.normalization, "ct-window");
  EXPECT_EQ(p.preprocessing.window_low, -200);
  request.patch = {30};  // not a multiple of 4
  EXPECT_THROW(make_training_plan(f, options, request), Error);
  // Without labels a CT data set has no foreground statistics: the window.
  TrainingPlan unlabeled = make_training_plan(f, PlanOptions{}, NetworkRequest{});
  EXPECT_EQ(unlabeled.preprocessing.normalization, "ct-window");
}

TEST(TrainingPlan, RoundTripsThroughJsonAndNamesNetworkDifferences) {
  auto f = fingerprint_of({0.8, 0.8, 3}, {{200, 200, 60}, {220, 200, 70}, {210, 190, 80}}, "CT");
  f.foreground = IntensityStatistics{1000, 40, 20, -100, 200, 45, -20, 110};
  TrainingPlan p = make_training_plan(f, PlanOptions{}, NetworkRequest{});
  EXPECT_EQ(p.preprocessing.normalization, "ct-foreground");
  EXPECT_DOUBLE_EQ(p.preprocessing.clip_low, -20);
  EXPECT_DOUBLE_EQ(p.preprocessing.mean, 40);
  TrainingPlan q = TrainingPlan::from_json(p.to_json(), "plan.json");
  EXPECT_EQ(q.to_json(), p.to_json());
  EXPECT_EQ(p.network_difference(q), "");
  q.topology.strides[1][0] = 1;
  EXPECT_NE(p.network_difference(q).find("level 1 stride"), std::string::npos);
  q.base = 4;
  EXPECT_NE(p.network_difference(q).find("base"), std::string::npos);
  // Every scheme survives the file, whatever the modality (z-score on CT, a window on MR).
  for (const char* scheme : {"zscore", "ct-window"}) {
    PreprocessingPlan pre = p.preprocessing;
    pre.normalization = scheme;
    pre.modality = std::string(scheme) == "zscore" ? "CT" : "MR";
    EXPECT_EQ(PreprocessingPlan::from_json(pre.to_json(), "plan.json").normalization, scheme);
  }
  // A plan.json from before planned networks holds the preprocessing only.
  EXPECT_THROW(TrainingPlan::from_json(p.preprocessing.to_json(), "old.json"), Error);
  EXPECT_EQ(PreprocessingPlan::from_json(p.to_json(), "plan.json").hash(), p.preprocessing.hash());
}

TEST(Fingerprint, PercentilesFollowNumpy) {
  std::vector<float> v{4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(percentile(v, 50), 2.5);
  EXPECT_NEAR(percentile(v, 0.5), 1.015, 1e-6);
  EXPECT_DOUBLE_EQ(percentile(v, 100), 4);
}

TEST(Fingerprint, BodyBoxIgnoresAirAndSpecks) {
  Geometry g;
  g.size = {20, 20, 10};
  Volume v(g, -1000.f);
  for (int64_t k = 2; k < 8; ++k)
    for (int64_t j = 4; j < 12; ++j)
      for (int64_t i = 5; i < 15; ++i) v.at(i, j, k) = 40;
  v.at(0, 19, 9) = 40;  // one speck of noise far away
  EXPECT_EQ(body_box_size(v), (Size3{10, 8, 6}));
}

TEST(Fingerprint, ForegroundStatisticsAndClassVolumesOfALabelledDataSet) {
  test::TempDir dir;
  fs::create_directories(dir / "imagesTr");
  fs::create_directories(dir / "labelsTr");
  nlohmann::json training = nlohmann::json::array();
  for (int k = 0; k < 2; ++k) {
    Geometry g;
    g.size = {10, 8, 6};
    g.spacing = {1.5, 1.5, 3};
    Volume image(g, -1000.f);
    LabelMap label(g, 0);
    // Class 1: 20 voxels at 50 HU; class 2 (case 1 only): 10 voxels at 150 HU.
    for (int i = 0; i < 20; ++i) {
      image.data[static_cast<size_t>(i)] = 50;
      label.data[static_cast<size_t>(i)] = 1;
    }
    if (k == 1)
      for (int i = 100; i < 110; ++i) {
        image.data[static_cast<size_t>(i)] = 150;
        label.data[static_cast<size_t>(i)] = 2;
      }
    const std::string id = "c" + std::to_string(k);
    write_volume(image, dir / ("imagesTr/" + id + ".nii.gz"));
    write_label_map(label, dir / ("labelsTr/" + id + ".nii.gz"));
    training.push_back(
        {{"image", "./imagesTr/" + id + ".nii.gz"}, {"label", "./labelsTr/" + id + ".nii.gz"}});
  }
  nlohmann::json description = {{"name", "t"},
                                {"modality", {{"0", "CT"}}},
                                {"labels", {{"0", "background"}, {"1", "a"}, {"2", "b"}}},
                                {"training", training}};
  std::ofstream(dir / "dataset.json") << description.dump();
  Dataset d = open_dataset(dir.path());
  auto f = fingerprint_datasets({d}, d.cases, true, dir / "cache", 2);
  ASSERT_EQ(f.cases.size(), 2u);
  EXPECT_EQ(f.cases[0].size, (Size3{10, 8, 6}));
  EXPECT_EQ(f.cases[0].spacing, (Vec3{1.5, 1.5, 3}));
  EXPECT_EQ(f.cases[1].class_voxels.at(1), 20);
  EXPECT_EQ(f.cases[1].class_voxels.at(2), 10);
  ASSERT_TRUE(f.foreground.has_value());
  EXPECT_DOUBLE_EQ(f.foreground->percentile_00_5, 50);
  EXPECT_DOUBLE_EQ(f.foreground->max, 150);
  EXPECT_GT(f.foreground->mean, 50);
  EXPECT_LT(f.foreground->mean, 150);
  // Cached: the second call reads the stored fingerprint (same content, one file).
  auto again = fingerprint_datasets({d}, d.cases, true, dir / "cache", 2);
  EXPECT_EQ(again.to_json(), f.to_json());
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir / "cache/fingerprints")) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
  // Without labels: geometry only.
  auto headers = fingerprint_datasets({d}, d.cases, false, dir / "cache", 2);
  EXPECT_FALSE(headers.foreground.has_value());
  EXPECT_TRUE(headers.cases[0].class_voxels.empty());
}

TEST(StepBudget, FillsWhatIsLeftOfTheBudget) {
  train::StepBudget budget(1.0);  // one minute
  for (int64_t step = 0; step < train::StepBudget::kCalibrationSteps; ++step)
    budget.record(step, step < train::StepBudget::kUntimedSteps ? 5.0 : 0.1);  // slow first steps ignored
  EXPECT_DOUBLE_EQ(budget.seconds_per_step(), 0.1);
  EXPECT_TRUE(budget.calibrated(train::StepBudget::kCalibrationSteps));
  // 0.98 * 60 - 10 elapsed - 5 tail = 43.8 s at 0.1 s per step + 2 s per 100 steps of validation.
  EXPECT_NEAR(static_cast<double>(budget.total_steps(30, 10, 2, 100, 5)), 30 + 365, 1);
  EXPECT_EQ(budget.total_steps(30, 70, 2, 100, 5), 31);  // over budget: one more step, never zero
  EXPECT_FALSE(train::StepBudget(0).active());
  // Later steps run at 0.05 s: re-planning from the recent rate nearly doubles the count.
  for (int64_t step = 30; step < 230; ++step) budget.record(step, 0.05);
  EXPECT_DOUBLE_EQ(budget.recent_seconds_per_step(), 0.05);
  EXPECT_NEAR(static_cast<double>(budget.replanned_steps(230, 20, 0, 0, 5)), 230 + (0.98 * 60 - 25) / 0.05,
              1);
}

// A stopped process (SIGSTOP, as when a job is paused for another) does not spend its time budget.
TEST(BudgetClock, DoesNotCountTimeTheProcessWasStopped) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    train::BudgetClock clock;
    std::this_thread::sleep_for(std::chrono::seconds(3));  // stopped for 6 s in the middle
    const double values[2] = {clock.seconds(), clock.paused_seconds()};
    const bool written = write(fds[1], values, sizeof values) == static_cast<ssize_t>(sizeof values);
    _exit(written ? 0 : 1);
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  kill(child, SIGSTOP);
  std::this_thread::sleep_for(std::chrono::seconds(6));
  kill(child, SIGCONT);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  double values[2] = {0, 0};
  ASSERT_EQ(read(fds[0], values, sizeof values), static_cast<ssize_t>(sizeof values));
  close(fds[0]);
  close(fds[1]);
  EXPECT_NEAR(values[1], 5.5, 1.0);  // the 6 s stop, less the watcher's half-second tick
  EXPECT_LT(values[0], 2.5);         // about 7 s of wall time, 1 to 1.5 s of it running
}

}  // namespace
}  // namespace pgl::plan

namespace {
// OpenKBP at 60 minutes: 0.54 s a step, 11 s a validation case, 40 cases. Validating them all every 250
// steps would take 7 minutes a round and most of the budget.
TEST(ValidationPlan, KeepsValidationToItsShareOfTheBudget) {
  const auto plan = pgl::train::plan_validation(3600, 0.54, 11, 40, 250);
  EXPECT_EQ(plan.cases, 6);  // 360 s over 5 rounds
  const double rounds = std::floor(0.9 * 3600 / 0.54 / static_cast<double>(plan.every));
  EXPECT_GE(rounds, pgl::train::kMinValidationRounds - 1);
  EXPECT_LE(rounds * plan.round_seconds, pgl::train::kValidationShare * 3600 + 1e-9);
}

// CHAOS: two validation cases of 5 s: every case, as often as --val-every allows within the share.
TEST(ValidationPlan, CheapValidationKeepsAllCasesAndItsInterval) {
  const auto plan = pgl::train::plan_validation(1800, 0.5, 5, 2, 250);
  EXPECT_EQ(plan.cases, 2);
  EXPECT_GE(plan.every, 250);
  EXPECT_LE(plan.every, 300);
  const auto tiny = pgl::train::plan_validation(60, 0.5, 100, 3, 250);  // one case exceeds the share
  EXPECT_EQ(tiny.cases, 1);
  EXPECT_GE(tiny.every, 250);
}
}  // namespace
