#pragma once
#include <string>

namespace pgl {
// The pgl version, e.g. "0.1.0" (from CMake's project version).
std::string version();
}  // namespace pgl
