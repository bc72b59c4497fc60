#pragma once
// Data set layouts: Medical Segmentation Decathlon (dataset.json with "training"), nnU-Net raw
// (imagesTr/CASE_0000.ext + labelsTr/CASE.ext) and a plain folder of volumes (unlabeled).
#include <map>
#include <string>
#include <vector>

namespace pgl {

struct Case {
  std::string id;     // file name without extension (and without nnU-Net's _0000 channel suffix)
  std::string image;  // absolute path
  std::string label;  // absolute path, "" when unlabeled
};

struct Dataset {
  std::string root;    // absolute folder path
  std::string layout;  // "msd", "nnunet" or "folder"
  std::string name;
  std::string modality = "CT";        // "CT", "MR", ... (channel 0)
  std::map<int, std::string> labels;  // declared class ids -> names (0 = background)
  std::vector<Case> cases;
  std::map<std::string, std::vector<std::string>> splits;  // optional named id lists ("train", ...)

  bool labeled() const;
  bool is_ct() const;
  // Cases of a named split; throws pgl::Error when the split or an id in it is unknown.
  std::vector<Case> split(const std::string& name) const;
  const Case* find(const std::string& id) const;
};

// Opens a data set folder, detecting its layout. Validates dataset.json (JSON syntax, required keys, types)
// and that every path stays inside the folder. Files are not opened here (see check_dataset).
Dataset open_dataset(const std::string& path);

// Whether `c` is named in `exclude` by its id (in any data set) or by its image path.
bool is_excluded(const Case& c, const std::vector<std::string>& exclude);

// Case id of an image file name: "pt_1.nii.gz" -> "pt_1".
std::string case_id_from_path(const std::string& path);

}  // namespace pgl
