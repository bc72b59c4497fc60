#pragma once
// The settings that change how a run executes, never what it computes. They are left out of the trajectory
// hash, and a resumed run takes them from its command line (train/resume.h): one list serves both.
#include <array>

namespace pgl::train {

inline constexpr std::array<const char*, 11> kExecutionSettings = {
    "threads",      "data_workers", "prefetch",       "log_every",         "checkpoint_every", "stop_at",
    "dist_timeout", "device",       "skip_nonfinite", "debug_nan_at_step", "profile"};

// Also left out of the hash: where the run lives and what was said about its resumption.
inline constexpr std::array<const char*, 5> kRunBookkeeping = {"out", "cache", "accept_world_size_change",
                                                               "change_on_resume", "resume_changes"};

}  // namespace pgl::train
