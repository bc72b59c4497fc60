#pragma once
// The one error type pgl throws for bad input or a failed run. The message names the file (when there is
// one) and the problem; the command line prints it on one line and exits with status 1.
#include <stdexcept>
#include <string>

namespace pgl {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
  Error(const std::string& path, const std::string& problem) : std::runtime_error(path + ": " + problem) {}
};

}  // namespace pgl
