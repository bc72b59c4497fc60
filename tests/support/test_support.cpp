#include "support/test_support.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pgl::test {
namespace fs = std::filesystem;

std::string source_dir() { return PGL_SOURCE_DIR; }
std::string pgl_binary() { return PGL_BINARY; }

std::string shared_data_dir() {
  if (const char* env = std::getenv("PGL_SHARED_DATA")) return fs::is_directory(env) ? env : "";
  fs::path p = fs::path(PGL_SOURCE_DIR).parent_path() / "shared" / "data";
  return fs::is_directory(p) ? p.string() : "";
}

std::string shared_path(const std::string& relative) {
  std::string root = shared_data_dir();
  if (root.empty()) return "";
  fs::path p = fs::path(root) / relative;
  return fs::exists(p) ? p.string() : "";
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "pgl-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string shared_fixture(const std::string& name,
                           const std::function<void(const std::string& dir)>& build) {
  fs::path root = fs::path(PGL_TEST_WORK_DIR) / name;
  fs::create_directories(root.parent_path());
  std::string lock_path = root.string() + ".lock";
  int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + lock_path);
  // The stamp names the binary version the fixture was made with.
  std::ostringstream binary;
  binary << fs::file_size(pgl_binary()) << " "
         << fs::last_write_time(pgl_binary()).time_since_epoch().count();
  fs::path stamp = root / ".complete";
  std::string made_with;
  if (std::ifstream in(stamp); in) std::getline(in, made_with);
  if (made_with != binary.str()) {
    fs::remove_all(root);
    fs::create_directories(root);
    build(root.string());
    if (!::testing::Test::HasFailure()) std::ofstream(stamp) << binary.str() << "\n";
  }
  ::flock(lock, LOCK_UN);
  ::close(lock);
  return root.string();
}

CommandResult run_pgl(const std::string& arguments) { return run_shell(pgl_binary() + " " + arguments); }

CommandResult run_shell(const std::string& script) {
  CommandResult result;
  std::string command = "(" + script + ") 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return nullptr;
  }
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "malformed JSON in " << path;
    return nullptr;
  }
  return j;
}

}  // namespace pgl::test
