#include "pgl/report/plot.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/report/experiment.h"

namespace pgl::report {

Color palette_color(size_t n) {
  static const Color kTableau[] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
                                   {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
                                   {0.890, 0.467, 0.761}, {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812},
                                   {0.498, 0.498, 0.498}};
  return kTableau[n % 10];
}

Color method_color(const std::string& method, size_t index) {
  if (method == kBaselineMethod) return {0.35, 0.35, 0.35};
  // Skip the palette's grey (index 9) so that no method looks like the baseline.
  return palette_color(index % 9);
}

Marker palette_marker(size_t n) {
  static const Marker kMarkers[] = {Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond};
  return kMarkers[n % 4];
}

std::vector<double> smooth(const std::vector<double>& y, size_t half_window) {
  std::vector<double> out(y.size());
  // Running sums over the finite values, so that the cost does not grow with the window.
  std::vector<double> sum(y.size() + 1, 0);
  std::vector<size_t> count(y.size() + 1, 0);
  for (size_t n = 0; n < y.size(); ++n) {
    const bool ok = std::isfinite(y[n]);
    sum[n + 1] = sum[n] + (ok ? y[n] : 0);
    count[n + 1] = count[n] + ok;
  }
  for (size_t n = 0; n < y.size(); ++n) {
    if (!std::isfinite(y[n])) {
      out[n] = y[n];
      continue;
    }
    const size_t lo = n > half_window ? n - half_window : 0, hi = std::min(y.size(), n + half_window + 1);
    out[n] = (sum[hi] - sum[lo]) / static_cast<double>(count[hi] - count[lo]);
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int count) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi <= lo || count < 1) return ticks;
  const double raw = (hi - lo) / count;
  const int exponent = static_cast<int>(std::floor(std::log10(raw)));
  const double r = raw / std::pow(10.0, exponent);
  const double m = r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10;
  // k * m / 10^-e rather than k * step: an integer divided by a power of ten is the correctly rounded
  // decimal, so 3 * 0.2 gives 0.6, not 0.6000000000000001.
  const double scale = std::pow(10.0, std::abs(exponent));
  auto value = [&](double k) { return exponent >= 0 ? k * m * scale : k * m / scale; };
  const double step = value(1);
  for (double k = std::ceil(lo / step - 1e-9); value(k) <= hi + step * 1e-9; k += 1)
    ticks.push_back(k == 0 ? 0.0 : value(k));
  return ticks;
}

namespace {

constexpr const char* kFont = "DejaVu Sans";

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void set_color(cairo_t* cr, const Color& c) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a); }

void font(cairo_t* cr, double size, bool bold = false) {
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double text_width(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  return e.x_advance;
}

// Draws text with its anchor at (x, y): align 0 = left, 0.5 = centre, 1 = right; y is the baseline.
void text_at(cairo_t* cr, double x, double y, const std::string& text, double align = 0) {
  cairo_move_to(cr, x - align * text_width(cr, text), y);
  cairo_show_text(cr, text.c_str());
}

// An axis' data range and how it maps to the page.
struct Scale {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<std::pair<double, std::string>> ticks;
  double t(double v) const {
    return log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
  }
  bool drawable(double v) const { return std::isfinite(v) && (!log || v > 0); }
};

std::string tick_text(double v, double step) {
  const int decimals = step > 0 ? std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9))) : 3;
  return fmt::format("{:.{}f}", v, decimals);
}

Scale make_scale(const Axis& axis, const std::vector<double>& values, bool snap) {
  Scale s;
  s.log = axis.log;
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (s.drawable(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  const bool fixed_lo = std::isfinite(axis.min), fixed_hi = std::isfinite(axis.max);
  if (fixed_lo) lo = axis.min;
  if (fixed_hi) hi = axis.max;
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = s.log ? 1 : 0;
    hi = s.log ? 10 : 1;
  }
  if (hi <= lo) {  // one value: open a window around it
    if (s.log) {
      lo /= 2;
      hi *= 2;
    } else {
      const double d = lo != 0 ? std::fabs(lo) * 0.1 : 0.5;
      lo -= d;
      hi += d;
    }
  }
  if (s.log) {
    if (!fixed_lo) lo /= 1.3;
    if (!fixed_hi) hi *= 1.3;
    s.lo = lo;
    s.hi = hi;
    if (axis.ticks.empty())
      for (double decade = std::pow(10.0, std::floor(std::log10(lo))); decade <= hi; decade *= 10)
        for (double m : {1.0, 2.0, 5.0})
          if (m * decade >= lo && m * decade <= hi)
            s.ticks.emplace_back(m * decade, fmt::format("{:g}", m * decade));
  } else {
    const bool nonnegative = lo >= 0;
    // Steps that start just above zero read better from zero.
    if (!snap && !fixed_lo && lo > 0 && lo < 0.1 * (hi - lo)) lo = 0;
    if (snap) {
      const double pad = 0.04 * (hi - lo);
      if (!fixed_lo) lo -= pad;
      if (!fixed_hi) hi += pad;
      std::vector<double> t = nice_ticks(lo, hi);
      const double step = t.size() > 1 ? t[1] - t[0] : hi - lo;
      if (!fixed_lo) lo = std::floor(lo / step + 1e-9) * step;
      if (!fixed_hi) hi = std::ceil(hi / step - 1e-9) * step;
      if (nonnegative && lo < 0) lo = 0;
    }
    s.lo = lo;
    s.hi = hi;
    if (axis.ticks.empty()) {
      std::vector<double> t = nice_ticks(lo, hi);
      const double step = t.size() > 1 ? t[1] - t[0] : hi - lo;
      for (double v : t) s.ticks.emplace_back(v, tick_text(v, step));
    }
  }
  for (const auto& tick : axis.ticks)
    if (s.drawable(tick.first) && tick.first >= s.lo && tick.first <= s.hi) s.ticks.push_back(tick);
  return s;
}

void marker_path(cairo_t* cr, Marker m, double x, double y, double r) {
  switch (m) {
    case Marker::Circle:
      cairo_new_sub_path(cr);
      cairo_arc(cr, x, y, r, 0, 2 * M_PI);
      break;
    case Marker::Square:
      cairo_rectangle(cr, x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8);
      break;
    case Marker::Triangle:
      cairo_move_to(cr, x, y - r * 1.15);
      cairo_line_to(cr, x + r * 1.1, y + r * 0.8);
      cairo_line_to(cr, x - r * 1.1, y + r * 0.8);
      cairo_close_path(cr);
      break;
    case Marker::Diamond:
      cairo_move_to(cr, x, y - r * 1.25);
      cairo_line_to(cr, x + r * 1.05, y);
      cairo_line_to(cr, x, y + r * 1.25);
      cairo_line_to(cr, x - r * 1.05, y);
      cairo_close_path(cr);
      break;
    case Marker::None:
      break;
  }
}

struct Rect {
  double x, y, w, h;
  bool contains(double px, double py) const { return px >= x && px <= x + w && py >= y && py <= y + h; }
};

void draw_legend(cairo_t* cr, const Chart& chart, const Rect& plot,
                 const std::vector<std::pair<double, double>>& points) {
  std::vector<const Series*> entries;
  for (const Series& s : chart.series)
    if (!s.label.empty()) entries.push_back(&s);
  if (!chart.legend || entries.empty()) return;
  font(cr, 11);
  double label_w = 0;
  for (const Series* s : entries) label_w = std::max(label_w, text_width(cr, s->label));
  const double row = 16, w = label_w + 40, h = row * static_cast<double>(entries.size()) + 8, gap = 6;
  // The corner that hides the fewest data points: top right, bottom right, top left, bottom left.
  const Rect corners[] = {{plot.x + plot.w - w - gap, plot.y + gap, w, h},
                          {plot.x + plot.w - w - gap, plot.y + plot.h - h - gap, w, h},
                          {plot.x + gap, plot.y + gap, w, h},
                          {plot.x + gap, plot.y + plot.h - h - gap, w, h}};
  Rect box = corners[0];
  size_t best = SIZE_MAX;
  for (const Rect& r : corners) {
    size_t hidden = 0;
    for (const auto& [px, py] : points) hidden += r.contains(px, py);
    if (hidden < best) {
      best = hidden;
      box = r;
    }
  }
  cairo_rectangle(cr, box.x, box.y, box.w, box.h);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (size_t n = 0; n < entries.size(); ++n) {
    const Series& s = *entries[n];
    const double y = box.y + 4 + row * (static_cast<double>(n) + 0.5);
    set_color(cr, s.color.with_alpha(1));
    if (s.line_width > 0) {
      cairo_set_line_width(cr, s.line_width);
      if (s.dashed) {
        const double dash[] = {5, 3};
        cairo_set_dash(cr, dash, 2, 0);
      }
      cairo_move_to(cr, box.x + 6, y);
      cairo_line_to(cr, box.x + 30, y);
      cairo_stroke(cr);
      cairo_set_dash(cr, nullptr, 0, 0);
    }
    if (s.marker != Marker::None) {
      marker_path(cr, s.marker, box.x + 18, y, 3.5);
      cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cr, box.x + 36, y + 4, s.label);
  }
}

// The half-width of point n's error bar below the point.
double error_below(const Series& s, size_t n) {
  return n < s.error_below.size() ? s.error_below[n] : s.error[n];
}

void draw_chart(cairo_t* cr, const Chart& chart, const Rect& cell) {
  std::vector<double> xs, ys;
  for (const Series& s : chart.series)
    for (size_t n = 0; n < s.x.size() && n < s.y.size(); ++n) {
      if (!std::isfinite(s.x[n]) || !std::isfinite(s.y[n])) continue;
      xs.push_back(s.x[n]);
      ys.push_back(s.y[n]);
      if (n < s.error.size() && std::isfinite(s.error[n]) && std::isfinite(error_below(s, n))) {
        ys.push_back(s.y[n] - error_below(s, n));
        ys.push_back(s.y[n] + s.error[n]);
      }
    }
  const Scale sx = make_scale(chart.x, xs, /*snap=*/false);
  const Scale sy = make_scale(chart.y, ys, /*snap=*/true);

  font(cr, 10);
  double tick_w = 0;
  for (const auto& t : sy.ticks) tick_w = std::max(tick_w, text_width(cr, t.second));
  const double left = cell.x + (chart.y.label.empty() ? 8 : 24) + tick_w + 6;
  const Rect plot{left, cell.y + (chart.title.empty() ? 10 : 28), cell.x + cell.w - 14 - left,
                  cell.h - (chart.title.empty() ? 10 : 28) - (chart.x.label.empty() ? 24 : 42)};
  auto px = [&](double v) { return plot.x + sx.t(v) * plot.w; };
  auto py = [&](double v) { return plot.y + plot.h - sy.t(v) * plot.h; };

  if (!chart.title.empty()) {
    font(cr, 13, true);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cr, plot.x + plot.w / 2, cell.y + 18, chart.title, 0.5);
  }
  // Grid and ticks.
  font(cr, 10);
  cairo_set_line_width(cr, 1);
  for (const auto& [v, label] : sy.ticks) {
    const double y = std::round(py(v)) + 0.5;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, plot.x, y);
    cairo_line_to(cr, plot.x + plot.w, y);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
    text_at(cr, plot.x - 5, y + 3.5, label, 1);
  }
  for (const auto& [v, label] : sx.ticks) {
    const double x = std::round(px(v)) + 0.5;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, x, plot.y);
    cairo_line_to(cr, x, plot.y + plot.h);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
    text_at(cr, x, plot.y + plot.h + 14, label, 0.5);
  }
  cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
  cairo_rectangle(cr, std::round(plot.x) + 0.5, std::round(plot.y) + 0.5, std::round(plot.w),
                  std::round(plot.h));
  cairo_stroke(cr);
  font(cr, 11);
  cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
  if (!chart.x.label.empty()) text_at(cr, plot.x + plot.w / 2, plot.y + plot.h + 32, chart.x.label, 0.5);
  if (!chart.y.label.empty()) {
    cairo_save(cr);
    cairo_translate(cr, cell.x + 14, plot.y + plot.h / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, chart.y.label, 0.5);
    cairo_restore(cr);
  }
  if (xs.empty()) {
    font(cr, 12);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    text_at(cr, plot.x + plot.w / 2, plot.y + plot.h / 2, chart.empty_message, 0.5);
    return;
  }

  // Series, clipped to the plot area.
  std::vector<std::pair<double, double>> drawn;  // page positions, for the legend placement
  cairo_save(cr);
  cairo_rectangle(cr, plot.x, plot.y, plot.w, plot.h);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (const Series& s : chart.series) {
    const size_t count = std::min(s.x.size(), s.y.size());
    auto ok = [&](size_t n) { return sx.drawable(s.x[n]) && sy.drawable(s.y[n]); };
    set_color(cr, s.color);
    if (s.line_width > 0) {
      cairo_set_line_width(cr, s.line_width);
      if (s.dashed) {
        const double dash[] = {6, 4};
        cairo_set_dash(cr, dash, 2, 0);
      }
      bool open = false;
      for (size_t n = 0; n < count; ++n) {
        if (!ok(n)) {
          open = false;
          continue;
        }
        const double x = px(s.x[n]), y = py(s.y[n]);
        if (open) {
          // Sample the segment so that the legend avoids lines, not only their vertices.
          const auto& [x0, y0] = drawn.back();
          for (int k = 1; k < 4; ++k) drawn.emplace_back(x0 + (x - x0) * k / 4, y0 + (y - y0) * k / 4);
          cairo_line_to(cr, x, y);
        } else {
          cairo_move_to(cr, x, y);
        }
        drawn.emplace_back(x, y);
        open = true;
      }
      cairo_stroke(cr);
      cairo_set_dash(cr, nullptr, 0, 0);
    }
    cairo_set_line_width(cr, 1.3);
    for (size_t n = 0; n < count && n < s.error.size(); ++n) {
      const double below = error_below(s, n);
      if (!ok(n) || !std::isfinite(s.error[n]) || !std::isfinite(below) || s.error[n] + below <= 0) continue;
      const double x = px(s.x[n]), y0 = py(s.y[n] - below), y1 = py(s.y[n] + s.error[n]);
      cairo_move_to(cr, x, y0);
      cairo_line_to(cr, x, y1);
      cairo_move_to(cr, x - 4, y0);
      cairo_line_to(cr, x + 4, y0);
      cairo_move_to(cr, x - 4, y1);
      cairo_line_to(cr, x + 4, y1);
      drawn.emplace_back(x, y0);
      drawn.emplace_back(x, y1);
    }
    cairo_stroke(cr);
    if (s.marker != Marker::None) {
      for (size_t n = 0; n < count; ++n) {
        if (!ok(n)) continue;
        marker_path(cr, s.marker, px(s.x[n]), py(s.y[n]), s.marker_size);
        drawn.emplace_back(px(s.x[n]), py(s.y[n]));
      }
      set_color(cr, s.color);
      cairo_fill_preserve(cr);
      cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
      cairo_set_line_width(cr, 0.8);
      cairo_stroke(cr);
    }
  }
  cairo_restore(cr);
  draw_legend(cr, chart, plot, drawn);
}

void draw_figure(cairo_t* cr, const Figure& figure) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  double top = 0;
  if (!figure.title.empty()) {
    font(cr, 15, true);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cr, figure.width / 2.0, 22, figure.title, 0.5);
    top = 32;
  }
  if (figure.charts.empty()) return;
  const int columns = std::max(1, std::min(figure.columns, static_cast<int>(figure.charts.size())));
  const int rows = (static_cast<int>(figure.charts.size()) + columns - 1) / columns;
  const double w = figure.width / static_cast<double>(columns);
  const double h = (figure.height - top) / static_cast<double>(rows);
  for (size_t n = 0; n < figure.charts.size(); ++n) {
    const double x = w * static_cast<double>(static_cast<int>(n) % columns);
    const double y = top + h * static_cast<double>(static_cast<int>(n) / columns);
    draw_chart(cr, figure.charts[n], {x, y, w, h});
  }
}

void check(cairo_status_t status, const char* what) {
  if (status != CAIRO_STATUS_SUCCESS)
    throw Error(fmt::format("cannot render {}: {}", what, cairo_status_to_string(status)));
}

}  // namespace

std::string render_png(const Figure& figure, double scale) {
  const int w = static_cast<int>(std::lround(figure.width * scale));
  const int h = static_cast<int>(std::lround(figure.height * scale));
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_t* cr = cairo_create(surface);
  cairo_scale(cr, scale, scale);
  draw_figure(cr, figure);
  const cairo_status_t drawn = cairo_status(cr);
  cairo_destroy(cr);
  std::string png;
  cairo_status_t written = CAIRO_STATUS_SUCCESS;
  if (drawn == CAIRO_STATUS_SUCCESS) written = cairo_surface_write_to_png_stream(surface, append_bytes, &png);
  cairo_surface_destroy(surface);
  check(drawn, "figure");
  check(written, "PNG");
  return png;
}

std::string render_svg(const Figure& figure) {
  std::string svg;
  cairo_surface_t* surface =
      cairo_svg_surface_create_for_stream(append_bytes, &svg, figure.width, figure.height);
  cairo_t* cr = cairo_create(surface);
  draw_figure(cr, figure);
  const cairo_status_t drawn = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);  // flushes the document into `svg`
  const cairo_status_t finished = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  check(drawn, "figure");
  check(finished, "SVG");
  return svg;
}

void save_figure(const Figure& figure, const std::string& stem) {
  write_text_atomically(stem + ".png", render_png(figure));
  write_text_atomically(stem + ".svg", render_svg(figure));
}

}  // namespace pgl::report
