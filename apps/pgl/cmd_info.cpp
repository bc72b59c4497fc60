// pgl info PATH...: format, geometry, orientation, pixel type and intensity statistics of volumes.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "pgl/io/volume_io.h"

namespace pgl::cli {
namespace {

struct InfoOptions {
  std::vector<std::string> paths;
  bool json = false;
};

nlohmann::json describe(const std::string& path) {
  ImageInfo info;
  Volume v = read_volume(path, &info);
  double sum = 0;
  float lo = v.data.empty() ? 0 : v.data[0], hi = lo;
  for (float x : v.data) {
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const Geometry& g = v.geometry;
  nlohmann::json j;
  j["path"] = path;
  j["format"] = info.format;
  j["size"] = g.size;
  j["spacing_mm"] = g.spacing;
  j["origin_mm"] = g.origin;
  j["direction"] = {{g.direction[0], g.direction[1], g.direction[2]},
                    {g.direction[3], g.direction[4], g.direction[5]},
                    {g.direction[6], g.direction[7], g.direction[8]}};
  j["orientation"] = g.orientation_code();
  j["pixel_type"] = info.pixel_type;
  j["rescale"] = {{"slope", info.rescale_slope}, {"intercept", info.rescale_intercept}};
  j["intensity"] = {
      {"min", lo}, {"mean", v.data.empty() ? 0.0 : sum / static_cast<double>(v.data.size())}, {"max", hi}};
  return j;
}

void print_text(const nlohmann::json& j) {
  auto v3 = [](const nlohmann::json& a, const char* f) {
    return fmt::format(fmt::runtime(fmt::format("{0} x {0} x {0}", f)), a[0].get<double>(),
                       a[1].get<double>(), a[2].get<double>());
  };
  std::printf("%s\n", j["path"].get<std::string>().c_str());
  std::printf("  format       %s\n", j["format"].get<std::string>().c_str());
  std::printf("  size         %lld x %lld x %lld voxels\n", j["size"][0].get<long long>(),
              j["size"][1].get<long long>(), j["size"][2].get<long long>());
  std::printf("  spacing      %s mm\n", v3(j["spacing_mm"], "{:.6g}").c_str());
  std::printf("  origin       (%s) mm\n",
              fmt::format("{:.6g}, {:.6g}, {:.6g}", j["origin_mm"][0].get<double>(),
                          j["origin_mm"][1].get<double>(), j["origin_mm"][2].get<double>())
                  .c_str());
  for (int r = 0; r < 3; ++r)
    std::printf("  %s [%9.6f %9.6f %9.6f]\n", r == 0 ? "direction   " : "            ",
                j["direction"][r][0].get<double>(), j["direction"][r][1].get<double>(),
                j["direction"][r][2].get<double>());
  std::printf("  orientation  %s (axes point to; LPS = ITK identity, RAS = NIfTI canonical)\n",
              j["orientation"].get<std::string>().c_str());
  std::printf("  pixel type   %s", j["pixel_type"].get<std::string>().c_str());
  double slope = j["rescale"]["slope"], intercept = j["rescale"]["intercept"];
  if (slope != 1 || intercept != 0)
    std::printf(" (rescale slope %g, intercept %g applied)", slope, intercept);
  std::printf("\n  intensity    min %.6g  mean %.6g  max %.6g\n", j["intensity"]["min"].get<double>(),
              j["intensity"]["mean"].get<double>(), j["intensity"]["max"].get<double>());
}

}  // namespace

void register_info(CLI::App& app) {
  auto opt = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info",
                                 "Describe volumes: format, size, spacing, origin, direction, "
                                 "orientation, pixel type, intensity range");
  cmd->add_option("paths", opt->paths,
                  "NIfTI (.nii/.nii.gz), NRRD, MetaImage (.mha/.mhd) files or DICOM folders")
      ->required();
  cmd->add_flag("--json", opt->json, "Print JSON (an array, one object per path)");
  cmd->footer("Example: pgl info ../shared/data/samples/msd_spleen_8.nii.gz --json");
  cmd->callback([opt] {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& p : opt->paths) {
      auto j = describe(p);
      if (opt->json)
        all.push_back(j);
      else
        print_text(j);
    }
    if (opt->json) std::printf("%s\n", all.dump(2).c_str());
  });
}

}  // namespace pgl::cli
