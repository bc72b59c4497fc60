#include "pgl/phantom/dataset_writer.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/core/png.h"
#include "pgl/core/progress.h"
#include "pgl/core/version.h"
#include "pgl/io/volume_io.h"
#include "pgl/phantom/preview.h"

namespace pgl::phantom {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // keys in the order written: name and description first

namespace {

std::string task_description(Task task) {
  switch (task) {
    case Task::kLiver:
      return "liver and liver tumours (like LiTS)";
    case Task::kSpleen:
      return "spleen (like MSD Task09 Spleen)";
    case Task::kKidney:
      return "kidneys and kidney tumours (like KiTS)";
    case Task::kMultiorgan:
      return "13 abdominal organs (like BCV / BTCV)";
  }
  return "";
}

bool is_phantom_dataset(const fs::path& folder) {
  std::ifstream in(folder / "dataset.json");
  if (!in) return false;
  json j = json::parse(in, nullptr, false);
  return !j.is_discarded() && j.is_object() && j.contains("pgl_phantom");
}

// A new, empty, or earlier phantom folder: anything else is refused rather than mixed with our files.
void prepare_folder(const fs::path& out) {
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec))
    throw Error(out.string(), "exists and is not a folder");
  if (fs::is_directory(out, ec) && !fs::is_empty(out, ec) && !is_phantom_dataset(out))
    throw Error(out.string(), "folder is not empty and holds no phantom data set; choose a new --out folder");
  fs::create_directories(out / "imagesTr", ec);
  if (ec) throw Error(out.string(), "cannot create folder: " + ec.message());
}

// Earlier phantom case files that the new data set does not overwrite.
void remove_stale_cases(const fs::path& out, const std::set<std::string>& keep) {
  for (const char* sub : {"imagesTr", "labelsTr"}) {
    std::error_code ec;
    if (!fs::is_directory(out / sub, ec)) continue;
    std::vector<fs::path> stale;
    for (const auto& e : fs::directory_iterator(out / sub, ec)) {
      std::string name = e.path().filename().string();
      bool ours = name.rfind("case_", 0) == 0 && name.size() > 7 && name.substr(name.size() - 7) == ".nii.gz";
      if (ours && !keep.count(std::string(sub) + "/" + name)) stale.push_back(e.path());
    }
    for (const auto& p : stale) fs::remove(p, ec);
    if (fs::is_empty(out / sub, ec)) fs::remove(out / sub, ec);
  }
}

json case_record(const std::string& id, const PhantomCase& c) {
  const Geometry& g = c.image.geometry;
  json r = {{"id", id},
            {"seed", c.info.seed},
            {"phase", phase_name(c.info.phase)},
            {"noise_hu", std::round(c.info.noise_hu * 100) / 100},
            {"slice_thickness_mm", std::round(c.info.slice_thickness_mm * 100) / 100},
            {"fov_mm", std::round(c.info.fov_mm * 10) / 10},
            {"size", {g.size[0], g.size[1], g.size[2]}},
            {"spacing", {g.spacing[0], g.spacing[1], g.spacing[2]}}};
  if (c.info.liver_tumours) r["liver_tumours"] = c.info.liver_tumours;
  if (c.info.kidney_tumours) r["kidney_tumours"] = c.info.kidney_tumours;
  return r;
}

}  // namespace

void write_phantom_dataset(const DatasetOptions& o) {
  if (o.cases < 1) throw Error("--cases must be at least 1");
  if (o.out.empty()) throw Error("--out is required");
  if (o.threads < 0) throw Error("--threads must be 0 (all cores) or more");
  const fs::path out(o.out);
  prepare_folder(out);

  const int width = std::max<int>(3, static_cast<int>(std::to_string(o.cases - 1).size()));
  std::vector<std::string> ids(static_cast<size_t>(o.cases));
  std::set<std::string> keep;
  for (int n = 0; n < o.cases; ++n) {
    std::string number = std::to_string(n);
    ids[static_cast<size_t>(n)] =
        "case_" + std::string(static_cast<size_t>(width) - number.size(), '0') + number;
    keep.insert("imagesTr/" + ids[static_cast<size_t>(n)] + ".nii.gz");
    if (o.labeled) keep.insert("labelsTr/" + ids[static_cast<size_t>(n)] + ".nii.gz");
  }
  remove_stale_cases(out, keep);

  std::vector<json> records(static_cast<size_t>(o.cases));
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;  // guards error, progress and done
  int done = 0;
  Progress progress("phantom", o.cases, "case");
  auto work = [&]() {
    for (int n = next++; n < o.cases && !failed; n = next++) {
      try {
        const std::string& id = ids[static_cast<size_t>(n)];
        PhantomCase c = generate_case(o.phantom, case_seed(o.seed, n));
        write_volume(c.image, (out / "imagesTr" / (id + ".nii.gz")).string());
        if (o.labeled) write_label_map(c.labels, (out / "labelsTr" / (id + ".nii.gz")).string());
        if (n == 0 && !o.preview.empty())
          write_png(render_preview(c.image, o.labeled ? &c.labels : nullptr), o.preview);
        records[static_cast<size_t>(n)] = case_record(id, c);
        std::lock_guard<std::mutex> lock(mutex);
        if (o.progress) progress.update(++done);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  int threads = std::min(o.cases, o.threads > 0 ? o.threads : static_cast<int>(hw));
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work);
    for (auto& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
  if (o.progress) progress.finish(out.string());

  json labels = json::object();
  if (o.labeled)
    for (const auto& [id, name] : task_labels(o.phantom.task)) labels[std::to_string(id)] = name;
  else
    labels["0"] = "background";
  json training = json::array();
  for (const std::string& id : ids) {
    json entry = {{"image", "./imagesTr/" + id + ".nii.gz"}};
    if (o.labeled) entry["label"] = "./labelsTr/" + id + ".nii.gz";
    training.push_back(entry);
  }
  const std::string task = task_name(o.phantom.task);
  json j = {{"name", "pgl-phantom-" + task},
            {"description", "Procedural abdominal CT phantoms generated by pgl: " +
                                task_description(o.phantom.task) + (o.labeled ? "" : ", images only")},
            {"reference", "pgl phantom (docs/phantom.md)"},
            {"licence", "CC0-1.0"},
            {"release", "pgl " + version()},
            {"tensorImageSize", "3D"},
            {"modality", {{"0", "CT"}}},
            {"labels", labels},
            {"numTraining", o.cases},
            {"numTest", 0},
            {"training", training},
            {"test", json::array()},
            {"pgl_phantom", {{"task", task}, {"seed", o.seed}, {"labeled", o.labeled}, {"cases", records}}}};
  write_text_atomically((out / "dataset.json").string(), j.dump(2) + "\n");
}

}  // namespace pgl::phantom
