#include "pgl/plan/fingerprint.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/core/hash.h"
#include "pgl/core/json_file.h"
#include "pgl/core/progress.h"
#include "pgl/io/spatial.h"
#include "pgl/io/volume_io.h"

namespace pgl::plan {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "pgl-fingerprint-2";
// Foreground intensity samples over the whole data set (nnU-Net draws 1e8; 1e7 gives the same percentiles
// to well under a HU and keeps the pooled samples at 40 MB).
constexpr int64_t kForegroundSamples = 10'000'000;

std::string file_stamp(const std::string& path) {
  if (path.empty()) return "-";
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  auto time = fs::last_write_time(path, ec).time_since_epoch().count();
  return fmt::format("{}|{}|{}", path, ec ? 0 : size, ec ? 0 : time);
}

std::vector<double> column(const std::vector<CaseFingerprint>& cases, int axis,
                           const std::function<double(const CaseFingerprint&, int)>& value) {
  std::vector<double> v;
  for (const auto& c : cases) v.push_back(value(c, axis));
  return v;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

Vec3 DatasetFingerprint::median_spacing() const {
  Vec3 m{};
  for (int a = 0; a < 3; ++a)
    m[static_cast<size_t>(a)] = median(
        column(cases, a, [](const CaseFingerprint& c, int k) { return c.spacing[static_cast<size_t>(k)]; }));
  return m;
}

Vec3 DatasetFingerprint::median_body_size_at(const Vec3& spacing) const {
  Vec3 m{};
  for (int a = 0; a < 3; ++a)
    m[static_cast<size_t>(a)] = median(column(cases, a, [&](const CaseFingerprint& c, int k) {
      const auto s = static_cast<size_t>(k);
      const int64_t body = c.body_size[s] > 0 ? c.body_size[s] : c.size[s];
      return std::round(static_cast<double>(body) * c.spacing[s] / spacing[s]);
    }));
  return m;
}

Size3 body_box_size(const Volume& image) {
  const Size3& n = image.geometry.size;
  std::vector<float> sample;
  for (size_t k = 0; k < image.data.size(); k += std::max<size_t>(1, image.data.size() / 200000))
    sample.push_back(image.data[k]);
  if (sample.empty()) return n;
  const double low = *std::min_element(sample.begin(), sample.end());
  const double threshold = low + 0.05 * (percentile(sample, 99) - low);
  std::vector<std::vector<int64_t>> histogram(3);
  for (size_t a = 0; a < 3; ++a) histogram[a].assign(static_cast<size_t>(n[a]), 0);
  int64_t total = 0;
  for (int64_t k = 0; k < n[2]; ++k)
    for (int64_t j = 0; j < n[1]; ++j)
      for (int64_t i = 0; i < n[0]; ++i)
        if (image.at(i, j, k) > threshold) {
          ++histogram[0][static_cast<size_t>(i)];
          ++histogram[1][static_cast<size_t>(j)];
          ++histogram[2][static_cast<size_t>(k)];
          ++total;
        }
  if (total == 0) return n;
  Size3 box{};
  for (size_t a = 0; a < 3; ++a) {
    // The positions between the 0.5th and the 99.5th percentile of the body voxels along this axis.
    int64_t seen = 0, first = -1, last = -1;
    for (size_t x = 0; x < histogram[a].size(); ++x) {
      seen += histogram[a][x];
      if (first < 0 && seen > total / 200) first = static_cast<int64_t>(x);
      if (last < 0 && seen >= total - total / 200) last = static_cast<int64_t>(x) + 1;
    }
    box[a] = std::max<int64_t>(1, last - first);
  }
  return box;
}

double DatasetFingerprint::spacing_percentile(int axis, double p) const {
  std::vector<double> v;
  for (const auto& c : cases) v.push_back(c.spacing[static_cast<size_t>(axis)]);
  return percentile(v, p);
}

json DatasetFingerprint::to_json() const {
  json list = json::array();
  for (const auto& c : cases) {
    json voxels = json::object();
    for (const auto& [cls, n] : c.class_voxels) voxels[std::to_string(cls)] = n;
    list.push_back({{"id", c.id},
                    {"spacing_mm", c.spacing},
                    {"size", c.size},
                    {"body_size", c.body_size},
                    {"class_voxels", voxels}});
  }
  json j = {{"format", kFormat}, {"modality", modality}, {"cases", list}};
  if (foreground)
    j["foreground_intensity"] = {{"samples", foreground->samples},
                                 {"mean", foreground->mean},
                                 {"std", foreground->std},
                                 {"min", foreground->min},
                                 {"max", foreground->max},
                                 {"median", foreground->median},
                                 {"percentile_00_5", foreground->percentile_00_5},
                                 {"percentile_99_5", foreground->percentile_99_5}};
  return j;
}

DatasetFingerprint DatasetFingerprint::from_json(const json& j, const std::string& source) {
  DatasetFingerprint f;
  try {
    if (j.at("format").get<std::string>() != kFormat) throw Error(source, "not a pgl fingerprint");
    f.modality = j.at("modality").get<std::string>();
    for (const auto& c : j.at("cases")) {
      CaseFingerprint cf;
      cf.id = c.at("id").get<std::string>();
      cf.spacing = c.at("spacing_mm").get<Vec3>();
      cf.size = c.at("size").get<Size3>();
      cf.body_size = c.value("body_size", cf.size);
      for (const auto& [cls, n] : c.at("class_voxels").items())
        cf.class_voxels[std::stoi(cls)] = n.get<int64_t>();
      f.cases.push_back(cf);
    }
    if (j.contains("foreground_intensity")) {
      const auto& s = j.at("foreground_intensity");
      f.foreground = IntensityStatistics{s.at("samples"),
                                         s.at("mean"),
                                         s.at("std"),
                                         s.at("min"),
                                         s.at("max"),
                                         s.at("median"),
                                         s.at("percentile_00_5"),
                                         s.at("percentile_99_5")};
    }
  } catch (const json::exception& e) {
    throw Error(source, std::string("invalid fingerprint: ") + e.what());
  } catch (const std::invalid_argument&) {
    throw Error(source, "invalid fingerprint: a class id is not a number");
  }
  if (f.cases.empty()) throw Error(source, "fingerprint lists no cases");
  return f;
}

DatasetFingerprint fingerprint_datasets(const std::vector<Dataset>& datasets, const std::vector<Case>& cases,
                                        bool use_labels, const std::string& cache_root, int threads) {
  if (cases.empty()) throw Error("fingerprint: no cases");
  DatasetFingerprint f;
  f.modality = datasets.empty() ? "CT" : datasets.front().modality;
  std::string key = std::string(kFormat) + f.modality + (use_labels ? "L" : "U");
  for (const auto& c : cases) key += "\n" + c.id + "\n" + file_stamp(c.image) + "\n" + file_stamp(c.label);
  const std::string cache_path =
      (fs::path(cache_root) / "fingerprints" / (fnv1a_hex(key, 16) + ".json")).string();
  if (fs::exists(cache_path)) {
    try {
      return DatasetFingerprint::from_json(read_json_file(cache_path), cache_path);
    } catch (const Error&) {
      // A damaged cache entry is recomputed and replaced.
    }
  }

  f.cases.resize(cases.size());
  size_t labelled = 0;
  for (const auto& c : cases) labelled += use_labels && !c.label.empty();
  const int64_t per_case = labelled ? kForegroundSamples / static_cast<int64_t>(labelled) : 0;
  std::vector<std::vector<float>> samples(cases.size());
  std::atomic<size_t> next{0};
  std::atomic<int64_t> done{0};
  std::mutex mutex;  // guards the progress bar and `failure`
  std::exception_ptr failure;
  Progress progress("fingerprint", static_cast<int64_t>(cases.size()), "case");
  auto worker = [&] {
    for (size_t n = next++; n < cases.size(); n = next++) {
      try {
        const Case& c = cases[n];
        CaseFingerprint& out = f.cases[n];
        out.id = c.id;
        const bool with_label = use_labels && !c.label.empty();
        Volume image = read_volume(c.image);
        const Geometry g = image.geometry;
        out.body_size = body_box_size(image);
        if (with_label) {
          LabelMap label = read_label_map(c.label);
          if (!label.geometry.same_grid(image.geometry))
            throw Error(c.label, "label grid differs from its image " + c.image);
          std::vector<size_t> foreground;
          for (size_t k = 0; k < label.data.size(); ++k)
            if (label.data[k] > 0) {
              ++out.class_voxels[label.data[k]];
              foreground.push_back(k);
            }
          // Drawn with replacement from a seed fixed per case: the same statistics on every machine.
          std::mt19937_64 rng(1234 + n);
          if (!foreground.empty()) {
            std::uniform_int_distribution<size_t> pick(0, foreground.size() - 1);
            auto& s = samples[n];
            s.reserve(static_cast<size_t>(per_case));
            for (int64_t k = 0; k < per_case; ++k) s.push_back(image.data[foreground[pick(rng)]]);
          }
        }
        Reorientation r = canonical_reorientation(g);
        const Size3 body = out.body_size;
        for (size_t a = 0; a < 3; ++a) {
          const auto from = static_cast<size_t>(r.permutation[a]);
          out.spacing[a] = g.spacing[from];
          out.size[a] = g.size[from];
          out.body_size[a] = body[from];
        }
        std::lock_guard<std::mutex> lock(mutex);
        progress.update(++done);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        next = cases.size();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  progress.finish();

  std::vector<float> pooled;
  for (auto& s : samples) {
    pooled.insert(pooled.end(), s.begin(), s.end());
    std::vector<float>().swap(s);
  }
  if (!pooled.empty()) {
    IntensityStatistics st;
    st.samples = static_cast<int64_t>(pooled.size());
    double sum = 0, sq = 0;
    for (float x : pooled) sum += x;
    st.mean = sum / static_cast<double>(pooled.size());
    for (float x : pooled) sq += (x - st.mean) * (x - st.mean);
    st.std = std::sqrt(sq / static_cast<double>(pooled.size()));
    st.percentile_00_5 = percentile(pooled, 0.5);  // sorts: the rest reads the sorted values
    st.percentile_99_5 = percentile(pooled, 99.5);
    st.median = percentile(pooled, 50);
    st.min = pooled.front();
    st.max = pooled.back();
    f.foreground = st;
  }
  fs::create_directories(fs::path(cache_path).parent_path());
  write_text_atomically(cache_path, f.to_json().dump(1) + "\n");
  return f;
}

}  // namespace pgl::plan
