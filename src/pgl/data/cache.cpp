#include "pgl/data/cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/core/hash.h"
#include "pgl/core/progress.h"
#include "pgl/io/volume_io.h"

namespace pgl {
namespace fs = std::filesystem;
using nlohmann::json;

std::string default_cache_root() {
  if (const char* env = std::getenv("PGL_CACHE"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/pgl";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/pgl";
  return ".pgl-cache";
}

namespace {

constexpr int kCacheFormat = 1;

// What identifies the source of an entry: path, size and modification time of image and label.
json source_stamp(const Case& c, bool with_labels) {
  auto stamp = [](const std::string& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return json{{"path", p}};
    return json{{"path", p},
                {"bytes", static_cast<int64_t>(st.st_size)},
                {"mtime", static_cast<int64_t>(st.st_mtime)}};
  };
  json j = {{"image", stamp(c.image)}};
  if (with_labels && !c.label.empty()) j["label"] = stamp(c.label);
  return j;
}

json geometry_json(const Geometry& g) {
  return {{"size", g.size}, {"spacing", g.spacing}, {"origin", g.origin}, {"direction", g.direction}};
}

Geometry geometry_from_json(const json& j) {
  Geometry g;
  g.size = j.at("size").get<Size3>();
  g.spacing = j.at("spacing").get<Vec3>();
  g.origin = j.at("origin").get<Vec3>();
  g.direction = j.at("direction").get<Mat3>();
  return g;
}

CachedCase entry_from_json(const json& j, const std::string& folder) {
  CachedCase e;
  e.id = j.at("id").get<std::string>();
  e.image_path = (fs::path(folder) / j.at("image").get<std::string>()).string();
  if (j.contains("label")) e.label_path = (fs::path(folder) / j.at("label").get<std::string>()).string();
  e.geometry = geometry_from_json(j.at("geometry"));
  e.background = j.at("background").get<float>();
  e.classes = j.at("classes").get<std::vector<int>>();
  for (const auto& [k, v] : j.at("foreground").items())
    e.foreground[std::stoi(k)] = v.get<std::vector<int64_t>>();
  return e;
}

// Whether training can use an entry as it stands (src/pgl/seg/seg_batches.cpp relies on all of this): a
// damaged or edited sidecar is preprocessed again instead (found by fuzz/cache_sidecar.cpp: foreground
// offsets outside the volume were accepted).
bool consistent(const CachedCase& e) {
  int64_t voxels = 1;
  for (int64_t s : e.geometry.size)
    if (s < 1 || __builtin_mul_overflow(voxels, s, &voxels)) return false;
  if (!std::isfinite(e.background)) return false;
  for (int cls : e.classes)
    if (!e.foreground.count(cls) || e.foreground.at(cls).empty()) return false;
  for (const auto& [cls, offsets] : e.foreground)
    for (int64_t offset : offsets)
      if (offset < 0 || offset >= voxels) return false;
  try {
    auto image = MappedImage::open(e.image_path);
    image->floats();
    if (image->size() != e.geometry.size) return false;
    if (!e.label_path.empty() && MappedImage::open(e.label_path)->size() != e.geometry.size) return false;
  } catch (const Error&) {
    return false;
  }
  return true;
}

CachedCase preprocess_case(const Case& c, const PreprocessingPlan& plan, const std::string& folder,
                           const std::string& stem, bool with_labels, const json& stamp) {
  Volume image = preprocess_image(read_volume(c.image), plan);
  CachedCase e;
  e.id = c.id;
  e.geometry = image.geometry;
  e.background = *std::min_element(image.data.begin(), image.data.end());
  json j = {{"format", kCacheFormat},
            {"id", c.id},
            {"plan", plan.to_json()},
            {"source", stamp},
            {"geometry", geometry_json(image.geometry)},
            {"background", e.background},
            {"image", stem + ".nii"}};
  if (with_labels && !c.label.empty()) {
    LabelMap labels = preprocess_labels(read_label_map(c.label), plan);
    if (!labels.geometry.same_grid(image.geometry, 1e-3))
      throw Error(c.label, "label grid does not match its image after preprocessing: " +
                               labels.geometry.grid_difference(image.geometry));
    std::map<int, std::vector<int64_t>> all;
    for (size_t n = 0; n < labels.data.size(); ++n)
      if (labels.data[n]) all[labels.data[n]].push_back(static_cast<int64_t>(n));
    std::mt19937_64 rng(1234);  // fixed: the sidecar is a pure function of the inputs
    for (auto& [cls, offsets] : all) {
      e.classes.push_back(cls);
      if (offsets.size() > static_cast<size_t>(CachedCase::kForegroundSamples)) {
        std::shuffle(offsets.begin(), offsets.end(), rng);
        offsets.resize(CachedCase::kForegroundSamples);
        std::sort(offsets.begin(), offsets.end());
      }
      e.foreground[cls] = offsets;
    }
    write_label_map(labels, (fs::path(folder) / (stem + "_seg.nii")).string());
    j["label"] = stem + "_seg.nii";
  }
  j["classes"] = e.classes;
  json fg = json::object();
  for (const auto& [cls, offsets] : e.foreground) fg[std::to_string(cls)] = offsets;
  j["foreground"] = fg;
  write_volume(image, (fs::path(folder) / (stem + ".nii")).string(), Storage::Float32);
  // The sidecar last: its presence marks a complete entry.
  write_text_atomically((fs::path(folder) / (stem + ".json")).string(), j.dump());
  return entry_from_json(j, folder);
}

}  // namespace

std::vector<CachedCase> build_cache(const std::vector<Case>& cases, const PreprocessingPlan& plan,
                                    const std::string& cache_root, bool with_labels, int threads,
                                    const std::string& progress_label) {
  std::string folder = (fs::path(cache_root) / plan.hash()).string();
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw Error(folder, "cannot create cache folder: " + ec.message());
  remove_stale_temporaries(folder);  // left by a process killed while writing an entry
  write_text_atomically((fs::path(folder) / "plan.json").string(), plan.to_json().dump(2));

  std::vector<CachedCase> entries(cases.size());
  std::vector<size_t> todo;
  std::vector<std::string> stems(cases.size());
  std::vector<json> stamps(cases.size());
  for (size_t n = 0; n < cases.size(); ++n) {
    const Case& c = cases[n];
    stamps[n] = source_stamp(c, with_labels);
    stems[n] = c.id + "-" + fnv1a_hex(c.image + (with_labels ? "|" + c.label : ""), 10);
    fs::path sidecar = fs::path(folder) / (stems[n] + ".json");
    bool fresh = false;
    if (fs::exists(sidecar)) {
      try {
        std::ifstream in(sidecar);
        json j = json::parse(in);
        if (j.value("format", 0) == kCacheFormat && j.at("source") == stamps[n] &&
            fs::exists(fs::path(folder) / j.at("image").get<std::string>())) {
          entries[n] = entry_from_json(j, folder);
          fresh = consistent(entries[n]);
        }
      } catch (const std::exception&) {
        fresh = false;  // unreadable sidecar: preprocess again
      }
    }
    if (!fresh) todo.push_back(n);
  }
  if (todo.empty()) return entries;

  Progress progress(progress_label, static_cast<int64_t>(todo.size()), "case");
  std::atomic<size_t> next{0}, done{0};
  std::mutex error_mutex;
  std::string first_error;
  auto worker = [&] {
    for (size_t t = next++; t < todo.size(); t = next++) {
      size_t n = todo[t];
      try {
        entries[n] = preprocess_case(cases[n], plan, folder, stems[n], with_labels, stamps[n]);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error.empty()) first_error = e.what();
      }
      std::lock_guard<std::mutex> lock(error_mutex);
      progress.update(static_cast<int64_t>(++done));
    }
  };
  std::vector<std::thread> pool;
  int workers = std::max(1, std::min<int>(threads, static_cast<int>(todo.size())));
  for (int t = 1; t < workers; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  progress.finish();
  if (!first_error.empty()) throw Error(first_error);
  return entries;
}

// ---- memory mapping -------------------------------------------------------------------------------------

std::shared_ptr<MappedImage> MappedImage::open(const std::string& path) {
  std::shared_ptr<MappedImage> m(new MappedImage());
  m->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(path, "cannot open cached volume");
  struct stat st {};
  ::fstat(fd, &st);
  m->map_bytes_ = static_cast<size_t>(st.st_size);
  if (m->map_bytes_ < 352) {
    ::close(fd);
    throw Error(path, "cached volume is truncated (delete the cache folder to rebuild it)");
  }
  m->map_ = ::mmap(nullptr, m->map_bytes_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m->map_ == MAP_FAILED) {
    m->map_ = nullptr;
    throw Error(path, "cannot memory-map cached volume");
  }
  const auto* bytes = static_cast<const unsigned char*>(m->map_);
  int32_t header_size;
  int16_t dim[8], datatype, bitpix;
  float vox_offset;
  std::memcpy(&header_size, bytes, 4);
  std::memcpy(dim, bytes + 40, 16);
  std::memcpy(&datatype, bytes + 70, 2);
  std::memcpy(&bitpix, bytes + 72, 2);
  std::memcpy(&vox_offset, bytes + 108, 4);
  // Only what build_cache writes: NIfTI-1, 3 positive sizes, float32, uint8 or uint16 voxels from vox_offset
  // (found by fuzz/cache_header.cpp: bitpix 0 was taken as 0-byte values, negative sizes were taken, a NaN or
  // huge vox_offset was cast to size_t, which is undefined).
  const bool known_type =
      (datatype == 16 && bitpix == 32) || (datatype == 2 && bitpix == 8) || (datatype == 512 && bitpix == 16);
  if (header_size != 348 || dim[0] < 3 || !known_type || dim[1] < 1 || dim[2] < 1 || dim[3] < 1 ||
      !(vox_offset >= 352) || vox_offset > static_cast<float>(m->map_bytes_))
    throw Error(path, "not a cache file written by pgl (delete the cache folder to rebuild it)");
  // Aligned voxels: training reads them in place as float or uint16 (a misaligned load, UBSan, found by
  // fuzz/cache_header.cpp).
  if (vox_offset != std::floor(vox_offset) ||
      static_cast<size_t>(vox_offset) % static_cast<size_t>(bitpix / 8) != 0)
    throw Error(path, "not a cache file written by pgl (delete the cache folder to rebuild it)");
  m->size_ = {dim[1], dim[2], dim[3]};
  m->datatype_ = datatype;
  m->bytes_per_value_ = bitpix / 8;
  auto needed =
      static_cast<size_t>(vox_offset) +
      static_cast<size_t>(m->size_[0] * m->size_[1] * m->size_[2]) * static_cast<size_t>(m->bytes_per_value_);
  if (needed > m->map_bytes_)
    throw Error(path, "cached volume is truncated (delete the cache folder to rebuild it)");
  m->data_ = bytes + static_cast<size_t>(vox_offset);
  return m;
}

MappedImage::~MappedImage() {
  if (map_) ::munmap(map_, map_bytes_);
}

const float* MappedImage::floats() const {
  if (datatype_ != 16) throw Error(path_, "cached volume is not float32");
  return static_cast<const float*>(data_);
}

uint16_t MappedImage::label_at(int64_t offset) const {
  if (bytes_per_value_ == 1) return static_cast<const uint8_t*>(data_)[offset];
  return static_cast<const uint16_t*>(data_)[offset];
}

}  // namespace pgl
