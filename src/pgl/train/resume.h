#pragma once
// On --resume the stored config is authoritative: the user may change how a run executes (threads, workers,
// logging, checkpoint interval, where to stop), never what it computes.
#include "pgl/core/error.h"
#include "pgl/core/json_file.h"
#include "pgl/core/version.h"
#include "pgl/train/run_folder.h"

namespace pgl::train {

template <class Config>
Config config_for_resume(const Config& requested, const RunFolder& run) {
  const std::string path = run.file("config.json");
  Config stored = Config::from_json(read_json_file(path), path);
  Config wanted = requested.resolved();
  if (wanted.trajectory_hash() != stored.trajectory_hash())
    throw Error(path,
                "the requested settings differ from the stored run; resume with the same settings (only "
                "--threads, --data-workers, --prefetch, --log-every, --checkpoint-every and --stop-at may "
                "change)");
  stored.threads = wanted.threads;
  stored.data_workers = wanted.data_workers;
  stored.prefetch = wanted.prefetch;
  stored.log_every = wanted.log_every;
  stored.checkpoint_every = wanted.checkpoint_every;
  stored.stop_at = wanted.stop_at;
  return stored;
}

// RUN/config.json: the resolved settings with their trajectory hash and the pgl version; a --time-budget run
// also records whether its step count has been chosen yet. Returns what was written.
template <class Config>
nlohmann::json write_run_config(RunFolder& run, const Config& config, bool budgeted, bool steps_chosen) {
  nlohmann::json j = config.to_json();
  j["trajectory_hash"] = config.trajectory_hash();
  j["pgl_version"] = version();
  if (budgeted) j["steps_chosen_by_budget"] = steps_chosen;
  run.write_json("config.json", j);
  return j;
}

// Whether a --time-budget run being resumed had already chosen its step count.
inline bool budget_steps_chosen(const RunFolder& run) {
  return read_json_file(run.file("config.json")).value("steps_chosen_by_budget", false);
}

}  // namespace pgl::train
