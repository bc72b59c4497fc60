#include "pgl/core/png.h"

#include <png.h>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"

namespace pgl {

void write_png(const RgbImage& image, const std::string& path) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 3)
    throw Error(path, "cannot write an empty or inconsistent RGB image as PNG");
  write_atomically(path, [&](const std::string& tmp) {
    // libpng's simplified API reports errors through the struct, so no setjmp crosses C++ frames.
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    png.width = static_cast<png_uint_32>(image.width);
    png.height = static_cast<png_uint_32>(image.height);
    png.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&png, tmp.c_str(), 0, image.pixels.data(), image.width * 3, nullptr)) {
      std::string why = png.message;
      png_image_free(&png);
      throw Error(path, "cannot write PNG: " + why);
    }
  });
}

}  // namespace pgl
