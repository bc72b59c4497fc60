// Charts render to valid PNG and SVG; ticks and smoothing behave.
#include "pgl/report/plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "support/test_support.h"

namespace pgl::report {
namespace {

uint32_t be32(const std::string& s, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// PNG signature, then the IHDR chunk with the size.
void expect_png(const std::string& png, uint32_t width, uint32_t height) {
  ASSERT_GT(png.size(), 33u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(png, 16), width);
  EXPECT_EQ(be32(png, 20), height);
  EXPECT_EQ(png.substr(png.size() - 8, 4), "IEND");
}

void expect_svg(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

Series series(const std::string& label, std::vector<double> x, std::vector<double> y, Marker marker) {
  Series s;
  s.label = label;
  s.x = std::move(x);
  s.y = std::move(y);
  s.marker = marker;
  s.color = palette_color(label.size());
  return s;
}

Figure sample_figure() {
  Figure fig;
  fig.title = "sample";
  fig.width = 600;
  fig.height = 300;
  fig.columns = 2;
  Chart a;
  a.title = "Dice";
  a.x.label = "fraction";
  a.x.log = true;
  a.x.ticks = {{0.1, "10%"}, {1, "100%"}};
  a.y.label = "Dice (%)";
  a.series.push_back(series("random", {0.1, 1}, {70, 80}, Marker::Circle));
  a.series.back().error = {1, 2};
  a.series.back().dashed = true;
  a.series.push_back(series("pgl", {0.1, 1}, {72, NAN}, Marker::Square));
  Chart b;  // no finite point: the empty message
  b.title = "empty";
  b.series.push_back(series("nothing", {1}, {NAN}, Marker::None));
  fig.charts = {a, b};
  return fig;
}

TEST(Plot, RendersPngAndSvg) {
  const Figure fig = sample_figure();
  expect_png(render_png(fig, 1), 600, 300);
  expect_png(render_png(fig, 2), 1200, 600);
  expect_svg(render_svg(fig));
  Figure none;  // no charts at all
  expect_png(render_png(none, 1), 800, 480);
}

TEST(Plot, SaveFigureWritesBothFiles) {
  pgl::test::TempDir dir;
  save_figure(sample_figure(), dir / "plots/sample");
  std::ifstream png(dir / "plots/sample.png", std::ios::binary), svg(dir / "plots/sample.svg");
  expect_png({std::istreambuf_iterator<char>(png), {}}, 1200, 600);
  expect_svg({std::istreambuf_iterator<char>(svg), {}});
}

TEST(Plot, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 1), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1}));
  EXPECT_EQ(nice_ticks(0, 1000, 5), (std::vector<double>{0, 200, 400, 600, 800, 1000}));
  const auto t = nice_ticks(0.71, 0.86);
  ASSERT_FALSE(t.empty());
  EXPECT_GE(t.front(), 0.71);
  EXPECT_LE(t.back(), 0.86);
  EXPECT_TRUE(nice_ticks(1, 1).empty());
}

TEST(Plot, SmoothingIsACentredMovingAverage) {
  EXPECT_EQ(smooth({1, 2, 3}, 0), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(smooth({1, 2, 3, 4, 5}, 1), (std::vector<double>{1.5, 2, 3, 4, 4.5}));
  const auto n = smooth({1, NAN, 3, 5}, 1);
  EXPECT_DOUBLE_EQ(n[0], 1);
  EXPECT_TRUE(std::isnan(n[1]));
  EXPECT_DOUBLE_EQ(n[2], 4);
}

}  // namespace
}  // namespace pgl::report
