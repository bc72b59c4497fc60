// dataset.json (src/pgl/data/dataset.cpp): the bytes as the dataset.json of a folder holding two small
// cases (imagesTr/a, b and labelsTr/a, written by pgl), opened as a data set; then every split is resolved
// and the first cases are checked as `pgl check` does (src/pgl/data/check.cpp).
#include <algorithm>

#include "fuzz_support.h"
#include "pgl/data/check.h"
#include "pgl/data/dataset.h"
#include "pgl/io/volume_io.h"

namespace pgl::fuzz {
namespace {

std::string make_dataset_folder() {
  Geometry g;
  g.size = {8, 6, 4};
  g.spacing = {1.5, 1.5, 3};
  Volume image(g, -100.f);
  LabelMap labels(g);
  for (int64_t n = 0; n < g.voxels(); n += 5) {
    image.data[static_cast<size_t>(n)] = 40.f;
    labels.data[static_cast<size_t>(n)] = 1;
  }
  write_volume(image, scratch_path("ds/imagesTr/a.nii.gz"));
  write_volume(image, scratch_path("ds/imagesTr/b.nii.gz"));
  write_label_map(labels, scratch_path("ds/labelsTr/a.nii.gz"));
  return scratch_path("ds");
}

}  // namespace

void dataset_json(const uint8_t* data, size_t size) {
  static const std::string folder = make_dataset_folder();
  write_file(folder + "/dataset.json", data, size);
  Dataset dataset;
  if (!attempt([&] { dataset = open_dataset(folder); })) return;
  require(!dataset.cases.empty(), "open_dataset returned no cases");
  for (const auto& [name, ids] : dataset.splits) attempt([&, n = name] { dataset.split(n); });
  // Bounded: every case resolves inside the folder, so a few show whether reading them is safe.
  for (size_t n = 0; n < std::min<size_t>(dataset.cases.size(), 4); ++n)
    attempt([&] { check_case(dataset, dataset.cases[n], true); });
}

}  // namespace pgl::fuzz
