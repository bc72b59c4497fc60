#include "pgl/io/jpeg2000_guard.h"

#include <fmt/format.h>
#include <openjpeg.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

namespace pgl::io_detail {
namespace {

// The signature box that starts a JP2 file (a bare codestream starts with its SOC marker instead).
constexpr unsigned char kJp2[12] = {0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A};

// GDCM's JPEG 2000 codec walks the codestream's marker segments (or the JP2 boxes around it) on its own,
// after OpenJPEG has read the header and without bounds checks: a segment that runs past the data, or a
// COD segment cut short, made it read outside its buffer (SEGV in JPEG2000Codec::GetHeaderInfo, found by
// fuzz/dicom.cpp). The same walk, bounded. Returns what is wrong, or "" where GDCM's walk stays inside.
std::string codestream_problem(const unsigned char* p, size_t n) {
  auto be16 = [&](size_t at) { return static_cast<uint16_t>(p[at] << 8 | p[at + 1]); };
  auto no_length = [](uint16_t m) {
    return (m >= 0xFF30 && m <= 0xFF3F) || m == 0xFF4F || m == 0xFF93 || m == 0xFFD9 || m == 0xFF92;
  };
  for (size_t at = 0; at + 2 <= n;) {
    const uint16_t marker = be16(at);
    at += 2;
    if (no_length(marker)) {
      if (marker == 0xFF93) return "";  // start of data: GDCM's walk ends here
      continue;
    }
    if (at + 2 > n || be16(at) < 2) return "";  // GDCM's walk ends here too
    const size_t length = be16(at) - 2u;
    at += 2;
    if (length > n - at)
      return fmt::format("JPEG 2000 marker segment {:04X} at byte {} runs {} bytes past the codestream",
                         marker, at - 4, length - (n - at));
    if (marker == 0xFF52) {  // COD: GDCM reads the transform bytes 4 and 9 of it
      if (length < 10) return fmt::format("JPEG 2000 COD segment of {} bytes (at least 10)", length);
      if (p[at + 4] > 1 || p[at + 9] != 1) return "";  // GDCM's walk ends here
    }
    at += length;
  }
  return "";
}

}  // namespace

std::string jpeg2000_marker_problem(const std::string& data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  if (n < sizeof kJp2) return fmt::format("JPEG 2000 data of {} bytes", n);
  if (std::memcmp(p, kJp2, sizeof kJp2) != 0) return codestream_problem(p, n);
  // A JP2 file: boxes of 4-byte length (1: an 8-byte length follows; 0, for the codestream box: to the end)
  // and 4-byte type, up to the codestream box.
  for (size_t at = 0; at + 8 <= n;) {
    uint64_t length = 0;
    for (int i = 0; i < 4; ++i) length = length << 8 | p[at + i];
    const bool codestream = std::memcmp(p + at + 4, "jp2c", 4) == 0;
    at += 8;
    if (length == 1) {
      if (at + 8 > n) return "JP2 box with an extended length cut short";
      length = 0;
      for (int i = 0; i < 8; ++i) length = length << 8 | p[at + i];
      at += 8;
      if (length < 8) return "JP2 box with an extended length under 8";
      length -= 8;
    }
    if (codestream && length == 0) length = n - at + 8;
    if (length < 8 || length - 8 > n - at)
      return fmt::format("JP2 box at byte {} of {} bytes does not fit the data", at - 8, length);
    if (codestream) return codestream_problem(p + at, static_cast<size_t>(length - 8));
    at += static_cast<size_t>(length - 8);
  }
  return "";
}

namespace {

// OpenJPEG reads the codestream through callbacks; this one serves it from memory.
struct MemoryStream {
  const unsigned char* data;
  size_t size;
  size_t at = 0;
};

OPJ_SIZE_T read_stream(void* buffer, OPJ_SIZE_T n, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (s->at >= s->size) return static_cast<OPJ_SIZE_T>(-1);  // OpenJPEG's end of stream
  n = std::min<OPJ_SIZE_T>(n, s->size - s->at);
  std::memcpy(buffer, s->data + s->at, n);
  s->at += n;
  return n;
}

OPJ_OFF_T skip_stream(OPJ_OFF_T n, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (n < 0)
    n = -static_cast<OPJ_OFF_T>(std::min<size_t>(s->at, static_cast<size_t>(-n)));
  else
    n = static_cast<OPJ_OFF_T>(std::min<size_t>(s->size - s->at, static_cast<size_t>(n)));
  s->at += static_cast<size_t>(n);
  return n;
}

OPJ_BOOL seek_stream(OPJ_OFF_T to, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (to < 0 || static_cast<uint64_t>(to) > s->size) return OPJ_FALSE;
  s->at = static_cast<size_t>(to);
  return OPJ_TRUE;
}

void keep_first_error(const char* message, void* user) {
  auto* first = static_cast<std::string*>(user);
  if (!first->empty()) return;
  *first = message;
  while (!first->empty() && (first->back() == '\n' || first->back() == ' ')) first->pop_back();
}

// Samples a decoded image may hold: 2^28 (a 16384 x 16384 slice) is far beyond any CT or MR slice and keeps a
// hostile header from making OpenJPEG allocate gigabytes.
constexpr uint64_t kMaxSamples = uint64_t{1} << 28;

}  // namespace

std::string jpeg2000_decode_problem(std::string data, uint32_t width, uint32_t height, uint32_t bits) {
  if (auto end = data.find_last_of('\xD9'); end != std::string::npos) data.resize(end + 1);
  const bool jp2 = data.size() >= sizeof kJp2 && std::memcmp(data.data(), kJp2, sizeof kJp2) == 0;
  // Before the codec and the stream, which point at them, so that they outlive both.
  std::string error;
  MemoryStream source{reinterpret_cast<const unsigned char*>(data.data()), data.size()};
  std::unique_ptr<opj_codec_t, decltype(&opj_destroy_codec)> codec(
      opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K), opj_destroy_codec);
  std::unique_ptr<opj_stream_t, decltype(&opj_stream_destroy)> stream(opj_stream_create(1 << 16, OPJ_TRUE),
                                                                      opj_stream_destroy);
  if (!codec || !stream) return "OpenJPEG could not start";
  opj_set_error_handler(codec.get(), keep_first_error, &error);
  opj_set_warning_handler(
      codec.get(), [](const char*, void*) {}, nullptr);
  opj_set_info_handler(
      codec.get(), [](const char*, void*) {}, nullptr);
  opj_stream_set_user_data(stream.get(), &source, nullptr);
  opj_stream_set_user_data_length(stream.get(), data.size());
  opj_stream_set_read_function(stream.get(), read_stream);
  opj_stream_set_skip_function(stream.get(), skip_stream);
  opj_stream_set_seek_function(stream.get(), seek_stream);
  opj_dparameters_t parameters;
  opj_set_default_decoder_parameters(&parameters);
  opj_image_t* raw = nullptr;
  const bool header =
      opj_setup_decoder(codec.get(), &parameters) && opj_read_header(stream.get(), codec.get(), &raw);
  std::unique_ptr<opj_image_t, decltype(&opj_image_destroy)> image(raw, opj_image_destroy);
  auto reason = [&](const char* what) {
    return fmt::format("OpenJPEG cannot {}{}", what, error.empty() ? "" : ": " + error);
  };
  if (!header || !image) return reason("read the JPEG 2000 header");
  const uint64_t samples = uint64_t{image->x1 - image->x0} * (image->y1 - image->y0) * image->numcomps;
  if (samples > kMaxSamples)
    return fmt::format("JPEG 2000 image of {} x {} x {} samples (at most {})", image->x1 - image->x0,
                       image->y1 - image->y0, image->numcomps, kMaxSamples);
  if ((width && image->x1 - image->x0 != width) || (height && image->y1 - image->y0 != height))
    return fmt::format("JPEG 2000 image of {} x {} in a DICOM image of {} x {}", image->x1 - image->x0,
                       image->y1 - image->y0, width, height);
  if (!opj_decode(codec.get(), stream.get(), image.get()) || !opj_end_decompress(codec.get(), stream.get()))
    return reason("decode the JPEG 2000 codestream");
  for (OPJ_UINT32 c = 0; c < image->numcomps; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    const opj_image_comp_t& first = image->comps[0];
    if (comp.prec > 32 || (bits && comp.prec > bits) || comp.w != first.w || comp.h != first.h ||
        comp.dx != first.dx || comp.dy != first.dy || comp.prec != first.prec || comp.sgnd != first.sgnd)
      return fmt::format("JPEG 2000 component {} of {} bits that GDCM does not decode", c, comp.prec);
  }
  return "";
}

}  // namespace pgl::io_detail
