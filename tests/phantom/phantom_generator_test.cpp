// Generator contract: determinism, grid choices (defaults and overrides), task tables, bad options.
#include <algorithm>
#include <cmath>

#include "pgl/core/error.h"
#include "pgl/phantom/phantom.h"
#include "support/test_support.h"

namespace pgl::phantom {
namespace {

CaseOptions small(Task task) {
  CaseOptions o;
  o.task = task;
  o.size = {64, 64, 32};
  return o;
}

TEST(PhantomGenerator, SameSeedSameData) {
  for (Task task : {Task::kLiver, Task::kKidney, Task::kMultiorgan}) {
    PhantomCase a = generate_case(small(task), case_seed(11, 3));
    PhantomCase b = generate_case(small(task), case_seed(11, 3));
    EXPECT_TRUE(a.image.geometry.same_grid(b.image.geometry, 0));
    EXPECT_EQ(a.image.geometry.origin, b.image.geometry.origin);
    EXPECT_TRUE(a.image.data == b.image.data) << task_name(task);
    EXPECT_TRUE(a.labels.data == b.labels.data) << task_name(task);
  }
}

TEST(PhantomGenerator, DifferentSeedsDiffer) {
  PhantomCase a = generate_case(small(Task::kLiver), case_seed(1, 0));
  PhantomCase b = generate_case(small(Task::kLiver), case_seed(2, 0));
  PhantomCase c = generate_case(small(Task::kLiver), case_seed(1, 1));
  EXPECT_FALSE(a.image.data == b.image.data);
  EXPECT_FALSE(a.labels.data == b.labels.data);
  EXPECT_FALSE(a.image.data == c.image.data);
  EXPECT_NE(case_seed(1, 0), case_seed(1, 1));
  EXPECT_NE(case_seed(1, 0), case_seed(0, 1));
}

TEST(PhantomGenerator, DefaultGrid) {
  CaseOptions o;
  o.task = Task::kSpleen;
  PhantomCase c = generate_case(o, case_seed(0, 0));
  const Geometry& g = c.image.geometry;
  EXPECT_EQ(g.size[0], 192);
  EXPECT_EQ(g.size[1], 192);
  EXPECT_GE(g.size[2], 80);
  EXPECT_LE(g.size[2], 120);
  EXPECT_EQ(g.orientation_code(), "LPS");
  double fov = g.spacing[0] * static_cast<double>(g.size[0]);
  EXPECT_GE(fov, 280);
  EXPECT_LE(fov, 500);
  EXPECT_GE(c.info.slice_thickness_mm, 1);
  EXPECT_LE(c.info.slice_thickness_mm, 5);
  EXPECT_GE(c.info.noise_hu, 5);
  EXPECT_LE(c.info.noise_hu, 25);
}

TEST(PhantomGenerator, SpacingAndSizeOverrides) {
  CaseOptions o = small(Task::kSpleen);
  o.size = {40, 48, 20};
  o.spacing = {0.8, 0.9, 2.5};
  PhantomCase c = generate_case(o, 5);
  EXPECT_EQ(c.image.geometry.size, (Size3{40, 48, 20}));
  EXPECT_EQ(c.image.geometry.spacing, (Vec3{0.8, 0.9, 2.5}));
  EXPECT_TRUE(c.labels.geometry.same_grid(c.image.geometry, 0));

  // Spacing alone: the grid covers the field of view (more voxels at finer spacing).
  o.size = {0, 0, 0};
  o.spacing = {4, 4, 5};
  PhantomCase d = generate_case(o, 5);
  EXPECT_EQ(d.image.geometry.spacing, (Vec3{4, 4, 5}));
  EXPECT_NEAR(static_cast<double>(d.image.geometry.size[0]) * 4, d.info.fov_mm, 4);
  EXPECT_GE(d.image.geometry.size[2], 40);  // 200-250 mm along z
  EXPECT_LE(d.image.geometry.size[2], 50);

  // Size alone: the field of view is spread over the voxels.
  o.spacing = {0, 0, 0};
  o.size = {50, 50, 25};
  PhantomCase e = generate_case(o, 5);
  EXPECT_EQ(e.image.geometry.size, (Size3{50, 50, 25}));
  EXPECT_NEAR(e.image.geometry.spacing[0] * 50, e.info.fov_mm, 0.1);
}

TEST(PhantomGenerator, ImagesAreIntegralHu) {
  PhantomCase c = generate_case(small(Task::kMultiorgan), 9);
  for (float v : c.image.data) {
    ASSERT_EQ(v, std::nearbyint(v));
    ASSERT_GE(v, -1024);
    ASSERT_LE(v, 3071);
  }
}

TEST(PhantomGenerator, TaskTables) {
  EXPECT_EQ(parse_task("liver"), Task::kLiver);
  EXPECT_EQ(parse_task("multiorgan"), Task::kMultiorgan);
  EXPECT_THROW(parse_task("brain"), Error);
  for (Task t : {Task::kLiver, Task::kSpleen, Task::kKidney, Task::kMultiorgan}) {
    EXPECT_EQ(parse_task(task_name(t)), t);
    EXPECT_EQ(task_labels(t).at(0), "background");
  }
  EXPECT_EQ(task_labels(Task::kLiver).at(2), "tumour");
  EXPECT_EQ(task_labels(Task::kKidney).at(1), "kidney");
  auto bcv = task_labels(Task::kMultiorgan);
  EXPECT_EQ(bcv.size(), 14u);
  EXPECT_EQ(bcv.at(1), "spleen");
  EXPECT_EQ(bcv.at(6), "liver");
  EXPECT_EQ(bcv.at(9), "inferior vena cava");
  EXPECT_EQ(bcv.at(13), "left adrenal gland");
}

TEST(PhantomGenerator, BadOptionsThrow) {
  CaseOptions o;
  o.size = {5000, 10, 10};
  EXPECT_THROW(generate_case(o, 1), Error);
  o.size = {0, 0, 0};
  o.spacing = {-1, 1, 1};
  EXPECT_THROW(generate_case(o, 1), Error);
  o.spacing = {0.01, 0.01, 0.01};
  EXPECT_THROW(generate_case(o, 1), Error);
  o.spacing = {0.1, 0.1, 0.1};  // 3500 x 3500 x 2250 voxels
  EXPECT_THROW(generate_case(o, 1), Error);
}

}  // namespace
}  // namespace pgl::phantom
