#include "pgl/core/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace pgl {
namespace {
double g_plain_interval = 10.0;
bool g_quiet = false;
}  // namespace

void Progress::set_plain_interval(double seconds) { g_plain_interval = seconds; }
void Progress::set_quiet(bool quiet) { g_quiet = quiet; }

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  auto t = static_cast<long>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

Progress::~Progress() {
  if (!finished_ && tty_ && !g_quiet && done_ > 0) std::fputc('\n', stderr);
}

void Progress::update(int64_t done, const std::string& status) {
  if (start_done_ < 0) {  // rate counts from the first update (resumed runs start mid-way)
    start_done_ = done;
    start_ = std::chrono::steady_clock::now();
  }
  done_ = done;
  status_ = status;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_print_).count();
  if (g_quiet) return;
  if ((tty_ && since >= 0.1) || (!tty_ && since >= g_plain_interval)) {
    last_print_ = now;
    render(false);
  }
}

void Progress::finish(const std::string& status) {
  if (!status.empty()) status_ = status;
  finished_ = true;
  if (!g_quiet) render(true);
}

void Progress::render(bool final_line) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? static_cast<double>(done_ - std::max<int64_t>(start_done_, 0)) / elapsed : 0;
  double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : -1;
  std::string rate_text = rate >= 1 || rate == 0 ? fmt::format("{:.2f} {}/s", rate, unit_)
                                                 : fmt::format("{:.2f} s/{}", 1.0 / rate, unit_);
  if (tty_) {
    const int width = 24;
    int filled = total_ > 0 ? static_cast<int>(width * done_ / total_) : 0;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %s ETA %s %s", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), rate_text.c_str(),
                 final_line ? format_duration(elapsed).c_str() : format_duration(eta).c_str(), status_.c_str());
    if (final_line) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "%s %lld/%lld (%.0f%%) %s elapsed %s ETA %s %s\n", label_.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_),
                 total_ > 0 ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 0.0,
                 rate_text.c_str(), format_duration(elapsed).c_str(),
                 final_line ? "0s" : format_duration(eta).c_str(), status_.c_str());
  }
  std::fflush(stderr);
}

}  // namespace pgl
