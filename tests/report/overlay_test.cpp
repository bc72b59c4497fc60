// Slice choice, display window, orientation and rendering of the qualitative overlays.
#include "pgl/report/overlay.h"

#include <gtest/gtest.h>

#include "fixture.h"
#include "pgl/core/error.h"

namespace pgl::report {
namespace {

TEST(Overlay, AxialAxisFollowsTheDirection) {
  Geometry g;
  EXPECT_EQ(axial_axis(g), 2);
  g.direction = {0, 0, 1, 1, 0, 0, 0, 1, 0};  // index axis 1 points to S
  EXPECT_EQ(axial_axis(g), 1);
  g.direction = {0, 1, 0, 0, 0, 1, -1, 0, 0};  // index axis 0 points to I
  EXPECT_EQ(axial_axis(g), 0);
}

TEST(Overlay, SliceWithMostForeground) {
  EXPECT_EQ(slice_with_most_foreground(test::fixture_labels(0, 3), 2), 3);
  EXPECT_EQ(slice_with_most_foreground(test::fixture_labels(0, 1), 2), 1);
  Geometry g;
  g.size = {4, 4, 7};
  EXPECT_EQ(slice_with_most_foreground(LabelMap(g, 0), 2), 3);  // empty: the middle
}

TEST(Overlay, ExtractSliceKeepsThePlace) {
  LabelMap m = test::fixture_labels();
  m.geometry.origin = {10, 20, 30};
  const LabelMap s = extract_slice(m, 2, 3);
  EXPECT_EQ(s.size(), (Size3{24, 20, 1}));
  EXPECT_DOUBLE_EQ(s.geometry.origin[2], 30 + 3 * 3.0);
  EXPECT_EQ(s.at(9, 10, 0), m.at(9, 10, 3));
  EXPECT_EQ(s.at(16, 9, 0), 2);
  const LabelMap x = extract_slice(m, 0, 9);
  EXPECT_EQ(x.size(), (Size3{1, 20, 6}));
  EXPECT_DOUBLE_EQ(x.geometry.origin[0], 19);
  EXPECT_EQ(x.at(0, 10, 3), m.at(9, 10, 3));
}

TEST(Overlay, DisplayWindow) {
  const DisplayWindow ct = display_window(test::fixture_image());
  EXPECT_EQ(ct.lo, -160);
  EXPECT_EQ(ct.hi, 240);
  Geometry g;
  g.size = {10, 10, 1};
  Volume mr(g, 0);
  for (size_t n = 0; n < mr.data.size(); ++n) mr.data[n] = static_cast<float>(n);
  const DisplayWindow w = display_window(mr);
  EXPECT_NEAR(w.lo, 0.99, 1.01);
  EXPECT_NEAR(w.hi, 98, 1.01);
}

TEST(Overlay, RendersPanelsAsPng) {
  const Volume image = test::fixture_image();
  const LabelMap ref = test::fixture_labels(), pred = test::fixture_labels(1);
  OverlayOptions o;
  o.title = "c1";
  o.panel_size = 120;
  o.class_names = {{1, "spleen"}, {2, "liver"}};
  const std::string png = render_overlay_png(
      image, 2, 3, {{"reference", &ref, ""}, {"pgl", &pred, ""}, {"byol", nullptr, "missing"}}, o);
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  // Three panels of 120 x 100 (24 x 20 mm) with 8 px gaps.
  const auto width = static_cast<unsigned char>(png[18]) << 8 | static_cast<unsigned char>(png[19]);
  EXPECT_EQ(width, 8 + 3 * (120 + 8));
  EXPECT_THROW(render_overlay_png(image, 2, 6, {}, o), Error);
  LabelMap other = ref;
  other.geometry.spacing[0] = 2;
  EXPECT_THROW(render_overlay_png(image, 2, 3, {{"x", &other, ""}}, o), Error);
}

}  // namespace
}  // namespace pgl::report
