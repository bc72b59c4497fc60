#include "pgl/io/data_file_guard.h"

#include <NrrdIO.h>
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <vector>

#include "pgl/core/error.h"

namespace pgl::io_detail {
namespace {
namespace fs = std::filesystem;

// Deflate cannot compress better than about 1032:1 (the bound read_header uses for compressed files too).
constexpr double kMaxCompressionRatio = 1100.0;
constexpr size_t kMaxHeaderBytes = 1 << 16;

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct DataFields {
  std::string data_file;  // "" when the data follows the header
  std::string encoding;   // "raw", "compressed" (zlib or gzip), "text" or "other"
  double header_bytes = 0;
  double compressed_bytes = -1;  // MetaImage's CompressedDataSize: MetaIO inflates only that many bytes
  bool has_compressed_size = false;
  std::string problem;  // set when the header must not reach ITK
};

// NRRD: "field: value" lines up to the first empty line; "data file" (or "datafile") and "encoding".
// NrrdIO leaks its line buffers when it refuses a header (found by fuzz/nrrd.cpp: a header without "sizes"),
// so the fields it requires are checked here first: type, dimension (1..16), as many positive sizes,
// encoding.
DataFields nrrd_fields(std::istream& in) {
  DataFields f;
  f.encoding = "raw";
  std::string line;
  std::getline(in, line);
  f.header_bytes = static_cast<double>(line.size() + 1);
  if (line.rfind("NRRD000", 0) != 0) return f;  // not NRRD: ITK refuses it
  std::map<std::string, std::string> fields;
  while (std::getline(in, line) && f.header_bytes < kMaxHeaderBytes) {
    f.header_bytes += static_cast<double>(line.size() + 1);
    if (trim(line).empty()) break;
    auto colon = line.find(": ");
    if (line[0] == '#' || colon == std::string::npos) continue;
    std::string key = lower(trim(line.substr(0, colon))), value = trim(line.substr(colon + 2));
    if (!fields.emplace(key, value).second) f.problem = "the field '" + key + "' is given twice";
    if (key == "data file" || key == "datafile") f.data_file = value;
    if (key == "encoding") {
      value = lower(value);
      if (value == "raw")
        f.encoding = "raw";
      else if (value == "ascii" || value == "text" || value == "txt" || value == "hex")
        f.encoding = "text";
      else if (value == "gzip" || value == "gz")
        f.encoding = "compressed";
      else
        f.encoding = "other";  // bzip2 (which ITK's NrrdIO cannot read) or unknown: left to ITK
    }
  }
  for (const char* required : {"type", "dimension", "sizes", "encoding"})
    if (!fields.count(required))
      f.problem = std::string("the header lacks the required field '") + required + "'";
  if (!f.problem.empty()) return f;
  std::istringstream sizes(fields["sizes"]);
  const long dimension = std::strtol(fields["dimension"].c_str(), nullptr, 10);
  long count = 0;
  for (std::string size; sizes >> size; ++count)
    if (size.find_first_not_of("0123456789") != std::string::npos ||
        std::strtol(size.c_str(), nullptr, 10) < 1)
      f.problem = "invalid sizes '" + fields["sizes"] + "'";
  if (dimension < 1 || dimension > 16 || count != dimension)
    f.problem = "sizes '" + fields["sizes"] + "' do not match dimension '" + fields["dimension"] + "'";
  return f;
}

// MetaImage: "Key = Value" lines up to ElementDataFile (the last field); "CompressedData".
DataFields meta_fields(std::istream& in) {
  DataFields f;
  f.encoding = "raw";
  std::string line;
  // MetaIO copies field names and string values into 255-byte buffers with strcpy (a 304-byte line: a
  // fortified abort, found by fuzz/metaimage.cpp); numeric arrays are parsed, not copied.
  static const std::set<std::string> kArrays = {
      "TransformMatrix",  "Rotation",       "Orientation", "Offset",  "Position",   "Origin",
      "CenterOfRotation", "ElementSpacing", "ElementSize", "DimSize", "ElementMin", "ElementMax"};
  long ndims = -1;  // until NDims is read, any array is inconsistent
  std::set<std::string> seen;
  while (std::getline(in, line) && f.header_bytes < kMaxHeaderBytes) {
    f.header_bytes += static_cast<double>(line.size() + 1);
    auto equals = line.find('=');
    if (equals == std::string::npos && line.size() > 200) f.problem = "a header line is too long";
    if (equals == std::string::npos) continue;
    std::string key = trim(line.substr(0, equals)), value = trim(line.substr(equals + 1));
    if (key.size() > 200 || (value.size() > 200 && !kArrays.count(key)))
      f.problem = "header field '" + key.substr(0, 40) + "' is too long";
    const std::string name = lower(key);  // MetaIO matches field names whatever their case
    // MetaIO takes any value starting with T or t as true ("TCompr": a leak, found by fuzz/metaimage.cpp).
    if (name == "compresseddata") f.encoding = value[0] == 'T' || value[0] == 't' ? "compressed" : "raw";
    if (name == "compresseddatasize") {
      f.compressed_bytes = value.empty() ? 0 : std::atof(value.c_str());
      f.has_compressed_size = true;
    }
    // MetaIO sizes its buffers from NDims but reads as many values as the arrays hold (a heap write past the
    // end in MET_DoubleToValue: NDims = 2 with DimSize = 8 8 8, found by fuzz/metaimage.cpp).
    if (name == "ndims") ndims = std::atol(value.c_str());
    if (name == "dimsize" || name == "elementspacing" || name == "elementsize" || name == "offset" ||
        name == "origin" || name == "position" || name == "centerofrotation") {
      std::istringstream values(value);
      long count = 0;
      for (std::string v; values >> v;) ++count;
      if (count != ndims)
        f.problem =
            "'" + key + "' holds " + std::to_string(count) + " values for NDims " + std::to_string(ndims);
    }
    if ((name == "transformmatrix" || name == "rotation" || name == "orientation")) {
      std::istringstream values(value);
      long count = 0;
      for (std::string v; values >> v;) ++count;
      if (count != ndims * ndims)
        f.problem =
            "'" + key + "' holds " + std::to_string(count) + " values for NDims " + std::to_string(ndims);
    }
    seen.insert(name);
    if (name == "elementdatafile") {
      // MetaIO leaks its buffers reading data without them (found by fuzz/metaimage.cpp).
      for (const char* required : {"ndims", "dimsize", "elementtype"})
        if (!seen.count(required))
          f.problem = std::string("the header lacks the required field '") + required + "'";
      if (value != "LOCAL") f.data_file = value;
      break;
    }
  }
  return f;
}

// How many bytes the zlib or gzip stream at `offset` of `path` (`limit` bytes of it when >= 0) inflates to,
// counting up to `enough` at most; -1 when the stream is corrupt.
double inflated_bytes(const std::string& path, double offset, double limit, double enough) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  z_stream z{};
  if (!in || inflateInit2(&z, 15 + 32) != Z_OK) return -1;  // 15 + 32: zlib or gzip header
  std::vector<unsigned char> input(1 << 16), output(1 << 16);
  double total = 0, left = limit >= 0 ? limit : 1e300;
  int rc = Z_OK;
  while (rc == Z_OK && total < enough) {
    if (z.avail_in == 0) {
      in.read(reinterpret_cast<char*>(input.data()),
              static_cast<std::streamsize>(std::min<double>(left, static_cast<double>(input.size()))));
      left -= static_cast<double>(in.gcount());
      z.next_in = input.data();
      z.avail_in = static_cast<uInt>(in.gcount());
      if (z.avail_in == 0) break;  // the stream ends early
    }
    z.next_out = output.data();
    z.avail_out = static_cast<uInt>(output.size());
    rc = inflate(&z, Z_NO_FLUSH);
    total += static_cast<double>(output.size() - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_OK || rc == Z_STREAM_END ? total : -1;
}

std::string first_line(const std::string& s) {
  std::string line = trim(s.substr(0, s.find('\n')));
  return line.empty() ? "unknown NRRD error" : line;
}

}  // namespace

void check_data_file(const std::string& path, bool nrrd, double declared_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return;  // read_header reports it
  DataFields f = nrrd ? nrrd_fields(in) : meta_fields(in);
  if (!f.problem.empty())
    throw Error(path, fmt::format("invalid {} header: {}", nrrd ? "NRRD" : "MetaImage", f.problem));
  std::error_code ec;
  double available = 0;
  if (f.data_file.empty()) {
    available = static_cast<double>(fs::file_size(path, ec)) - f.header_bytes;
  } else {
    if (f.data_file.rfind("LIST", 0) == 0 || f.data_file.find('%') != std::string::npos)
      throw Error(path,
                  fmt::format("data file '{}': pgl reads voxel data from one data file, not from a list or "
                              "numbered pattern of files",
                              f.data_file));
    fs::path data = fs::path(f.data_file).is_absolute() ? fs::path(f.data_file)
                                                        : fs::path(path).parent_path() / f.data_file;
    if (!fs::is_regular_file(data, ec))
      throw Error(path, fmt::format("data file '{}' does not exist (or is not a file)", f.data_file));
    available = static_cast<double>(fs::file_size(data, ec));
  }
  // MetaIO allocates CompressedDataSize - 1 bytes and more without checking it (an empty value: a request
  // for 2^64 bytes, found by fuzz/metaimage.cpp).
  if (!nrrd && f.has_compressed_size && !(f.compressed_bytes >= 1 && f.compressed_bytes <= available))
    throw Error(path, fmt::format("invalid MetaImage header: CompressedDataSize {} for {:.0f} bytes of data",
                                  f.compressed_bytes, available));
  if (ec || declared_bytes < 0) return;
  double limit = f.encoding == "raw"    ? available
                 : f.encoding == "text" ? available * 8  // at least one character per value of up to 8 bytes
                                        : available * kMaxCompressionRatio;
  if (declared_bytes <= limit && f.encoding == "compressed") {
    // NrrdIO and MetaIO leak their zlib state when the compressed data is corrupt or ends early (found by
    // fuzz/nrrd.cpp and fuzz/metaimage.cpp): it is inflated here first.
    const std::string data =
        f.data_file.empty() ? path : (fs::path(path).parent_path() / f.data_file).string();
    // MetaIO also leaks when the data inflates to more than the image needs: it must match exactly.
    double inflated = inflated_bytes(data, f.data_file.empty() ? f.header_bytes : 0, f.compressed_bytes,
                                     nrrd ? declared_bytes : declared_bytes + 1);
    if (inflated < 0) throw Error(path, "compressed voxel data is corrupt");
    if (inflated < declared_bytes || (!nrrd && inflated > declared_bytes))
      throw Error(path,
                  fmt::format("compressed voxel data inflates to {}{:.0f} bytes, the header declares {:.0f}",
                              inflated > declared_bytes ? "more than " : "", inflated, declared_bytes));
  }
  if (declared_bytes > limit)
    throw Error(path,
                fmt::format("header declares {:.0f} bytes of voxels, more than its {} data ({:.0f} bytes{}) "
                            "can hold",
                            declared_bytes, f.encoding, std::max(available, 0.0),
                            f.data_file.empty() ? "" : " in " + f.data_file));
}

void preload_nrrd(const std::string& path) {
  std::unique_ptr<Nrrd, Nrrd* (*)(Nrrd*)> nrrd(nrrdNew(), nrrdNuke);
  if (nrrdLoad(nrrd.get(), path.c_str(), nullptr) == 0) return;
  char* text = biffGetDone(NRRD);
  std::string message = text ? text : "";
  std::free(text);
  throw Error(path, "cannot read voxel data (truncated or corrupt file?): " + first_line(message));
}

}  // namespace pgl::io_detail
