#include "fuzz_support.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "pgl/core/error.h"
#include "pgl/io/volume_io.h"

namespace pgl::fuzz {
namespace fs = std::filesystem;

namespace {
std::string make_scratch_dir() {
  std::string tmpl = (fs::temp_directory_path() / "pgl-fuzz-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    std::perror("pgl fuzz: mkdtemp");
    std::abort();
  }
  std::string dir = fs::canonical(tmpl).string();  // readers report canonical paths (data sets)
  static std::string removed_at_exit;
  removed_at_exit = dir;
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(removed_at_exit, ec);
  });
  return dir;
}
}  // namespace

const std::string& scratch_dir() {
  static const std::string dir = make_scratch_dir();
  return dir;
}

std::string scratch_path(const std::string& relative) {
  fs::path p = fs::path(scratch_dir()) / relative;
  fs::create_directories(p.parent_path());
  return p.string();
}

void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  require(static_cast<bool>(out), "cannot write " + path);
}

void write_file(const std::string& path, const std::string& bytes) {
  write_file(path, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(static_cast<bool>(in), "cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string gzip(const uint8_t* data, size_t size) {
  z_stream z{};
  require(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
  std::string out(deflateBound(&z, static_cast<uLong>(size)) + 32, '\0');
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  deflateEnd(&z);
  require(rc == Z_STREAM_END, "deflate");
  out.resize(z.total_out);
  return out;
}

bool starts_with(const uint8_t* data, size_t size, const std::string& prefix) {
  return size >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), reinterpret_cast<const char*>(data));
}

void require(bool condition, const std::string& what) {
  if (condition) return;
  std::fprintf(stderr, "pgl fuzz: contract broken: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

Outcomes& outcomes() {
  static Outcomes o;
  return o;
}

bool attempt(const std::function<void()>& read) {
  try {
    read();
    ++outcomes().succeeded;
    return true;
  } catch (const Error& e) {
    std::string message = e.what();
    require(!message.empty(), "pgl::Error with an empty message");
    require(message.find('\n') == std::string::npos, "pgl::Error message of several lines: " + message);
    require(message.find(scratch_dir()) != std::string::npos,
            "pgl::Error does not name the file: " + message);
    ++outcomes().refused;
    outcomes().last_error = message;
    return false;
  }
}

void read_image_all_ways(const std::string& path) {
  if (!attempt([&] { read_image_info(path); })) return;
  attempt([&] {
    ImageInfo info;
    Volume v = read_volume(path, &info);
    require(v.data.size() == static_cast<size_t>(v.geometry.voxels()),
            "volume size differs from its geometry");
    for (float x : v.data) require(std::isfinite(x), "read_volume returned a non-finite voxel");
  });
  attempt([&] {
    LabelMap l = read_label_map(path);
    require(l.data.size() == static_cast<size_t>(l.geometry.voxels()),
            "label map size differs from its geometry");
  });
}

std::string source_dir() { return fs::path(__FILE__).parent_path().string(); }  // CMake passes absolute paths

std::vector<std::string> replay_inputs(const std::string& target) {
  std::vector<std::string> inputs;
  for (const char* folder : {"corpus", "regressions"}) {
    fs::path dir = fs::path(source_dir()) / folder / target;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string name = e.path().filename().string();
      if (e.is_regular_file() && name[0] != '.' && name.rfind("README", 0) != 0)
        inputs.push_back(e.path().string());
    }
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

}  // namespace pgl::fuzz
