#include "pgl/train/time_budget.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace pgl::train {

namespace {
// The median: a step delayed by a checkpoint write or another process must not shorten the run.
double median(std::vector<double> t) {
  if (t.empty()) return 0;
  std::nth_element(t.begin(), t.begin() + static_cast<long>(t.size() / 2), t.end());
  return t[t.size() / 2];
}
}  // namespace

void StepBudget::record(int64_t step, double seconds) {
  if (step >= kUntimedSteps && step < kCalibrationSteps) times_.push_back(seconds);
  if (step >= kUntimedSteps) recent_.push_back(seconds);
}

double StepBudget::seconds_per_step() const { return times_.empty() ? median(recent_) : median(times_); }

double StepBudget::recent_seconds_per_step() const { return median(recent_); }

int64_t StepBudget::steps_for(double per_step, int64_t steps_done, double elapsed,
                              double tail_seconds) const {
  const double left = 0.98 * seconds_ - elapsed - tail_seconds;
  if (!(per_step > 0) || left <= 0) return steps_done + 1;
  return steps_done + std::max<int64_t>(1, static_cast<int64_t>(std::floor(left / per_step)));
}

int64_t StepBudget::total_steps(int64_t steps_done, double elapsed, double validation_seconds,
                                int64_t val_every, double tail_seconds) const {
  const double validation = val_every > 0 ? validation_seconds / static_cast<double>(val_every) : 0.0;
  return steps_for(seconds_per_step() + validation, steps_done, elapsed, tail_seconds);
}

int64_t StepBudget::replanned_steps(int64_t steps_done, double elapsed, double validation_seconds,
                                    int64_t val_every, double tail_seconds) const {
  const double validation = val_every > 0 ? validation_seconds / static_cast<double>(val_every) : 0.0;
  return steps_for(recent_seconds_per_step() + validation, steps_done, elapsed, tail_seconds);
}

ValidationPlan plan_validation(double budget_seconds, double seconds_per_step, double seconds_per_case,
                               int64_t cases, int64_t min_every) {
  ValidationPlan plan;
  const double allowance = kValidationShare * budget_seconds;
  const double per_case = std::max(seconds_per_case, 1e-3);
  plan.cases = std::clamp<int64_t>(
      static_cast<int64_t>(allowance / (static_cast<double>(kMinValidationRounds) * per_case)), 1, cases);
  plan.round_seconds = static_cast<double>(plan.cases) * per_case;
  const double steps = (1 - kValidationShare) * budget_seconds / std::max(seconds_per_step, 1e-6);
  const double rounds = std::clamp(std::floor(allowance / plan.round_seconds), 1.0,
                                   std::max(1.0, std::floor(steps / static_cast<double>(min_every))));
  plan.every = std::max<int64_t>(min_every, static_cast<int64_t>(std::ceil(steps / rounds)));
  return plan;
}

namespace {
constexpr double kTickSeconds = 0.5;
constexpr double kPauseSeconds = 5.0;  // a gap between the watcher's wakes longer than this is a pause
double pause_in_gap(double gap) { return gap > kPauseSeconds ? gap - kTickSeconds : 0.0; }
}  // namespace

BudgetClock::BudgetClock() : start_(Clock::now()), last_wake_(start_.time_since_epoch().count()) {
  watcher_ = std::thread([this] {
    const auto tick = std::chrono::duration<double>(kTickSeconds);
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, tick, [this] { return stop_; })) {
      const auto now = Clock::now();
      const Clock::time_point last{Clock::duration(last_wake_.load())};
      paused_.store(paused_.load() + pause_in_gap(std::chrono::duration<double>(now - last).count()));
      last_wake_.store(now.time_since_epoch().count());
    }
  });
}

BudgetClock::~BudgetClock() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  watcher_.join();
}

// A pause that just ended may not be counted by the watcher yet: the gap since its last wake is added.
double BudgetClock::paused_seconds() const {
  const Clock::time_point last{Clock::duration(last_wake_.load())};
  return paused_.load() + pause_in_gap(std::chrono::duration<double>(Clock::now() - last).count());
}

double BudgetClock::seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count() - paused_seconds();
}

std::string paused_note(const BudgetClock& clock) {
  const double paused = clock.paused_seconds();
  if (paused <= 0) return {};
  return " (" + std::to_string(static_cast<long long>(std::lround(paused))) + " s paused, not counted)";
}

}  // namespace pgl::train
