#pragma once
// Progress for long work: a bar with rate and ETA on a terminal, a plain line every few seconds otherwise.
#include <chrono>
#include <cstdint>
#include <string>

namespace pgl {

class Progress {
 public:
  // total: number of units (steps, cases); unit: what they are called in the rate ("it", "case").
  Progress(std::string label, int64_t total, std::string unit = "it");
  ~Progress();
  // Report that `done` units are finished; `status` is shown after the bar (e.g. "loss 0.123").
  void update(int64_t done, const std::string& status = "");
  // Final line (always printed).
  void finish(const std::string& status = "");

  // Seconds between plain lines when stderr is not a terminal (default 10).
  static void set_plain_interval(double seconds);
  // Silence all progress output (tests).
  static void set_quiet(bool quiet);

 private:
  void render(bool final_line);
  std::string label_, unit_, status_;
  int64_t total_, done_ = 0, start_done_ = -1;
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_print_;
};

// "1h02m", "3m05s", "12s"
std::string format_duration(double seconds);

}  // namespace pgl
