#include "pgl/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "pgl/core/error.h"

namespace pgl {
namespace fs = std::filesystem;

namespace {
void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string temporary_name(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  // Keep the extension(s) so that writers which pick a format by file name (ITK) still work.
  std::string name = target.filename().string();
  std::string stem = name, ext;
  if (auto dot = name.find('.'); dot != std::string::npos && dot > 0) {
    stem = name.substr(0, dot);
    ext = name.substr(dot);
  }
  return (target.parent_path() / (".tmp." + stem + "." + std::to_string(::getpid()) + "." +
                                  std::to_string(counter++) + ext))
      .string();
}
}  // namespace

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw Error(target.parent_path().string(), "cannot create folder: " + ec.message());
  }
  std::string tmp = temporary_name(target);
  try {
    write(tmp);
    fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) throw Error(path, "cannot rename temporary file into place: " + ec.message());
    fsync_path(target.has_parent_path() ? target.parent_path().string() : ".");
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.flush();
    if (!out) throw Error(path, "cannot write file");
  });
}

}  // namespace pgl
