#include "pgl/phantom/rasterize.h"

#include <algorithm>
#include <cmath>

namespace pgl::phantom {
namespace {

constexpr double kPi = 3.141592653589793;

struct Sample {
  float hu;
  uint8_t organ;
};

Sample make(double hu, uint8_t organ = kBackground) { return {static_cast<float>(hu), organ}; }

// Where a point lies relative to the diaphragm (4 mm of muscle).
enum class Zone { kBelow, kBand, kAbove };

bool applies(Clip clip, Zone zone) {
  switch (clip) {
    case Clip::kNone:
      return true;
    case Clip::kBelowDiaphragm:
      return zone == Zone::kBelow;
    case Clip::kAboveDiaphragm:
      return zone == Zone::kAbove;
  }
  return true;
}

// Approximate signed distance to an axis-aligned ellipse centred at the origin.
double ellipse_sdf(double x, double y, double a, double b) {
  double u = x / a, v = y / b;
  double k1 = std::sqrt(u * u / (a * a) + v * v / (b * b));
  if (k1 < 1e-12) return -std::min(a, b);
  double k0 = std::sqrt(u * u + v * v);
  return k0 * (k0 - 1.0) / k1;
}

class Classifier {
 public:
  explicit Classifier(const Anatomy& anatomy) : A(anatomy), T(anatomy.hu) {
    const Body& b = A.body;
    max_wall_ = b.skin + std::max({b.fat_ant, b.fat_lat, b.fat_post}) + b.muscle + A.ribs.half_depth;
  }

  template <class Displace>
  Sample operator()(const Vec3& p, const Body::Section& sec, const int* shapes, size_t count,
                    Displace&& displace, float tex, float tex2) const {
    const double x = p[0], y = p[1], z = p[2];
    const Body& B = A.body;
    double d_body = ellipse_sdf(x, y, sec.a, y < 0 ? sec.b_ant : sec.b_post);
    if (d_body > 0) return outside(x, y, sec, tex);
    double depth = -d_body;
    if (depth < B.skin) return make(T.skin + 4 * tex);
    if (depth < max_wall_) {
      double r = std::sqrt(x * x + y * y);
      double ux = r > 1e-9 ? x / r : 0, uy = r > 1e-9 ? y / r : 1;
      double fat = B.fat(ux, uy);
      if (depth < B.skin + fat) return make(T.fat + T.tex_fat * tex);
      Sample s;
      if (rib(z, depth - (B.skin + fat + 0.55 * B.muscle), uy, tex, &s)) return s;
      if (depth < B.skin + fat + B.muscle) return make(T.muscle + T.tex_muscle * tex);
    }

    double z_d = A.diaphragm.z_at(x, y);
    Zone zone = z > z_d ? Zone::kAbove : (z > z_d - 4 ? Zone::kBand : Zone::kBelow);
    if (std::fabs(x) < 70) {
      Sample s;
      if (spine(p, tex, &s)) return s;
    }
    for (size_t n = 0; n < count; ++n) {
      const Shape& s = A.shapes[static_cast<size_t>(shapes[n])];
      if (!s.box.contains(p) || !applies(s.clip, zone)) continue;
      Vec3 q = s.deformation >= 0 ? p + displace(s.deformation) : p;
      Vec3 axis{0, 0, 0};
      double radius = 0;
      double d = s.sdf(q, &axis, &radius);
      if (d < 0) return material(s, d, p, q, axis, radius, tex, tex2);
      if (s.material == Material::kKidney) {  // exophytic part of a kidney tumour
        for (const Tumour& t : A.tumours)
          if (t.host == s.organ && t.box.contains(p) && d < 0.5 * t.radius) {
            double dt = t.sdf(p);
            if (dt < 0) return tumour(t, dt, tex, kKidneyTumour);
          }
      }
    }
    if (zone == Zone::kBand) return make(T.muscle + T.tex_muscle * tex);
    if (zone == Zone::kAbove) {
      double vb_y = A.spine.body_y(z);
      if (std::fabs(x - 5) < 30 && y > vb_y - 50 && y < vb_y + 10)
        return make(T.fat + T.tex_fat * tex);  // mediastinum
      if (in_vessel(p)) return make(T.vein + 5 * tex);
      return make(T.lung + T.tex_lung * tex);
    }
    return make(T.fat + T.tex_fat * tex);
  }

 private:
  Sample outside(double x, double y, const Body::Section& sec, float tex) const {
    // Patient table: a thin shell over a foam core, under the back.
    double top = sec.b_post + A.body.table_gap;
    if (std::fabs(x) < 230 && y > top && y < top + 28) {
      if (y < top + 2.5 || y > top + 25.5) return make(T.table + 20 * tex);
      return make(T.table_foam + 15 * tex);
    }
    return make(T.air);
  }

  // Ribs slope down from the spine towards the front; radial_offset = depth from the rib's centre line.
  bool rib(double z, double radial_offset, double uy, float tex, Sample* out) const {
    const Ribs& R = A.ribs;
    if (std::fabs(radial_offset) > R.half_depth) return false;
    double s = std::acos(std::clamp(uy, -1.0, 1.0)) / kPi;  // 0 at the back, 1 at the front
    if (s < 0.2) return false;  // the posterior ends lie deep to the back muscles (part of the spine model)
    double zr = z + R.drop * std::pow(s, 1.3) - R.z0;
    int i = static_cast<int>(std::floor(zr / R.period + 0.5));
    if (i < 0 || i >= R.count) return false;
    static const double kEnd[3] = {0.45, 0.6, 0.72};  // floating and lowest ribs stop short of the front
    double bone_end = i < 3 ? kEnd[i] : 0.86, cartilage_end = i < 2 ? bone_end : 0.95;
    if (s > cartilage_end) return false;
    double dz = (zr - i * R.period) / R.half_height, dr = radial_offset / R.half_depth;
    double e = dz * dz + dr * dr;
    if (e >= 1) return false;
    if (s > bone_end)
      *out = make(T.cartilage + 10 * tex);
    else
      *out = make(e > 0.4 ? T.bone_cortex + 30 * tex : T.bone_marrow + T.tex_bone * tex);
    return true;
  }

  bool spine(const Vec3& p, float tex, Sample* out) const {
    const Spine& S = A.spine;
    const double x = p[0], y = p[1], z = p[2];
    double g = S.grow(z), ys = S.y_of(z);
    double rx = S.body_rx * g, ry = S.body_ry * g, vb_y = ys - S.canal_ry - 5 - ry;
    if (y < vb_y - ry - 1 || y > ys + S.canal_ry + 40) return false;
    double u = std::fmod(z - S.phase, S.period);
    if (u < 0) u += S.period;
    bool disc = u < S.disc;
    double dvb = ellipse_sdf(x, y - vb_y, rx, ry);
    if (dvb < 0) {
      if (disc)
        *out = make(T.disc + 6 * tex);
      else if (dvb > -S.cortex)
        *out = make(T.bone_cortex + 30 * tex);
      else
        *out = make(T.bone_marrow + T.tex_bone * tex);
      return true;
    }
    double dc = ellipse_sdf(x, y - ys, S.canal_rx, S.canal_ry);
    if (dc < 0) {
      *out = make(T.csf + 4 * tex);
      return true;
    }
    if (u < S.disc + 1.5 || u > S.period - 1.5) return false;  // only discs and ligaments between levels
    double arch = 0.6 * T.bone_cortex + 0.4 * T.bone_marrow + 30 * tex;
    double ax = std::fabs(x);
    bool bone = (dc < 5 && y > vb_y) ||  // neural arch around the canal
                (ax > S.canal_rx - 2 && ax < S.canal_rx + 5 && y > vb_y && y < ys) ||  // pedicles
                (ax < 3.5 && y > ys && y < ys + S.canal_ry + 38 && u > S.disc + 4) ||  // spinous process
                (ax > S.canal_rx && ax < S.canal_rx + 26 && u > S.disc + 9 && u < S.disc + 19 &&
                 std::fabs(y - ys + 2) < 3.5 - 0.06 * (ax - S.canal_rx));  // transverse processes, tapering
    if (!bone) return false;
    *out = make(arch);
    return true;
  }

  // Hepatic and pulmonary vessels: where two smooth random fields are both near zero (curved thin tubes).
  bool in_vessel(const Vec3& p) const {
    const double w = A.vessel_width;
    double n1 = std::sin(dot(A.vessel_freq[0], p) + A.vessel_phase[0]) +
                0.7 * std::sin(dot(A.vessel_freq[1], p) + A.vessel_phase[1]);
    if (std::fabs(n1) > w) return false;
    double n2 = std::sin(dot(A.vessel_freq[2], p) + A.vessel_phase[2]) +
                0.7 * std::sin(dot(A.vessel_freq[3], p) + A.vessel_phase[3]);
    return std::fabs(n2) < w;
  }

  Sample tumour(const Tumour& t, double dt, float tex, Organ label) const {
    if (t.necrosis && dt < -0.45 * t.radius) return make(t.core_hu + 5 * tex, label);
    if (t.rim && dt > -2.5) return make(t.rim_hu + 6 * tex, label);
    return make(t.hu + t.texture * tex, label);
  }

  Sample material(const Shape& s, double d, const Vec3& p, const Vec3& q, const Vec3& axis, double radius,
                  float tex, float tex2) const {
    const double amp = T.tex_organ[s.organ];
    switch (s.material) {
      case Material::kArtery:
        return make(T.artery + 4 * tex, s.organ);
      case Material::kPortalVein:
        return make(T.portal + 4 * tex, s.organ);
      case Material::kVein:
        return make(T.vein + 4 * tex, s.organ);
      case Material::kMuscle:
        return make(T.muscle + T.tex_muscle * tex);
      case Material::kLiver:
        for (const Tumour& t : A.tumours)
          if (t.host == kLiver && t.box.contains(p)) {
            double dt = t.sdf(p);
            if (dt < 0) return tumour(t, dt, tex, kLiverTumour);
          }
        if (in_vessel(p)) return make(T.liver_vessel + 4 * tex, kLiver);
        return make(T.liver + amp * tex, kLiver);
      case Material::kSpleen:
        return make(T.spleen + amp * tex, s.organ);
      case Material::kKidney:
        for (const Tumour& t : A.tumours)
          if (t.host == s.organ && t.box.contains(p)) {
            double dt = t.sdf(p);
            if (dt < 0) return tumour(t, dt, tex, kKidneyTumour);
          }
        if (d > -5.5) return make(T.kidney_cortex + amp * tex, s.organ);
        if (s.inner.size() >= 2 && s.inner[1].sdf(q) < 0) return make(T.urine + 3 * tex, s.organ);
        if (!s.inner.empty() && s.inner[0].sdf(q) < 0) return make(T.sinus_fat + T.tex_fat * tex, s.organ);
        return make(T.kidney_medulla + amp * tex, s.organ);
      case Material::kAdrenal:
        return make(T.adrenal + amp * tex, s.organ);
      case Material::kGallbladder:
        if (d > -2) return make(T.gut_wall + 4 * tex, s.organ);
        return make(T.bile + 3 * tex, s.organ);
      case Material::kPancreas:  // lobulated, with fat between the lobules
        if (tex2 > 1.2) return make(0.5 * (T.fat + T.pancreas) + amp * tex, s.organ);
        return make(T.pancreas + amp * tex, s.organ);
      case Material::kStomach:
        if (d > -4) return make(T.gut_wall + 5 * tex, s.organ);
        if (p[1] < s.level) return make(T.gas + 15 * tex, s.organ);
        if (s.content == Content::kStool) return make(T.fluid + 20 + 25 * tex2, s.organ);  // food
        return make(T.fluid + 4 * tex, s.organ);
      case Material::kBowel:
        if (d > -2.5) return make(T.gut_wall + 5 * tex, s.organ);
        switch (s.content) {
          case Content::kGas:
            return make(T.gas + 15 * tex, s.organ);
          case Content::kLevel:  // gas rises to the front (the patient lies supine)
            if (p[1] - axis[1] < -s.level * radius) return make(T.gas + 15 * tex, s.organ);
            return make(T.fluid + 4 * tex, s.organ);
          case Content::kStool:
          case Content::kFluid:
            break;
        }
        return make(T.fluid + 4 * tex, s.organ);
      case Material::kColon:
        if (d > -2) return make(T.gut_wall + 5 * tex, s.organ);
        if (s.content == Content::kGas || tex2 > 0.6) return make(T.gas + 15 * tex, s.organ);
        return make(T.stool + 35 * tex, s.organ);
      case Material::kEsophagus:
        if (s.content == Content::kGas && d < 2.5 - radius) return make(T.gas + 15 * tex, s.organ);
        return make(T.gut_wall + 5 * tex, s.organ);
      case Material::kBone:
        if (d > -2) return make(T.bone_cortex + 30 * tex);
        return make(T.bone_marrow + T.tex_bone * tex);
      case Material::kHeart:
        if (d > -7) return make(T.myocardium + 5 * tex, s.organ);
        return make(T.heart + 5 * tex, s.organ);
    }
    return make(T.fat, kBackground);
  }

  const Anatomy& A;
  const Tissues& T;
  double max_wall_ = 0;
};

}  // namespace

void rasterize(const Anatomy& anatomy, const AnatomicalGrid& grid, const std::vector<float>& texture,
               std::vector<float>* hu, std::vector<uint8_t>* organ) {
  const Size3 size = grid.size();
  const int64_t nx = size[0], ny = size[1], nz = size[2];
  const size_t voxels = static_cast<size_t>(nx * ny * nz);
  hu->assign(voxels, 0.f);
  organ->assign(voxels, 0);
  const size_t nd = anatomy.deformations.size();
  // Deformations are products of 1-D sinusoids: tabulate the x factors once, the y*z factors per row.
  std::vector<double> fx(nd * static_cast<size_t>(nx) * 3), fz(nd * 3), fyz(nd * 3);
  for (size_t d = 0; d < nd; ++d)
    for (int64_t i = 0; i < nx; ++i)
      for (int t = 0; t < 3; ++t) {
        const auto& term = anatomy.deformations[d].terms[static_cast<size_t>(t)];
        fx[(d * static_cast<size_t>(nx) + static_cast<size_t>(i)) * 3 + static_cast<size_t>(t)] =
            std::sin(term.frequency[0] * grid.x[static_cast<size_t>(i)] + term.phase[0]);
      }

  Classifier classify(anatomy);
  std::vector<int> slice_shapes, row_shapes;
  for (int64_t k = 0; k < nz; ++k) {
    const double z = grid.z[static_cast<size_t>(k)];
    const Body::Section sec = anatomy.body.section(z);
    slice_shapes.clear();
    for (size_t s = 0; s < anatomy.shapes.size(); ++s) {
      const Box& b = anatomy.shapes[s].box;
      if (z >= b.lo[2] && z <= b.hi[2]) slice_shapes.push_back(static_cast<int>(s));
    }
    for (size_t d = 0; d < nd; ++d)
      for (size_t t = 0; t < 3; ++t) {
        const auto& term = anatomy.deformations[d].terms[t];
        fz[d * 3 + t] = std::sin(term.frequency[2] * z + term.phase[2]);
      }
    const int64_t k2 = (k + 5) % nz;
    for (int64_t j = 0; j < ny; ++j) {
      const double y = grid.y[static_cast<size_t>(j)];
      row_shapes.clear();
      for (int s : slice_shapes) {
        const Box& b = anatomy.shapes[static_cast<size_t>(s)].box;
        if (y >= b.lo[1] && y <= b.hi[1]) row_shapes.push_back(s);
      }
      for (size_t d = 0; d < nd; ++d)
        for (size_t t = 0; t < 3; ++t) {
          const auto& term = anatomy.deformations[d].terms[t];
          fyz[d * 3 + t] = std::sin(term.frequency[1] * y + term.phase[1]) * fz[d * 3 + t];
        }
      const int64_t j2 = (j + 11) % ny;
      const size_t row = static_cast<size_t>((k * ny + j) * nx);
      const float* tex_row = texture.data() + row;
      const float* tex2_row = texture.data() + static_cast<size_t>((k2 * ny + j2) * nx);
      for (int64_t i = 0; i < nx; ++i) {
        const size_t ui = static_cast<size_t>(i);
        auto displace = [&](int d) {
          const size_t ud = static_cast<size_t>(d);
          const double* f = &fx[(ud * static_cast<size_t>(nx) + ui) * 3];
          const double* h = &fyz[ud * 3];
          const auto& terms = anatomy.deformations[ud].terms;
          Vec3 r{0, 0, 0};
          for (size_t t = 0; t < 3; ++t) r = r + (f[t] * h[t]) * terms[t].amplitude;
          return r;
        };
        const Vec3 p{grid.x[ui], y, z};
        Sample s = classify(p, sec, row_shapes.data(), row_shapes.size(), displace, tex_row[i],
                            tex2_row[(i + 17) % nx]);
        (*hu)[row + ui] = s.hu;
        (*organ)[row + ui] = s.organ;
      }
    }
  }
}

Organ organ_at(const Anatomy& anatomy, const Vec3& p) {
  std::vector<int> all(anatomy.shapes.size());
  for (size_t s = 0; s < all.size(); ++s) all[s] = static_cast<int>(s);
  Classifier classify(anatomy);
  auto displace = [&](int d) { return anatomy.deformations[static_cast<size_t>(d)].at(p); };
  return static_cast<Organ>(
      classify(p, anatomy.body.section(p[2]), all.data(), all.size(), displace, 0.f, 0.f).organ);
}

}  // namespace pgl::phantom
