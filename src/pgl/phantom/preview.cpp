#include "pgl/phantom/preview.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

namespace pgl::phantom {
namespace {

constexpr uint8_t kPalette[16][3] = {{0, 0, 0},     {255, 64, 64},   {64, 200, 64},  {64, 128, 255},
                                     {255, 220, 0}, {255, 128, 0},   {200, 80, 255}, {0, 220, 220},
                                     {255, 0, 160}, {150, 255, 100}, {120, 80, 255}, {255, 170, 120},
                                     {0, 160, 120}, {200, 200, 255}, {180, 120, 60}, {255, 255, 255}};

// One panel: pixel (u, v) shows voxel index(u, v) (nearest), u to the right, v down.
template <class Index>
RgbImage panel(const Volume& image, const LabelMap* labels, int width, int height, Index index) {
  RgbImage out(width, height);
  for (int v = 0; v < height; ++v)
    for (int u = 0; u < width; ++u) {
      int64_t offset = index(u, v);
      double g = (image.data[static_cast<size_t>(offset)] + 160.0) / 400.0;  // W 400 / L 40
      double grey = 255.0 * std::clamp(g, 0.0, 1.0);
      uint8_t* px = out.at(u, v);
      double rgb[3] = {grey, grey, grey};
      if (labels) {
        uint16_t l = labels->data[static_cast<size_t>(offset)];
        if (l > 0)
          for (int c = 0; c < 3; ++c) rgb[c] = 0.55 * rgb[c] + 0.45 * kPalette[(l - 1) % 15 + 1][c];
      }
      for (int c = 0; c < 3; ++c) px[c] = static_cast<uint8_t>(std::lround(rgb[c]));
    }
  return out;
}

}  // namespace

RgbImage render_preview(const Volume& image, const LabelMap* labels, int min_width) {
  const Geometry& g = image.geometry;
  const int64_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
  // Slices through the centroid of the smallest labelled structure (the lesions when there are some; the
  // middle of the volume without labels).
  double c[3] = {0.5 * static_cast<double>(nx - 1), 0.5 * static_cast<double>(ny - 1),
                 0.5 * static_cast<double>(nz - 1)};
  if (labels) {
    std::map<uint16_t, std::array<double, 4>> sums;  // label -> sum i, j, k, count
    for (int64_t k = 0; k < nz; ++k)
      for (int64_t j = 0; j < ny; ++j)
        for (int64_t i = 0; i < nx; ++i)
          if (uint16_t l = labels->data[static_cast<size_t>(image.offset(i, j, k))]; l > 0) {
            auto& s = sums[l];
            s[0] += static_cast<double>(i), s[1] += static_cast<double>(j), s[2] += static_cast<double>(k),
                s[3] += 1;
          }
    const std::array<double, 4>* smallest = nullptr;
    for (const auto& [l, s] : sums)
      if (!smallest || s[3] < (*smallest)[3]) smallest = &s;
    if (smallest)
      for (int a = 0; a < 3; ++a) c[a] = (*smallest)[static_cast<size_t>(a)] / (*smallest)[3];
  }
  const int64_t ci = std::llround(c[0]), cj = std::llround(c[1]), ck = std::llround(c[2]);
  // Square display pixels of d mm.
  const double ex = static_cast<double>(nx) * g.spacing[0], ey = static_cast<double>(ny) * g.spacing[1],
               ez = static_cast<double>(nz) * g.spacing[2];
  const double d = std::min({g.spacing[0], g.spacing[1], g.spacing[2], ex / std::max(1, min_width)});
  const int wx = std::max(1, static_cast<int>(ex / d)), wy = std::max(1, static_cast<int>(ey / d)),
            wz = std::max(1, static_cast<int>(ez / d));
  auto at = [&](double mm, double spacing, int64_t n) {
    return std::clamp<int64_t>(static_cast<int64_t>(mm / spacing), 0, n - 1);
  };
  // Radiological convention: the patient's right on the left, anterior and superior at the top.
  RgbImage axial = panel(image, labels, wx, wy, [&](int u, int v) {
    return image.offset(at((u + 0.5) * d, g.spacing[0], nx), at((v + 0.5) * d, g.spacing[1], ny), ck);
  });
  RgbImage coronal = panel(image, labels, wx, wz, [&](int u, int v) {
    return image.offset(at((u + 0.5) * d, g.spacing[0], nx), cj,
                        nz - 1 - at((v + 0.5) * d, g.spacing[2], nz));
  });
  RgbImage sagittal = panel(image, labels, wy, wz, [&](int u, int v) {
    return image.offset(ci, at((u + 0.5) * d, g.spacing[1], ny),
                        nz - 1 - at((v + 0.5) * d, g.spacing[2], nz));
  });
  const int gap = 4;
  RgbImage out(axial.width + coronal.width + sagittal.width + 2 * gap,
               std::max({axial.height, coronal.height, sagittal.height}));
  int x0 = 0;
  for (const RgbImage* p : {&axial, &coronal, &sagittal}) {
    for (int v = 0; v < p->height; ++v) std::copy(p->at(0, v), p->at(0, v) + 3 * p->width, out.at(x0, v));
    x0 += p->width + gap;
  }
  return out;
}

}  // namespace pgl::phantom
