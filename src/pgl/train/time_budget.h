#pragma once
// --time-budget MINUTES: a run measures its own step time over its first steps, then fixes its step count so
// that it ends on time with a complete learning-rate schedule. The chosen count is recorded in the run's
// config, so a resumed run keeps it.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pgl::train {

class StepBudget {
 public:
  // Steps run before the count is chosen; the first `warmup` of them are not timed (allocator and kernel
  // selection make them slow).
  static constexpr int64_t kCalibrationSteps = 30;
  static constexpr int64_t kUntimedSteps = 5;

  explicit StepBudget(double minutes) : seconds_(minutes * 60) {}
  bool active() const { return seconds_ > 0; }
  // Records the duration of step `step` (0-based).
  void record(int64_t step, double seconds);
  // The median of all steps recorded after the untimed ones: the rate for re-planning. (The median of a
  // recent window followed the mix of patches and made the count jump by 30%.)
  double recent_seconds_per_step() const;
  // True once `steps_done` steps have run and the count should be chosen now (asked until it is chosen; a
  // run resumed past the calibration steps without a count chooses at once, never runs on unbounded).
  bool calibrated(int64_t steps_done) const { return active() && steps_done >= kCalibrationSteps; }
  double seconds_per_step() const;

  // The total step count: the steps done, plus as many as fit in what is left of the budget after
  // `elapsed` seconds, given a validation of `validation_seconds` every `val_every` steps and
  // `tail_seconds` of work after the last step. At least steps_done + 1. 2% of the budget is kept spare.
  int64_t total_steps(int64_t steps_done, double elapsed, double validation_seconds, int64_t val_every,
                      double tail_seconds) const;

  // Re-planning during the run (the first steps are often slower or faster than the rest: warm-up,
  // denormal weights right after a transfer, another job): the same count from the recent step rate. The
  // caller keeps its current count unless the new one differs by more than 2%.
  int64_t replanned_steps(int64_t steps_done, double elapsed, double validation_seconds, int64_t val_every,
                          double tail_seconds) const;

 private:
  int64_t steps_for(double per_step, int64_t steps_done, double elapsed, double tail_seconds) const;
  double seconds_;
  std::vector<double> times_, recent_;
};

// Validation under a time budget. A round of sliding-window inference on whole cases can cost more than the
// training between rounds (OpenKBP: about 11 s a case and 40 validation cases, 7 minutes a round, every 250
// steps of 0.5 s), so the rounds get at most kValidationShare of the budget: at least kMinValidationRounds
// rounds on as many cases as that allows (the first cases of the validation split, the same every round),
// then as many rounds as the allowance pays for, no closer than `min_every` steps apart.
inline constexpr double kValidationShare = 0.10;
inline constexpr int64_t kMinValidationRounds = 5;
struct ValidationPlan {
  int64_t every = 0;  // steps between rounds
  int64_t cases = 0;  // validation cases per round
  double round_seconds = 0;
};
ValidationPlan plan_validation(double budget_seconds, double seconds_per_step, double seconds_per_case,
                               int64_t cases, int64_t min_every);

// The clock a time budget is spent on: wall time since construction, less the time the process was stopped
// (SIGSTOP, a suspended laptop, a job paused so that another can use the cores). A watcher thread wakes
// every half second; a gap of more than 5 s between wakes counts as a pause. Steps that span a pause are
// slow, and the median step time ignores them.
class BudgetClock {
 public:
  BudgetClock();
  ~BudgetClock();
  BudgetClock(const BudgetClock&) = delete;
  BudgetClock& operator=(const BudgetClock&) = delete;
  double seconds() const;
  double paused_seconds() const;

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
  std::atomic<double> paused_{0};
  std::atomic<Clock::rep> last_wake_;  // when the watcher last woke; a long gap since then is a pause too
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread watcher_;
};

// " (N s paused)" when the clock saw pauses, for the run's closing log line; else empty.
std::string paused_note(const BudgetClock& clock);

}  // namespace pgl::train
