#pragma once
// On --resume the stored config is authoritative: the user may change how a run executes (threads, workers,
// logging, checkpoint interval, where to stop), never what it computes.
#include "pgl/core/error.h"
#include "pgl/core/json_file.h"
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

}  // namespace pgl::train
