#include "pgl/report/experiment.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "pgl/core/error.h"
#include "pgl/core/json_file.h"

namespace pgl::report {
namespace fs = std::filesystem;
using nlohmann::json;

std::string fraction_tag(double fraction) { return fmt::format("{}", fraction); }

std::string pretrain_run_name(const std::string& method, int seed) {
  return fmt::format("{}-s{}", method, seed);
}

std::string cell_name(const std::string& method, double fraction, int seed) {
  return fmt::format("{}-f{}-s{}", method, fraction_tag(fraction), seed);
}

std::string pretrain_dir(const std::string& exp, const std::string& method, int seed) {
  return (fs::path(exp) / "pretrain" / pretrain_run_name(method, seed)).string();
}

std::string finetune_dir(const std::string& exp, const std::string& method, double fraction, int seed) {
  return (fs::path(exp) / "finetune" / cell_name(method, fraction, seed)).string();
}

std::string prediction_dir(const std::string& exp, const std::string& method, double fraction, int seed) {
  return (fs::path(exp) / "predictions" / cell_name(method, fraction, seed)).string();
}

std::string ExperimentSpec::class_name(int label) const {
  auto it = labels.find(label);
  return it != labels.end() && !it->second.empty() ? it->second : fmt::format("class {}", label);
}

namespace {

template <class T>
std::vector<T> array_field(const json& j, const char* key, const std::string& path) {
  std::vector<T> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_array()) throw Error(path, fmt::format("\"{}\" must be an array", key));
  try {
    for (const auto& v : j[key]) out.push_back(v.get<T>());
  } catch (const json::exception&) {
    throw Error(path, fmt::format("\"{}\" holds a value of the wrong type", key));
  }
  return out;
}

std::map<std::string, std::string> path_map(const json& j, const char* key, const std::string& exp,
                                            const std::string& path) {
  std::map<std::string, std::string> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_object()) throw Error(path, fmt::format("\"{}\" must be an object {{case: path}}", key));
  for (const auto& [id, v] : j[key].items()) {
    if (!v.is_string()) throw Error(path, fmt::format("\"{}\".\"{}\" must be a path", key, id));
    fs::path p = v.get<std::string>();
    if (p.is_relative() && fs::exists(fs::path(exp) / p)) p = fs::path(exp) / p;
    out[id] = p.string();
  }
  return out;
}

// Splits one CSV line; fields may be double-quoted ("" inside quotes is a quote).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t n = 0; n < line.size(); ++n) {
    char c = line[n];
    if (quoted) {
      if (c == '"' && n + 1 < line.size() && line[n + 1] == '"') {
        fields.back() += '"';
        ++n;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

double parse_number(const std::string& text, bool* ok) {
  *ok = true;
  if (text == "nan" || text == "NaN" || text == "") return std::numeric_limits<double>::quiet_NaN();
  if (text == "inf" || text == "+inf" || text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-inf") return -std::numeric_limits<double>::infinity();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') *ok = false;
  return v;
}

}  // namespace

ExperimentSpec read_experiment(const std::string& exp) {
  const std::string path = (fs::path(exp) / "experiment.json").string();
  ExperimentSpec s;
  s.dir = exp;
  s.raw = read_json_file(path);
  if (!s.raw.is_object()) throw Error(path, "must hold a JSON object");
  const json& j = s.raw;
  if (j.contains("data") && j["data"].is_string()) s.data = j["data"].get<std::string>();
  if (j.contains("preset") && j["preset"].is_string()) s.preset = j["preset"].get<std::string>();
  if (j.contains("base") && j["base"].is_number_integer()) s.base = j["base"].get<int64_t>();
  s.test_cases = array_field<std::string>(j, "test_cases", path);
  s.methods = array_field<std::string>(j, "methods", path);
  s.fractions = array_field<double>(j, "label_fractions", path);
  s.seeds = array_field<int>(j, "seeds", path);
  if (j.contains("labels")) {
    if (!j["labels"].is_object()) throw Error(path, "\"labels\" must be an object {\"1\": name}");
    for (const auto& [key, v] : j["labels"].items()) {
      char* end = nullptr;
      long id = std::strtol(key.c_str(), &end, 10);
      if (end == key.c_str() || *end != '\0' || !v.is_string())
        throw Error(path, fmt::format("\"labels\": entry \"{}\" must map a class id to a name", key));
      if (id > 0) s.labels[static_cast<int>(id)] = v.get<std::string>();
    }
  }
  s.test_images = path_map(j, "test_images", exp, path);
  s.test_labels = path_map(j, "test_labels", exp, path);
  return s;
}

std::vector<ResultRow> read_results_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path, "cannot open file");
  std::string line;
  if (!std::getline(in, line)) throw Error(path, "empty file (no header)");
  const std::vector<std::string> header = split_csv(line);
  auto column = [&](const char* name, bool required) -> int {
    for (size_t n = 0; n < header.size(); ++n)
      if (header[n] == name) return static_cast<int>(n);
    if (required) throw Error(path, fmt::format("header has no column \"{}\"", name));
    return -1;
  };
  const int c_method = column("method", true), c_fraction = column("fraction", true),
            c_seed = column("seed", true), c_case = column("case", true), c_class = column("class", true),
            c_name = column("class_name", false), c_dice = column("dice", true),
            c_hd95 = column("hd95_mm", false), c_nsd = column("nsd", false);
  std::vector<ResultRow> rows;
  for (int line_no = 2; std::getline(in, line); ++line_no) {
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> f = split_csv(line);
    if (f.size() != header.size())
      throw Error(path,
                  fmt::format("line {}: {} fields, the header has {}", line_no, f.size(), header.size()));
    auto number = [&](int c, const char* what) {
      if (c < 0) return std::numeric_limits<double>::quiet_NaN();
      bool ok = false;
      double v = parse_number(f[static_cast<size_t>(c)], &ok);
      if (!ok) throw Error(path, fmt::format("line {}: {} \"{}\" is not a number", line_no, what, f[c]));
      return v;
    };
    ResultRow r;
    r.method = f[static_cast<size_t>(c_method)];
    r.fraction = number(c_fraction, "fraction");
    const double seed = number(c_seed, "seed"), label = number(c_class, "class");
    if (!std::isfinite(seed) || seed != std::floor(seed) || !std::isfinite(label) ||
        label != std::floor(label) || !std::isfinite(r.fraction))
      throw Error(path, fmt::format("line {}: fraction, seed and class must be finite (seed, class integers)",
                                    line_no));
    r.seed = static_cast<int>(seed);
    r.label = static_cast<int>(label);
    r.case_id = f[static_cast<size_t>(c_case)];
    if (c_name >= 0) r.class_name = f[static_cast<size_t>(c_name)];
    r.dice = number(c_dice, "dice");
    r.hd95 = number(c_hd95, "hd95_mm");
    r.nsd = number(c_nsd, "nsd");
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

Curve curve_from_jsonl(const std::vector<json>& lines, const std::string& x_key, const std::string& y_key) {
  Curve c;
  for (const json& j : lines) {
    auto x = j.find(x_key), y = j.find(y_key);
    if (x == j.end() || y == j.end() || !x->is_number() || !y->is_number()) continue;
    const double xv = x->get<double>(), yv = y->get<double>();
    if (!std::isfinite(xv) || !std::isfinite(yv)) continue;
    c.x.push_back(xv);
    c.y.push_back(yv);
  }
  return c;
}

Curve mean_curve(const std::vector<Curve>& curves) {
  std::map<double, std::pair<double, int>> sums;  // x -> (sum, count); a map keeps x sorted
  for (const Curve& c : curves)
    for (size_t n = 0; n < c.x.size(); ++n) {
      auto& s = sums[c.x[n]];
      s.first += c.y[n];
      s.second += 1;
    }
  Curve out;
  for (const auto& [x, s] : sums) {
    out.x.push_back(x);
    out.y.push_back(s.first / s.second);
  }
  return out;
}

}  // namespace pgl::report
