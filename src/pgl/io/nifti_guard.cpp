#include "pgl/io/nifti_guard.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "pgl/core/error.h"

namespace pgl::io_detail {
namespace {

constexpr int kNifti1HeaderBytes = 348;
constexpr int16_t kFloat32 = 16, kFloat64 = 64;

template <class T>
T field(const unsigned char* header, size_t offset, bool swap) {
  T v;
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, header + offset, sizeof(T));
  if (swap)
    for (size_t a = 0, b = sizeof(T) - 1; a < b; ++a, --b) std::swap(bytes[a], bytes[b]);
  std::memcpy(&v, bytes, sizeof(T));
  return v;
}

// Uncompressed length recorded in a gzip trailer (modulo 2^32), or -1 when unreadable.
int64_t gzip_trailer_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() < 18) return -1;
  in.seekg(-4, std::ios::end);
  unsigned char b[4];
  in.read(reinterpret_cast<char*>(b), 4);
  return static_cast<int64_t>(b[0]) | static_cast<int64_t>(b[1]) << 8 | static_cast<int64_t>(b[2]) << 16 |
         static_cast<int64_t>(b[3]) << 24;
}

// Bytes per value of a NIfTI datatype code (0 when unknown), as nifti1_io's nifti_datatype_sizes.
int64_t datatype_bytes(int16_t datatype) {
  switch (datatype) {
    case 2:
    case 256:
      return 1;  // uint8, int8
    case 4:
    case 512:
      return 2;  // int16, uint16
    case 8:
    case 16:
    case 768:
    case 2304:
      return 4;  // int32, float32, uint32, RGBA32
    case 128:
      return 3;  // RGB24
    case 32:
    case 64:
    case 1024:
    case 1280:
      return 8;  // complex64, float64, int64, uint64
    case 1536:
    case 1792:
      return 16;  // float128, complex128
    case 2048:
      return 32;  // complex256
    default:
      return 0;
  }
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

template <class T>
void count_non_finite(const unsigned char* data, size_t count, bool swap, int64_t base, NiftiPayload& out) {
  for (size_t n = 0; n < count; ++n) {
    T v = field<T>(data, n * sizeof(T), swap);
    if (!std::isfinite(v)) {
      if (out.first_bad < 0) out.first_bad = base + static_cast<int64_t>(n);
      ++out.non_finite;
    }
  }
}

}  // namespace

NiftiPayload inspect_nifti_payload(const std::string& path, int64_t voxels, bool check_values) {
  NiftiPayload out;
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));  // also reads plain files
  if (!file) throw Error(path, "cannot open file");
  unsigned char header[kNifti1HeaderBytes];
  if (gzread(file.get(), header, kNifti1HeaderBytes) != kNifti1HeaderBytes)
    throw Error(path, "file is truncated: incomplete NIfTI header");
  int32_t size_native = field<int32_t>(header, 0, false);
  bool swap = size_native != kNifti1HeaderBytes;
  if (swap && field<int32_t>(header, 0, true) != kNifti1HeaderBytes) return out;  // NIfTI-2 etc.: ITK's job
  int16_t datatype = field<int16_t>(header, 70, swap);
  int16_t bitpix = field<int16_t>(header, 72, swap);
  double vox_offset = std::max<double>(352, field<float>(header, 108, swap));
  // (4e27 made the cast below undefined, found by fuzz/nifti.cpp.)
  if (!(vox_offset < 1e15)) throw Error(path, fmt::format("invalid NIfTI header: vox_offset {}", vox_offset));
  if (bitpix <= 0 || bitpix % 8 != 0) return out;  // ITK refuses these with its own message
  // The value size as nifti1_io takes it, from the datatype: a corrupt bitpix (30480) made the buffer below
  // 4 GB (found by fuzz/nifti_gz.cpp).
  const int64_t value_bytes = datatype_bytes(datatype);
  if (value_bytes == 0) return out;  // unknown datatype: ITK refuses it
  const int64_t needed = static_cast<int64_t>(vox_offset) + voxels * value_bytes;
  bool floating = check_values && (datatype == kFloat32 || datatype == kFloat64);
  bool compressed = gzdirect(file.get()) == 0;
  if (!floating) {
    if (!compressed) {
      std::ifstream in(path, std::ios::binary | std::ios::ate);
      if (static_cast<int64_t>(in.tellg()) < needed)
        throw Error(path, fmt::format("file is truncated: header declares {} bytes, file has {}", needed,
                                      static_cast<int64_t>(in.tellg())));
      return out;
    }
    if (gzip_trailer_size(path) == (needed & 0xffffffffLL)) return out;
  }
  // Stream the payload: count what is there and, for floating point, check every value.
  if (gzseek(file.get(), static_cast<z_off_t>(vox_offset), SEEK_SET) < 0)
    throw Error(path, "file is truncated or corrupt: cannot reach the voxel data");
  std::vector<unsigned char> buffer(static_cast<size_t>(value_bytes) << 16);
  int64_t remaining = voxels * value_bytes, done_values = 0;
  while (remaining > 0) {
    auto want = static_cast<unsigned>(std::min<int64_t>(remaining, static_cast<int64_t>(buffer.size())));
    int got = gzread(file.get(), buffer.data(), want);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      throw Error(path, fmt::format("corrupt compressed data ({})", message ? message : "zlib error"));
    }
    if (got == 0)
      throw Error(path, fmt::format("file is truncated: {} of {} voxels present", done_values, voxels));
    if (got % value_bytes != 0 && static_cast<unsigned>(got) == want) return out;  // cannot happen; be safe
    size_t values = static_cast<size_t>(got / value_bytes);
    if (floating && datatype == kFloat32)
      count_non_finite<float>(buffer.data(), values, swap, done_values, out);
    if (floating && datatype == kFloat64)
      count_non_finite<double>(buffer.data(), values, swap, done_values, out);
    done_values += static_cast<int64_t>(values);
    remaining -= got;
  }
  return out;
}

void check_nifti_geometry(const std::string& path) {
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) return;  // read_header reports it
  unsigned char h[540] = {};
  const int got = gzread(file.get(), h, sizeof h);
  if (got < kNifti1HeaderBytes) return;
  // The version by its magic and the byte order by dim[0] (1..7), as nifti1_io decides them: it reads a
  // header whose sizeof_hdr is wrong (488, -130724: found by fuzz/nifti.cpp and fuzz/nifti_gz.cpp).
  const bool nifti2 = std::memcmp(h + 4, "n+2", 4) == 0 || std::memcmp(h + 4, "ni2", 4) == 0;
  if (nifti2 && got < 540) return;
  const bool swap = nifti2 ? static_cast<uint64_t>(field<int64_t>(h, 16, false)) > 7
                           : static_cast<uint16_t>(field<int16_t>(h, 40, false)) > 7;
  auto value = [&](size_t float_offset, size_t double_offset, size_t i) {
    return nifti2 ? field<double>(h, double_offset + 8 * i, swap)
                  : static_cast<double>(field<float>(h, float_offset + 4 * i, swap));
  };
  // Generous for millimetres; beyond them the SVD takes seconds (-1.7e38 in srow: a 10 s hang).
  auto bad = [](double v, double limit) { return !std::isfinite(v) || std::fabs(v) > limit; };
  std::string problem;
  for (size_t i = 0; i < 4; ++i)
    if (bad(value(76, 104, i), 1e6)) problem = "pixdim";
  const int qform = nifti2 ? field<int32_t>(h, 344, swap) : field<int16_t>(h, 252, swap);
  const int sform = nifti2 ? field<int32_t>(h, 348, swap) : field<int16_t>(h, 254, swap);
  for (size_t i = 0; qform > 0 && i < 6; ++i)  // quatern_b, c, d, qoffset_x, y, z
    if (bad(value(256, 352, i), i < 3 ? 1e3 : 1e7)) problem = "qform";
  for (size_t i = 0; sform > 0 && i < 12; ++i)  // srow_x, srow_y, srow_z
    if (bad(value(280, 400, i), 1e7)) problem = "sform";
  if (!problem.empty())
    throw Error(path, "invalid NIfTI header: " + problem + " holds a non-finite or absurd value");
}

}  // namespace pgl::io_detail
