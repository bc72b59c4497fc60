// The preprocessing cache's sidecar reader (build_cache in src/pgl/data/cache.cpp): the bytes, with
// "@SCRATCH@" replaced by this process's scratch folder and "@STEM@" by the entry's file stem (both depend
// on the scratch folder's name; the seeds use them), as
// the JSON sidecar of the one cached case of a small data set. build_cache either accepts the entry or
// preprocesses the case again; an accepted entry must hold what training relies on (src/pgl/train/
// volume_pool.cpp, src/pgl/seg/seg_batches.cpp): its files map with the entry's size, and every class
// listed has foreground voxel offsets inside the volume.
#include <utime.h>

#include <cmath>

#include "fuzz_support.h"
#include "pgl/core/hash.h"
#include "pgl/core/progress.h"
#include "pgl/data/cache.h"
#include "pgl/io/volume_io.h"

namespace pgl::fuzz {
namespace {

struct Setup {
  Case source;
  PreprocessingPlan plan;
  std::string cache_root, stem, sidecar;
};

Setup make_setup() {
  Setup s;
  Progress::set_quiet(true);
  Geometry g;
  g.size = {12, 10, 8};
  Volume image(g, -500.f);
  LabelMap labels(g);
  for (int64_t k = 2; k < 6; ++k)
    for (int64_t j = 3; j < 7; ++j)
      for (int64_t i = 2; i < 9; ++i) {
        image.at(i, j, k) = 60.f;
        labels.at(i, j, k) = i < 5 ? 1 : 2;
      }
  s.source = {"a", scratch_path("source/a.nii.gz"), scratch_path("source/a_seg.nii.gz")};
  write_volume(image, s.source.image);
  write_label_map(labels, s.source.label);
  // The sidecar records the sources' modification times: fixed, so that the seeds match.
  utimbuf times{1700000000, 1700000000};
  require(::utime(s.source.image.c_str(), &times) == 0 && ::utime(s.source.label.c_str(), &times) == 0,
          "utime");
  s.cache_root = scratch_path("cache");
  s.stem = "a-" + fnv1a_hex(s.source.image + "|" + s.source.label, 10);
  s.sidecar = s.cache_root + "/" + s.plan.hash() + "/" + s.stem + ".json";
  build_cache({s.source}, s.plan, s.cache_root, true, 1, "");  // the entry's volume and label files
  return s;
}

void check_entry(const CachedCase& e, const Case& source) {
  require(e.id == source.id, "entry of another case: " + e.id);
  require(std::isfinite(e.background), "non-finite background value");
  std::shared_ptr<MappedImage> image, labels;
  if (!attempt([&] { image = MappedImage::open(e.image_path); })) return;
  if (!attempt([&] { image->floats(); })) return;
  require(image->size() == e.geometry.size, "entry geometry differs from its cached volume");
  if (!e.label_path.empty()) {
    if (!attempt([&] { labels = MappedImage::open(e.label_path); })) return;
    require(labels->size() == e.geometry.size, "entry geometry differs from its cached label map");
  }
  const int64_t voxels = e.geometry.voxels();
  for (int cls : e.classes) {
    auto it = e.foreground.find(cls);
    require(it != e.foreground.end() && !it->second.empty(), "class without foreground samples");
  }
  for (const auto& [cls, offsets] : e.foreground)
    for (int64_t offset : offsets)
      require(offset >= 0 && offset < voxels, "foreground offset outside the volume");
}

}  // namespace

void cache_sidecar(const uint8_t* data, size_t size) {
  static const Setup setup = make_setup();
  std::string text(reinterpret_cast<const char*>(data), size);
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"@SCRATCH@", scratch_dir()}, {"@STEM@", setup.stem}})
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  write_file(setup.sidecar, text);
  std::vector<CachedCase> entries;
  if (!attempt([&] { entries = build_cache({setup.source}, setup.plan, setup.cache_root, true, 1, ""); }))
    return;
  require(entries.size() == 1,
          "build_cache returned " + std::to_string(entries.size()) + " entries for one case");
  check_entry(entries[0], setup.source);
}

}  // namespace pgl::fuzz
