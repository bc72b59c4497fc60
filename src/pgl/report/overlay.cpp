#include "pgl/report/overlay.h"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "pgl/core/error.h"

namespace pgl::report {

int axial_axis(const Geometry& g) {
  int best = 2;
  double best_z = -1;
  for (int c = 0; c < 3; ++c) {
    const double z = std::fabs(g.direction[static_cast<size_t>(6 + c)]);  // row 2 (S) of column c
    if (z > best_z + 1e-9) {
      best_z = z;
      best = c;
    }
  }
  return best;
}

int64_t slice_with_most_foreground(const LabelMap& labels, int axis) {
  const Size3& s = labels.size();
  std::vector<int64_t> counts(static_cast<size_t>(s[static_cast<size_t>(axis)]), 0);
  for (int64_t k = 0; k < s[2]; ++k)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t i = 0; i < s[0]; ++i)
        if (labels.at(i, j, k)) ++counts[static_cast<size_t>(axis == 0 ? i : axis == 1 ? j : k)];
  if (counts.empty()) return 0;
  auto best = std::max_element(counts.begin(), counts.end());
  if (*best == 0) return static_cast<int64_t>(counts.size()) / 2;
  return best - counts.begin();
}

DisplayWindow display_window(const Volume& image) {
  if (image.data.empty()) return {};
  const auto [lo, hi] = std::minmax_element(image.data.begin(), image.data.end());
  if (*lo < -500) return {-160, 240};
  // Percentiles on a strided sample: exact enough for a display window and cheap on large volumes.
  std::vector<float> sample;
  const size_t stride = std::max<size_t>(1, image.data.size() / 200000);
  for (size_t n = 0; n < image.data.size(); n += stride) sample.push_back(image.data[n]);
  auto at = [&](double q) {
    auto it = sample.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(sample.size() - 1));
    std::nth_element(sample.begin(), it, sample.end());
    return static_cast<double>(*it);
  };
  DisplayWindow w{at(0.01), at(0.99)};
  if (!(w.hi > w.lo)) w = {static_cast<double>(*lo), static_cast<double>(*hi) + 1e-6};
  return w;
}

void label_color(int label, uint8_t rgb[3]) {
  static const uint8_t kColors[][3] = {{230, 25, 75},  {60, 180, 75},   {255, 225, 25}, {0, 130, 200},
                                       {245, 130, 48}, {145, 30, 180},  {70, 240, 240}, {240, 50, 230},
                                       {210, 245, 60}, {250, 190, 212}, {0, 128, 128},  {170, 110, 40}};
  const uint8_t* c = kColors[static_cast<size_t>(std::max(label - 1, 0)) % 12];
  std::copy(c, c + 3, rgb);
}

namespace {

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// Screen layout of a slice: which index axes run across (h) and down (v), and whether they are reversed.
struct SliceLayout {
  int axis = 2, h = 0, v = 1;
  bool flip_h = false, flip_v = false;
  int width = 0, height = 0;  // panel pixels
};

SliceLayout layout_for(const Geometry& g, int axis, int panel_size) {
  SliceLayout l;
  l.axis = axis;
  const int a = axis == 0 ? 1 : 0, b = axis == 2 ? 1 : 2;
  auto comp = [&](int row, int col) { return g.direction[static_cast<size_t>(row * 3 + col)]; };
  // Down the screen: the in-plane axis closest to posterior (anterior at the top); across: the other one,
  // pointing to the patient's left (radiological convention: the patient's right on the image's left).
  l.v = std::fabs(comp(1, a)) >= std::fabs(comp(1, b)) ? a : b;
  l.h = l.v == a ? b : a;
  l.flip_h = comp(0, l.h) < 0;
  l.flip_v = comp(1, l.v) < 0;
  const double w_mm =
      static_cast<double>(g.size[static_cast<size_t>(l.h)]) * g.spacing[static_cast<size_t>(l.h)];
  const double h_mm =
      static_cast<double>(g.size[static_cast<size_t>(l.v)]) * g.spacing[static_cast<size_t>(l.v)];
  const double scale = panel_size / std::max(w_mm, h_mm);
  l.width = std::max(1, static_cast<int>(std::lround(w_mm * scale)));
  l.height = std::max(1, static_cast<int>(std::lround(h_mm * scale)));
  return l;
}

// Continuous index of panel pixel (px, py) along the two in-plane axes.
void panel_to_index(const SliceLayout& l, const Size3& size, int px, int py, double* ch, double* cv) {
  const double nh = static_cast<double>(size[static_cast<size_t>(l.h)]);
  const double nv = static_cast<double>(size[static_cast<size_t>(l.v)]);
  *ch = (px + 0.5) / l.width * nh - 0.5;
  *cv = (py + 0.5) / l.height * nv - 0.5;
  if (l.flip_h) *ch = nh - 1 - *ch;
  if (l.flip_v) *cv = nv - 1 - *cv;
}

template <class T>
T voxel(const Image<T>& image, const SliceLayout& l, int64_t slice, int64_t ih, int64_t iv) {
  int64_t idx[3];
  idx[l.axis] = slice;
  idx[l.h] = ih;
  idx[l.v] = iv;
  return image.at(idx[0], idx[1], idx[2]);
}

// Grey values of the slice, bilinear, windowed; row-major width x height.
std::vector<uint8_t> grey_panel(const Volume& image, const SliceLayout& l, int64_t slice,
                                const DisplayWindow& w) {
  const Size3& s = image.size();
  const int64_t nh = s[static_cast<size_t>(l.h)], nv = s[static_cast<size_t>(l.v)];
  std::vector<uint8_t> out(static_cast<size_t>(l.width) * static_cast<size_t>(l.height));
  for (int py = 0; py < l.height; ++py)
    for (int px = 0; px < l.width; ++px) {
      double ch, cv;
      panel_to_index(l, s, px, py, &ch, &cv);
      ch = std::clamp(ch, 0.0, static_cast<double>(nh - 1));
      cv = std::clamp(cv, 0.0, static_cast<double>(nv - 1));
      const int64_t h0 = static_cast<int64_t>(std::floor(ch)), v0 = static_cast<int64_t>(std::floor(cv));
      const int64_t h1 = std::min(h0 + 1, nh - 1), v1 = std::min(v0 + 1, nv - 1);
      const double fh = ch - static_cast<double>(h0), fv = cv - static_cast<double>(v0);
      const double value =
          (1 - fv) * ((1 - fh) * voxel(image, l, slice, h0, v0) + fh * voxel(image, l, slice, h1, v0)) +
          fv * ((1 - fh) * voxel(image, l, slice, h0, v1) + fh * voxel(image, l, slice, h1, v1));
      const double t = std::clamp((value - w.lo) / (w.hi - w.lo), 0.0, 1.0);
      out[static_cast<size_t>(py) * static_cast<size_t>(l.width) + static_cast<size_t>(px)] =
          static_cast<uint8_t>(std::lround(t * 255));
    }
  return out;
}

// Labels of the slice, nearest neighbour, at panel resolution.
std::vector<uint16_t> label_panel(const LabelMap& labels, const SliceLayout& l, int64_t slice) {
  const Size3& s = labels.size();
  const int64_t nh = s[static_cast<size_t>(l.h)], nv = s[static_cast<size_t>(l.v)];
  std::vector<uint16_t> out(static_cast<size_t>(l.width) * static_cast<size_t>(l.height));
  for (int py = 0; py < l.height; ++py)
    for (int px = 0; px < l.width; ++px) {
      double ch, cv;
      panel_to_index(l, s, px, py, &ch, &cv);
      const int64_t ih = std::clamp<int64_t>(std::lround(ch), 0, nh - 1);
      const int64_t iv = std::clamp<int64_t>(std::lround(cv), 0, nv - 1);
      out[static_cast<size_t>(py) * static_cast<size_t>(l.width) + static_cast<size_t>(px)] =
          voxel(labels, l, slice, ih, iv);
    }
  return out;
}

// A cairo image of the grey slice with the labels blended in (fill) and their borders drawn opaque.
cairo_surface_t* panel_surface(const SliceLayout& l, const std::vector<uint8_t>& grey,
                               const std::vector<uint16_t>* labels, double alpha) {
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, l.width, l.height);
  cairo_surface_flush(surface);
  unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  auto label_at = [&](int x, int y) -> int {
    if (x < 0 || y < 0 || x >= l.width || y >= l.height) return -1;
    return (*labels)[static_cast<size_t>(y) * static_cast<size_t>(l.width) + static_cast<size_t>(x)];
  };
  for (int y = 0; y < l.height; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<ptrdiff_t>(y) * stride);
    for (int x = 0; x < l.width; ++x) {
      const double g = grey[static_cast<size_t>(y) * static_cast<size_t>(l.width) + static_cast<size_t>(x)];
      double rgb[3] = {g, g, g};
      const int label = labels ? label_at(x, y) : 0;
      if (label > 0) {
        uint8_t c[3];
        label_color(label, c);
        const bool edge = label_at(x - 1, y) != label || label_at(x + 1, y) != label ||
                          label_at(x, y - 1) != label || label_at(x, y + 1) != label;
        const double a = edge ? 1.0 : alpha;
        for (int k = 0; k < 3; ++k) rgb[k] = (1 - a) * rgb[k] + a * c[k];
      }
      row[x] = (static_cast<uint32_t>(std::lround(rgb[0])) << 16) |
               (static_cast<uint32_t>(std::lround(rgb[1])) << 8) | static_cast<uint32_t>(std::lround(rgb[2]));
    }
  }
  cairo_surface_mark_dirty(surface);
  return surface;
}

void text_centred(cairo_t* cr, double x, double y, const std::string& text) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  cairo_move_to(cr, x - e.x_advance / 2, y);
  cairo_show_text(cr, text.c_str());
}

}  // namespace

std::string render_overlay_png(const Volume& image, int axis, int64_t slice,
                               const std::vector<OverlayPanel>& panels, const OverlayOptions& options) {
  if (axis < 0 || axis > 2 || slice < 0 || slice >= image.size()[static_cast<size_t>(axis)])
    throw Error(fmt::format("overlay: slice {} along axis {} is outside the image", slice, axis));
  for (const OverlayPanel& p : panels)
    if (p.labels && !p.labels->geometry.same_grid(image.geometry))
      throw Error(fmt::format("overlay: the labels of panel \"{}\" are not on the image's grid ({})", p.title,
                              p.labels->geometry.grid_difference(image.geometry)));
  const SliceLayout l = layout_for(image.geometry, axis, options.panel_size);
  const std::vector<uint8_t> grey = grey_panel(image, l, slice, display_window(image));

  const int gap = 8, title_h = options.title.empty() ? 0 : 24, caption_h = 20, row_h = 18;
  const int n = std::max<int>(1, static_cast<int>(panels.size()));
  const int width = gap + n * (l.width + gap);
  // Legend entries, wrapped into rows that fit the width (measured on a scratch surface first).
  std::vector<std::pair<int, std::string>> entries(options.class_names.begin(), options.class_names.end());
  std::vector<std::pair<double, double>> entry_xy;  // position of each entry relative to the legend
  {
    cairo_surface_t* scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t* m = cairo_create(scratch);
    cairo_select_font_face(m, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(m, 11);
    double x = 0, y = 0;
    for (const auto& entry : entries) {
      cairo_text_extents_t e;
      cairo_text_extents(m, entry.second.c_str(), &e);
      const double w = 16 + e.x_advance + 14;
      if (x > 0 && x + w > width - 2 * gap) {
        x = 0;
        y += row_h;
      }
      entry_xy.emplace_back(x, y);
      x += w;
    }
    cairo_destroy(m);
    cairo_surface_destroy(scratch);
  }
  const int legend_h = entries.empty() ? 0 : static_cast<int>(entry_xy.back().second) + row_h + 6;
  const int height = title_h + caption_h + l.height + gap + legend_h;
  cairo_surface_t* page = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cairo_t* cr = cairo_create(page);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  if (!options.title.empty()) {
    cairo_set_font_size(cr, 13);
    cairo_move_to(cr, gap, 17);
    cairo_show_text(cr, options.title.c_str());
  }
  for (size_t p = 0; p < panels.size(); ++p) {
    const double x = gap + static_cast<double>(p) * (l.width + gap), y = title_h + caption_h;
    std::vector<uint16_t> labels;
    if (panels[p].labels) labels = label_panel(*panels[p].labels, l, slice);
    cairo_surface_t* img = panel_surface(l, grey, panels[p].labels ? &labels : nullptr, options.fill_alpha);
    cairo_set_source_surface(cr, img, x, y);
    cairo_paint(cr);
    cairo_surface_destroy(img);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_centred(cr, x + l.width / 2.0, y - 6, panels[p].title);
    if (!panels[p].labels && !panels[p].note.empty()) {
      cairo_set_source_rgb(cr, 1, 0.85, 0.3);
      text_centred(cr, x + l.width / 2.0, y + l.height / 2.0, panels[p].note);
    }
  }
  // Legend: one swatch per class.
  const double lx = gap, ly = title_h + caption_h + l.height + gap;
  cairo_set_font_size(cr, 11);
  for (size_t e = 0; e < entries.size(); ++e) {
    uint8_t c[3];
    label_color(entries[e].first, c);
    const double x = lx + entry_xy[e].first, y = ly + entry_xy[e].second;
    cairo_rectangle(cr, x, y + 4, 12, 12);
    cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_move_to(cr, x + 16, y + 14);
    cairo_show_text(cr, entries[e].second.c_str());
  }
  const cairo_status_t drawn = cairo_status(cr);
  cairo_destroy(cr);
  std::string png;
  cairo_status_t written = CAIRO_STATUS_SUCCESS;
  if (drawn == CAIRO_STATUS_SUCCESS) written = cairo_surface_write_to_png_stream(page, append_bytes, &png);
  cairo_surface_destroy(page);
  if (drawn != CAIRO_STATUS_SUCCESS || written != CAIRO_STATUS_SUCCESS)
    throw Error(fmt::format("overlay: cannot render PNG: {}",
                            cairo_status_to_string(drawn != CAIRO_STATUS_SUCCESS ? drawn : written)));
  return png;
}

}  // namespace pgl::report
