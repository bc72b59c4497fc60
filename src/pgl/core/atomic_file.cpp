#include "pgl/core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "pgl/core/error.h"

namespace pgl {
namespace fs = std::filesystem;

namespace {
constexpr const char* kTemporaryPrefix = ".tmp.";

// fsync reports the write errors a full disk or a network file system defers until the data reach it.
void fsync_path(const std::string& path, const std::string& reported_as) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;  // a folder we may not open: the rename is still atomic, only its durability is not
  const bool failed = ::fsync(fd) != 0 && errno != EINVAL;  // EINVAL: this file cannot be synced at all
  const int error = errno;
  ::close(fd);
  if (failed) throw Error(reported_as, std::string("cannot write file: ") + std::strerror(error));
}

// This machine's name without dots, so that a temporary name splits into its fields at dots.
// Asked once: every atomic write names its temporary file with it.
const std::string& host_name() {
  static const std::string host = [] {
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) != 0) return std::string("host");
    std::string text(name);
    for (char& c : text)
      if (c == '.') c = '-';
    return text.empty() ? std::string("host") : text;
  }();
  return host;
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
  // The host and process that write it, so that a leftover of a killed process can be told from a file
  // another process (maybe on another machine sharing the folder) is writing now.
  return (target.parent_path() / (kTemporaryPrefix + stem + "." + host_name() + "." +
                                  std::to_string(::getpid()) + "." + std::to_string(counter++) + ext))
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
    fsync_path(tmp, path);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) throw Error(path, "cannot rename temporary file into place: " + ec.message());
    fsync_path(target.has_parent_path() ? target.parent_path().string() : ".", path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void write_bytes_atomically(const std::string& path, const void* data, size_t size) {
  write_atomically(path, [&](const std::string& tmp) {
    // POSIX calls rather than a stream: each failure keeps its reason (ENOSPC, EFBIG, EIO), close included.
    auto fail = [&](int error) {
      throw Error(path, std::string("cannot write file: ") + std::strerror(error));
    };
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) fail(errno);
    for (const char* p = static_cast<const char*>(data); size > 0;) {
      const ssize_t n = ::write(fd, p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int error = n < 0 ? errno : ENOSPC;
        ::close(fd);
        fail(error);
      }
      p += n;
      size -= static_cast<size_t>(n);
    }
    if (::close(fd) != 0) fail(errno);
  });
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_bytes_atomically(path, text.data(), text.size());
}

int remove_stale_temporaries(const std::string& folder) {
  const std::string& host = host_name();
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(kTemporaryPrefix, 0) != 0) continue;
    // .tmp.STEM.HOST.PID.COUNTER[.EXT]
    std::vector<std::string> fields;
    for (size_t from = std::strlen(kTemporaryPrefix), dot; fields.size() < 4; from = dot + 1) {
      dot = name.find('.', from);
      fields.push_back(name.substr(from, dot == std::string::npos ? std::string::npos : dot - from));
      if (dot == std::string::npos) break;
    }
    if (fields.size() < 4 || fields[1] != host) continue;
    char* end_of_pid = nullptr;
    const long pid = std::strtol(fields[2].c_str(), &end_of_pid, 10);
    if (pid <= 0 || *end_of_pid != '\0') continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // its writer still runs
    std::error_code ignored;
    removed += fs::remove(it->path(), ignored) ? 1 : 0;
  }
  return removed;
}

}  // namespace pgl
