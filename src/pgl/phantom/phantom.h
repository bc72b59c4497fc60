#pragma once
// Procedural abdominal CT phantoms: labeled volumes for four tasks that mirror the paper's data sets
// (liver + tumour like LiTS, spleen like MSD Spleen, kidney + tumour like KiTS, multi-organ like BCV).
// Generation is deterministic: one case depends only on its seed. See docs/phantom.md.
#include <cstdint>
#include <map>
#include <string>

#include "pgl/core/image.h"

namespace pgl::phantom {

enum class Task { kLiver, kSpleen, kKidney, kMultiorgan };

// "liver", "spleen", "kidney", "multiorgan"; throws pgl::Error for anything else.
Task parse_task(const std::string& name);
std::string task_name(Task task);
// Classes of a task's label maps, id -> name, with 0 = "background".
std::map<int, std::string> task_labels(Task task);

enum class Phase { kNonContrast, kPortalVenous };
std::string phase_name(Phase phase);

struct CaseOptions {
  Task task = Task::kMultiorgan;
  // 0 on an axis: chosen per case. Defaults: 192 x 192 over a 320-420 mm field of view, 80-120 slices
  // of 1.8-2.8 mm over 200-250 mm (see default_grid_help()).
  Size3 size{0, 0, 0};
  Vec3 spacing{0, 0, 0};
};

// What was drawn for a case (recorded in dataset.json).
struct CaseInfo {
  uint64_t seed = 0;
  Phase phase = Phase::kPortalVenous;
  double noise_hu = 0;            // standard deviation of the added Gaussian noise
  double slice_thickness_mm = 0;  // reconstructed slice thickness (blur along z)
  double fov_mm = 0;              // in-plane field of view
  int liver_tumours = 0, kidney_tumours = 0;
};

struct PhantomCase {
  Volume image;     // HU, rounded to integers, in [-1024, 3071]
  LabelMap labels;  // classes of the task (task_labels)
  CaseInfo info;
};

// Seed of case `index` of a data set with seed `seed` (splitmix64 mixing: independent streams).
uint64_t case_seed(uint64_t seed, int64_t index);

// One case. Throws pgl::Error for an invalid size or spacing.
PhantomCase generate_case(const CaseOptions& options, uint64_t seed);

// Text for --help describing the default grid.
std::string default_grid_help();

}  // namespace pgl::phantom
