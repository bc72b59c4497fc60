#include "pgl/core/version.h"

namespace pgl {
std::string version() { return PGL_VERSION_STRING; }
}  // namespace pgl
