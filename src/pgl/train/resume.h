#pragma once
// On --resume the stored config is authoritative: the user may change how a run executes (threads, workers,
// logging, checkpoint interval, where to stop), never what it computes.
#include "pgl/core/error.h"
#include "pgl/core/json_file.h"
#include "pgl/core/version.h"
#include "pgl/train/execution_settings.h"
#include "pgl/train/run_folder.h"

namespace pgl::train {

// The settings that make `requested` compute something else than `stored`, as "name (stored X, requested
// Y)" items: each differing field is tried alone on the stored config against its trajectory hash.
template <class Config>
std::string trajectory_differences(const Config& stored, const Config& requested, const std::string& source) {
  const nlohmann::json a = stored.to_json(), b = requested.to_json();
  std::string out;
  for (const auto& [key, value] : b.items()) {
    if (a.contains(key) && a.at(key) == value) continue;
    nlohmann::json changed = a;
    changed[key] = value;
    if (Config::from_json(changed, source).trajectory_hash() == stored.trajectory_hash()) continue;
    out += (out.empty() ? "" : "; ") + key + " (stored " + (a.contains(key) ? a.at(key).dump() : "none") +
           ", requested " + value.dump() + ")";
  }
  return out;
}

template <class Config>
Config config_for_resume(const Config& requested, const RunFolder& run) {
  const std::string path = run.file("config.json");
  Config stored = Config::from_json(read_json_file(path), path);
  Config wanted = requested.resolved();
  if (wanted.world_size != stored.world_size) {
    if (!wanted.accept_world_size_change)
      throw Error(path, "this run was trained by " + std::to_string(stored.world_size) +
                            " process(es) and is resumed by " + std::to_string(wanted.world_size) +
                            ": the global batch, and with it what the run computes, would change. Resume it "
                            "with the same number of processes, or pass --accept-world-size-change to go on "
                            "from the checkpoint with the new global batch.");
    stored.world_size = wanted.world_size;  // written to config.json: the run continues on a new trajectory
  }
  if (wanted.change_on_resume) {
    // --lr and --clip-grad may change (after a non-finite step, say); each change is recorded.
    Config probe = wanted;
    probe.lr = stored.lr;
    probe.clip_grad = stored.clip_grad;
    if (probe.trajectory_hash() == stored.trajectory_hash()) {
      auto record = [&](const char* name, double from, double to) {
        if (from != to)
          stored.resume_changes.push_back(std::string(name) + " " + std::to_string(from) + " -> " +
                                          std::to_string(to));
      };
      record("lr", stored.lr, wanted.lr);
      record("clip_grad", stored.clip_grad, wanted.clip_grad);
      stored.lr = wanted.lr;
      stored.clip_grad = wanted.clip_grad;
    }
  }
  if (wanted.trajectory_hash() != stored.trajectory_hash()) {
    const std::string differences = trajectory_differences(stored, wanted, path);
    throw Error(
        path,
        "--resume continues the stored run, and these settings differ from it: " +
            (differences.empty() ? std::string("several together") : differences) +
            ". Only --threads, --data-workers, --prefetch, --log-every, --checkpoint-every, --stop-at and "
            "--dist-timeout may change (and --lr and --clip-grad with --change-on-resume): everything else "
            "changes what the run computes (the step count fixes "
            "the "
            "learning-rate schedule, which a longer run would leave half-way). To train further, start "
            "a new run from this one (--init RUN for fine-tuning).");
  }
  nlohmann::json resumed = stored.to_json();
  const nlohmann::json command_line = wanted.to_json();
  for (const char* key : kExecutionSettings) resumed[key] = command_line.at(key);
  return Config::from_json(resumed, path);
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
