#pragma once
// Reading and writing medical volumes through ITK: NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr),
// MetaImage (.mha, .mhd) and DICOM series (a folder). ITK stays inside src/pgl/io/*.cpp.
#include <string>

#include "pgl/core/image.h"

namespace pgl {

struct ImageInfo {
  std::string path;
  std::string format;      // "NIfTI", "NRRD", "MetaImage", "DICOM"
  std::string pixel_type;  // stored component type, e.g. "int16", "float64"
  int components = 1;
  Geometry geometry;
  double rescale_slope = 1, rescale_intercept = 0;  // DICOM/NIfTI scaling applied when reading
};

struct ReadOptions {
  bool allow_non_finite = false;  // NaN/Inf voxels: refused unless allowed (then replaced by 0)
};

// Header only: format, geometry and pixel type, validated (sizes, spacing, direction, file size) before any
// voxel is allocated. Throws pgl::Error naming the path and the problem.
ImageInfo read_image_info(const std::string& path);

// Intensities as float, rescale slope/intercept applied (CT in HU).
Volume read_volume(const std::string& path, const ReadOptions& options = {});
Volume read_volume(const std::string& path, ImageInfo* info, const ReadOptions& options = {});

// Class ids; refuses negative, non-integral or > 65535 values, and non-finite ones.
LabelMap read_label_map(const std::string& path);

// How write_volume stores intensities: Auto keeps integral values within int16 (CT in HU) as int16 and
// anything else as float32; Float32 always writes float32 (e.g. the preprocessing cache, read by mmap).
enum class Storage { Auto, Float32 };

// Written atomically; the format follows the extension (.nii.gz recommended). Geometry is kept exactly.
void write_volume(const Volume& volume, const std::string& path, Storage storage = Storage::Auto);
void write_label_map(const LabelMap& labels, const std::string& path);

// True when the path names something read_volume can try: a file with a supported extension or a folder.
bool is_supported_image_path(const std::string& path);

}  // namespace pgl
