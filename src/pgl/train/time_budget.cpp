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
  recent_.push_back(seconds);
  if (recent_.size() > 200) recent_.erase(recent_.begin());
}

double StepBudget::seconds_per_step() const { return median(times_); }

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

}  // namespace pgl::train
