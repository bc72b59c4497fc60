// Post-processing: the largest connected component (26-connectivity) and nnU-Net's rule for keeping it.
#include "pgl/seg/postprocess.h"

#include <gtest/gtest.h>

#include "pgl/io/components.h"

namespace pgl::seg {
namespace {

LabelMap grid(int64_t n = 12) {
  Geometry g;
  g.size = {n, n, n};
  return LabelMap(g, 0);
}

void fill(LabelMap& m, int64_t i0, int64_t i1, int label) {  // a cube [i0, i1)^3
  for (int64_t k = i0; k < i1; ++k)
    for (int64_t j = i0; j < i1; ++j)
      for (int64_t i = i0; i < i1; ++i) m.at(i, j, k) = static_cast<uint16_t>(label);
}

TEST(Components, KeepsTheLargestComponentOfTheChosenLabels) {
  LabelMap m = grid();
  fill(m, 0, 4, 1);   // 64 voxels
  fill(m, 8, 10, 1);  // 8 voxels, not touching
  m.at(4, 4, 4) = 2;  // touches the big cube diagonally: same component when 1 and 2 are merged
  m.at(11, 11, 0) = 2;
  LabelMap merged = m;
  keep_largest_component(merged, {1, 2});
  EXPECT_EQ(merged.at(9, 9, 9), 0);
  EXPECT_EQ(merged.at(4, 4, 4), 2);  // 26-connected to the cube's corner
  EXPECT_EQ(merged.at(11, 11, 0), 0);
  EXPECT_EQ(merged.at(0, 0, 0), 1);
  LabelMap only2 = m;
  keep_largest_component(only2, {2});  // two single voxels: a tie, both kept; class 1 untouched
  EXPECT_EQ(only2.at(4, 4, 4), 2);
  EXPECT_EQ(only2.at(11, 11, 0), 2);
  EXPECT_EQ(only2.at(9, 9, 9), 1);
}

TEST(Postprocessing, KeepsAStepOnlyWhereValidationDiceImproves) {
  // Class 1: the prediction has a false-positive blob away from the organ: removing it helps.
  // Class 2: two true parts of the reference; the largest-component step would lose one: not kept.
  LabelPairs pairs;
  for (int c = 0; c < 2; ++c) {
    LabelMap reference = grid(), prediction = grid();
    fill(reference, 0, 4, 1);
    fill(prediction, 0, 4, 1);
    fill(prediction, 9, 11, 1);
    reference.at(7, 0, 0) = 2;
    reference.at(0, 7, 11) = 2;
    prediction.at(7, 0, 0) = 2;
    prediction.at(0, 7, 11) = 2;
    reference.at(0, 11, 11) = 2;
    prediction.at(0, 11, 11) = 2;
    reference.at(1, 11, 11) = 2;
    prediction.at(1, 11, 11) = 2;
    pairs.emplace_back(prediction, reference);
  }
  std::vector<std::string> log;
  Postprocessing p = decide_postprocessing(pairs, {1, 2}, &log);
  EXPECT_FALSE(p.largest_foreground_component) << log[0];  // it would drop class 2's smaller parts
  EXPECT_EQ(p.largest_class_component, std::vector<int>{1});
  EXPECT_EQ(log.size(), 3u);
  LabelMap applied = pairs[0].first;
  apply_postprocessing(applied, p, {1, 2});
  EXPECT_EQ(applied.at(10, 10, 10), 0);
  EXPECT_EQ(applied.at(7, 0, 0), 2);
  EXPECT_EQ(Postprocessing::from_json(p.to_json()).largest_class_component, p.largest_class_component);
  EXPECT_TRUE(Postprocessing::from_json(nlohmann::json()).empty());
}

}  // namespace
}  // namespace pgl::seg
