#pragma once
// Qualitative overlays: one axial slice of a test image with label maps drawn over it (translucent fill and
// an opaque contour per class), one panel per label map, side by side. Shown in radiological convention:
// the patient's right on the left of the image, anterior at the top, square physical pixels.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pgl/core/image.h"

namespace pgl::report {

// Index axis most aligned with the patient's superior-inferior axis: axial slices are normal to it.
int axial_axis(const Geometry& geometry);
// Index along `axis` of the slice holding the most foreground voxels (the lowest such index on ties); the
// middle slice when the map is empty.
int64_t slice_with_most_foreground(const LabelMap& labels, int axis);

// The one slice `index` along `axis` as an image of thickness 1 on that axis, placed where it was (origin
// moved to the slice). Lets a caller keep one slice of each large volume instead of the whole volume.
template <class T>
Image<T> extract_slice(const Image<T>& image, int axis, int64_t index) {
  Geometry g = image.geometry;
  Vec3 start{0, 0, 0};
  start[static_cast<size_t>(axis)] = static_cast<double>(index);
  g.origin = image.geometry.index_to_point(start);
  g.size[static_cast<size_t>(axis)] = 1;
  Image<T> out(g);
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        out.at(i, j, k) = image.at(axis == 0 ? index : i, axis == 1 ? index : j, axis == 2 ? index : k);
  return out;
}

// Intensity window shown from black to white.
struct DisplayWindow {
  double lo = 0, hi = 1;
};
// CT (the image holds values below -500, i.e. air in HU): the abdominal window [-160, 240] HU. Anything
// else: the 1st to 99th percentile of the voxels.
DisplayWindow display_window(const Volume& image);

struct OverlayPanel {
  std::string title;
  const LabelMap* labels = nullptr;  // on the image's grid; nullptr = show the image with `note` over it
  std::string note;
};

struct OverlayOptions {
  std::string title;     // above the panels
  int panel_size = 240;  // pixels of the longer side of a panel
  double fill_alpha = 0.3;
  std::map<int, std::string> class_names;  // legend below the panels (classes drawn in the same colours)
};

// Colour (RGB 0..255) of a class id in overlays.
void label_color(int label, uint8_t rgb[3]);

// PNG bytes of the panels. Throws pgl::Error when a label map is not on the image's grid or the slice is out
// of range.
std::string render_overlay_png(const Volume& image, int axis, int64_t slice,
                               const std::vector<OverlayPanel>& panels, const OverlayOptions& options);

}  // namespace pgl::report
