#pragma once
// An exclusive advisory lock on a file (flock), held for the object's lifetime: processes that write the
// same output in turn (the ranks of `pgl experiment` assembling results.csv) take it around the write.
#include <string>

namespace pgl {

class FileLock {
 public:
  // Creates `path` if needed and blocks until the lock is held. Throws pgl::Error naming the file.
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace pgl
