#include "pgl/eval/evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/data/dataset.h"
#include "pgl/io/volume_io.h"

namespace pgl::eval {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void require_folder(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path, fmt::format("no such folder ({})", what));
  if (!fs::is_directory(path, ec)) throw Error(path, fmt::format("not a folder ({})", what));
}

// Label map files directly inside a folder, by case id; a case id given by two files is refused.
std::map<std::string, std::string> label_files(const std::string& folder) {
  std::map<std::string, std::string> files;
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(folder)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !e.is_regular_file() || !is_supported_image_path(e.path().string()))
      continue;
    found.push_back(e.path());
  }
  std::sort(found.begin(), found.end());
  for (const auto& p : found) {
    const std::string id = case_id_from_path(p.string());
    auto [it, inserted] = files.emplace(id, p.string());
    if (!inserted)
      throw Error(folder, fmt::format("case '{}' is given by two files: {} and {}", id,
                                      fs::path(it->second).filename().string(), p.filename().string()));
  }
  return files;
}

std::string id_list(const std::vector<std::string>& ids, size_t shown = 10) {
  std::string s;
  for (size_t n = 0; n < ids.size() && n < shown; ++n) s += (n ? ", " : "") + ids[n];
  if (ids.size() > shown) s += fmt::format(" ... and {} more", ids.size() - shown);
  return s;
}

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.6g}", v);
}

// RFC 4180: quote fields holding a separator, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

json summary_json(const MetricSummary& s, bool with_inf) {
  // NaN is not JSON: an undefined mean (no finite value) is written as null.
  auto value = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  json j = {{"mean", value(s.mean)}, {"std", value(s.std)}, {"n", s.n}, {"n_nan", s.n_nan}};
  if (with_inf) j["n_inf"] = s.n_inf;
  return j;
}

std::string class_name(const EvaluationResult& r, int label) {
  auto it = r.names.find(label);
  return it == r.names.end() ? "" : it->second;
}

}  // namespace

std::map<int, std::string> read_label_names(const std::string& path) {
  std::string file = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) file = (fs::path(path) / "dataset.json").string();
  if (!fs::exists(file, ec)) throw Error(file, "no such file (expected a dataset.json naming the labels)");
  json j;
  try {
    std::ifstream in(file);
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw Error(file, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("labels") || !j["labels"].is_object())
    throw Error(file, "has no 'labels' object naming the classes");
  std::map<int, std::string> labels;
  for (const auto& [key, value] : j["labels"].items()) {
    int id = 0;
    std::string name;
    if (value.is_string()) {  // MSD: {"1": "liver"}
      try {
        size_t used = 0;
        id = std::stoi(key, &used);
        if (used != key.size()) throw std::invalid_argument(key);
      } catch (const std::exception&) {
        throw Error(file, fmt::format("label key '{}' is not an integer", key));
      }
      name = value.get<std::string>();
    } else if (value.is_number_integer()) {  // nnU-Net v2: {"liver": 1}
      id = value.get<int>();
      name = key;
    } else {
      throw Error(
          file,
          fmt::format("label '{}' must map to a name or an integer (region lists are not supported)", key));
    }
    if (id < 0 || id > 65535) throw Error(file, fmt::format("label id {} is out of range (0..65535)", id));
    if (id != 0) labels[id] = name;
  }
  if (labels.empty()) throw Error(file, "declares no foreground label");
  return labels;
}

Pairing pair_cases(const EvaluationOptions& options) {
  require_folder(options.pred, "predictions");
  require_folder(options.ref, "references");
  Pairing pairing;
  const std::map<std::string, std::string> predictions = label_files(options.pred);
  if (predictions.empty())
    throw Error(options.pred, "holds no label maps (.nii.gz, .nii, .nrrd, .nhdr, .mha, .mhd)");

  // References: label maps directly in the folder, else a data set (MSD / nnU-Net raw) and its labels.
  std::map<std::string, std::string> references = label_files(options.ref);
  if (!references.empty()) {
    const std::string json_path = (fs::path(options.ref) / "dataset.json").string();
    if (options.labels.empty() && fs::exists(json_path)) pairing.labels = read_label_names(json_path);
  } else {
    Dataset d = open_dataset(options.ref);
    for (const Case& c : d.cases)
      if (!c.label.empty()) references[c.id] = c.label;
    if (references.empty()) throw Error(options.ref, "the data set has no labelled case to compare with");
    for (const auto& [id, name] : d.labels)
      if (id != 0) pairing.labels[id] = name;
  }
  if (!options.labels.empty()) pairing.labels = read_label_names(options.labels);

  for (const auto& [id, ref] : references) {
    auto it = predictions.find(id);
    if (it == predictions.end()) {
      pairing.missing_predictions.push_back(id);
    } else {
      pairing.pairs.push_back({id, it->second, ref});
    }
  }
  for (const auto& [id, pred] : predictions)
    if (!references.count(id)) pairing.unmatched_predictions.push_back(id);
  if (pairing.pairs.empty())
    throw Error(options.pred, fmt::format("no prediction matches a reference case of {} (prediction ids: {})",
                                          options.ref, id_list(pairing.unmatched_predictions, 5)));
  return pairing;
}

EvaluationResult evaluate_folder(const EvaluationOptions& options,
                                 const std::function<void(size_t done, size_t total)>& progress) {
  Pairing pairing = pair_cases(options);
  if (!pairing.missing_predictions.empty() && !options.allow_missing)
    throw Error(options.pred,
                fmt::format("no prediction for {} of {} reference cases: {} (use --allow-missing to "
                            "evaluate the others)",
                            pairing.missing_predictions.size(),
                            pairing.missing_predictions.size() + pairing.pairs.size(),
                            id_list(pairing.missing_predictions)));
  // Geometry from the headers first, so that a bad pair fails in seconds, not after hours of metrics.
  for (const CasePair& p : pairing.pairs) {
    const Geometry gp = read_image_info(p.pred).geometry;
    const Geometry gr = read_image_info(p.ref).geometry;
    if (!gp.same_grid(gr))
      throw Error(p.pred,
                  fmt::format("grid differs from the reference {}: {}", p.ref, gp.grid_difference(gr)));
  }

  EvaluationResult result;
  result.pred = options.pred;
  result.ref = options.ref;
  result.metrics = options.metrics;
  result.missing_predictions = pairing.missing_predictions;
  result.unmatched_predictions = pairing.unmatched_predictions;
  result.names = pairing.labels;
  const bool declared = !pairing.labels.empty();
  std::vector<int> classes;
  for (const auto& [id, name] : pairing.labels) classes.push_back(id);

  const size_t total = pairing.pairs.size();
  result.cases.resize(total);
  std::vector<std::vector<int>> present(total);
  std::vector<std::exception_ptr> errors(total);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex progress_mutex;
  size_t done = 0;
  auto work = [&] {
    for (size_t n = next++; n < total && !failed; n = next++) {
      const CasePair& p = pairing.pairs[n];
      try {
        const LabelMap pred = read_label_map(p.pred);
        const LabelMap ref = read_label_map(p.ref);
        if (!pred.geometry.same_grid(ref.geometry))
          throw Error(p.pred, fmt::format("grid differs from the reference {}: {}", p.ref,
                                          pred.geometry.grid_difference(ref.geometry)));
        std::set<int> values;
        for (int v : present_labels(pred)) values.insert(v);
        for (int v : present_labels(ref)) values.insert(v);
        present[n].assign(values.begin(), values.end());
        CaseResult& c = result.cases[n];
        c.id = p.id;
        c.pred = p.pred;
        c.ref = p.ref;
        c.metrics = evaluate_case(pred, ref, declared ? classes : present[n], options.metrics);
      } catch (...) {
        errors[n] = std::current_exception();
        failed = true;
      }
      std::lock_guard<std::mutex> lock(progress_mutex);
      ++done;
      if (progress) progress(done, total);
    }
  };
  const size_t threads =
      std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::max(1, options.threads)), total));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);  // the first failing case in id order

  // Classes: the declared ones, else every value seen; a class absent from both sides of a case is both
  // empty.
  if (!declared) {
    std::set<int> all;
    for (const auto& v : present) all.insert(v.begin(), v.end());
    classes.assign(all.begin(), all.end());
    for (CaseResult& c : result.cases) {
      std::vector<ClassMetrics> full;
      for (int label : classes) {
        auto it = std::find_if(c.metrics.begin(), c.metrics.end(),
                               [&](const ClassMetrics& m) { return m.label == label; });
        full.push_back(it != c.metrics.end() ? *it : both_empty_metrics(label));
      }
      c.metrics = std::move(full);
    }
  } else {
    for (size_t n = 0; n < total; ++n)
      for (int v : present[n])
        if (!pairing.labels.count(v)) result.undeclared_labels[v].push_back(pairing.pairs[n].id);
  }
  result.classes = classes;
  std::vector<std::vector<ClassMetrics>> per_case;
  for (const CaseResult& c : result.cases) per_case.push_back(c.metrics);
  result.summary = summarize_classes(per_case, classes);
  return result;
}

void write_metrics_csv(const EvaluationResult& result, const std::string& path) {
  std::string text = "case,class,class_name,dice,hd95_mm,nsd,pred_voxels,ref_voxels\n";
  for (const CaseResult& c : result.cases)
    for (const ClassMetrics& m : c.metrics)
      text += fmt::format("{},{},{},{},{},{},{},{}\n", csv_field(c.id), m.label,
                          csv_field(class_name(result, m.label)), number(m.dice), number(m.hd95),
                          number(m.nsd), m.pred_voxels, m.ref_voxels);
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  write_text_atomically(path, text);
}

std::string summary_path_for(const std::string& csv_path) {
  fs::path p(csv_path);
  return (p.parent_path() / (p.stem().string() + "_summary.json")).string();
}

void write_summary_json(const EvaluationResult& result, const std::string& path) {
  json classes = json::object();
  std::vector<double> dice_means, hd95_means, nsd_means;
  for (const ClassSummary& s : result.summary) {
    classes[std::to_string(s.label)] = {{"name", class_name(result, s.label)},
                                        {"dice", summary_json(s.dice, false)},
                                        {"hd95_mm", summary_json(s.hd95, true)},
                                        {"nsd", summary_json(s.nsd, false)},
                                        {"n_nan_both_empty", s.n_both_empty}};
    dice_means.push_back(s.dice.mean);
    hd95_means.push_back(s.hd95.mean);
    nsd_means.push_back(s.nsd.mean);
  }
  const bool pooled = result.metrics.hd95 == Hd95Definition::Pooled;
  json undeclared = json::object();
  for (const auto& [label, ids] : result.undeclared_labels) undeclared[std::to_string(label)] = ids;
  json j = {
      {"pred", result.pred},
      {"ref", result.ref},
      {"n_cases", result.cases.size()},
      {"nsd_tolerance_mm", result.metrics.nsd_tolerance},
      {"hd95_definition",
       pooled ? "pooled: 95th percentile of both directed surface distance sets together (medpy)"
              : "max-directed: max of the two directed 95th percentiles (MONAI)"},
      {"summary_statistics",
       "mean and population std (ddof 0) over finite values; NaN (both empty) and inf "
       "(HD95 with one empty mask) are counted in n_nan and n_inf, not averaged"},
      {"classes", classes},
      // The mean over classes of each class mean (classes with no finite value are left out).
      {"mean_over_classes",
       {{"dice", summary_json(summarize(dice_means), false)["mean"]},
        {"hd95_mm", summary_json(summarize(hd95_means), false)["mean"]},
        {"nsd", summary_json(summarize(nsd_means), false)["mean"]}}},
      {"missing_predictions", result.missing_predictions},
      {"unmatched_predictions", result.unmatched_predictions},
      {"undeclared_labels", undeclared},
  };
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  write_text_atomically(path, j.dump(2) + "\n");
}

std::string summary_table(const EvaluationResult& result) {
  auto cell = [](const MetricSummary& s, int digits, bool with_inf) {
    if (s.n == 0) return fmt::format("- ({})", s.n);
    std::string text = fmt::format("{:.{}f} ± {:.{}f} ({})", s.mean, digits, s.std, digits, s.n);
    if (with_inf && s.n_inf) text += fmt::format(" +{} inf", s.n_inf);
    return text;
  };
  // Pads by code points: "±" is two bytes in UTF-8 but one column on a terminal.
  auto pad = [](const std::string& s, size_t width) {
    size_t columns = 0;
    for (unsigned char ch : s) columns += (ch & 0xC0) != 0x80;
    return s + std::string(width > columns ? width - columns : 1, ' ');
  };
  const std::string nsd_title = fmt::format("NSD@{:g}mm", result.metrics.nsd_tolerance);
  std::string out =
      pad("class", 22) + pad("Dice", 26) + pad("HD95 (mm)", 30) + pad(nsd_title, 26) + "both empty\n";
  for (const ClassSummary& s : result.summary) {
    std::string name = class_name(result, s.label);
    out += pad(std::to_string(s.label) + (name.empty() ? "" : " " + name), 22) +
           pad(cell(s.dice, 4, false), 26) + pad(cell(s.hd95, 2, true), 30) + pad(cell(s.nsd, 4, false), 26) +
           std::to_string(s.n_both_empty) + "\n";
  }
  return out;
}

}  // namespace pgl::eval
