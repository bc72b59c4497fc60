#pragma once
// Size presets of DESIGN.md §1.2. The backbone parameter count is a cheap check that two implementations
// of ResUNet3D agree (tests compare it with count_parameters).
#include <cstdint>
#include <string>
#include <vector>

#include "pgl/nn/resunet.h"

namespace pgl::nn {

struct Preset {
  std::string name;
  int64_t base = 0;
  int64_t levels = 0;
  int64_t patch = 0;  // cubic patch edge in voxels
  int64_t batch = 0;
  int64_t backbone_parameters = 0;  // expected count for one input channel

  ResUNet3DOptions backbone_options(int64_t in_channels = 1) const {
    return ResUNet3DOptions(in_channels).base(base).levels(levels);
  }
};

// tiny, small, base, paper (in that order).
const std::vector<Preset>& presets();
// Throws pgl::Error naming the known presets when `name` is not one of them.
const Preset& preset(const std::string& name);

}  // namespace pgl::nn
