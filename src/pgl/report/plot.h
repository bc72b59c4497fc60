#pragma once
// A small line-chart library on cairo: one drawing code renders a figure both as PNG and as SVG.
// A Figure is a grid of Charts; a Chart has axes with ticks and labels, a title, a legend and series
// (lines, markers, error bars, symmetric or not). cairo stays inside plot.cpp and overlay.cpp.
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace pgl::report {

struct Color {
  double r = 0, g = 0, b = 0, a = 1;
  Color with_alpha(double alpha) const { return {r, g, b, alpha}; }
};
// The n-th colour of a qualitative palette (Tableau 10), cycling.
Color palette_color(size_t n);
// Colour of a method: the baseline ("random") is grey; the others take palette colours by their index.
Color method_color(const std::string& method, size_t index);

enum class Marker { None, Circle, Square, Triangle, Diamond };
Marker palette_marker(size_t n);  // cycles through the four filled markers

struct Series {
  std::string label;  // "" = left out of the legend
  std::vector<double> x, y;
  std::vector<double> error;  // empty, or one half-width per point (error bar with caps) above the point
  std::vector<double> error_below;  // the half-width below, where it differs (percentile intervals); empty =
                                    // symmetric
  Color color;
  double line_width = 2;  // 0 = markers only
  bool dashed = false;
  Marker marker = Marker::None;
  double marker_size = 4;  // radius, points
};

struct Axis {
  std::string label;
  bool log = false;                                       // logarithmic (values <= 0 are not drawn)
  double min = std::numeric_limits<double>::quiet_NaN();  // fixed range; NaN = from the data
  double max = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<double, std::string>> ticks;  // fixed ticks; empty = automatic
};

struct Chart {
  std::string title;
  Axis x, y;
  std::vector<Series> series;
  bool legend = true;
  std::string empty_message = "no data";  // drawn when no series has a finite point
};

struct Figure {
  std::string title;              // above the grid ("" = none)
  int width = 800, height = 480;  // SVG points; PNG pixels at scale 1
  int columns = 1;                // charts laid out row by row
  std::vector<Chart> charts;
};

// The encoded files, as bytes. scale multiplies the PNG's pixel size (2 gives sharp figures on HiDPI).
std::string render_png(const Figure& figure, double scale = 2);
std::string render_svg(const Figure& figure);
// Writes <stem>.png and <stem>.svg atomically. Throws pgl::Error naming the file on failure.
void save_figure(const Figure& figure, const std::string& stem);

// Centred moving average over y[n - half_window .. n + half_window] (the window shrinks at the ends and skips
// non-finite values). Centred, unlike an exponential moving average, so that the curve does not lag.
std::vector<double> smooth(const std::vector<double>& y, size_t half_window);
// Nice tick values (1, 2, 5 x 10^k steps) covering [lo, hi], about `count` of them.
std::vector<double> nice_ticks(double lo, double hi, int count = 5);

}  // namespace pgl::report
