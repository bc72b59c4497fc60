#pragma once
// StepWindow: the running means a training loop logs to metrics.jsonl every --log-every steps. Pretraining
// and fine-tuning log the same fields (loss, lr, step_ms, samples_per_s, data_wait, elapsed_s); a loop adds
// its own averaged values by name (target_spread) and sets the rest on the returned line (tau).
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace pgl::train {

class StepWindow {
 public:
  using Clock = std::chrono::steady_clock;
  StepWindow(int64_t batch, Clock::time_point started) : batch_(batch), started_(started) {}

  // One step: its loss, the seconds it waited for data and the seconds it took in all.
  void add(double loss, double wait_seconds, double step_seconds) {
    loss_ += loss;
    wait_ += wait_seconds;
    time_ += step_seconds;
    ++steps_;
  }
  // A further value to average over the window's steps; a name seen in no step of a window is not logged.
  void add_value(const std::string& name, double value) {
    auto& [sum, count] = extras_[name];
    sum += value;
    ++count;
  }
  // NaN for a window without steps (every one skipped as non-finite): there is no loss to report.
  double mean_loss() const {
    return steps_ > 0 ? loss_ / static_cast<double>(steps_) : std::numeric_limits<double>::quiet_NaN();
  }

  // The metrics line for `step` (the number of steps done), then a new window starts. A window whose steps
  // were all skipped has no loss or timing fields, rather than zeros that a plot would show as values.
  nlohmann::json flush(int64_t step, double lr) {
    const double n = static_cast<double>(steps_);
    nlohmann::json line = {{"step", step},
                           {"lr", lr},
                           {"elapsed_s", std::chrono::duration<double>(Clock::now() - started_).count()}};
    if (steps_ > 0) {
      line["loss"] = mean_loss();
      line["step_ms"] = 1000 * time_ / n;
      line["samples_per_s"] = time_ > 0 ? static_cast<double>(batch_) * n / time_ : 0.0;
      line["data_wait"] = time_ > 0 ? wait_ / time_ : 0.0;
    }
    for (const auto& [name, sum_count] : extras_)
      line[name] = sum_count.first / static_cast<double>(sum_count.second);
    extras_.clear();
    loss_ = wait_ = time_ = 0;
    steps_ = 0;
    return line;
  }

 private:
  int64_t batch_;
  Clock::time_point started_;
  double loss_ = 0, wait_ = 0, time_ = 0;
  int64_t steps_ = 0;
  std::map<std::string, std::pair<double, int64_t>> extras_;  // name -> (sum, steps)
};

}  // namespace pgl::train
