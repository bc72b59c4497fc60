// Write/read round trips and real-file reads for the I/O library.
#include "pgl/io/volume_io.h"

#include <cmath>
#include <filesystem>

#include "pgl/core/error.h"
#include "pgl/io/spatial.h"
#include "support/test_support.h"

namespace pgl {
namespace {

// An oblique, anisotropic, non-cubic test image with a ramp of values.
Volume make_oblique_volume() {
  Geometry g;
  g.size = {7, 5, 4};
  g.spacing = {0.7, 1.3, 3.1};
  g.origin = {-12.5, 40.25, 7.0};
  const double c = std::cos(0.3), s = std::sin(0.3);
  g.direction = {c, 0, s, 0, -1, 0, -s, 0, c};  // rotation about y combined with a flip: still orthonormal
  Volume v(g);
  for (size_t n = 0; n < v.data.size(); ++n) v.data[n] = static_cast<float>(n) * 0.5f - 3.25f;
  return v;
}

void expect_same_geometry(const Geometry& a, const Geometry& b) {
  EXPECT_EQ(a.size, b.size);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(a.spacing[k], b.spacing[k], 1e-5);
    EXPECT_NEAR(a.origin[k], b.origin[k], 1e-4);
  }
  for (int k = 0; k < 9; ++k) EXPECT_NEAR(a.direction[k], b.direction[k], 1e-5);
}

TEST(VolumeIo, NiftiRoundTripKeepsGeometryAndValues) {
  test::TempDir dir;
  Volume v = make_oblique_volume();
  for (const char* name : {"a.nii.gz", "a.nii", "a.nrrd", "a.mha"}) {
    write_volume(v, dir / name);
    Volume back = read_volume(dir / name);
    expect_same_geometry(v.geometry, back.geometry);
    ASSERT_EQ(back.data.size(), v.data.size());
    for (size_t n = 0; n < v.data.size(); ++n) EXPECT_FLOAT_EQ(back.data[n], v.data[n]) << name;
  }
}

TEST(VolumeIo, IntegralIntensitiesAreStoredAsInt16) {
  test::TempDir dir;
  Volume v = make_oblique_volume();
  for (auto& x : v.data) x = std::round(x * 10);
  write_volume(v, dir / "ct.nii.gz");
  EXPECT_EQ(read_image_info(dir / "ct.nii.gz").pixel_type, "int16");
  EXPECT_EQ(read_volume(dir / "ct.nii.gz").data, v.data);
}

TEST(VolumeIo, LabelMapRoundTrip) {
  test::TempDir dir;
  Volume v = make_oblique_volume();
  LabelMap labels(v.geometry);
  for (size_t n = 0; n < labels.data.size(); ++n) labels.data[n] = static_cast<uint16_t>(n % 5);
  labels.data[3] = 300;  // forces uint16 storage
  write_label_map(labels, dir / "l.nii.gz");
  LabelMap back = read_label_map(dir / "l.nii.gz");
  expect_same_geometry(labels.geometry, back.geometry);
  EXPECT_EQ(back.data, labels.data);
}

TEST(VolumeIo, LabelReaderRefusesNonIntegralValues) {
  test::TempDir dir;
  Volume v = make_oblique_volume();  // holds x.5 values
  write_volume(v, dir / "frac.nii.gz");
  try {
    read_label_map(dir / "frac.nii.gz");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels must be integers"), std::string::npos) << e.what();
  }
}

TEST(VolumeIo, WritesAreAtomicAndLeaveNoTemporaryFiles) {
  test::TempDir dir;
  write_volume(make_oblique_volume(), dir / "x.nii.gz");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "x.nii.gz");
  }
  EXPECT_EQ(files, 1);
}

TEST(VolumeIoRealData, MsdSpleenHeaderAndHu) {
  PGL_REQUIRE_SHARED("samples/msd_spleen_8.nii.gz");
  ImageInfo info;
  Volume v = read_volume(test::shared_path("samples/msd_spleen_8.nii.gz"), &info);
  EXPECT_EQ(v.geometry.size, (Size3{512, 512, 32}));
  EXPECT_NEAR(v.geometry.spacing[0], 0.785, 1e-3);
  EXPECT_NEAR(v.geometry.spacing[1], 0.785, 1e-3);
  EXPECT_NEAR(v.geometry.spacing[2], 7.5, 1e-3);
  EXPECT_NEAR(v.at(2, 2, 16), -1024.f, 30.f);  // air in the corner
  EXPECT_EQ(info.format, "NIfTI");
  LabelMap spleen = read_label_map(test::shared_path("samples/msd_spleen_8_label.nii.gz"));
  EXPECT_TRUE(v.geometry.same_grid(spleen.geometry));
}

TEST(VolumeIoRealData, DicomSeriesMatchesItsLabelMapVoxelForVoxel) {
  PGL_REQUIRE_SHARED("samples/totalseg_dicom");
  PGL_REQUIRE_SHARED("samples/totalseg_dicom_seg.nii.gz");
  ImageInfo info;
  Volume ct = read_volume(test::shared_path("samples/totalseg_dicom"), &info);
  EXPECT_EQ(info.format, "DICOM");
  EXPECT_EQ(ct.geometry.size, (Size3{512, 512, 20}));
  LabelMap seg = read_label_map(test::shared_path("samples/totalseg_dicom_seg.nii.gz"));
  // The label map is stored with the y axis flipped (LAS) relative to the series (LPS): the same grid in
  // patient space, which canonical reorientation makes identical voxel for voxel.
  EXPECT_NE(ct.geometry.orientation_code(), seg.geometry.orientation_code());
  ct = reorient_to_canonical(ct);
  seg = reorient_to_canonical(seg);
  EXPECT_EQ(ct.geometry.grid_difference(seg.geometry), "");
  // Labelled voxels are body tissue, not air: the two grids line up.
  double sum = 0;
  int64_t n = 0;
  for (size_t k = 0; k < seg.data.size(); ++k)
    if (seg.data[k] > 0) {
      sum += ct.data[k];
      ++n;
    }
  ASSERT_GT(n, 1000);
  EXPECT_GT(sum / static_cast<double>(n), -200.0);
  EXPECT_LT(sum / static_cast<double>(n), 400.0);
  // Air in the corner: rescale intercept applied (HU, not raw stored values).
  EXPECT_LT(ct.at(0, 0, 0), -900.f);
}

// A JPEG 2000 slice whose coded data is damaged (5 bytes differ from a real slice; every marker segment is
// intact) is refused with OpenJPEG's reason before GDCM decodes it, since GDCM leaks when decoding fails.
TEST(VolumeIo, DicomWithUndecodableJpeg2000IsRefusedBeforeGdcm) {
  test::TempDir dir;
  const std::string slice = dir / "slice.dcm";
  std::filesystem::copy_file(
      test::source_dir() + "/fuzz/regressions/dicom/open_leak_gdcm_openjpeg_corrupt_jpeg2000.dcm", slice);
  try {
    read_volume(dir.path());
    FAIL() << "read a DICOM slice whose JPEG 2000 data does not decode";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(slice), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("OpenJPEG cannot decode the JPEG 2000 codestream"),
              std::string::npos)
        << e.what();
  }
}

// GDCM reads a file without the DICM signature by heuristics; this one (706 bytes) made it allocate and zero
// 1.3 GB for 5 s. pgl gives GDCM only the files with the signature.
TEST(VolumeIo, DicomFolderWithoutSignedFilesHasNoSeries) {
  test::TempDir dir;
  std::filesystem::copy_file(
      test::source_dir() + "/fuzz/regressions/dicom/slow_gdcm_no_signature_heuristic_huge_length.dcm",
      dir / "slice");
  try {
    read_volume(dir.path());
    FAIL() << "read a DICOM series from a file without the DICM signature";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("no DICOM series found in this folder (pgl reads DICOM files with the "
                                   "DICM signature)"),
        std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace pgl
