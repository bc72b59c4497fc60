#include "pgl/data/check.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "pgl/core/error.h"
#include "pgl/io/volume_io.h"

namespace pgl {

CaseCheck check_case(const Dataset& dataset, const Case& c, bool read_voxels) {
  CaseCheck r;
  r.id = c.id;
  ImageInfo info;
  if (read_voxels) {
    Volume image = read_volume(c.image, &info);
    auto [lo, hi] = std::minmax_element(image.data.begin(), image.data.end());
    r.min = *lo;
    r.max = *hi;
  } else {
    info = read_image_info(c.image);
  }
  r.geometry = info.geometry;
  if (!c.label.empty()) {
    Geometry label_geometry;
    if (read_voxels) {
      LabelMap labels = read_label_map(c.label);
      label_geometry = labels.geometry;
      std::vector<bool> seen(65536, false);
      for (uint16_t v : labels.data) seen[v] = true;
      for (int v = 0; v < 65536; ++v)
        if (seen[static_cast<size_t>(v)]) r.label_values.push_back(v);
    } else {
      label_geometry = read_image_info(c.label).geometry;
    }
    std::string diff = info.geometry.grid_difference(label_geometry);
    if (!diff.empty()) throw Error(c.label, "label grid does not match its image " + c.image + ": " + diff);
    if (!dataset.labels.empty())
      for (int v : r.label_values)
        if (!dataset.labels.count(v))
          throw Error(c.label, fmt::format("label value {} is not declared in dataset.json", v));
  }
  r.ok = true;
  return r;
}

std::vector<CaseCheck> check_dataset(const Dataset& dataset, const CheckOptions& options,
                                     const std::function<void(size_t)>& on_case_done) {
  std::vector<CaseCheck> results(dataset.cases.size());
  std::atomic<size_t> next{0}, done{0};
  std::mutex report_mutex;
  auto worker = [&] {
    for (size_t n = next++; n < dataset.cases.size(); n = next++) {
      const Case& c = dataset.cases[n];
      try {
        results[n] = check_case(dataset, c, options.read_voxels);
      } catch (const std::exception& e) {
        results[n].id = c.id;
        results[n].ok = false;
        results[n].problem = e.what();
      }
      size_t d = ++done;
      if (on_case_done) {
        std::lock_guard<std::mutex> lock(report_mutex);
        on_case_done(d);
      }
    }
  };
  int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(dataset.cases.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return results;
}

}  // namespace pgl
