#pragma once
// 8-bit RGB images and PNG output (libpng), for previews and report figures.
#include <cstdint>
#include <string>
#include <vector>

namespace pgl {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // row-major, 3 bytes (R, G, B) per pixel, top row first

  RgbImage() = default;
  RgbImage(int w, int h, uint8_t fill = 0)
      : width(w), height(h), pixels(static_cast<size_t>(w) * static_cast<size_t>(h) * 3, fill) {}
  uint8_t* at(int x, int y) { return &pixels[(static_cast<size_t>(y) * static_cast<size_t>(width) + x) * 3]; }
  const uint8_t* at(int x, int y) const {
    return &pixels[(static_cast<size_t>(y) * static_cast<size_t>(width) + x) * 3];
  }
};

// Writes the image as an RGB PNG, atomically. Throws pgl::Error naming the path on failure.
void write_png(const RgbImage& image, const std::string& path);

}  // namespace pgl
