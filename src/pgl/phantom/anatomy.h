#pragma once
// The per-case anatomical model: every random parameter of one phantom, drawn once, in an anatomical
// frame (mm, LPS axes: +x patient's left, +y posterior, +z superior; z = 0 near the renal hila).
#include <cstdint>
#include <vector>

#include "pgl/phantom/phantom.h"
#include "pgl/phantom/random.h"
#include "pgl/phantom/shapes.h"

namespace pgl::phantom {

// Internal structure ids: 1-13 follow the BCV multi-organ numbering, then the lesions.
enum Organ : uint8_t {
  kBackground = 0,
  kSpleen = 1,
  kKidneyRight = 2,
  kKidneyLeft = 3,
  kGallbladder = 4,
  kEsophagus = 5,
  kLiver = 6,
  kStomach = 7,
  kAorta = 8,
  kIvc = 9,
  kPortalSplenicVein = 10,
  kPancreas = 11,
  kAdrenalRight = 12,
  kAdrenalLeft = 13,
  kLiverTumour = 14,
  kKidneyTumour = 15,
  kOrganCount = 16
};

// How the inside of a shape looks.
enum class Material : uint8_t {
  kLiver,
  kSpleen,
  kKidney,
  kAdrenal,
  kGallbladder,
  kPancreas,
  kStomach,
  kBowel,  // small bowel and duodenum: wall + fluid / gas / both with a level
  kColon,  // wall + stool (mottled gas) or gas
  kEsophagus,
  kArtery,
  kPortalVein,
  kVein,
  kHeart,
  kMuscle,
  kBone,  // cortex within 2 mm of the surface, marrow inside
};

enum class Clip : uint8_t { kNone, kBelowDiaphragm, kAboveDiaphragm };

enum class Content : uint8_t { kFluid, kGas, kLevel, kStool };

struct Shape {
  Organ organ = kBackground;
  Material material = Material::kLiver;
  Clip clip = Clip::kNone;
  std::vector<Ellipsoid> parts;  // smooth union
  std::vector<Ellipsoid> cuts;   // subtracted
  std::vector<Segment> tubes;    // union
  std::vector<Ellipsoid> inner;  // internal structure for the material (kidney: sinus, pelvis)
  double blend = 8;              // smooth-union width (mm)
  int deformation = -1;          // index into Anatomy::deformations
  Content content = Content::kFluid;
  double level = 0;  // air-fluid level: stomach, absolute y (mm); tubes, fraction of the radius
  Box box;           // bounding box of the deformed shape

  // Signed distance at an already displaced point; for tubes also the nearest axis point and radius.
  double sdf(const Vec3& q, Vec3* axis_point = nullptr, double* radius = nullptr) const;
  void update_box(double deformation_pad);
};

struct Tumour {
  Organ host = kLiver;  // kLiver or a kidney
  Vec3 centre{0, 0, 0};
  double radius = 10;  // mm
  double lobulation = 0.1;
  Vec3 lobe_frequency{0, 0, 0}, lobe_phase{0, 0, 0};
  double hu = 0, rim_hu = 0, core_hu = 0;  // body, enhancing rim, necrotic core
  bool rim = false, necrosis = false;
  double texture = 10;  // heterogeneity (HU per unit texture)
  Box box;

  double sdf(const Vec3& p) const {
    Vec3 d = p - centre;
    double lobe = std::sin(lobe_frequency[0] * d[0] / radius + lobe_phase[0]) *
                  std::sin(lobe_frequency[1] * d[1] / radius + lobe_phase[1]) *
                  std::sin(lobe_frequency[2] * d[2] / radius + lobe_phase[2]);
    return norm(d) - radius * (1.0 + lobulation * lobe);
  }
};

// Mean HU of each tissue for one case (contrast phase and per-case variation applied).
struct Tissues {
  double air = -1000, lung = -850, fat = -100, skin = 30, muscle = 50;
  double bone_cortex = 800, bone_marrow = 220, disc = 90, csf = 20, cartilage = 120;
  double artery = 40, portal = 40, vein = 40, heart = 40, myocardium = 45;
  double liver = 60, liver_vessel = 40, spleen = 50, kidney_cortex = 35, kidney_medulla = 30, urine = 8,
         sinus_fat = -80;
  double pancreas = 42, adrenal = 30, bile = 8, gut_wall = 40, fluid = 15, stool = -20, gas = -950;
  double table = 250, table_foam = -850;
  // Texture amplitudes (HU per unit of the smooth noise field).
  double tex_fat = 8, tex_muscle = 5, tex_lung = 30, tex_bone = 50;
  double tex_organ[kOrganCount] = {};
};

struct Body {
  // Outer outline of an axial section: ellipse with half-width a(z), anterior half-depth b_ant(z) and
  // posterior half-depth b_post.
  double cavity_a = 120, cavity_b_ant = 85, cavity_b_post = 78;
  double skin = 2, fat_ant = 20, fat_lat = 20, fat_post = 15, muscle = 11;
  double waist_z = -20, waist_k = 0.07, hip_k = 0.1, belly = 0.1;
  double table_gap = 10;

  // Per-slice outline parameters.
  struct Section {
    double a, b_ant, b_post;
  };
  Section section(double z) const;
  // Fat thickness in the direction (ux, uy) (unit vector from the body centre).
  double fat(double ux, double uy) const {
    double ant = uy < 0 ? uy * uy : 0, post = uy > 0 ? uy * uy : 0;
    return fat_ant * ant + fat_post * post + fat_lat * ux * ux;
  }
};

struct Diaphragm {
  double dome_right = 150, dome_left = 140, x_right = -60, x_left = 60, y0 = -10;
  double kx = 0.005, ky_post = 0.006, ky_ant = 0.004;
  double z_at(double x, double y) const {
    double dy = y > y0 ? ky_post * (y - y0) * (y - y0) : ky_ant * (y - y0) * (y - y0);
    return std::max(dome_right - kx * (x - x_right) * (x - x_right),
                    dome_left - kx * (x - x_left) * (x - x_left)) -
           dy;
  }
};

struct Spine {
  double y_canal = 40, lordosis = 6;  // canal centre y at z = 0; y offset amplitude along z
  double period = 32, disc = 7, phase = 0;
  double body_rx = 21, body_ry = 16, canal_rx = 10, canal_ry = 8, cortex = 1.6;
  double y_of(double z) const { return y_canal + lordosis * std::sin(z / 180.0); }
  double body_y(double z) const { return y_of(z) - canal_ry - 5 - body_ry; }
  // Vertebral bodies grow towards the lumbar spine.
  double grow(double z) const { return 1.0 + 0.0012 * std::clamp(60.0 - z, 0.0, 200.0); }
};

struct Ribs {
  double z0 = 50, period = 30, drop = 90, half_height = 5.5, half_depth = 4.5;
  int count = 8;
};

struct Anatomy {
  Task task = Task::kMultiorgan;
  Phase phase = Phase::kPortalVenous;
  Tissues hu;
  Body body;
  Diaphragm diaphragm;
  Spine spine;
  Ribs ribs;
  // Hepatic / pulmonary vessels: thin tubes where two smooth random fields are both near zero.
  Vec3 vessel_freq[4] = {};
  double vessel_phase[4] = {};
  double vessel_width = 0.12;
  std::vector<Deformation> deformations;
  std::vector<Shape> shapes;  // priority order: the first shape containing a point claims it
  std::vector<Tumour> tumours;
  double scan_top = 165, coverage = 225;  // anatomical z range covered by the scan: [top - coverage, top]
};

// Draws everything but the tumours (those need the rasterizer's organ test, see place_tumours).
Anatomy sample_anatomy(Rng& rng, Task task);

// Mean HU of every tissue for a contrast phase, with per-case variation.
Tissues sample_tissues(Rng& rng, Phase phase);

// Liver tumours (liver task) or kidney tumours (kidney task), placed inside their organ.
void place_tumours(Rng& rng, Anatomy* anatomy);

}  // namespace pgl::phantom
