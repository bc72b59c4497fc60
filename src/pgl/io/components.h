#pragma once
// Connected components of label maps (ITK's ConnectedComponentImageFilter, full 26-connectivity).
#include <set>

#include "pgl/core/image.h"

namespace pgl {

// The voxels whose label is in `labels` form one mask; every voxel of the mask outside its largest
// 26-connected component is set to 0. Components tied for the largest are all kept (nnU-Net's rule).
void keep_largest_component(LabelMap& map, const std::set<int>& labels);

}  // namespace pgl
