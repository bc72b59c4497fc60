// Tumour placement: liver tumours (LiTS-like) and kidney tumours (KiTS-like), inside their organ.
#include <cmath>

#include "pgl/phantom/anatomy.h"
#include "pgl/phantom/rasterize.h"

namespace pgl::phantom {
namespace {

constexpr double kPi = 3.141592653589793;

// Number of lesions: index = count, value = probability.
int draw_count(Rng& rng, std::initializer_list<double> probabilities) {
  double u = rng.uniform(), acc = 0;
  int n = 0;
  for (double p : probabilities) {
    acc += p;
    if (u < acc) return n;
    ++n;
  }
  return n - 1;
}

// Centre inside the host organ, the lesion core (`inside` of the radius) inside too, apart from others.
bool find_centre(Rng& rng, const Anatomy& A, const Shape& host, double radius, double inside, Vec3* centre) {
  for (int attempt = 0; attempt < 300; ++attempt) {
    Vec3 c;
    for (size_t a = 0; a < 3; ++a) c[a] = rng.uniform(host.box.lo[a], host.box.hi[a]);
    if (organ_at(A, c) != host.organ) continue;
    bool ok = true;
    for (size_t a = 0; a < 3 && ok; ++a)
      for (double sign : {-1.0, 1.0}) {
        Vec3 q = c;
        q[a] += sign * inside * radius;
        if (organ_at(A, q) != host.organ) {
          ok = false;
          break;
        }
      }
    for (const Tumour& t : A.tumours)
      if (norm(t.centre - c) < t.radius + radius + 3) ok = false;
    if (ok) {
      *centre = c;
      return true;
    }
  }
  return false;
}

Tumour shape_tumour(Rng& rng, Organ host, const Vec3& centre, double radius) {
  Tumour t;
  t.host = host;
  t.centre = centre;
  t.radius = radius;
  t.lobulation = rng.uniform(0.03, 0.18);
  for (size_t a = 0; a < 3; ++a) {
    t.lobe_frequency[a] = rng.uniform(1.5, 4.0);
    t.lobe_phase[a] = rng.uniform(0, 2 * kPi);
  }
  double extent = radius * (1 + t.lobulation) + 1;
  for (size_t a = 0; a < 3; ++a) {
    t.box.lo[a] = centre[a] - extent;
    t.box.hi[a] = centre[a] + extent;
  }
  return t;
}

// Radius (mm) for a diameter log-uniform in [lo, hi] mm.
double draw_radius(Rng& rng, double lo, double hi) {
  return 0.5 * std::exp(rng.uniform(std::log(lo), std::log(hi)));
}

}  // namespace

void place_tumours(Rng& rng, Anatomy* anatomy) {
  Anatomy& A = *anatomy;
  const Tissues& T = A.hu;
  const bool contrast = A.phase == Phase::kPortalVenous;
  if (A.task == Task::kLiver) {
    const Shape* liver = nullptr;
    for (const Shape& s : A.shapes)
      if (s.organ == kLiver) liver = &s;
    int count = draw_count(rng, {0.15, 0.3, 0.2, 0.15, 0.1, 0.1});
    for (int n = 0; n < count; ++n) {
      double radius = draw_radius(rng, 5, 40);  // small lesions are the most frequent
      Vec3 c;
      if (!find_centre(rng, A, *liver, radius, 0.6, &c)) continue;
      Tumour t = shape_tumour(rng, kLiver, c, radius);
      bool hyper = rng.chance(0.25);  // hypervascular lesions enhance more than the liver
      if (contrast)
        t.hu = hyper ? T.liver + rng.uniform(25, 55) : T.liver - rng.uniform(35, 65);
      else
        t.hu = hyper ? T.liver + rng.uniform(5, 15) : T.liver - rng.uniform(10, 25);
      t.rim = radius > 8 && rng.chance(0.4);
      t.rim_hu = t.hu + (contrast ? rng.uniform(20, 40) : 5);
      t.necrosis = radius > 12 && rng.chance(0.4);
      t.core_hu = rng.uniform(10, 25);
      t.texture = rng.uniform(5, 12);
      A.tumours.push_back(t);
    }
  } else if (A.task == Task::kKidney) {
    int count = draw_count(rng, {0.2, 0.55, 0.15, 0.1});
    for (int n = 0; n < count; ++n) {
      Organ host = rng.chance(0.5) ? kKidneyRight : kKidneyLeft;
      Shape* kidney = nullptr;
      for (Shape& s : A.shapes)
        if (s.organ == host) kidney = &s;
      double radius = rng.chance(0.3) ? draw_radius(rng, 5, 12) : draw_radius(rng, 12, 40);  // mostly large
      Vec3 c;
      // A looser core test than for the liver: kidney tumours often bulge out of the kidney.
      if (!find_centre(rng, A, *kidney, radius, 0.35, &c)) continue;
      Tumour t = shape_tumour(rng, host, c, radius);
      bool cystic = rng.chance(0.2);
      if (contrast)
        t.hu = cystic ? rng.uniform(5, 25) : rng.uniform(70, 140);
      else
        t.hu = cystic ? rng.uniform(5, 20) : rng.uniform(28, 45);
      t.texture = cystic ? 3 : rng.uniform(8, 20);
      t.necrosis = !cystic && radius > 12 && rng.chance(0.5);
      t.core_hu = rng.uniform(10, 30);
      A.tumours.push_back(t);
      kidney->box.add(t.box);  // room for the exophytic part
    }
  }
}

}  // namespace pgl::phantom
