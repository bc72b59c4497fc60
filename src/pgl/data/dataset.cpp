#include "pgl/data/dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "pgl/core/error.h"
#include "pgl/core/json_file.h"
#include "pgl/io/volume_io.h"

namespace pgl {
namespace fs = std::filesystem;
using nlohmann::json;

bool Dataset::labeled() const {
  return !cases.empty() &&
         std::all_of(cases.begin(), cases.end(), [](const Case& c) { return !c.label.empty(); });
}

bool Dataset::is_ct() const { return modality == "CT" || modality == "ct"; }

const Case* Dataset::find(const std::string& id) const {
  for (const auto& c : cases)
    if (c.id == id) return &c;
  return nullptr;
}

std::vector<Case> Dataset::split(const std::string& name) const {
  auto it = splits.find(name);
  if (it == splits.end()) {
    std::string known;
    for (const auto& [n, ids] : splits) known += (known.empty() ? "" : ", ") + n;
    throw Error(root + "/dataset.json",
                fmt::format("no split named '{}' (known: {})", name, known.empty() ? "none" : known));
  }
  std::vector<Case> out;
  for (const auto& id : it->second) {
    const Case* c = find(id);
    if (!c) throw Error(root + "/dataset.json", fmt::format("split '{}' names unknown case '{}'", name, id));
    out.push_back(*c);
  }
  return out;
}

std::string case_id_from_path(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (const char* ext : {".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"}) {
    std::string e = ext;
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return name.substr(0, name.size() - e.size());
  }
  return fs::path(name).stem().string();
}

namespace {

// Resolves a path from dataset.json against the root and refuses anything that leaves the folder
// (absolute paths elsewhere, "..", symlinks pointing outside).
std::string resolve_inside(const fs::path& root, const std::string& relative, const std::string& json_path) {
  if (relative.empty()) throw Error(json_path, "empty path in 'training'");
  fs::path p = fs::path(relative).is_absolute() ? fs::path(relative) : root / relative;
  // A name too long for the file system threw std::filesystem::filesystem_error (found by
  // fuzz/dataset_json.cpp).
  std::error_code ec;
  fs::path normal = fs::weakly_canonical(p, ec);
  if (ec)
    throw Error(json_path, fmt::format("invalid path '{}' ({})", relative.substr(0, 100), ec.message()));
  auto rel = normal.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..")
    throw Error(json_path, fmt::format("path '{}' points outside the data set folder", relative));
  return normal.string();
}

// MSD: {"0": "background", "1": "liver"}; nnU-Net v2: {"background": 0, "liver": 1}.
std::map<int, std::string> parse_labels(const json& j, const std::string& json_path) {
  std::map<int, std::string> labels;
  if (!j.contains("labels")) return labels;
  const json& l = j["labels"];
  if (!l.is_object()) throw Error(json_path, "'labels' must be an object");
  // Label values are voxel values of uint16 label maps. (A key of 48 digits escaped std::stoi as
  // std::out_of_range: found by fuzz/dataset_json.cpp.)
  auto value_of = [&](const std::string& text, const std::string& key) {
    const bool digits = !text.empty() && text.size() <= 5 &&
                        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stol(text) > 65535)
      throw Error(json_path, fmt::format("label '{}': '{}' is not an integer in 0..65535", key, text));
    return static_cast<int>(std::stol(text));
  };
  for (const auto& [key, value] : l.items()) {
    if (value.is_string())
      labels[value_of(key, key)] = value.get<std::string>();
    else if (value.is_number_integer())
      labels[value_of(value.dump(), key)] = key;
    else
      throw Error(json_path, fmt::format("label '{}' must map to a name or an integer", key));
  }
  return labels;
}

std::string parse_modality(const json& j) {
  for (const char* key : {"modality", "channel_names"})
    if (j.contains(key) && j[key].is_object() && j[key].contains("0") && j[key]["0"].is_string())
      return j[key]["0"].get<std::string>();
  return "CT";
}

bool is_image_file(const fs::path& p) {
  return fs::is_regular_file(p) && is_supported_image_path(p.string());
}

std::vector<fs::path> sorted_images(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder))
    if (is_image_file(e.path()) && e.path().filename().string()[0] != '.') files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

void open_msd(Dataset& d, const json& j, const std::string& json_path) {
  const json& training = j["training"];
  if (!training.is_array()) throw Error(json_path, "'training' must be an array");
  fs::path root(d.root);
  std::set<std::string> ids;
  for (size_t n = 0; n < training.size(); ++n) {
    const json& entry = training[n];
    // MSD entries are objects; a plain string is accepted as an unlabeled image.
    Case c;
    if (entry.is_string()) {
      c.image = resolve_inside(root, entry.get<std::string>(), json_path);
    } else if (entry.is_object() && entry.contains("image") && entry["image"].is_string()) {
      c.image = resolve_inside(root, entry["image"].get<std::string>(), json_path);
      if (entry.contains("label")) {
        if (!entry["label"].is_string())
          throw Error(json_path, fmt::format("training[{}].label must be a string", n));
        c.label = resolve_inside(root, entry["label"].get<std::string>(), json_path);
      }
    } else {
      throw Error(json_path, fmt::format("training[{}] must be an object with a string 'image'", n));
    }
    c.id = case_id_from_path(c.image);
    if (!ids.insert(c.id).second) throw Error(json_path, fmt::format("case id '{}' appears twice", c.id));
    d.cases.push_back(std::move(c));
  }
  if (j.contains("splits")) {
    if (!j["splits"].is_object()) throw Error(json_path, "'splits' must be an object of id lists");
    for (const auto& [name, ids_json] : j["splits"].items()) {
      if (!ids_json.is_array())
        throw Error(json_path, fmt::format("split '{}' must be an array of ids", name));
      for (const auto& id : ids_json) {
        if (!id.is_string()) throw Error(json_path, fmt::format("split '{}' holds a non-string id", name));
        d.splits[name].push_back(id.get<std::string>());
      }
    }
  }
}

void open_nnunet(Dataset& d) {
  fs::path root(d.root);
  for (const auto& image : sorted_images(root / "imagesTr")) {
    std::string id = case_id_from_path(image.string());
    if (id.size() < 5 || id.substr(id.size() - 5, 1) != "_") continue;
    if (id.substr(id.size() - 4) != "0000") continue;  // channel 0 only
    Case c;
    c.id = id.substr(0, id.size() - 5);
    c.image = image.string();
    std::string ending = image.filename().string().substr(id.size());
    fs::path label = root / "labelsTr" / (c.id + ending);
    if (fs::exists(label)) c.label = label.string();
    d.cases.push_back(std::move(c));
  }
}

void open_folder(Dataset& d) {
  for (const auto& image : sorted_images(d.root))
    d.cases.push_back({case_id_from_path(image.string()), image.string(), ""});
}

}  // namespace

Dataset open_dataset(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path, "no such folder");
  if (!fs::is_directory(path)) throw Error(path, "not a folder (a data set is a folder)");
  Dataset d;
  d.root = fs::canonical(path).string();
  d.name = fs::path(d.root).filename().string();
  std::string json_path = (fs::path(d.root) / "dataset.json").string();
  bool has_json = fs::exists(json_path);
  json j;
  if (has_json) {
    j = read_json_file(json_path);
    if (!j.is_object()) throw Error(json_path, "must hold a JSON object");
    if (j.contains("name") && j["name"].is_string()) d.name = j["name"].get<std::string>();
    d.labels = parse_labels(j, json_path);
    d.modality = parse_modality(j);
  }
  if (has_json && j.contains("training")) {
    d.layout = "msd";
    open_msd(d, j, json_path);
  } else if (fs::is_directory(fs::path(d.root) / "imagesTr")) {
    d.layout = "nnunet";
    open_nnunet(d);
    if (d.cases.empty())
      throw Error(path,
                  "dataset.json lacks 'training' (MSD layout) and imagesTr holds no CASE_0000 images "
                  "(nnU-Net layout)");
  } else if (has_json) {
    throw Error(json_path, "lacks 'training' (Medical Segmentation Decathlon layout)");
  } else {
    d.layout = "folder";
    open_folder(d);
  }
  if (d.cases.empty()) throw Error(path, "no images found");
  return d;
}

bool is_excluded(const Case& c, const std::vector<std::string>& exclude) {
  for (const auto& e : exclude) {
    if (e == c.id) return true;
    std::error_code ec;
    if (e.find('/') != std::string::npos && std::filesystem::equivalent(e, c.image, ec)) return true;
  }
  return false;
}

}  // namespace pgl
