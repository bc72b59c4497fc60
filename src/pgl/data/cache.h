#pragma once
// The preprocessing cache: one uncompressed float32 NIfTI per case (memory-mapped when training; readable by
// any NIfTI tool), an optional uint8/uint16 label NIfTI, and a small JSON sidecar with the geometry, the
// classes present and sampled foreground voxels per class (for foreground oversampling).
// Entries are keyed by the plan's hash and the source file's path, size and modification time, so an edited
// source or a new plan is preprocessed again; everything is written atomically.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pgl/core/image.h"
#include "pgl/data/dataset.h"
#include "pgl/data/plan.h"

namespace pgl {

struct CachedCase {
  std::string id;
  std::string image_path;  // float32 .nii
  std::string label_path;  // "" when unlabeled
  Geometry geometry;       // preprocessed (canonical) grid
  float background = 0;    // normalised value of "outside" (padding value for crops)
  std::vector<int> classes;  // label values present, background excluded
  // Up to kForegroundSamples voxel offsets (i + nx * (j + ny * k)) per class, drawn with a fixed seed.
  std::map<int, std::vector<int64_t>> foreground;
  static constexpr int kForegroundSamples = 2000;
};

// Default cache root: $PGL_CACHE, else $XDG_CACHE_HOME/pgl, else ~/.cache/pgl.
std::string default_cache_root();

// Preprocesses (in parallel) every case that is not cached yet under cache_root/<plan hash>/, and returns
// the entries in the order of `cases`. with_labels=false ignores labels (pretraining).
std::vector<CachedCase> build_cache(const std::vector<Case>& cases, const PreprocessingPlan& plan,
                                    const std::string& cache_root, bool with_labels, int threads,
                                    const std::string& progress_label = "preprocess");

// A read-only memory mapping of a cached volume (float32) or label map (uint8/uint16 as stored).
class MappedImage {
 public:
  static std::shared_ptr<MappedImage> open(const std::string& path);
  ~MappedImage();
  MappedImage(const MappedImage&) = delete;
  MappedImage& operator=(const MappedImage&) = delete;

  const Size3& size() const { return size_; }
  int bytes_per_value() const { return bytes_per_value_; }
  const void* data() const { return data_; }
  const float* floats() const;    // throws unless float32
  uint16_t label_at(int64_t offset) const;  // uint8 or uint16 storage

 private:
  MappedImage() = default;
  std::string path_;
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  const void* data_ = nullptr;
  Size3 size_{0, 0, 0};
  int bytes_per_value_ = 0;
  int datatype_ = 0;
};

}  // namespace pgl
