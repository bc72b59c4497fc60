#include "pgl/train/step_window.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

using pgl::train::StepWindow;

TEST(StepWindow, AveragesTheWindowThenStartsANewOne) {
  StepWindow window(4, StepWindow::Clock::now());
  window.add(1.0, 0.0, 0.5);
  window.add(3.0, 0.5, 1.5);
  nlohmann::json line = window.flush(2, 1e-3);
  EXPECT_EQ(line["step"], 2);
  EXPECT_DOUBLE_EQ(line["loss"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(line["step_ms"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(line["samples_per_s"].get<double>(), 4.0);  // 2 steps of 4 samples in 2 s
  EXPECT_DOUBLE_EQ(line["data_wait"].get<double>(), 0.25);
  window.add(5.0, 0.0, 1.0);
  EXPECT_DOUBLE_EQ(window.flush(3, 1e-3)["loss"].get<double>(), 5.0);
}

TEST(StepWindow, NamedValuesAreAveragedOverTheStepsThatGaveThem) {
  StepWindow window(1, StepWindow::Clock::now());
  window.add(1.0, 0.0, 1.0);
  window.add_value("target_spread", 0.2);
  window.add(1.0, 0.0, 1.0);  // a step without the value does not count towards its mean
  window.add(1.0, 0.0, 1.0);
  window.add_value("target_spread", 0.6);
  nlohmann::json line = window.flush(3, 0.0);
  EXPECT_DOUBLE_EQ(line["target_spread"].get<double>(), 0.4);
  window.add(1.0, 0.0, 1.0);
  EXPECT_FALSE(window.flush(4, 0.0).contains("target_spread"));  // not carried into the next window
}

TEST(StepWindow, AWindowWithoutStepsHasNoLossOrTiming) {
  StepWindow window(2, StepWindow::Clock::now());
  window.add_value("skipped_steps", 3.0);  // every step of the window was skipped as non-finite
  const nlohmann::json line = window.flush(10, 1e-3);
  EXPECT_EQ(line["step"], 10);
  EXPECT_FALSE(line.contains("loss"));
  EXPECT_FALSE(line.contains("step_ms"));
  EXPECT_DOUBLE_EQ(line["skipped_steps"].get<double>(), 3.0);
  EXPECT_TRUE(std::isnan(window.mean_loss()));
}

}  // namespace
