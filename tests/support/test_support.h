#pragma once
// Helpers shared by every test executable.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace pgl::test {

// ../shared/data beside the checkout (or $PGL_SHARED_DATA); "" when absent.
std::string shared_data_dir();
// Skips the current test with a printed reason when shared data (or one file under it) is missing.
#define PGL_REQUIRE_SHARED(relative)                                                             \
  do {                                                                                           \
    if (::pgl::test::shared_path(relative).empty())                                              \
      GTEST_SKIP() << "skipped: ../shared/data/" << (relative) << " is absent (real-data test)"; \
  } while (0)
// Full path of a file under shared data, or "" when it does not exist.
std::string shared_path(const std::string& relative);

// A fresh temporary folder, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A folder shared by every test process of a suite: `build` fills <build>/tests/fixtures/<name> once per pgl
// binary, and later processes (ctest runs each test in its own) reuse it while the binary is unchanged.
// Concurrent processes wait on a lock. A `build` that fails (an ASSERT) leaves no stamp, so it is retried.
std::string shared_fixture(const std::string& name, const std::function<void(const std::string& dir)>& build);

// Runs the pgl binary with arguments (a shell-quoted string); returns exit status and combined output.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run_pgl(const std::string& arguments);
// Runs a shell command line (sh -c); returns exit status and combined output.
CommandResult run_shell(const std::string& script);
std::string pgl_binary();

std::string source_dir();

// A JSON file's contents (a test failure, not an exception, when it is missing or malformed: null).
nlohmann::json read_json(const std::string& path);
// The whole file as bytes; empty when it cannot be read.
std::string read_text(const std::string& path);

}  // namespace pgl::test
