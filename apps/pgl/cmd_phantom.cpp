// pgl phantom: write a procedural abdominal CT data set (MSD layout) that needs no download.
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "commands.h"
#include "pgl/core/error.h"
#include "pgl/phantom/dataset_writer.h"

namespace pgl::cli {
namespace {

struct PhantomOptions {
  std::string task = "multiorgan", size, spacing;
  phantom::DatasetOptions dataset;
  bool unlabeled = false;
};

// "X,Y,Z" with each value >= 0 (0 = automatic).
template <class T>
std::array<T, 3> parse_triple(const std::string& text, const char* option) {
  std::vector<std::string> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) items.push_back(item);
  std::array<T, 3> v{};
  bool ok = items.size() == 3 && text.back() != ',';
  for (size_t n = 0; ok && n < 3; ++n) {
    try {
      size_t used = 0;
      double x = std::stod(items[n], &used);
      ok = used == items[n].size() && x >= 0 && x < 1e6 && (!std::is_integral_v<T> || x == std::floor(x));
      v[n] = static_cast<T>(x);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok)
    throw Error(std::string(option) + " expects X,Y,Z: three numbers >= 0 (0 = automatic), got '" + text +
                "'");
  return v;
}

}  // namespace

void register_phantom(CLI::App& app) {
  auto opt = std::make_shared<PhantomOptions>();
  auto* cmd = app.add_subcommand(
      "phantom",
      "Generate procedural abdominal CT phantoms (Medical Segmentation Decathlon layout): realistic HU, "
      "organs with random shapes, lesions, noise and blur; no download needed");
  cmd->add_option("--task", opt->task,
                  "liver (liver + tumour), spleen, kidney (kidneys + tumour), multiorgan (13 BCV organs)")
      ->check(CLI::IsMember({"liver", "spleen", "kidney", "multiorgan"}))
      ->capture_default_str();
  cmd->add_option("--cases", opt->dataset.cases, "Number of cases")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--seed", opt->dataset.seed, "Random seed: the same seed gives the same files")
      ->capture_default_str();
  cmd->add_option("--out", opt->dataset.out, "Output folder (new, empty, or an earlier phantom data set)")
      ->required();
  cmd->add_flag("--unlabeled", opt->unlabeled, "Images only (pretraining data): no labelsTr");
  cmd->add_option("--size", opt->size, "Grid X,Y,Z in voxels (0 = automatic per axis)");
  cmd->add_option("--spacing", opt->spacing, "Voxel spacing X,Y,Z in mm (0 = automatic per axis)");
  cmd->add_option("--threads", opt->dataset.threads, "Cases generated in parallel (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option(
      "--preview", opt->dataset.preview,
      "Write a PNG of the first case: axial, coronal and sagittal slices with the labels in colour");
  cmd->footer(
      phantom::default_grid_help() +
      "\nLabels: liver 1 liver, 2 tumour; spleen 1 spleen; kidney 1 kidney, 2 tumour; multiorgan "
      "1 spleen, 2 right kidney, 3 left kidney, 4 gallbladder, 5 esophagus, 6 liver, 7 stomach, 8 aorta, "
      "9 inferior vena cava, 10 portal and splenic vein, 11 pancreas, 12/13 right/left adrenal gland."
      "\nExample: pgl phantom --task spleen --cases 10 --seed 1 --out data/spleen --preview spleen.png");
  cmd->callback([opt] {
    phantom::DatasetOptions o = opt->dataset;
    o.phantom.task = phantom::parse_task(opt->task);
    if (!opt->size.empty()) o.phantom.size = parse_triple<int64_t>(opt->size, "--size");
    if (!opt->spacing.empty()) o.phantom.spacing = parse_triple<double>(opt->spacing, "--spacing");
    o.labeled = !opt->unlabeled;
    auto start = std::chrono::steady_clock::now();
    phantom::write_phantom_dataset(o);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("wrote %d %s%s case%s to %s in %.1f s\n", o.cases, opt->task.c_str(),
                o.labeled ? "" : " unlabeled", o.cases == 1 ? "" : "s", o.out.c_str(), seconds);
    if (!o.preview.empty()) std::printf("preview: %s\n", o.preview.c_str());
  });
}

}  // namespace pgl::cli
