#include "pgl/phantom/anatomy.h"

#include <cmath>

namespace pgl::phantom {
namespace {

constexpr double kPi = 3.141592653589793;
constexpr double kDeg = kPi / 180.0;

Vec3 normalized(const Vec3& v) { return (1.0 / norm(v)) * v; }
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
Mat3 rows(const Vec3& u, const Vec3& v, const Vec3& w) {
  return {u[0], u[1], u[2], v[0], v[1], v[2], w[0], w[1], w[2]};
}
Mat3 transposed(const Mat3& m) { return {m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]}; }

// Organ positions are written for a reference abdomen (cavity half-width 120 mm, anterior half-depth 85 mm,
// posterior 78 mm) and stretched to each case's cavity.
class Builder {
 public:
  Builder(Rng& rng, Anatomy& a) : rng_(rng), A(a) {
    sx_ = A.body.cavity_a / 120.0;
    sya_ = A.body.cavity_b_ant / 85.0;
    syp_ = A.body.cavity_b_post / 78.0;
  }

  Vec3 map(double x, double y, double z) const { return {x * sx_, y < 0 ? y * sya_ : y * syp_, z}; }
  Vec3 jitter(double mm) { return {rng_.uniform(-mm, mm), rng_.uniform(-mm, mm), rng_.uniform(-mm, mm)}; }
  double u(double lo, double hi) { return rng_.uniform(lo, hi); }

  // Ellipsoid with radii scaled by `scale` (each axis jittered by 5 %) and rotated (degrees, x then y then
  // z).
  Ellipsoid ellipsoid(const Vec3& centre, const Vec3& radii, double scale, const Vec3& degrees) {
    Ellipsoid e;
    e.centre = centre;
    for (int a = 0; a < 3; ++a)
      e.radii[static_cast<size_t>(a)] = radii[static_cast<size_t>(a)] * scale * u(0.95, 1.05);
    e.axes = transposed(rotation((degrees[0] + u(-6, 6)) * kDeg, (degrees[1] + u(-6, 6)) * kDeg,
                                 (degrees[2] + u(-6, 6)) * kDeg));
    return e;
  }

  // Smooth random displacement of about `mm` millimetres, wavelengths 70-220 mm.
  int deformation(double mm) {
    Deformation d;
    for (auto& t : d.terms) {
      for (size_t a = 0; a < 3; ++a) {
        t.amplitude[a] = rng_.normal(0, mm * 0.6);
        t.frequency[a] = 2 * kPi / u(70, 220);
        t.phase[a] = u(0, 2 * kPi);
      }
    }
    A.deformations.push_back(d);
    return static_cast<int>(A.deformations.size()) - 1;
  }

  // A tube through points with radii (one per point), each inner point jittered.
  static std::vector<Segment> tube(const std::vector<Vec3>& points, const std::vector<double>& radii) {
    std::vector<Segment> segments;
    for (size_t n = 0; n + 1 < points.size(); ++n) {
      Segment s;
      s.a = points[n];
      s.b = points[n + 1];
      s.ra = radii[n];
      s.rb = radii[n + 1];
      segments.push_back(s);
    }
    return segments;
  }

  void add(Shape shape) {
    double pad =
        shape.deformation >= 0 ? A.deformations[static_cast<size_t>(shape.deformation)].max_shift() : 0;
    shape.update_box(pad + 1.0);
    A.shapes.push_back(std::move(shape));
  }

  Shape vessel(Organ organ, Material material, const std::vector<Vec3>& points,
               const std::vector<double>& radii) {
    Shape s;
    s.organ = organ;
    s.material = material;
    s.tubes = tube(points, radii);
    return s;
  }

  double sx_, sya_, syp_;
  Rng& rng_;
  Anatomy& A;
};

}  // namespace

Body::Section Body::section(double z) const {
  double w = (z - waist_z) / 150.0;
  double a = cavity_a * (1.0 + waist_k * w * w) * (1.0 + hip_k * std::max(0.0, (-60.0 - z) / 100.0));
  double ba = cavity_b_ant * (1.0 + belly * std::exp(-((z + 30) / 90.0) * ((z + 30) / 90.0)));
  return {a + skin + fat_lat + muscle, ba + skin + fat_ant + muscle,
          cavity_b_post + skin + fat_post + muscle};
}

double Shape::sdf(const Vec3& q, Vec3* axis_point, double* radius) const {
  double d = 1e30;
  bool first = true;
  for (const Ellipsoid& e : parts) {
    double de = e.sdf(q);
    d = first ? de : smooth_min(d, de, blend);
    first = false;
  }
  for (const Segment& s : tubes) {
    Vec3 ap;
    double r;
    double dt = s.sdf(q, &ap, &r);
    if (dt < d) {
      d = dt;
      if (axis_point) *axis_point = ap;
      if (radius) *radius = r;
    }
  }
  for (const Ellipsoid& c : cuts) d = std::max(d, -c.sdf(q));
  return d;
}

void Shape::update_box(double pad) {
  box = Box{};
  for (const Ellipsoid& e : parts) box.add(e.box());
  for (const Segment& s : tubes) box.add(s.box());
  box.pad(pad);
}

Tissues sample_tissues(Rng& rng, Phase phase) {
  Tissues t;
  t.fat = rng.uniform(-110, -90);
  t.skin = rng.uniform(20, 40);
  t.lung = rng.uniform(-880, -820);
  t.bone_cortex = rng.uniform(650, 950);
  t.bone_marrow = rng.uniform(160, 280);
  t.disc = rng.uniform(70, 100);
  t.csf = rng.uniform(10, 25);
  t.cartilage = rng.uniform(100, 140);
  t.bile = rng.uniform(0, 15);
  t.fluid = rng.uniform(5, 20);
  t.stool = rng.uniform(-40, 10);
  t.gas = rng.uniform(-990, -950);
  t.urine = rng.uniform(0, 15);
  t.sinus_fat = t.fat + 15;
  if (phase == Phase::kNonContrast) {
    double blood = rng.uniform(35, 48);
    t.artery = t.portal = t.vein = t.heart = blood;
    t.myocardium = blood + 5;
    t.liver = rng.uniform(56, 66);
    t.liver_vessel = blood;
    t.spleen = rng.uniform(42, 55);
    t.kidney_cortex = rng.uniform(30, 38);
    t.kidney_medulla = t.kidney_cortex - rng.uniform(2, 6);
    t.pancreas = rng.uniform(35, 48);
    t.adrenal = rng.uniform(20, 35);
    t.muscle = rng.uniform(42, 56);
    t.gut_wall = rng.uniform(32, 45);
  } else {
    double e = rng.uniform(0.85, 1.15);  // how strongly this patient enhances
    t.artery = 160 * e + rng.uniform(-10, 10);
    t.portal = 170 * e + rng.uniform(-10, 10);
    t.vein = 130 * e + rng.uniform(-10, 10);
    t.heart = 145 * e;
    t.myocardium = 100 * e;
    t.liver = std::clamp(rng.uniform(102, 126) * std::sqrt(e), 100.0, 130.0);
    t.liver_vessel = t.portal - rng.uniform(0, 20);
    t.spleen = std::clamp(rng.uniform(112, 128) * std::sqrt(e), 110.0, 130.0);
    t.kidney_cortex = std::clamp(180 * e + rng.uniform(-10, 10), 150.0, 200.0);
    t.kidney_medulla = t.kidney_cortex - rng.uniform(30, 60);
    t.pancreas = rng.uniform(85, 110);
    t.adrenal = rng.uniform(50, 70);
    t.muscle = rng.uniform(50, 60);
    t.gut_wall = rng.uniform(70, 100);
  }
  t.tex_fat = rng.uniform(6, 12);
  t.tex_muscle = rng.uniform(4, 7);
  t.tex_lung = rng.uniform(20, 35);
  t.tex_bone = rng.uniform(30, 60);
  double organ = rng.uniform(4, 8);
  for (double& a : t.tex_organ) a = organ;
  t.tex_organ[kPancreas] = organ * 1.4;
  t.tex_organ[kGallbladder] = 3;
  return t;
}

Anatomy sample_anatomy(Rng& rng, Task task) {
  Anatomy A;
  A.task = task;
  A.phase = rng.chance(0.7) ? Phase::kPortalVenous : Phase::kNonContrast;
  A.hu = sample_tissues(rng, A.phase);

  // Body: the cavity holds the organs; fat, muscle and skin are wrapped around it.
  Body& B = A.body;
  double obesity = rng.uniform();
  B.cavity_a = rng.uniform(108, 132);
  B.cavity_b_ant = rng.uniform(72, 95);
  B.cavity_b_post = rng.uniform(72, 84);
  B.skin = rng.uniform(1.5, 2.5);
  B.fat_ant = 8 + 40 * obesity * rng.uniform(0.7, 1.2);
  B.fat_lat = 6 + 35 * obesity * rng.uniform(0.7, 1.2);
  B.fat_post = 6 + 20 * obesity * rng.uniform(0.7, 1.2);
  B.muscle = rng.uniform(9, 13);
  B.waist_z = rng.uniform(-40, 0);
  B.waist_k = rng.uniform(0.03, 0.1);
  B.hip_k = rng.uniform(0, 0.15);
  B.belly = obesity * rng.uniform(0, 0.25);
  B.table_gap = rng.uniform(1, 6);

  Builder b(rng, A);
  const double dz = rng.uniform(-10, 10);  // depth of inspiration: moves the upper abdominal organs

  Diaphragm& D = A.diaphragm;
  D.dome_right = 150 + dz + rng.uniform(-5, 5);
  D.dome_left = D.dome_right - rng.uniform(3, 15);
  D.x_right = -60 * b.sx_;
  D.x_left = 60 * b.sx_;
  D.kx = rng.uniform(0.004, 0.006);
  D.ky_post = rng.uniform(0.005, 0.007);
  D.ky_ant = rng.uniform(0.003, 0.005);

  A.scan_top = D.dome_right + rng.uniform(5, 25);
  A.coverage = rng.uniform(200, 250);
  const double top = A.scan_top + 40, bottom = A.scan_top - 300;  // tubes run past the scanned range

  Spine& S = A.spine;
  S.y_canal = (41 + rng.uniform(-3, 3)) * b.syp_;
  S.lordosis = rng.uniform(3, 10);
  S.period = rng.uniform(30, 35);
  S.disc = rng.uniform(6, 9);
  S.phase = rng.uniform(0, S.period);
  S.body_rx = rng.uniform(19, 23);
  S.body_ry = rng.uniform(14, 17);
  S.canal_rx = rng.uniform(9, 11);
  S.canal_ry = rng.uniform(7, 9);
  S.cortex = rng.uniform(1.2, 2.0);
  auto front = [&S](double z) { return S.body_y(z) - S.body_ry * S.grow(z); };  // anterior edge of the spine

  Ribs& R = A.ribs;
  R.z0 = 50 + dz + rng.uniform(-10, 10);
  R.period = rng.uniform(26, 32);
  R.drop = rng.uniform(70, 100);
  R.half_height = rng.uniform(4.5, 6.5);
  R.half_depth = rng.uniform(3.5, 5.0);
  R.count = static_cast<int>((A.scan_top + R.drop - R.z0) / R.period) + 2;

  for (int v = 0; v < 4; ++v) {
    Vec3 dir = normalized({rng.normal(), rng.normal(), rng.normal()});
    A.vessel_freq[v] = (2 * kPi / rng.uniform(35, 55)) * dir;
    A.vessel_phase[v] = rng.uniform(0, 2 * kPi);
  }
  A.vessel_width = rng.uniform(0.10, 0.14);

  // Landmarks shared by several structures.
  const double s_liver = rng.uniform(1.0, 1.2), s_spleen = rng.uniform(0.95, 1.25),
               s_kidney = rng.uniform(1.0, 1.15), s_stomach = rng.uniform(0.8, 1.2);
  const double z_p = 40 + 0.5 * dz + rng.uniform(-8, 8);  // pancreas body level
  const Vec3 conf = b.map(-5, -27, z_p) + b.jitter(3);    // portal confluence
  const Vec3 porta = b.map(-38, -28, z_p + 32) + b.jitter(4);
  const Vec3 spleen_c = b.map(78, 38, 100 + dz) + b.jitter(6);
  const double spleen_angle = rng.uniform(35, 55);  // outward normal of the spleen, degrees from +x
  const Vec3 spleen_n{std::cos(spleen_angle * kDeg), std::sin(spleen_angle * kDeg), 0};
  const Vec3 spleen_hilum = spleen_c - 22 * spleen_n + Vec3{0, 0, -8};
  const Vec3 kidney_c[2] = {b.map(-66, 28, 10 + 0.5 * dz) + b.jitter(6),
                            b.map(66, 28, 22 + 0.5 * dz) + b.jitter(6)};
  Vec3 hilum_dir[2];
  for (int side = 0; side < 2; ++side) {
    double medial = side == 0 ? 1.0 : -1.0;  // the right kidney's medial side is +x
    hilum_dir[side] = normalized({medial, -rng.uniform(0.5, 0.9), 0});
  }

  // --- vessels (first: they cut through everything) ---
  const double r_aorta = rng.uniform(9, 12.5);
  auto aorta_at = [&](double x, double z, double r) { return Vec3{x, front(z) - r - 1.5, z}; };
  const double z_bif = -70 + rng.uniform(-10, 10);
  const Vec3 bif = aorta_at(8, z_bif, r_aorta * 0.85);
  b.add(b.vessel(kAorta, Material::kArtery,
                 {{22, S.body_y(top) - 0.3 * S.body_ry, top},
                  {19, S.body_y(150) - S.body_ry, 150},
                  aorta_at(16, 60, r_aorta),
                  bif},
                 {r_aorta * 1.1, r_aorta * 1.05, r_aorta, r_aorta * 0.85}));
  for (double side : {-1.0, 1.0})
    b.add(b.vessel(kBackground, Material::kArtery,
                   {bif, {8 + side * 50, front(z_bif - 110) + 5, z_bif - 110}},
                   {r_aorta * 0.6, r_aorta * 0.55}));
  const Vec3 sma0 = aorta_at(14, z_p + 8, r_aorta) + Vec3{0, -r_aorta + 2, 0};
  b.add(b.vessel(kBackground, Material::kArtery,
                 {sma0, sma0 + Vec3{-4, -14, -12}, sma0 + Vec3{-8, -25 * b.sya_, -90}}, {3.5, 3.5, 3.0}));
  const Vec3 celiac = aorta_at(15, z_p + 24, r_aorta) + Vec3{0, -r_aorta - 10, 2};
  b.add(b.vessel(kBackground, Material::kArtery,
                 {aorta_at(15, z_p + 22, r_aorta), celiac, porta + Vec3{8, -6, -4}}, {3.5, 3.0, 2.5}));
  b.add(b.vessel(kBackground, Material::kArtery,
                 {celiac, b.map(30, -22, z_p + 14), b.map(55, 0, z_p + 22), spleen_hilum + Vec3{0, 0, 6}},
                 {3.0, 2.6, 2.5, 2.5}));

  const double r_ivc = rng.uniform(9, 12);
  auto ivc_at = [&](double z, double dy) { return Vec3{-(S.body_rx + 4), front(z) - 9 - dy, z}; };
  const Vec3 ivc_low = ivc_at(-85, 0);
  b.add(b.vessel(kIvc, Material::kVein,
                 {ivc_low, ivc_at(40, 2), ivc_at(100, 12) + Vec3{2, 0, 0},
                  ivc_at(D.dome_right + 12, 30) + Vec3{8, 0, 0}},
                 {r_ivc, r_ivc, r_ivc * 1.05, r_ivc * 1.1}));
  for (double side : {-1.0, 1.0})
    b.add(b.vessel(kBackground, Material::kVein,
                   {ivc_low, {ivc_low[0] + 20 + side * 45, front(-195) + 12, -195}},
                   {r_ivc * 0.75, r_ivc * 0.7}));
  for (int side = 0; side < 2;
       ++side) {  // renal veins and arteries (the left vein crosses in front of the aorta)
    Vec3 hilum = kidney_c[side] + 30 * hilum_dir[side];
    double z = kidney_c[side][2];
    Vec3 ivc = ivc_at(z, 2);
    if (side == 0)
      b.add(b.vessel(kBackground, Material::kVein, {hilum, ivc}, {5, 5.5}));
    else
      b.add(b.vessel(kBackground, Material::kVein,
                     {hilum, aorta_at(16, z - 3, r_aorta) + Vec3{0, -r_aorta - 6, 0}, ivc}, {5, 4.5, 5.5}));
    b.add(b.vessel(kBackground, Material::kArtery, {aorta_at(16, z + 4, r_aorta), hilum + Vec3{0, 6, 3}},
                   {3, 3}));
  }

  // Portal and splenic veins (one label) and the superior mesenteric vein.
  b.add(b.vessel(kPortalSplenicVein, Material::kPortalVein, {conf, porta}, {7.5, 7}));
  b.add(b.vessel(kPortalSplenicVein, Material::kPortalVein, {porta, b.map(-72, -15, z_p + 46) + b.jitter(4)},
                 {5.5, 4}));
  b.add(b.vessel(kPortalSplenicVein, Material::kPortalVein, {porta, b.map(-8, -45, z_p + 56) + b.jitter(4)},
                 {4.5, 3.5}));
  b.add(b.vessel(kPortalSplenicVein, Material::kPortalVein,
                 {conf, b.map(25, -18, z_p + 6), b.map(55, 5, z_p + 16), spleen_hilum}, {5, 5, 4.8, 4.5}));
  b.add(b.vessel(kBackground, Material::kPortalVein,
                 {conf, conf + Vec3{-4, -20 * b.sya_, -20}, conf + Vec3{-6, -28 * b.sya_, -90}},
                 {5.5, 5, 4}));

  // --- muscles beside the spine ---
  const double y_vb60 = S.body_y(60), rx60 = S.body_rx * S.grow(60);
  for (double side : {-1.0, 1.0}) {
    double psoas_top = 60 + dz;
    b.add(b.vessel(kBackground, Material::kMuscle,
                   {{side * (rx60 + 7), y_vb60 + 3, psoas_top},
                    {side * (rx60 + 16), S.body_y(-20) + 6, -20},
                    {side * (rx60 + 34), S.body_y(-130) + 8, -130}},
                   {4, rng.uniform(12, 16), rng.uniform(18, 24)}));
    b.add(b.vessel(
        kBackground, Material::kMuscle,
        {{side * (rx60 + 50) * b.sx_, y_vb60 + 28, 45 + dz}, {side * (rx60 + 56) * b.sx_, y_vb60 + 30, -60}},
        {5, rng.uniform(10, 14)}));
    // Erector spinae: from the transverse processes to the back wall; an elliptic column along the scan.
    {
      Shape s;
      s.material = Material::kMuscle;
      double y_lo = S.y_canal - 2, y_hi = B.cavity_b_post * 0.97;
      double ry = 0.5 * (y_hi - y_lo) + 2, rx = rng.uniform(19, 24);
      Ellipsoid e;
      e.centre = {side * (S.canal_rx + 2 + rx), 0.5 * (y_lo + y_hi), 0.5 * (top + bottom)};
      e.radii = {rx, ry, top - bottom};
      s.parts.push_back(e);
      b.add(s);
    }
  }

  // --- iliac wings: curved bony plates at the bottom of the scan, lateral to the psoas ---
  const double crest = -60 + rng.uniform(-10, 10);
  for (double side : {-1.0, 1.0}) {
    Shape s;
    s.material = Material::kBone;
    Ellipsoid outer;
    outer.centre = {side * 72 * b.sx_, 38 * b.syp_, crest - 100};
    outer.radii = {rng.uniform(46, 56), rng.uniform(40, 50), 100};
    outer.axes = transposed(rotation(0, 0, side * rng.uniform(10, 25) * kDeg));
    Ellipsoid inner = outer;
    double thickness = rng.uniform(6, 9);
    inner.radii = outer.radii - Vec3{thickness, thickness, thickness};
    s.parts.push_back(outer);
    s.cuts.push_back(inner);
    b.add(s);
    // Only the posterolateral wing, below the crest.
    Box& box = A.shapes.back().box;
    box.hi[2] = crest;
    box.lo[1] = std::max(box.lo[1], -15.0);
    if (side < 0)
      box.hi[0] = std::min(box.hi[0], -40.0);
    else
      box.lo[0] = std::max(box.lo[0], 40.0);
  }

  // --- esophagus: in front of the spine, through the hiatus, into the stomach's cardia ---
  const Vec3 fundus_c = b.map(48, 18, D.dome_left - 25) + b.jitter(5);
  {
    Shape s = b.vessel(
        kEsophagus, Material::kEsophagus,
        {{2, front(top) - 12, top}, {6, front(140) - 14, 138}, fundus_c + Vec3{-26 * s_stomach, -12, 0}},
        {8, 8.5, 9});
    s.content = rng.chance(0.3) ? Content::kGas : Content::kFluid;
    b.add(s);
  }

  // --- kidneys (bean: ellipsoid minus a medial notch; cortex, medulla, sinus fat, pelvis) ---
  for (int side = 0; side < 2; ++side) {
    Shape s;
    s.organ = side == 0 ? kKidneyRight : kKidneyLeft;
    s.material = Material::kKidney;
    double medial = side == 0 ? 1.0 : -1.0;
    double tilt = rng.uniform(8, 18) * kDeg;
    Vec3 w = normalized({medial * std::sin(tilt), rng.uniform(-0.15, 0.05), std::cos(tilt)});
    Vec3 uu = hilum_dir[side] - dot(hilum_dir[side], w) * w;
    uu = normalized(uu);
    Vec3 v = cross(w, uu);
    Ellipsoid k;
    k.centre = kidney_c[side];
    k.axes = rows(uu, v, w);
    k.radii = {31 * s_kidney * b.u(0.95, 1.05), 22 * s_kidney * b.u(0.95, 1.05),
               58 * s_kidney * b.u(0.93, 1.07)};
    s.parts.push_back(k);
    Ellipsoid notch = k, sinus = k, pelvis = k;
    notch.centre = k.centre + (k.radii[0] + 3) * uu;
    notch.radii = {12 * s_kidney, 11 * s_kidney, 24 * s_kidney};
    sinus.centre = k.centre + 9 * s_kidney * uu;
    sinus.radii = {13 * s_kidney, 9.5 * s_kidney, 31 * s_kidney};
    pelvis.centre = k.centre + 15 * s_kidney * uu;
    pelvis.radii = {7 * s_kidney, 6 * s_kidney, 14 * s_kidney};
    s.cuts.push_back(notch);
    s.inner = {sinus, pelvis};
    s.deformation = b.deformation(3);
    b.add(s);
  }

  // --- adrenals: thin plates above and medial to the upper poles ---
  for (int side = 0; side < 2; ++side) {
    Shape s;
    s.organ = side == 0 ? kAdrenalRight : kAdrenalLeft;
    s.material = Material::kAdrenal;
    double medial = side == 0 ? 1.0 : -1.0;
    Vec3 c = kidney_c[side] + Vec3{medial * 17, -8, 54 * s_kidney + 4} + b.jitter(3);
    s.parts.push_back(b.ellipsoid(c, {2.6, 12, 16}, b.u(0.85, 1.15), {0, 0, medial * 50}));
    b.add(s);
  }

  // --- gallbladder (absent after cholecystectomy) ---
  if (rng.chance(0.9)) {
    Shape s;
    s.organ = kGallbladder;
    s.material = Material::kGallbladder;
    s.clip = Clip::kBelowDiaphragm;
    s.parts.push_back(
        b.ellipsoid(b.map(-42, -52, 50 + dz) + b.jitter(6), {14, 14, 33}, b.u(0.8, 1.2), {-35, 0, 10}));
    s.deformation = b.deformation(3);
    b.add(s);
  }

  // --- liver: right lobe, left lobe, caudate lobe, inferior right lobe ---
  {
    Shape s;
    s.organ = kLiver;
    s.material = Material::kLiver;
    s.clip = Clip::kBelowDiaphragm;
    s.blend = 14;
    Vec3 shift = b.jitter(6) + Vec3{0, 0, dz};
    s.parts.push_back(b.ellipsoid(b.map(-58, -4, 82) + shift, {63, 72, 76}, s_liver, {0, 0, 0}));
    s.parts.push_back(
        b.ellipsoid(b.map(12, -45, 110) + shift, {55, 26, 36}, s_liver * b.u(0.85, 1.15), {-8, 0, 15}));
    s.parts.push_back(b.ellipsoid(b.map(-14, 10, 100) + shift, {15, 16, 26}, s_liver, {0, 0, 0}));
    s.parts.push_back(
        b.ellipsoid(b.map(-72, 0, 36) + shift, {44, 50, 40}, s_liver * b.u(0.8, 1.2), {0, 10, 0}));
    s.deformation = b.deformation(7);
    b.add(s);
  }

  // --- spleen: a crescent against the left posterolateral wall ---
  {
    Shape s;
    s.organ = kSpleen;
    s.material = Material::kSpleen;
    s.clip = Clip::kBelowDiaphragm;
    Ellipsoid e = b.ellipsoid(spleen_c, {26, 58, 56}, s_spleen, {b.u(-15, 15), 0, spleen_angle});
    s.parts.push_back(e);
    Ellipsoid cut = e;
    cut.centre = spleen_c - 36 * s_spleen * spleen_n;
    cut.radii = {22 * s_spleen, 36 * s_spleen, 34 * s_spleen};
    s.cuts.push_back(cut);
    s.deformation = b.deformation(5);
    b.add(s);
  }

  // --- pancreas: head in the duodenal sweep, neck in front of the portal confluence, tail at the spleen ---
  {
    Shape s;
    s.organ = kPancreas;
    s.material = Material::kPancreas;
    double t = rng.uniform(0.85, 1.15);
    s.tubes = Builder::tube({b.map(-30, -38, z_p - 12) + b.jitter(3), conf + Vec3{0, -16, 0},
                             b.map(30, -30, z_p + 8) + b.jitter(3), b.map(60, -8, z_p + 18) + b.jitter(3),
                             spleen_hilum + Vec3{-10, -10, -4}},
                            {17 * t, 13 * t, 13 * t, 11.5 * t, 8 * t});
    b.add(s);
  }

  // --- stomach: fundus, body, antrum; gas floats to the front (air-fluid level) ---
  {
    Shape s;
    s.organ = kStomach;
    s.material = Material::kStomach;
    s.clip = Clip::kBelowDiaphragm;
    s.blend = 16;
    s.parts.push_back(b.ellipsoid(fundus_c, {32, 34, 30}, s_stomach, {0, 0, 0}));
    s.parts.push_back(
        b.ellipsoid(b.map(52, -26, D.dome_left - 55) + b.jitter(5), {32, 28, 40}, s_stomach, {20, 15, 0}));
    Vec3 antrum = b.map(8, -55, D.dome_left - 82) + b.jitter(5);
    s.parts.push_back(b.ellipsoid(antrum, {40, 19, 21}, s_stomach, {0, 0, -15}));
    Vec3 pylorus = b.map(-22, -48, D.dome_left - 86) + b.jitter(3);
    s.tubes = Builder::tube({antrum, pylorus}, {14 * s_stomach, 9});
    s.content = rng.chance(0.4) ? Content::kStool : Content::kFluid;
    s.deformation = b.deformation(6);
    b.add(s);
    Shape& added = A.shapes.back();
    double gas = rng.chance(0.15) ? 0.0 : rng.uniform(0.05, 0.4);
    added.level = added.box.lo[1] + gas * (added.box.hi[1] - added.box.lo[1]);

    // Duodenum: from the pylorus around the pancreatic head.
    Shape d = b.vessel(kBackground, Material::kBowel,
                       {pylorus, b.map(-45, -30, z_p + 5), b.map(-48, -12, z_p - 25),
                        b.map(-20, -8, z_p - 42), b.map(20, -12, z_p - 38), b.map(32, -30, z_p - 20)},
                       {9, 11, 12, 11, 11, 10});
    d.content = rng.chance(0.5) ? Content::kLevel : Content::kFluid;
    d.level = rng.uniform(0, 0.6);
    b.add(d);
  }

  // --- heart: above the central diaphragm, only in the top slices ---
  {
    Shape s;
    s.organ = kBackground;
    s.material = Material::kHeart;
    s.clip = Clip::kAboveDiaphragm;
    double x = 15 * b.sx_, y = -40 * b.sya_;
    s.parts.push_back(b.ellipsoid({x, y, D.z_at(x, y) + 48}, {62, 48, 52}, b.u(0.9, 1.1), {0, 10, 25}));
    b.add(s);
  }

  // --- colon: ascending, transverse (sagging), descending ---
  auto colon = [&](std::vector<Vec3> points, double r) {
    Shape s;
    s.material = Material::kColon;
    for (Vec3& p : points) p = p + b.jitter(5);
    std::vector<double> radii(points.size());
    for (double& x : radii) x = r * b.u(0.8, 1.15);
    s.tubes = Builder::tube(points, radii);
    s.content = rng.chance(0.3) ? Content::kGas : Content::kStool;
    b.add(s);
  };
  colon({b.map(-95, 0, -110), b.map(-95, -5, 20)}, 22);
  colon({b.map(-92, -10, 30), b.map(-80, -45, 42), b.map(-30, -68, 15 + dz), b.map(25, -68, 20 + dz),
         b.map(80, -30, 65 + dz)},
        20);
  colon({b.map(85, -20, 70 + dz), b.map(95, 15, 40), b.map(95, 15, -110)}, 17);

  // --- small bowel: random walks that fill the lower abdomen ---
  const double z_lo = A.scan_top - A.coverage - 30, z_hi = z_p - 15;
  int loops = rng.integer(12, 18);
  for (int l = 0; l < loops; ++l) {
    Shape s;
    s.material = Material::kBowel;
    double r = rng.uniform(9, 14);
    Vec3 lo = b.map(-80, -85, 0), hi = b.map(80, 20, 0);
    lo[2] = z_lo;
    hi[2] = z_hi;
    Vec3 p;
    for (size_t a = 0; a < 3; ++a) p[a] = rng.uniform(lo[a], hi[a]);
    Vec3 dir = normalized({rng.normal(), rng.normal(), rng.normal()});
    std::vector<Vec3> pts{p};
    int steps = rng.integer(5, 9);
    for (int n = 0; n < steps; ++n) {
      dir = normalized(dir + 0.9 * Vec3{rng.normal(), rng.normal(), rng.normal()});
      p = p + rng.uniform(22, 32) * dir;
      for (size_t a = 0; a < 3; ++a)  // stay in the bowel region: reflect off its walls
        if (p[a] < lo[a] || p[a] > hi[a]) {
          p[a] = std::clamp(p[a], lo[a], hi[a]);
          dir[a] = -dir[a];
        }
      pts.push_back(p);
    }
    s.tubes = Builder::tube(pts, std::vector<double>(pts.size(), r));
    double c = rng.uniform();
    s.content = c < 0.55 ? Content::kFluid : (c < 0.85 ? Content::kLevel : Content::kGas);
    s.level = rng.uniform(-0.2, 0.6);
    b.add(s);
  }
  return A;
}

}  // namespace pgl::phantom
