#pragma once
// The run folder of DESIGN.md §4: config.json, plan.json, metrics.jsonl, log.txt and checkpoints/.
#include <cstdint>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pgl::train {

// The first of checkpoints/NAME.pt in a run folder, in the order given (e.g. {"best", "final", "latest"}),
// or "" when there is none. Reading a run folder needs no RunFolder (which may create it).
std::string find_checkpoint(const std::string& run_folder, const std::vector<std::string>& names);

class RunFolder {
 public:
  // Creates the folder. With resume=false an existing run (a config.json) is refused rather than overwritten.
  // A folder that does not write (the ranks after 0 of a data-parallel job) only reads: its writes and log
  // lines are dropped, and it neither checks nor creates anything at construction (rank 0 does).
  RunFolder(std::string path, bool resume, bool writes = true);
  bool writes() const { return writes_; }

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const;        // path/name
  std::string checkpoint(const std::string& name) const;  // path/checkpoints/name.pt
  bool has_checkpoint(const std::string& name) const;

  void write_json(const std::string& name, const nlohmann::json& j) const;  // atomic

  // metrics.jsonl: one object per line ("step" = steps done). start_metrics(step) drops lines after step (a
  // resumed run rewrites what it logged after its last checkpoint), then appends.
  void start_metrics(int64_t from_step);
  void log_metrics(const nlohmann::json& line);

  // A line to stdout and log.txt.
  void log(const std::string& line);

 private:
  std::string path_;
  bool writes_;
  std::ofstream metrics_, log_;
  std::mutex mutex_;
};

}  // namespace pgl::train
