#pragma once
// Data-parallel jobs on PyTorch's distributed engine, c10d: one process per rank, started by torchrun
// (`torchrun --no-python --nproc-per-node N pgl pretrain ...`), SLURM (`srun`) or by hand with the same
// environment variables. The rendezvous is c10d's TCPStore and the process group is Gloo.
#include <memory>
#include <string>

namespace pgl::train {

class RankGroup;

// Where this process stands in its job, from the environment: torchrun's RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR and MASTER_PORT, else SLURM's SLURM_PROCID, SLURM_NTASKS and SLURM_LOCALID (with MASTER_ADDR
// and MASTER_PORT set by the job script). Without any of them: a single process.
struct LaunchEnvironment {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string launcher = "single process";  // torchrun | SLURM | environment
  // torchrun's agent already serves the store; its workers connect as clients, under a prefix per restart.
  bool agent_store = false;
  int restart_count = 0;
  bool distributed() const { return world_size > 1; }
};

// Throws pgl::Error naming the variable when the environment is inconsistent (a rank outside the world,
// a world size without an address).
LaunchEnvironment launch_environment();

// Whether a training run joins the launcher's job (data parallel over its ranks) or runs in this process
// alone: `pgl experiment` spreads whole runs over its ranks, each of them single-process.
enum class Ranks { FromLauncher, ThisProcessOnly };
inline LaunchEnvironment launch_environment(Ranks ranks) {
  return ranks == Ranks::FromLauncher ? launch_environment() : LaunchEnvironment{};
}

// True when torchrun restarted this job (TORCHELASTIC_RESTART_COUNT > 0) and `run_folder` holds the run it
// started: the restarted ranks resume it instead of refusing an existing run.
bool resumes_after_restart(const LaunchEnvironment& env, const std::string& run_folder);

// The group of this process: a group of one, or, for a distributed job, c10d's Gloo group after the
// rendezvous. Every collective waits at most `timeout_seconds`; a rank that died or cannot be reached
// makes the others stop with one error naming it.
std::unique_ptr<RankGroup> make_rank_group(const LaunchEnvironment& env, double timeout_seconds);

}  // namespace pgl::train
