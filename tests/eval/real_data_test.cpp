// Metrics on a real multi-organ label map (OpenKBP pt_1, about 3.9 x 3.9 x 2.5 mm) against the brute-force
// reference. Skipped when ../shared/data is absent.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/brute_force.h"
#include "pgl/eval/metrics.h"
#include "pgl/io/volume_io.h"
#include "support/test_support.h"

namespace pgl::eval {
namespace {
using namespace pgl::eval::test_reference;

TEST(RealData, ShiftedOrgansMatchBruteForce) {
  PGL_REQUIRE_SHARED("openkbp/labelsTr/pt_1.nii.gz");
  const LabelMap ref = read_label_map(test::shared_path("openkbp/labelsTr/pt_1.nii.gz"));
  // Prediction: the reference moved by (2, -1, 3) voxels, with one axial slab removed.
  LabelMap pred(ref.geometry, 0);
  const Size3& s = ref.size();
  for (int64_t k = 0; k < s[2]; ++k)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t i = 0; i < s[0]; ++i) {
        const int64_t a = i - 2, b = j + 1, c = k - 3;
        if (a >= 0 && b < s[1] && c >= 0 && k != s[2] / 2) pred.at(i, j, k) = ref.at(a, b, c);
      }
  const std::vector<int> classes = present_labels(ref);
  ASSERT_GE(classes.size(), 3u);
  const auto metrics = evaluate_case(pred, ref, classes, 4.0);
  for (const ClassMetrics& m : metrics) {
    if (m.ref_voxels == 0 || m.pred_voxels == 0) continue;
    EXPECT_LT(m.dice, 1) << "class " << m.label;
    const Reference r = brute_force(pred, ref, m.label);
    EXPECT_NEAR(m.hd95, pooled_hd95(r), 1e-9) << "class " << m.label;
    EXPECT_NEAR(m.nsd, nsd_of(r, 4.0), 1e-12) << "class " << m.label;
  }
}

}  // namespace
}  // namespace pgl::eval
