#pragma once
// Internal structure ids -> the classes of a task.
#include <array>
#include <cstdint>

#include "pgl/phantom/anatomy.h"

namespace pgl::phantom {

std::array<uint16_t, kOrganCount> task_label_map(Task task);

}  // namespace pgl::phantom
