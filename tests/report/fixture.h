#pragma once
// A fake experiment folder with known numbers: 3 methods (random, byol, pgl), fractions 0.1 and 1, seeds 0
// and 1, 4 test cases, 2 classes (spleen, liver), metrics logs and tiny volumes for the overlays.
//
// Dice of class 1 (and of class 2, except case c4 where class 2 is NaN: both masks empty) is
//   random: 0.70 + 0.10 * fraction_index + 0.01 * seed + e[case],  e = {0, 0.02, 0.04, 0.06}
//   byol:   random + {0.01, -0.01, 0.02, 0.00}[case]
//   pgl:    random + {0.02, 0.03, 0.01, 0.04}[case] + 0.01 * seed
// so the case scores equal the class-1 Dice, and the gains over random are the per-case offsets exactly:
// byol's gain is the same in both seeds (+0.005 at every fraction), pgl's moves with the seed (+0.025 in seed
// 0, +0.035 in seed 1).
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pgl/core/image.h"
#include "pgl/io/volume_io.h"
#include "pgl/report/experiment.h"
#include "support/test_support.h"

namespace pgl::report::test {

inline const std::vector<std::string> kMethods = {"random", "byol", "pgl"};
inline const std::vector<double> kFractions = {0.1, 1.0};
inline const std::vector<int> kSeeds = {0, 1};
inline const std::vector<std::string> kCases = {"c1", "c2", "c3", "c4"};
inline const double kCaseOffset[] = {0, 0.02, 0.04, 0.06};
inline const double kByolGain[] = {0.01, -0.01, 0.02, 0.00};
inline const double kPglGain[] = {0.02, 0.03, 0.01, 0.04};

inline double fixture_dice(const std::string& method, size_t fraction_index, int seed, size_t case_index) {
  double v = 0.70 + 0.10 * static_cast<double>(fraction_index) + 0.01 * seed + kCaseOffset[case_index];
  if (method == "byol") v += kByolGain[case_index];
  if (method == "pgl") v += kPglGain[case_index] + 0.01 * seed;
  return v;
}

inline void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

// A 24 x 20 x 6 CT-like image (air, body, organ) with spacing 1 x 1 x 3 mm and a disc-shaped organ whose area
// is largest on slice `peak`; `shift` moves the organ along i (predictions).
inline LabelMap fixture_labels(int shift = 0, int peak = 3) {
  Geometry g;
  g.size = {24, 20, 6};
  g.spacing = {1, 1, 3};
  LabelMap m(g, 0);
  for (int64_t k = 0; k < 6; ++k) {
    const double r = 5.0 - 1.5 * std::abs(static_cast<double>(k - peak));
    for (int64_t j = 0; j < 20; ++j)
      for (int64_t i = 0; i < 24; ++i) {
        const double di = static_cast<double>(i - 9 - shift), dj = static_cast<double>(j - 10);
        if (di * di + dj * dj <= r * r) m.at(i, j, k) = 1;
        if (i >= 15 + shift && i < 19 + shift && j >= 8 && j < 12 && k >= 2 && k <= 4) m.at(i, j, k) = 2;
      }
  }
  return m;
}

inline Volume fixture_image() {
  const LabelMap labels = fixture_labels();
  Volume v(labels.geometry, -1000);
  for (int64_t k = 0; k < 6; ++k)
    for (int64_t j = 0; j < 20; ++j)
      for (int64_t i = 0; i < 24; ++i) {
        const double di = (i - 11.5) / 11.0, dj = (j - 9.5) / 9.0;
        if (di * di + dj * dj <= 1) v.at(i, j, k) = 20;
        if (labels.at(i, j, k) == 1) v.at(i, j, k) = 100;
        if (labels.at(i, j, k) == 2) v.at(i, j, k) = 180;
      }
  return v;
}

// Writes the experiment into `dir`. skip_cell: a cell name left out of results.csv (e.g. "byol-f0.1-s1").
inline void write_fixture(const std::string& dir, const std::string& skip_cell = "") {
  namespace fs = std::filesystem;
  std::string images, labels;
  for (size_t c = 0; c < kCases.size(); ++c) {
    images += fmt::format("{}\"{}\": \"images/{}.nii.gz\"", c ? ", " : "", kCases[c], kCases[c]);
    labels += fmt::format("{}\"{}\": \"{}/labels/{}.nii.gz\"", c ? ", " : "", kCases[c], dir, kCases[c]);
  }
  write_file(
      dir + "/experiment.json",
      fmt::format(R"({{"data": "phantom-spleen", "preset": "tiny", "methods": ["random", "byol", "pgl"],
  "label_fractions": [0.1, 1.0], "seeds": [0, 1], "labels": {{"1": "spleen", "2": "liver"}},
  "test_cases": ["c1", "c2", "c3", "c4"], "pretrain_steps": 40, "finetune_steps": 60, "future_field": {{"x": 1}},
  "test_images": {{{}}}, "test_labels": {{{}}}}})",
                  images, labels));

  // results.csv, with a quoted class name to exercise the CSV reader.
  std::string csv = "method,fraction,seed,case,class,class_name,dice,hd95_mm,nsd\n";
  for (const std::string& m : kMethods)
    for (size_t f = 0; f < kFractions.size(); ++f)
      for (int s : kSeeds) {
        if (cell_name(m, kFractions[f], s) == skip_cell) continue;
        for (size_t c = 0; c < kCases.size(); ++c) {
          const double d = fixture_dice(m, f, s, c);
          csv += fmt::format("{},{},{},{},1,spleen,{:.17g},{:.17g},{:.17g}\n", m, fraction_tag(kFractions[f]),
                             s, kCases[c], d, 10 * (1 - d), d);
          if (c == 3)
            csv += fmt::format("{},{},{},{},2,\"liver\",nan,nan,nan\n", m, fraction_tag(kFractions[f]), s,
                               kCases[c]);
          else
            csv += fmt::format("{},{},{},{},2,\"liver\",{:.17g},{},{:.17g}\n", m, fraction_tag(kFractions[f]),
                               s, kCases[c], d, c == 2 ? "inf" : "3.5", d);
        }
      }
  write_file(dir + "/results.csv", csv);

  // Logs: decreasing pretraining losses, fine-tuning losses and validation lines; a partial last line.
  for (const std::string& m : kMethods)
    for (int s : kSeeds) {
      if (m != "random") {
        std::string log;
        for (int step = 1; step <= 40; ++step) {
          // PGL also logs target_spread (0.8 for seed 0, 0.6 for seed 1); BYOL's logs predate it.
          const std::string spread = m == "pgl" ? fmt::format(", \"target_spread\": {}", 0.8 - 0.2 * s) : "";
          log += fmt::format("{{\"step\": {}, \"loss\": {}, \"lr\": 0.05, \"tau\": 0.996{}}}\n", step,
                             (m == "pgl" ? 3.0 : 1.5) * std::exp(-step / 15.0) + 0.05 * std::sin(step + s),
                             spread);
        }
        write_file(pretrain_dir(dir, m, s) + "/metrics.jsonl", log + "{\"step\": 41, \"lo");
      }
      for (size_t f = 0; f < kFractions.size(); ++f) {
        std::string log;
        for (int step = 10; step <= 60; step += 10) {
          log += fmt::format("{{\"step\": {}, \"loss\": {}}}\n", step, 1.0 / step);
          const double v = fixture_dice(m, f, s, 0) * (1 - std::exp(-step / 20.0));
          log += fmt::format(
              "{{\"step\": {}, \"val_mean_dice\": {}, \"val_dice\": {{\"spleen\": {}, \"liver\": null}}}}\n",
              step, v, v);
        }
        write_file(finetune_dir(dir, m, kFractions[f], s) + "/metrics.jsonl", log);
      }
    }

  // Volumes: images (relative paths, resolved against the folder), references, predictions at f = 1, s = 0.
  fs::create_directories(dir + "/images");
  for (const std::string& c : kCases) {
    write_volume(fixture_image(), dir + "/images/" + c + ".nii.gz");
    write_label_map(fixture_labels(), dir + "/labels/" + c + ".nii.gz");
    for (size_t m = 0; m < kMethods.size(); ++m)
      write_label_map(fixture_labels(static_cast<int>(m) - 1),
                      prediction_dir(dir, kMethods[m], 1.0, 0) + "/" + c + ".nii.gz");
  }
}

}  // namespace pgl::report::test
