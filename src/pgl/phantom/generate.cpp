// One phantom case: draw the anatomy, plan the scan (grid, blur, noise), rasterize, blur, add noise.
#include <cmath>
#include <sstream>

#include "pgl/core/error.h"
#include "pgl/phantom/anatomy.h"
#include "pgl/phantom/filters.h"
#include "pgl/phantom/phantom.h"
#include "pgl/phantom/rasterize.h"
#include "pgl/phantom/tasks.h"

namespace pgl::phantom {
namespace {

constexpr int64_t kMaxVoxels = int64_t{1} << 28;
constexpr int kDefaultMatrix = 192;

struct ScanPlan {
  Geometry geometry;
  AnatomicalGrid grid;
  double fov = 350, thickness = 2.5, psf_fwhm = 0.8, noise = 10;
  bool circle = false;  // outside the reconstruction circle the scanner writes -1024
  Vec3 fov_centre{0, 0, 0};
};

double round_to(double v, double step) { return std::round(v / step) * step; }

void validate(const CaseOptions& o) {
  for (size_t a = 0; a < 3; ++a) {
    if (o.size[a] < 0 || o.size[a] > 4096)
      throw Error("phantom size must be between 1 and 4096 voxels per axis (0 = automatic)");
    if (o.spacing[a] < 0 || (o.spacing[a] > 0 && (o.spacing[a] < 0.05 || o.spacing[a] > 50)))
      throw Error("phantom spacing must be between 0.05 and 50 mm per axis (0 = automatic)");
  }
}

ScanPlan plan_scan(Rng& rng, const CaseOptions& o, const Anatomy& A) {
  ScanPlan plan;
  // Field of view: the widest section of the body plus a margin, as a technologist would choose it.
  double widest = 0;
  for (double z = A.scan_top - A.coverage; z <= A.scan_top; z += 10) {
    Body::Section s = A.body.section(z);
    widest = std::max({widest, 2 * s.a, s.b_ant + s.b_post});
  }
  plan.fov = std::clamp(widest + rng.uniform(30, 70), 280.0, 500.0);
  Size3 size;
  Vec3 spacing;
  for (size_t a = 0; a < 2; ++a) {
    if (o.size[a] > 0 && o.spacing[a] > 0)
      size[a] = o.size[a], spacing[a] = o.spacing[a];
    else if (o.spacing[a] > 0)
      spacing[a] = o.spacing[a], size[a] = std::llround(plan.fov / o.spacing[a]);
    else if (o.size[a] > 0)
      size[a] = o.size[a], spacing[a] = round_to(plan.fov / static_cast<double>(o.size[a]), 1e-4);
    else
      size[a] = kDefaultMatrix, spacing[a] = round_to(plan.fov / kDefaultMatrix, 1e-4);
  }
  double coverage = A.coverage;
  const bool auto_z = o.size[2] == 0 && o.spacing[2] == 0;
  if (o.size[2] > 0 && o.spacing[2] > 0)
    size[2] = o.size[2], spacing[2] = o.spacing[2];
  else if (o.spacing[2] > 0)
    spacing[2] = o.spacing[2], size[2] = std::max<int64_t>(1, std::llround(coverage / spacing[2]));
  else if (o.size[2] > 0)
    size[2] = o.size[2], spacing[2] = round_to(coverage / static_cast<double>(o.size[2]), 1e-4);
  else {
    spacing[2] = round_to(rng.uniform(1.8, 2.8), 0.1);
    size[2] = std::clamp<int64_t>(std::llround(coverage / spacing[2]), 80, 120);
  }
  for (size_t a = 0; a < 3; ++a) size[a] = std::max<int64_t>(size[a], 1);
  if (size[0] * size[1] * size[2] > kMaxVoxels)
    throw Error("phantom grid " + std::to_string(size[0]) + "x" + std::to_string(size[1]) + "x" +
                std::to_string(size[2]) + " is too large (at most 2^28 voxels)");

  // Reconstruction: slice thickness 1-5 mm (never thinner than the slice spacing's blur); in-plane PSF of
  // a 512 matrix over the field of view.
  plan.thickness = auto_z ? rng.uniform(1.0, 5.0) : spacing[2] * rng.uniform(1.0, 1.25);
  plan.psf_fwhm = 1.2 * plan.fov / 512;
  plan.noise = std::clamp(rng.uniform(5, 25) * std::sqrt(3.0 / plan.thickness), 5.0, 25.0);

  // Grid placement: the body midline near the centre of the field of view; z from the top of the scan.
  // The table position gives an arbitrary physical z origin, as on a real scanner.
  const double cx = rng.uniform(-12, 12), cy = rng.uniform(-10, 15);
  const double table_z = round_to(rng.uniform(-500, 0), 0.5);
  Vec3 corner{round_to(cx - 0.5 * static_cast<double>(size[0] - 1) * spacing[0], 0.01),
              round_to(cy - 0.5 * static_cast<double>(size[1] - 1) * spacing[1], 0.01),
              round_to(A.scan_top - static_cast<double>(size[2] - 1) * spacing[2], 0.01)};
  plan.geometry.size = size;
  plan.geometry.spacing = spacing;
  plan.geometry.origin = {corner[0], corner[1], corner[2] + table_z};
  std::vector<double>* axes[3] = {&plan.grid.x, &plan.grid.y, &plan.grid.z};
  for (size_t a = 0; a < 3; ++a) {
    axes[a]->resize(static_cast<size_t>(size[a]));
    for (int64_t i = 0; i < size[a]; ++i)
      (*axes[a])[static_cast<size_t>(i)] = corner[a] + static_cast<double>(i) * spacing[a];
  }
  plan.fov_centre = {cx, cy, 0};
  double half_body = 0.5 * widest;
  plan.circle = rng.chance(0.5) && 0.5 * plan.fov > half_body + 5 &&
                0.5 * std::min(size[0] * spacing[0], size[1] * spacing[1]) >= 0.5 * plan.fov - 1;
  return plan;
}

}  // namespace

uint64_t case_seed(uint64_t seed, int64_t index) {
  return splitmix64(splitmix64(seed) ^ splitmix64(static_cast<uint64_t>(index) + 0x632BE59BD9B4E019ULL));
}

std::string default_grid_help() {
  return "Default grid, per case: 192 x 192 voxels over a 280-500 mm field of view fitted to the body "
         "(about 1.6-2.2 mm pixels) and 80-120 slices of 1.8-2.8 mm covering 200-250 mm, from above the "
         "diaphragm to below the kidneys; images are blurred as reconstructed from 1-5 mm slices (in-plane "
         "PSF "
         "of a 512 matrix). This keeps a case near 4 million voxels for CPU training. --spacing alone covers "
         "the same field of view at that spacing (0.8,0.8,2.5 gives about 440x440x90); --size alone spreads "
         "the field of view over that many voxels; both give exactly that grid; 0 keeps an axis automatic.";
}

PhantomCase generate_case(const CaseOptions& options, uint64_t seed) {
  validate(options);
  Rng rng(seed);
  Anatomy anatomy = sample_anatomy(rng, options.task);
  place_tumours(rng, &anatomy);
  ScanPlan plan = plan_scan(rng, options, anatomy);
  const uint64_t texture_seed = rng.bits(), noise_seed = rng.bits();
  const Geometry& g = plan.geometry;

  // Tissue texture: correlated over about 2 mm.
  Vec3 texture_sigma;
  for (size_t a = 0; a < 3; ++a) texture_sigma[a] = 1.8 / g.spacing[a];
  std::vector<float> texture = smooth_noise(g.size, texture_sigma, texture_seed);

  PhantomCase out;
  std::vector<float> hu;
  std::vector<uint8_t> organ;
  rasterize(anatomy, plan.grid, texture, &hu, &organ);
  texture = {};

  // Scanner blur: in-plane PSF and slice profile (FWHM, never finer than the grid).
  const double fwhm_to_sigma = 1.0 / 2.3548;
  Vec3 blur{std::max(plan.psf_fwhm, g.spacing[0]) * fwhm_to_sigma / g.spacing[0],
            std::max(plan.psf_fwhm, g.spacing[1]) * fwhm_to_sigma / g.spacing[1],
            std::max(plan.thickness, g.spacing[2]) * fwhm_to_sigma / g.spacing[2]};
  gaussian_blur(&hu, g.size, blur);
  add_noise(&hu, plan.noise, noise_seed);
  for (float& v : hu) v = std::clamp(std::nearbyint(v), -1024.f, 3071.f);
  if (plan.circle) {
    const double r2 = 0.25 * plan.fov * plan.fov;
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        double dx = plan.grid.x[static_cast<size_t>(i)] - plan.fov_centre[0],
               dy = plan.grid.y[static_cast<size_t>(j)] - plan.fov_centre[1];
        if (dx * dx + dy * dy <= r2) continue;
        for (int64_t k = 0; k < g.size[2]; ++k)
          hu[static_cast<size_t>((k * g.size[1] + j) * g.size[0] + i)] = -1024.f;
      }
  }

  out.image.geometry = g;
  out.image.data = std::move(hu);
  out.labels.geometry = g;
  out.labels.data.resize(organ.size());
  const auto map = task_label_map(options.task);
  for (size_t n = 0; n < organ.size(); ++n) out.labels.data[n] = map[organ[n]];

  out.info.seed = seed;
  out.info.phase = anatomy.phase;
  out.info.noise_hu = plan.noise;
  out.info.slice_thickness_mm = plan.thickness;
  out.info.fov_mm = plan.fov;
  for (const Tumour& t : anatomy.tumours)
    (t.host == kLiver ? out.info.liver_tumours : out.info.kidney_tumours)++;
  return out;
}

}  // namespace pgl::phantom
