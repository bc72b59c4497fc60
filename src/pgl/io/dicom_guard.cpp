#include "pgl/io/dicom_guard.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "pgl/core/error.h"
#include "pgl/io/jpeg2000_guard.h"

namespace pgl::io_detail {
namespace {
namespace fs = std::filesystem;

constexpr uint32_t kUndefinedLength = 0xFFFFFFFF;
constexpr int kMaxDepth = 32;  // real files nest sequences a few levels deep

// A file that is not well-formed DICOM. GDCM has heuristics for some such files, and they were where it
// hung or allocated gigabytes (found by fuzz/dicom.cpp): pgl refuses them all.
struct Truncated {
  std::string what;
};

class Walk {
 public:
  explicit Walk(const std::string& path) : in_(path, std::ios::binary), size_(file_size(path)) {}

  bool open() const { return static_cast<bool>(in_); }

  // The file meta group (always explicit VR little endian) and the data set in its transfer syntax. False for
  // a file without the DICM signature.
  bool run() {
    char magic[4];
    if (size_ < 132 || !read(128, magic, 4) || std::memcmp(magic, "DICM", 4) != 0) return false;
    pos_ = 132;
    std::string syntax;
    while (pos_ + 4 <= size_ && peek_group() == 0x0002) {
      Element e = element(true);
      if (e.length == kUndefinedLength) throw Truncated{"undefined length in the file meta group"};
      need(e.length, e);
      if (e.element == 0x0010) syntax = text(e.length);
      pos_ += e.length;
    }
    // GDCM reads the meta group until an element of another group and asserts when it cannot read one more
    // tag (found by fuzz/dicom.cpp: a file that ends with its meta group aborted the process).
    if (pos_ + 4 > size_) throw Truncated{"the file ends with its file meta group (no data set)"};
    while (!syntax.empty() && (syntax.back() == '\0' || syntax.back() == ' ')) syntax.pop_back();
    jpeg2000_ = syntax.rfind("1.2.840.10008.1.2.4.9", 0) == 0 && syntax.size() == 22;  // .90 to .93
    if (syntax == "1.2.840.10008.1.2.1.99") return true;  // deflated: GDCM inflates it first
    little_ = syntax != "1.2.840.10008.1.2.2";
    dataset(size_, syntax != "1.2.840.10008.1.2", 0);
    // Without it GDCM keeps its default of 8 bits and may take more bits stored from a JPEG 2000 header, then
    // asserts BitsStored <= BitsAllocated (found by fuzz/dicom.cpp).
    if (pixel_data_ && bits_allocated_ == 0) throw Truncated{"pixel data without Bits Allocated (0028,0100)"};
    check_jpeg2000(std::exchange(pending_, {}), frames_, rows_, columns_);
    return true;
  }

 private:
  struct Element {
    uint16_t group = 0, element = 0;
    char vr[2] = {0, 0};
    uint32_t length = 0;
    int64_t at = 0;
  };

  static int64_t file_size(const std::string& path) {
    std::error_code ec;
    auto n = fs::file_size(path, ec);
    return ec ? 0 : static_cast<int64_t>(n);
  }

  bool read(int64_t at, char* out, size_t n) {
    in_.clear();
    in_.seekg(at);
    in_.read(out, static_cast<std::streamsize>(n));
    return static_cast<size_t>(in_.gcount()) == n;
  }

  uint32_t number(int bytes, bool little) {
    unsigned char b[4] = {0, 0, 0, 0};
    if (pos_ + bytes > size_ || !read(pos_, reinterpret_cast<char*>(b), static_cast<size_t>(bytes)))
      throw Truncated{fmt::format("the file ends at byte {} inside an element header", size_)};
    pos_ += bytes;
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(b[little ? i : bytes - 1 - i]) << (8 * i);
    return v;
  }

  uint16_t peek_group() {
    int64_t at = pos_;
    auto g = static_cast<uint16_t>(number(2, true));
    pos_ = at;
    return g;
  }

  std::string text(uint32_t length) {
    std::string s(std::min<uint32_t>(length, 256), '\0');
    if (!read(pos_, s.data(), s.size())) throw Truncated{"the file ends inside the transfer syntax"};
    return s;
  }

  Element element(bool explicit_vr, bool little = true) {
    Element e;
    e.at = pos_;
    e.group = static_cast<uint16_t>(number(2, little));
    e.element = static_cast<uint16_t>(number(2, little));
    if (e.group == 0xFFFE || !explicit_vr) {
      e.length = number(4, little);
      return e;
    }
    if (pos_ + 2 > size_ || !read(pos_, e.vr, 2))
      throw Truncated{fmt::format("the file ends at byte {} inside an element header", size_)};
    pos_ += 2;
    static const std::string kVRs =
        "AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT "
        "UV";
    const std::string vr(e.vr, 2);
    if (vr.find(' ') != std::string::npos || kVRs.find(vr) == std::string::npos || kVRs.find(vr) % 3 != 0) {
      // In the file meta group GDCM asserts on it ("Should not happen": abort, found by fuzz/dicom.cpp).
      if (e.group == 0x0002)
        throw Truncated{fmt::format("invalid VR at byte {} of the file meta group", e.at)};
      // In the data set GDCM reads the element as implicit VR, with the 4 bytes after the tag as its length,
      // and allocates and zeroes that many bytes first (20 s for a 3 KB file, found by fuzz/dicom.cpp).
      throw Truncated{fmt::format("invalid VR at byte {}", e.at)};
    }
    static const char* const kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                        "SV", "UC", "UN", "UR", "UT", "UV"};
    bool long_form = false;
    for (const char* v : kLong) long_form = long_form || (e.vr[0] == v[0] && e.vr[1] == v[1]);
    if (long_form) {
      number(2, little);  // reserved
      e.length = number(4, little);
    } else {
      e.length = number(2, little);
    }
    return e;
  }

  void need(uint32_t length, const Element& e) {
    if (pos_ + static_cast<int64_t>(length) > size_)
      throw Truncated{
          fmt::format("element ({:04X},{:04X}) at byte {} declares {} bytes, but the file ends at byte {}",
                      e.group, e.element, e.at, length, size_)};
  }

  // Data elements up to `end`, or, for an item of undefined length (end < 0), up to its delimiter.
  void dataset(int64_t end, bool explicit_vr, int depth) {
    while (true) {
      if (end >= 0 && pos_ >= end) return;
      if (end < 0 && pos_ >= size_) throw Truncated{"the file ends inside an item of undefined length"};
      Element e = element(explicit_vr, little_);
      if (e.group == 0xFFFE) {
        if (e.element == 0xE00D) return;  // item delimiter
        throw Truncated{fmt::format("item tag at byte {} outside a sequence", e.at)};
      }
      if (e.length == kUndefinedLength) {
        // A sequence, encapsulated pixel data, or (VR UN) a sequence in implicit VR.
        bool un = e.vr[0] == 'U' && e.vr[1] == 'N';
        const bool pixel_data = e.group == 0x7FE0;
        items(-1, explicit_vr && !un, depth + 1, pixel_data);
        if (pixel_data && depth == 0)
          pixel_data_ = true, pending_.swap(fragments_);  // decoded once the frame count is known
        if (pixel_data && depth > 0) check_jpeg2000(std::exchange(fragments_, {}), 1, 0, 0);  // an icon
        continue;
      }
      need(e.length, e);
      if (e.group == 0x0028) image_pixel_element(e, depth);
      if (explicit_vr && e.vr[0] == 'S' && e.vr[1] == 'Q') {
        items(pos_ + e.length, true, depth + 1, false);
        if (pos_ != e.at + 12 + static_cast<int64_t>(e.length))
          throw Truncated{fmt::format("the items of the sequence at byte {} overrun it", e.at)};
      } else {
        pos_ += e.length;
      }
    }
  }

  // Items up to `end`, or, for a sequence of undefined length (end < 0), up to its delimiter.
  void items(int64_t end, bool explicit_vr, int depth, bool fragments) {
    if (depth > kMaxDepth) throw Truncated{fmt::format("sequences nested more than {} deep", kMaxDepth)};
    while (true) {
      if (end >= 0 && pos_ >= end) return;
      if (end < 0 && pos_ >= size_) throw Truncated{"the file ends inside a sequence of undefined length"};
      Element e = element(false, little_);
      if (e.element == 0xE0DD && e.group == 0xFFFE) return;  // sequence delimiter
      // Only items may follow: GDCM reads anything else as an item of the length it finds there and
      // allocates and zeroes that many bytes (a 13 s hang, found by fuzz/dicom.cpp).
      if (e.group != 0xFFFE || e.element != 0xE000)
        throw Truncated{
            fmt::format("element ({:04X},{:04X}) at byte {} where a sequence or the pixel data allow "
                        "only items",
                        e.group, e.element, e.at)};
      if (e.length == kUndefinedLength) {
        if (fragments)
          throw Truncated{fmt::format("pixel data fragment of undefined length at byte {}", e.at)};
        dataset(-1, explicit_vr, depth + 1);
        continue;
      }
      need(e.length, e);
      if (fragments) {
        fragments_.emplace_back(pos_, e.length);
        pos_ += e.length;
      } else {
        int64_t item_end = pos_ + e.length;
        dataset(item_end, explicit_vr, depth + 1);
        if (pos_ != item_end)
          throw Truncated{fmt::format("the elements of the item at byte {} overrun it", e.at)};
      }
    }
  }

  // The Image Pixel module values GDCM asserts on (it aborts the process), and those the JPEG 2000 check
  // needs.
  void image_pixel_element(const Element& e, int depth) {
    auto us = [&] {  // a US value in the data set's byte order
      if (e.length < 2) return 0u;
      const int64_t at = pos_;
      const uint32_t v = number(2, little_);
      pos_ = at;
      return v;
    };
    if (e.element == 0x0002) {
      const uint32_t samples = us();
      if (samples != 1 && samples != 3 && samples != 4)  // found by fuzz/dicom.cpp: GDCM asserted on 5
        throw Truncated{
            fmt::format("Samples per Pixel (0028,0002) of {} (DICOM allows 1, 3 and 4)", samples)};
    }
    // Bits Allocated 0 makes GDCM's pixel format "unknown" but keeps Bits Stored, and it asserts
    // BitsStored <= BitsAllocated (found by fuzz/dicom.cpp).
    if (e.element == 0x0100 && e.length >= 2 && us() == 0) throw Truncated{"Bits Allocated (0028,0100) of 0"};
    if (depth > 0) return;
    if (e.element == 0x0100) bits_allocated_ = us();
    if (e.element == 0x0008)
      frames_ = static_cast<int>(std::clamp(std::strtol(text(e.length).c_str(), nullptr, 10), 1L, 1L << 20));
    if (e.element == 0x0010) rows_ = us();
    if (e.element == 0x0011) columns_ = us();
  }

  // The fragments after the basic offset table, each alone (a frame) and all together (GDCM joins a single
  // frame's fragments), as GDCM's JPEG 2000 codec reads them. Then the frames are decoded: a codestream that
  // is damaged inside its coded data passes every structural check, and GDCM leaks OpenJPEG's image when
  // decoding fails (finding 37 of fuzz/dicom.cpp). A single frame is all fragments joined, a multi-frame
  // image one fragment per frame (GDCM's reading); each must be as large as Rows x Columns say (0: unknown).
  void check_jpeg2000(const std::vector<std::pair<int64_t, uint32_t>>& fragments, int frames, uint32_t rows,
                      uint32_t columns) {
    if (!jpeg2000_ || fragments.size() < 2) return;
    std::vector<std::string> data;
    std::string all;
    for (size_t k = 1; k < fragments.size(); ++k) {
      data.emplace_back(fragments[k].second, '\0');
      if (!read(fragments[k].first, data.back().data(), data.back().size()))
        throw Truncated{"the file ends inside pixel data"};
      if (auto problem = jpeg2000_marker_problem(data.back()); !problem.empty())
        throw Truncated{fmt::format("pixel data fragment {}: {}", k, problem)};
      all += data.back();
    }
    if (auto problem = jpeg2000_marker_problem(all); !problem.empty())
      throw Truncated{"pixel data: " + problem};
    if (frames <= 1) {
      if (auto problem = jpeg2000_decode_problem(all, columns, rows, bits_allocated_); !problem.empty())
        throw Truncated{"pixel data: " + problem};
      return;
    }
    for (size_t k = 0; k < data.size(); ++k)
      if (auto problem = jpeg2000_decode_problem(data[k], columns, rows, bits_allocated_); !problem.empty())
        throw Truncated{fmt::format("pixel data fragment {}: {}", k + 1, problem)};
  }

  std::ifstream in_;
  int64_t size_;
  bool jpeg2000_ = false;
  int frames_ = 1;                                        // (0028,0008) Number of Frames
  uint32_t rows_ = 0, columns_ = 0, bits_allocated_ = 0;  // (0028,0010), (0028,0011), (0028,0100)
  bool pixel_data_ = false;
  std::vector<std::pair<int64_t, uint32_t>> fragments_, pending_;
  int64_t pos_ = 0;
  bool little_ = true;
};

}  // namespace

std::vector<std::string> checked_dicom_files(const std::string& folder) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const std::string path = entry.path().string();
    Walk walk(path);
    if (!walk.open()) continue;
    try {
      if (walk.run()) files.push_back(path);
    } catch (const Truncated& t) {
      throw Error(path, "truncated or corrupt DICOM file: " + t.what);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace pgl::io_detail
