#include "pgl/train/time_budget.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace pgl::train {

void StepBudget::record(int64_t step, double seconds) {
  if (step >= kUntimedSteps && step < kCalibrationSteps) times_.push_back(seconds);
}

double StepBudget::seconds_per_step() const {
  if (times_.empty()) return 0;
  // The median: a step delayed by a checkpoint write or another process must not shorten the run.
  std::vector<double> t = times_;
  std::nth_element(t.begin(), t.begin() + static_cast<long>(t.size() / 2), t.end());
  return t[t.size() / 2];
}

int64_t StepBudget::total_steps(int64_t steps_done, double elapsed, double validation_seconds,
                                int64_t val_every, double tail_seconds) const {
  const double per_step =
      seconds_per_step() + (val_every > 0 ? validation_seconds / static_cast<double>(val_every) : 0.0);
  const double left = 0.98 * seconds_ - elapsed - tail_seconds;
  if (!(per_step > 0) || left <= 0) return steps_done + 1;
  return steps_done + std::max<int64_t>(1, static_cast<int64_t>(std::floor(left / per_step)));
}

}  // namespace pgl::train
