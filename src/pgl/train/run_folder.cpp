#include "pgl/train/run_folder.h"

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"

namespace pgl::train {
namespace fs = std::filesystem;

RunFolder::RunFolder(std::string path, bool resume, bool writes) : path_(std::move(path)), writes_(writes) {
  if (path_.empty()) throw Error("no run folder given (--out)");
  if (!writes_) return;
  if (!resume && fs::exists(fs::path(path_) / "config.json"))
    throw Error(path_, "a run already exists here; use --resume to continue it or choose another --out");
  if (resume && !fs::exists(fs::path(path_) / "config.json"))
    throw Error(path_, "no run to resume here (no config.json)");
  std::error_code ec;
  fs::create_directories(fs::path(path_) / "checkpoints", ec);
  if (ec) throw Error(path_, "cannot create run folder: " + ec.message());
  // What a killed run was writing when it died (a checkpoint can be large): never read, so removed.
  for (const auto& folder : {fs::path(path_), fs::path(path_) / "checkpoints"})
    remove_stale_temporaries(folder);
  log_.open(file("log.txt"), std::ios::app);
}

std::string RunFolder::file(const std::string& name) const { return (fs::path(path_) / name).string(); }

std::string RunFolder::checkpoint(const std::string& name) const {
  return (fs::path(path_) / "checkpoints" / (name + ".pt")).string();
}

std::string find_checkpoint(const std::string& run_folder, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    const auto path = (fs::path(run_folder) / "checkpoints" / (name + ".pt")).string();
    if (fs::exists(path)) return path;
  }
  return "";
}

bool RunFolder::has_checkpoint(const std::string& name) const { return fs::exists(checkpoint(name)); }

void RunFolder::write_json(const std::string& name, const nlohmann::json& j) const {
  if (!writes_) return;
  write_text_atomically(file(name), j.dump(2) + "\n");
}

void RunFolder::start_metrics(int64_t from_step) {
  if (!writes_) return;
  std::string path = file("metrics.jsonl");
  if (fs::exists(path)) {
    std::ifstream in(path);
    std::ostringstream kept;
    std::string line;
    while (std::getline(in, line)) {
      try {
        auto j = nlohmann::json::parse(line);
        if (j.value("step", int64_t{0}) <= from_step) kept << line << "\n";
      } catch (const nlohmann::json::exception&) {
        // a line cut by a kill: dropped
      }
    }
    write_text_atomically(path, kept.str());
  }
  metrics_.open(path, std::ios::app);
  if (!metrics_) throw Error(path, "cannot open for writing");
}

void RunFolder::log_metrics(const nlohmann::json& line) {
  if (!writes_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  metrics_ << line.dump() << "\n";
  metrics_.flush();
  if (!metrics_) throw Error(file("metrics.jsonl"), "cannot write (disk full or file size limit?)");
}

void RunFolder::log(const std::string& line) {
  if (!writes_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  log_ << line << "\n";
  log_.flush();
  if (!log_) throw Error(file("log.txt"), "cannot write (disk full or file size limit?)");
}

}  // namespace pgl::train
