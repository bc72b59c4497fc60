// Task names, their label tables, and the mapping from internal structure ids to task classes.
#include "pgl/phantom/tasks.h"

#include <array>

#include "pgl/core/error.h"
#include "pgl/phantom/anatomy.h"

namespace pgl::phantom {

Task parse_task(const std::string& name) {
  if (name == "liver") return Task::kLiver;
  if (name == "spleen") return Task::kSpleen;
  if (name == "kidney") return Task::kKidney;
  if (name == "multiorgan") return Task::kMultiorgan;
  throw Error("unknown phantom task '" + name + "' (expected liver, spleen, kidney or multiorgan)");
}

std::string task_name(Task task) {
  switch (task) {
    case Task::kLiver:
      return "liver";
    case Task::kSpleen:
      return "spleen";
    case Task::kKidney:
      return "kidney";
    case Task::kMultiorgan:
      return "multiorgan";
  }
  return "multiorgan";
}

std::string phase_name(Phase phase) {
  return phase == Phase::kNonContrast ? "non-contrast" : "portal venous";
}

std::map<int, std::string> task_labels(Task task) {
  switch (task) {
    case Task::kLiver:
      return {{0, "background"}, {1, "liver"}, {2, "tumour"}};
    case Task::kSpleen:
      return {{0, "background"}, {1, "spleen"}};
    case Task::kKidney:
      return {{0, "background"}, {1, "kidney"}, {2, "tumour"}};
    case Task::kMultiorgan:
      break;
  }
  // Beyond the Cranial Vault (BCV) numbering.
  return {{0, "background"},
          {1, "spleen"},
          {2, "right kidney"},
          {3, "left kidney"},
          {4, "gallbladder"},
          {5, "esophagus"},
          {6, "liver"},
          {7, "stomach"},
          {8, "aorta"},
          {9, "inferior vena cava"},
          {10, "portal vein and splenic vein"},
          {11, "pancreas"},
          {12, "right adrenal gland"},
          {13, "left adrenal gland"}};
}

std::array<uint16_t, kOrganCount> task_label_map(Task task) {
  std::array<uint16_t, kOrganCount> m{};
  switch (task) {
    case Task::kLiver:
      m[kLiver] = 1;
      m[kLiverTumour] = 2;
      break;
    case Task::kSpleen:
      m[kSpleen] = 1;
      break;
    case Task::kKidney:
      m[kKidneyRight] = m[kKidneyLeft] = 1;
      m[kKidneyTumour] = 2;
      break;
    case Task::kMultiorgan:
      for (int o = 1; o <= 13; ++o) m[static_cast<size_t>(o)] = static_cast<uint16_t>(o);  // no lesions here
      break;
  }
  return m;
}

}  // namespace pgl::phantom
