#include "pgl/nn/presets.h"

#include "pgl/core/error.h"

namespace pgl::nn {

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = {
      {"tiny", 4, 3, 32, 2, 32'732},
      {"small", 8, 4, 48, 2, 534'264},
      {"base", 16, 5, 64, 2, 8'592'112},
      {"paper", 32, 5, 96, 4, 34'358'752},
  };
  return all;
}

const Preset& preset(const std::string& name) {
  std::string known;
  for (const Preset& p : presets()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  throw Error("unknown preset '" + name + "' (known: " + known + ")");
}

}  // namespace pgl::nn
