// The bad-input corpus: each input gets one clear error naming the file and the problem, exit status 1,
// no crash and no hang. Runs the real `pgl` program.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "pgl/io/volume_io.h"
#include "support/test_support.h"

namespace pgl {
namespace {
namespace fs = std::filesystem;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

Geometry small_geometry() {
  Geometry g;
  g.size = {16, 16, 8};
  return g;
}

// An uncompressed NIfTI-1 file whose header fields can then be patched.
std::string valid_nii(const test::TempDir& dir, const std::string& name) {
  Volume v(small_geometry(), 1.5f);
  write_volume(v, dir / name);
  return dir / name;
}

void patch_int16(const std::string& path, size_t offset, int16_t value) {
  std::string bytes = read_bytes(path);
  std::memcpy(&bytes[offset], &value, sizeof value);
  write_bytes(path, bytes);
}

// Exit status 1, a single "pgl: error:" line that names the file and contains `problem`.
void expect_clear_error(const std::string& args, const std::string& named, const std::string& problem) {
  test::CommandResult r = test::run_pgl(args);
  EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
  EXPECT_NE(r.output.find("pgl: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(named), std::string::npos) << "message does not name " << named << ": " << r.output;
  EXPECT_NE(r.output.find(problem), std::string::npos) << "expected '" << problem << "' in: " << r.output;
  EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
}

TEST(BadInput, MissingFile) {
  expect_clear_error("info /nonexistent/ct.nii.gz", "/nonexistent/ct.nii.gz", "no such file");
}

TEST(BadInput, TruncatedNiftiGz) {
  test::TempDir dir;
  Geometry g = small_geometry();
  g.size = {64, 64, 32};
  Volume v(g);
  std::mt19937 rng(1);
  for (auto& x : v.data) x = static_cast<float>(rng() % 2000) - 1000.f + 0.5f;
  write_volume(v, dir / "full.nii.gz");
  std::string bytes = read_bytes(dir / "full.nii.gz");
  write_bytes(dir / "cut.nii.gz", bytes.substr(0, bytes.size() / 2));
  expect_clear_error("info " + (dir / "cut.nii.gz"), "cut.nii.gz", "");
  test::CommandResult r = test::run_pgl("info " + (dir / "cut.nii.gz"));
  EXPECT_TRUE(r.output.find("truncated") != std::string::npos ||
              r.output.find("corrupt") != std::string::npos)
      << r.output;
}

TEST(BadInput, TruncatedUncompressedNifti) {
  test::TempDir dir;
  std::string path = valid_nii(dir, "cut.nii");
  std::string bytes = read_bytes(path);
  write_bytes(path, bytes.substr(0, bytes.size() - 100));
  expect_clear_error("info " + path, path, "truncated");
}

TEST(BadInput, RandomBytesWithNiftiName) {
  test::TempDir dir;
  std::string junk(4096, '\0');
  std::mt19937 rng(7);
  for (auto& c : junk) c = static_cast<char>(rng());
  write_bytes(dir / "junk.nii", junk);
  expect_clear_error("info " + (dir / "junk.nii"), "junk.nii", "not a readable NIfTI file");
}

TEST(BadInput, EmptyFile) {
  test::TempDir dir;
  write_bytes(dir / "empty.nii.gz", "");
  expect_clear_error("info " + (dir / "empty.nii.gz"), "empty.nii.gz", "empty");
}

TEST(BadInput, NegativeSizeInNiftiHeader) {
  test::TempDir dir;
  std::string path = valid_nii(dir, "neg.nii");
  patch_int16(path, 42, -5);  // dim[1]
  expect_clear_error("info " + path, path, "");
}

TEST(BadInput, AbsurdSizeInNiftiHeaderIsRefusedBeforeAllocation) {
  test::TempDir dir;
  std::string path = valid_nii(dir, "huge.nii");
  patch_int16(path, 42, 32767);  // 32767 x 32767 x 1024 voxels: about 2^40
  patch_int16(path, 44, 32767);
  patch_int16(path, 46, 1024);
  expect_clear_error("info " + path, path, "voxels");
}

// A real 1024 x 1024 x 512 int16 volume (zeros, 1 GiB raw, 1 MB compressed) under a 3 GiB address-space
// limit: reading it would need about 5 GiB, so it is refused before any voxel is read, naming the need.
TEST(BadInput, VolumeTooLargeForTheMemoryAllowedIsRefusedBeforeReading) {
  test::TempDir dir;
  std::string header = valid_nii(dir, "header.nii");
  patch_int16(header, 42, 1024);
  patch_int16(header, 44, 1024);
  patch_int16(header, 46, 512);
  patch_int16(header, 70, 4);   // int16
  patch_int16(header, 72, 16);  // bitpix
  const std::string big = dir / "big.nii.gz";
  auto r = test::run_shell("(head -c 352 " + header + "; head -c 1073741824 /dev/zero) | gzip -1 > " + big);
  ASSERT_EQ(r.status, 0) << r.output;
  r = test::run_shell("ulimit -v 3145728; " + test::pgl_binary() + " info " + big);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("pgl: error: " + big + ": needs about 5.0 GiB of memory to read it"),
            std::string::npos)
      << r.output;
}

TEST(BadInput, UnsupportedPixelType) {
  test::TempDir dir;
  std::string path = valid_nii(dir, "rgb.nii");
  patch_int16(path, 70, 128);  // datatype RGB24
  patch_int16(path, 72, 24);   // bitpix
  expect_clear_error("info " + path, path, "unsupported pixel type");
}

TEST(BadInput, NonFiniteVoxelsAreRefused) {
  test::TempDir dir;
  Volume v(small_geometry(), 0.25f);
  v.at(3, 4, 5) = std::nanf("");
  v.at(1, 1, 1) = INFINITY;
  write_volume(v, dir / "nan.nii.gz");
  expect_clear_error("info " + (dir / "nan.nii.gz"), "nan.nii.gz", "2 voxels are NaN or infinite");
}

TEST(BadInput, FolderWithoutDicom) {
  test::TempDir dir;
  write_bytes(dir / "readme.txt", "hello");
  expect_clear_error("info " + dir.path(), dir.path(), "no DICOM series");
}

TEST(BadInput, UnsupportedExtension) {
  test::TempDir dir;
  write_bytes(dir / "scan.jpg", "xx");
  expect_clear_error("info " + (dir / "scan.jpg"), "scan.jpg", "unsupported file type");
}

// Data sets: `pgl check` exits 1 with the problem named.
class BadDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir / "imagesTr");
    fs::create_directories(dir / "labelsTr");
  }
  void write_json(const std::string& text) { write_bytes(dir / "dataset.json", text); }
  test::TempDir dir;
};

TEST_F(BadDataset, NotJson) {
  write_json("{\"training\": [");
  expect_clear_error("check " + dir.path(), "dataset.json", "not valid JSON");
}

TEST_F(BadDataset, LacksTraining) {
  write_json(R"({"name": "x", "labels": {"0": "background"}})");
  expect_clear_error("check " + dir.path(), "dataset.json", "lacks 'training'");
}

TEST_F(BadDataset, WrongTypes) {
  write_json(R"({"training": [{"image": ["a"], "label": 1}]})");
  expect_clear_error("check " + dir.path(), "dataset.json", "must be an object with a string 'image'");
}

TEST_F(BadDataset, PathOutsideTheFolder) {
  write_json(R"({"training": [{"image": "../../etc/hosts", "label": "./labelsTr/a.nii.gz"}]})");
  expect_clear_error("check " + dir.path(), "dataset.json", "outside the data set folder");
}

TEST_F(BadDataset, ImageAndLabelGridsDiffer) {
  write_volume(Volume(small_geometry()), dir / "imagesTr/a.nii.gz");
  Geometry other = small_geometry();
  other.spacing = {1, 1, 3};
  write_label_map(LabelMap(other), dir / "labelsTr/a.nii.gz");
  write_json(
      R"({"labels": {"0": "background"}, "training": [{"image": "imagesTr/a.nii.gz", "label": "labelsTr/a.nii.gz"}]})");
  test::CommandResult r = test::run_pgl("check " + dir.path());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("labelsTr/a.nii.gz: label grid does not match"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("verdict: FAIL"), std::string::npos) << r.output;
}

TEST_F(BadDataset, UndeclaredLabelValues) {
  write_volume(Volume(small_geometry()), dir / "imagesTr/a.nii.gz");
  LabelMap l(small_geometry());
  l.at(1, 1, 1) = 3;
  write_label_map(l, dir / "labelsTr/a.nii.gz");
  write_json(
      R"({"labels": {"0": "background", "1": "liver"}, "training": [{"image": "imagesTr/a.nii.gz", "label": "labelsTr/a.nii.gz"}]})");
  test::CommandResult r = test::run_pgl("check " + dir.path());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("label value 3 is not declared"), std::string::npos) << r.output;
}

TEST(Cli, UsageErrorsExitWithStatus2AndHelpWorks) {
  EXPECT_EQ(test::run_pgl("").status, 2);
  EXPECT_EQ(test::run_pgl("no-such-command").status, 2);
  EXPECT_EQ(test::run_pgl("info").status, 2);  // missing required argument
  test::CommandResult help = test::run_pgl("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("info"), std::string::npos);
  EXPECT_NE(help.output.find("check"), std::string::npos);
  EXPECT_EQ(test::run_pgl("info --help").status, 0);
  test::CommandResult version = test::run_pgl("--version");
  EXPECT_EQ(version.status, 0);
  EXPECT_NE(version.output.find("pgl "), std::string::npos);
}

TEST(CliRealData, InfoOnRealFilesAndCheckOnSharedDataSets) {
  PGL_REQUIRE_SHARED("samples/msd_spleen_8.nii.gz");
  test::CommandResult r = test::run_pgl("info --json " + test::shared_path("samples/msd_spleen_8.nii.gz"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"orientation\": \"LAS\""), std::string::npos) << r.output;
  for (const char* name : {"openkbp", "chaos_t2"}) {
    if (test::shared_path(name).empty()) continue;
    test::CommandResult c = test::run_pgl(std::string("check --quiet ") + test::shared_path(name));
    EXPECT_EQ(c.status, 0) << c.output;
    EXPECT_NE(c.output.find("verdict: PASS"), std::string::npos) << c.output;
  }
}

}  // namespace
}  // namespace pgl
