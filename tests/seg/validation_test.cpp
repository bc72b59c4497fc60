// Validation Dice tallies: the ranks of a data-parallel run each score a share of the cases and add their
// tallies; the sum must give the Dice of one process scoring them all.
#include "pgl/seg/validation.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pgl::seg {
namespace {

LabelMap cube(int64_t n, int64_t i0, int64_t i1, int label) {
  Geometry g;
  g.size = {n, n, n};
  LabelMap m(g, 0);
  for (int64_t k = i0; k < i1; ++k)
    for (int64_t j = i0; j < i1; ++j)
      for (int64_t i = i0; i < i1; ++i) m.at(i, j, k) = static_cast<uint16_t>(label);
  return m;
}

TEST(DiceTally, SharesAddUpToTheWholeAndSkipClassesAbsentFromACase) {
  LabelPairs all;
  all.emplace_back(cube(8, 0, 4, 1), cube(8, 0, 3, 1));  // class 1: 2*27/(64+27); class 2 absent
  all.emplace_back(cube(8, 2, 6, 2), cube(8, 2, 6, 2));  // class 2: 1; class 1 absent from both
  all.emplace_back(cube(8, 0, 2, 1), cube(8, 4, 6, 1));  // class 1: 0
  DiceTally whole(3);
  whole.add(all);
  const ValidationResult w = whole.result();
  EXPECT_NEAR(w.dice.at(1), (2.0 * 27 / 91 + 0.0) / 2, 1e-12);  // over the 2 cases where it is defined
  EXPECT_NEAR(w.dice.at(2), 1.0, 1e-12);
  EXPECT_NEAR(w.mean_dice, (w.dice.at(1) + 1.0) / 2, 1e-12);

  // Rank 0 scores cases 0 and 2, rank 1 case 1; their flat tallies are summed (RankGroup::sum).
  LabelPairs share0, share1;
  share0.push_back(all[0]);
  share0.push_back(all[2]);
  share1.push_back(all[1]);
  DiceTally rank0(3), rank1(3), empty(3);
  rank0.add(share0);
  rank1.add(share1);
  std::vector<double> summed = rank0.flat();
  const std::vector<double> other = rank1.flat(), none = empty.flat();  // a rank with no case adds zeros
  for (size_t k = 0; k < summed.size(); ++k) summed[k] += other[k] + none[k];
  DiceTally combined(3);
  combined.set_flat(summed);
  const ValidationResult c = combined.result();
  EXPECT_EQ(c.dice, w.dice);
  EXPECT_EQ(c.mean_dice, w.mean_dice);
  EXPECT_TRUE(std::isnan(DiceTally(3).result().dice.at(1)));  // no case: undefined, and mean 0
  EXPECT_EQ(DiceTally(3).result().mean_dice, 0.0);
}

}  // namespace
}  // namespace pgl::seg
