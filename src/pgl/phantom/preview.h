#pragma once
// A quick look at a case: axial, coronal and sagittal slices through the smallest labelled structure,
// in an abdominal window (W 400 / L 40) with the labels overlaid in colour.
#include "pgl/core/image.h"
#include "pgl/core/png.h"

namespace pgl::phantom {

// labels may be null (unlabeled data: grey levels only, slices through the middle of the volume).
// The axial panel is at least min_width pixels wide.
RgbImage render_preview(const Volume& image, const LabelMap* labels, int min_width = 320);

}  // namespace pgl::phantom
