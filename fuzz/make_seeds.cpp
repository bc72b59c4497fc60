// Writes the generated seeds of fuzz/corpus/<target>/ and the fixtures of fuzz/fixtures/ (run by hand from
// the fuzz build: build-fuzz/fuzz/fuzz_make_seeds; the results are committed). Seeds are small (a few KB):
// files written by pgl itself, the bad-input corpus of tests/cli/bad_input_test.cpp, and real files from
// ../shared/data (samples/ and the data sets' dataset.json), cut down or downsampled.
#include <itkGDCMImageIO.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkMetaDataObject.h>
#include <torch/torch.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>

#include "fuzz_support.h"
#include "pgl/core/error.h"
#include "pgl/io/volume_io.h"
#include "pgl/train/checkpoint.h"
#include "torch_input.h"

namespace fs = std::filesystem;
using namespace pgl;
using nlohmann::json;

namespace {

std::string g_out;  // fuzz/ of the source tree
std::string g_shared;

void seed(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(g_out + "/corpus/" + target);
  fuzz::write_file(g_out + "/corpus/" + target + "/" + name, bytes);
  if (bytes.size() > 8192)
    std::cerr << "warning: seed " << target << "/" << name << " has " << bytes.size() << " bytes\n";
}

std::string gunzip_file(const std::string& path, size_t limit = size_t{1} << 30) {
  gzFile f = gzopen(path.c_str(), "rb");
  fuzz::require(f != nullptr, "gzopen " + path);
  std::string out;
  char buffer[1 << 16];
  int n;
  while (out.size() < limit && (n = gzread(f, buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

template <class T>
void put(std::string& bytes, size_t offset, T value) {
  std::memcpy(&bytes[offset], &value, sizeof value);
}
template <class T>
T get(const std::string& bytes, size_t offset) {
  T v;
  std::memcpy(&v, &bytes[offset], sizeof v);
  return v;
}

// A file written by pgl, returned as bytes.
template <class F>
std::string written(const std::string& extension, F&& write) {
  std::string path = fuzz::scratch_path("seed" + extension);
  write(path);
  return fuzz::read_file(path);
}

Geometry small_geometry() {
  Geometry g;
  g.size = {8, 6, 4};
  g.spacing = {0.8, 0.8, 2.5};
  g.origin = {-10.5, 20.25, 3};
  g.direction = {-1, 0, 0, 0, -1, 0, 0, 0, 1};  // RAS-like, as NIfTI files from scanners are
  return g;
}

Volume ct_volume() {
  Volume v(small_geometry());
  for (size_t n = 0; n < v.data.size(); ++n)
    v.data[n] = static_cast<float>(static_cast<int>(n * 37 % 2000) - 1000);
  return v;
}

Volume float_volume() {
  Volume v(small_geometry());
  for (size_t n = 0; n < v.data.size(); ++n) v.data[n] = std::sin(static_cast<float>(n)) * 300.5f;
  return v;
}

LabelMap labels(uint16_t max) {
  LabelMap l(small_geometry());
  for (size_t n = 0; n < l.data.size(); ++n)
    l.data[n] = static_cast<uint16_t>(n % 3 == 0 ? (n % 2 ? max : 1) : 0);
  return l;
}

// A real volume (samples/), downsampled to about 16 x 16 x 4 voxels with its geometry.
Volume downsampled(const std::string& path) {
  Volume v = read_volume(path);
  Geometry g = v.geometry;
  std::array<int64_t, 3> step{};
  for (int a = 0; a < 3; ++a) {
    step[static_cast<size_t>(a)] = std::max<int64_t>(1, v.geometry.size[a] / (a < 2 ? 16 : 4));
    g.size[a] = v.geometry.size[a] / step[static_cast<size_t>(a)];
    g.spacing[a] *= static_cast<double>(step[static_cast<size_t>(a)]);
  }
  Volume out(g);
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) out.at(i, j, k) = v.at(i * step[0], j * step[1], k * step[2]);
  return out;
}

// The original header of a real .nii.gz (with its extensions), its sizes set to `size` and the payload cut to
// match: the real header fields (qform/sform, scaling, description, intent) with a small payload.
std::string real_nifti(const std::string& path, std::array<int16_t, 3> size) {
  std::string nii = gunzip_file(path, 8 << 20);
  auto vox_offset = static_cast<size_t>(get<float>(nii, 108));
  auto bitpix = get<int16_t>(nii, 72);
  std::string out = nii.substr(0, vox_offset);
  if (vox_offset > 2048) {  // a long extension (TotalSegmentator's label names): keep its first KB
    out = out.substr(0, 352 + 4 + 1024);
    put<int32_t>(out, 356, 1024);                          // esize (a multiple of 16), ecode unchanged
    put<float>(out, 108, static_cast<float>(out.size()));  // vox_offset
  }
  for (size_t a = 0; a < 3; ++a) put<int16_t>(out, 42 + 2 * a, size[a]);
  size_t payload = static_cast<size_t>(size[0] * size[1] * size[2]) * static_cast<size_t>(bitpix / 8);
  // From the middle of the volume, where the anatomy is.
  size_t from = vox_offset + (nii.size() - vox_offset) / 2;
  return out + nii.substr(from, payload);
}

// A hand-made NIfTI-2 file (ITK reads NIfTI-2; pgl writes NIfTI-1): int16, 4 x 4 x 2.
std::string nifti2() {
  std::string h(544, '\0');
  put<int32_t>(h, 0, 540);
  std::memcpy(&h[4], "n+2\0\r\n\032\n", 8);
  put<int16_t>(h, 12, 4);   // datatype int16
  put<int16_t>(h, 14, 16);  // bitpix
  int64_t dim[8] = {3, 4, 4, 2, 1, 1, 1, 1};
  std::memcpy(&h[16], dim, sizeof dim);
  double pixdim[8] = {1, 0.5, 0.5, 2, 1, 1, 1, 1};
  std::memcpy(&h[104], pixdim, sizeof pixdim);
  put<int64_t>(h, 168, 544);  // vox_offset
  put<double>(h, 176, 1.0);   // scl_slope
  put<double>(h, 184, -1024.0);
  put<int32_t>(h, 348, 1);  // sform_code: scanner
  double srow[12] = {-0.5, 0, 0, 10, 0, -0.5, 0, 20, 0, 0, 2, -30};
  std::memcpy(&h[400], srow, sizeof srow);
  put<int32_t>(h, 500, 10);  // xyzt_units: mm, s
  std::string payload(4 * 4 * 2 * 2, '\0');
  for (size_t n = 0; n < 32; ++n) put<int16_t>(payload, 2 * n, static_cast<int16_t>(n * 50));
  return h + payload;
}

void nifti_seeds() {
  std::string ct = written(".nii", [](const std::string& p) { write_volume(ct_volume(), p); });
  std::string fl = written(".nii", [](const std::string& p) { write_volume(float_volume(), p); });
  std::string l8 = written(".nii", [](const std::string& p) { write_label_map(labels(7), p); });
  std::string l16 = written(".nii", [](const std::string& p) { write_label_map(labels(1000), p); });
  Volume nan_volume = float_volume();
  nan_volume.data[5] = std::nanf("");
  nan_volume.data[9] = INFINITY;
  std::string nan =
      written(".nii", [&](const std::string& p) { write_volume(nan_volume, p, Storage::Float32); });
  std::string truncated = ct.substr(0, ct.size() - 100);
  std::string negative = ct;
  put<int16_t>(negative, 42, -5);
  std::string huge = ct;
  put<int16_t>(huge, 42, 32767);
  put<int16_t>(huge, 44, 32767);
  put<int16_t>(huge, 46, 1024);
  std::string rgb = ct;
  put<int16_t>(rgb, 70, 128);
  put<int16_t>(rgb, 72, 24);
  std::string junk(512, '\0');
  std::mt19937 rng(7);
  for (auto& c : junk) c = static_cast<char>(rng());
  std::string spleen = real_nifti(g_shared + "/samples/msd_spleen_8.nii.gz", {16, 16, 2});
  std::string spleen_label = real_nifti(g_shared + "/samples/msd_spleen_8_label.nii.gz", {32, 32, 2});
  std::string totalseg = real_nifti(g_shared + "/samples/totalseg_ct_sm.nii.gz", {16, 16, 2});
  std::string totalseg_seg = real_nifti(g_shared + "/samples/totalseg_ct_sm_seg.nii.gz", {16, 16, 4});
  for (const char* target : {"nifti", "nifti_gz"}) {
    seed(target, "pgl_int16.nii", ct);
    seed(target, "pgl_float32.nii", fl);
    seed(target, "pgl_label_uint8.nii", l8);
    seed(target, "pgl_label_uint16.nii", l16);
    seed(target, "nifti2_int16.nii", nifti2());
    seed(target, "real_msd_spleen_8_header.nii", spleen);
    seed(target, "real_msd_spleen_8_label_header.nii", spleen_label);
    seed(target, "real_totalseg_ct_sm_header.nii", totalseg);
    seed(target, "real_totalseg_seg_header.nii", totalseg_seg);
    seed(target, "bad_truncated.nii", truncated);
    seed(target, "bad_negative_size.nii", negative);
    seed(target, "bad_absurd_size.nii", huge);
    seed(target, "bad_rgb24.nii", rgb);
    seed(target, "bad_nan_voxels.nii", nan);
    seed(target, "bad_random_bytes.nii", junk);
    seed(target, "bad_empty.nii", "");
  }
  // Compressed as they are on disk (the target writes gzip input unchanged).
  std::string gz = written(".nii.gz", [](const std::string& p) { write_volume(ct_volume(), p); });
  seed("nifti_gz", "pgl_int16.nii.gz", gz);
  seed("nifti_gz", "pgl_label.nii.gz",
       written(".nii.gz", [](const std::string& p) { write_label_map(labels(3), p); }));
  seed("nifti_gz", "bad_truncated.nii.gz", gz.substr(0, gz.size() / 2));
  std::string real_gz = fuzz::read_file(g_shared + "/samples/totalseg_ct_sm_seg.nii.gz");
  seed("nifti_gz", "real_totalseg_seg_cut.nii.gz", real_gz.substr(0, 3000));
}

// The detached-header fixture: 4096 bytes of int16 little-endian (a ramp).
std::string data_raw() {
  std::string raw(4096, '\0');
  for (size_t n = 0; n < 2048; ++n)
    put<int16_t>(raw, 2 * n, static_cast<int16_t>(static_cast<int>(n) - 1024));
  return raw;
}

void nrrd_seeds() {
  Volume spleen = downsampled(g_shared + "/samples/msd_spleen_8.nii.gz");
  seed("nrrd", "pgl_int16.nrrd",
       written(".nrrd", [](const std::string& p) { write_volume(ct_volume(), p); }));
  seed("nrrd", "pgl_float32.nrrd",
       written(".nrrd", [](const std::string& p) { write_volume(float_volume(), p); }));
  seed("nrrd", "pgl_label.nrrd",
       written(".nrrd", [](const std::string& p) { write_label_map(labels(5), p); }));
  seed("nrrd", "real_msd_spleen_8_downsampled.nrrd",
       written(".nrrd", [&](const std::string& p) { write_volume(spleen, p); }));
  const std::string header =
      "NRRD0004\n# Complete NRRD file format specification at:\n# "
      "http://teem.sourceforge.net/nrrd/format.html\n"
      "type: short\ndimension: 3\nspace: left-posterior-superior\nsizes: 8 8 8\n"
      "space directions: (0.75,0,0) (0,0.75,0) (0,0,2.5)\nkinds: domain domain domain\nendian: little\n";
  seed("nrrd", "detached_raw.nhdr",
       header + "encoding: raw\nspace origin: (-12,30.5,-100)\ndata file: data.raw\n");
  seed("nrrd", "detached_big_endian.nhdr",
       "NRRD0005\ntype: int16\ndimension: 3\nsizes: 16 8 4\nspacings: 1 1 3\nendian: big\nencoding: raw\n"
       "byte skip: 16\ndata file: ./data.raw\n");
  std::string inline_raw = header + "encoding: raw\nspace origin: (0,0,0)\n\n";
  std::string payload = data_raw().substr(0, 8 * 8 * 8 * 2);
  seed("nrrd", "attached_raw.nrrd", inline_raw + payload);
  std::string ascii =
      "NRRD0004\ntype: float\ndimension: 3\nsizes: 3 2 2\nspacings: 1 1 1\nencoding: ascii\n\n";
  for (int n = 0; n < 12; ++n) ascii += std::to_string(n * 1.5) + (n % 3 == 2 ? "\n" : " ");
  seed("nrrd", "attached_ascii.nrrd", ascii);
  seed("nrrd", "detached_list.nhdr",
       "NRRD0004\ntype: short\ndimension: 3\nsizes: 4 4 2\nencoding: raw\nendian: little\ndata file: "
       "LIST\ndata.raw\n"
       "data.raw\n");
  seed("nrrd", "bad_truncated.nrrd", (inline_raw + payload).substr(0, inline_raw.size() + 100));
  seed("nrrd", "bad_empty.nrrd", "");
}

void metaimage_seeds() {
  Volume totalseg = downsampled(g_shared + "/samples/totalseg_ct_sm.nii.gz");
  seed("metaimage", "pgl_int16.mha",
       written(".mha", [](const std::string& p) { write_volume(ct_volume(), p); }));
  seed("metaimage", "pgl_float32.mha",
       written(".mha", [](const std::string& p) { write_volume(float_volume(), p); }));
  seed("metaimage", "pgl_label.mha",
       written(".mha", [](const std::string& p) { write_label_map(labels(5), p); }));
  seed("metaimage", "real_totalseg_ct_sm_downsampled.mha",
       written(".mha", [&](const std::string& p) { write_volume(totalseg, p); }));
  const std::string header =
      "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\nCompressedData = "
      "False\n"
      "TransformMatrix = -1 0 0 0 -1 0 0 0 1\nOffset = 10 -20.5 30\nCenterOfRotation = 0 0 0\n"
      "AnatomicalOrientation = RAI\nElementSpacing = 0.7 0.7 3\nDimSize = 8 8 8\nElementType = MET_SHORT\n";
  seed("metaimage", "detached_raw.mhd", header + "ElementDataFile = data.raw\n");
  seed("metaimage", "detached_header_size.mhd",
       "ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementType = MET_USHORT\nHeaderSize = 64\n"
       "ElementNumberOfChannels = 1\nElementDataFile = data.raw\n");
  seed("metaimage", "detached_list.mhd",
       "ObjectType = Image\nNDims = 3\nDimSize = 4 4 2\nElementType = MET_SHORT\nElementDataFile = LIST 2D\n"
       "data.raw\ndata.raw\n");
  seed("metaimage", "detached_pattern.mhd",
       "ObjectType = Image\nNDims = 3\nDimSize = 4 4 2\nElementType = MET_CHAR\nElementDataFile = dat%c.raw "
       "1 2 1\n");
  std::string payload = data_raw().substr(0, 8 * 8 * 8 * 2);
  seed("metaimage", "attached_raw.mha", header + "ElementDataFile = LOCAL\n" + payload);
  seed("metaimage", "bad_truncated.mha", header + "ElementDataFile = LOCAL\n" + payload.substr(0, 100));
  seed("metaimage", "bad_empty.mha", "");
}

// ---- DICOM: a small series written with ITK/GDCM, the fixture's slice 0 and seeds for slice 1 -------------

using Slice = itk::Image<int16_t, 2>;

Slice::Pointer small_slice(int16_t base) {
  auto image = Slice::New();
  Slice::RegionType region;
  region.SetSize({{16, 16}});
  image->SetRegions(region);
  image->Allocate();
  int16_t* p = image->GetBufferPointer();
  for (int n = 0; n < 256; ++n) p[n] = static_cast<int16_t>(base + (n % 16) * 20 + (n / 16) * 3);
  return image;
}

itk::MetaDataDictionary series_tags(int slice) {
  itk::MetaDataDictionary d;
  auto tag = [&](const char* key, const std::string& value) {
    itk::EncapsulateMetaData<std::string>(d, key, value);
  };
  tag("0008|0016", "1.2.840.10008.5.1.4.1.1.2");  // CT image storage
  tag("0008|0018", "1.2.826.0.1.3680043.2.1125.99." + std::to_string(slice + 1));
  tag("0008|0060", "CT");
  tag("0010|0010", "Fuzz^Seed");
  tag("0020|000d", "1.2.826.0.1.3680043.2.1125.1");
  tag("0020|000e", "1.2.826.0.1.3680043.2.1125.2");
  tag("0020|0052", "1.2.826.0.1.3680043.2.1125.3");
  tag("0020|0011", "1");
  tag("0020|0013", std::to_string(slice + 1));
  tag("0020|0032", "-100\\-120\\" + std::to_string(-50 + 2.5 * slice));
  tag("0020|0037", "1\\0\\0\\0\\1\\0");
  tag("0028|0030", "0.75\\0.75");
  tag("0018|0050", "2.5");
  tag("0028|1052", "-1024");
  tag("0028|1053", "1");
  return d;
}

std::string dicom_bytes(Slice::Pointer image, const itk::MetaDataDictionary& tags, int compression) {
  std::string path = fuzz::scratch_path("slice.dcm");
  auto io = itk::GDCMImageIO::New();
  io->KeepOriginalUIDOn();
  if (compression >= 0) {
    io->SetUseCompression(true);
    io->SetCompressionType(static_cast<itk::GDCMImageIO::CompressionEnum>(compression));
  }
  image->SetMetaDataDictionary(tags);
  auto writer = itk::ImageFileWriter<Slice>::New();
  writer->SetUseCompression(compression >= 0);  // the writer's setting overrides the ImageIO's
  writer->SetInput(image);
  writer->SetImageIO(io);
  writer->SetFileName(path);
  writer->Update();
  return fuzz::read_file(path);
}

void dicom_seeds() {
  fuzz::write_file(g_out + "/fixtures/series_slice0.dcm", dicom_bytes(small_slice(900), series_tags(0), -1));
  using C = itk::GDCMImageIO::CompressionEnum;
  seed("dicom", "slice1_uncompressed.dcm", dicom_bytes(small_slice(1000), series_tags(1), -1));
  for (auto [name, c] : {std::pair{"jpeg2000", C::JPEG2000}, std::pair{"jpeg_lossless", C::JPEG},
                         std::pair{"jpegls", C::JPEGLS}, std::pair{"rle", C::RLE}}) {
    try {
      seed("dicom", std::string("slice1_") + name + ".dcm",
           dicom_bytes(small_slice(1000), series_tags(1), static_cast<int>(c)));
    } catch (const itk::ExceptionObject& e) {
      std::cerr << "no " << name << " seed: this ITK cannot write it (" << e.GetDescription() << ")\n";
    }
  }
  itk::MetaDataDictionary other_rows = series_tags(1);
  auto wide = Slice::New();
  Slice::RegionType region;
  region.SetSize({{24, 8}});
  wide->SetRegions(region);
  wide->Allocate();
  wide->FillBuffer(7);
  seed("dicom", "slice1_other_size.dcm", dicom_bytes(wide, other_rows, -1));
  // A real slice (TotalSegmentator's example series, JPEG 2000): its own tags, the pixels downsampled 32x,
  // written again as JPEG 2000; and its original first bytes (the real header, the pixel data cut).
  std::string real_dir = g_shared + "/samples/totalseg_dicom";
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(real_dir)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  auto io = itk::GDCMImageIO::New();
  auto reader = itk::ImageFileReader<Slice>::New();
  reader->SetImageIO(io);
  reader->SetFileName(files.front());
  reader->Update();
  Slice::Pointer full = reader->GetOutput();
  auto small = Slice::New();
  region.SetSize({{16, 16}});
  small->SetRegions(region);
  small->Allocate();
  for (int j = 0; j < 16; ++j)
    for (int i = 0; i < 16; ++i) small->SetPixel({{i, j}}, full->GetPixel({{i * 32, j * 32}}));
  // The real tags, less the file meta group (GDCM writes its own) and with the pixel spacing of the copy.
  itk::MetaDataDictionary tags;
  const itk::MetaDataDictionary& real = io->GetMetaDataDictionary();
  for (const auto& key : real.GetKeys()) {
    std::string value;
    if (key.rfind("0002|", 0) == 0 || !itk::ExposeMetaData<std::string>(real, key, value)) continue;
    while (!value.empty() && (value.back() == ' ' || value.back() == '\0')) value.pop_back();
    itk::EncapsulateMetaData<std::string>(tags, key, value);
  }
  itk::EncapsulateMetaData<std::string>(tags, "0028|0030", "25.0\\25.0");
  // The example is anonymised down to empty SOP class and instance UIDs, which GDCM cannot write.
  itk::EncapsulateMetaData<std::string>(tags, "0008|0016", "1.2.840.10008.5.1.4.1.1.2");
  itk::EncapsulateMetaData<std::string>(tags, "0008|0018", "1.2.826.0.1.3680043.2.1125.99.100");
  seed("dicom", "real_totalseg_slice_downsampled_jpeg2000.dcm",
       dicom_bytes(small, tags, static_cast<int>(C::JPEG2000)));
  std::string original = fuzz::read_file(files.front());
  seed("dicom", "real_totalseg_slice_cut.dcm", original.substr(0, 4000));
  std::string junk(600, '\0');
  std::mt19937 rng(3);
  for (auto& c : junk) c = static_cast<char>(rng());
  seed("dicom", "bad_random_bytes.dcm", junk);
  seed("dicom", "bad_readme.txt", "hello");
}

// ---- dataset.json -----------------------------------------------------------------------------------------

std::string trimmed_dataset_json(const std::string& path) {
  json j = json::parse(fuzz::read_file(path));
  auto trim = [](json& a) {
    if (a.is_array() && a.size() > 3) a.erase(a.begin() + 3, a.end());
  };
  for (const char* key : {"training", "test", "validation"})
    if (j.contains(key)) trim(j[key]);
  if (j.contains("splits"))
    for (auto& [name, ids] : j["splits"].items()) trim(ids);
  if (j.contains("training") && j["training"].is_array() && !j["training"].empty()) {
    // Point the first case at the fuzz folder's files, so that check_case reads a real volume.
    j["training"][0]["image"] = "./imagesTr/a.nii.gz";
    j["training"][0]["label"] = "./labelsTr/a.nii.gz";
  }
  return j.dump(2);
}

void dataset_seeds() {
  seed("dataset_json", "msd.json", R"({
  "name": "Fuzz", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "liver"},
  "training": [{"image": "./imagesTr/a.nii.gz", "label": "./labelsTr/a.nii.gz"}, "imagesTr/b.nii.gz"],
  "test": [], "splits": {"train": ["a"], "validation": ["b"]}
})");
  seed(
      "dataset_json", "nnunet_v2_labels.json",
      R"({"channel_names": {"0": "MRI"}, "labels": {"background": 0, "organ": 1}, "training": [{"image": "imagesTr/a.nii.gz", "label": "labelsTr/a.nii.gz"}]})");
  seed("dataset_json", "no_training_nnunet.json", R"({"name": "x", "labels": {"0": "background"}})");
  seed("dataset_json", "bad_not_json.json", "{\"training\": [");
  seed("dataset_json", "bad_wrong_types.json", R"({"training": [{"image": ["a"], "label": 1}]})");
  seed("dataset_json", "bad_outside.json",
       R"({"training": [{"image": "../../etc/hosts", "label": "./labelsTr/a.nii.gz"}]})");
  seed("dataset_json", "bad_unknown_split_id.json",
       R"({"training": [{"image": "imagesTr/a.nii.gz"}], "splits": {"train": ["zz"]}})");
  seed(
      "dataset_json", "bad_undeclared_label.json",
      R"({"labels": {"0": "background"}, "training": [{"image": "imagesTr/a.nii.gz", "label": "labelsTr/a.nii.gz"}]})");
  for (const char* name : {"openkbp", "chaos_t2"})
    if (fs::exists(g_shared + "/" + name + "/dataset.json"))
      seed("dataset_json", std::string("real_") + name + "_trimmed.json",
           trimmed_dataset_json(g_shared + "/" + name + "/dataset.json"));
}

// ---- checkpoints and weights (both input forms of torch_input.h) ------------------------------------------

// The members of a zip written by torch::pickle_save, in the member-list form of torch_input.h.
std::string member_form(const std::string& zip) {
  caffe2::serialize::PyTorchStreamReader reader(
      std::make_unique<caffe2::serialize::IStreamAdapter>(new std::istringstream(zip)));
  auto [pickle, pickle_size] = reader.getRecord("data.pkl");
  std::string out(static_cast<const char*>(pickle.get()), pickle_size);
  for (const auto& name : reader.getAllRecords()) {
    if (name == "data.pkl" || name == "version") continue;
    auto [bytes, size] = reader.getRecord(name);
    out += fuzz::kMemberSeparator + name + std::string(1, '\0') +
           std::string(static_cast<const char*>(bytes.get()), size);
  }
  return out;
}

std::string saved_checkpoint(const json& meta, const train::NamedTensors& state,
                             torch::optim::Optimizer* opt) {
  std::string path = fuzz::scratch_path("checkpoint.pt");
  train::save_checkpoint(path, {meta, state, {}}, opt);
  return fuzz::read_file(path);
}

std::string pickled(const c10::IValue& value) {
  auto bytes = torch::pickle_save(value);
  return {bytes.begin(), bytes.end()};
}

void checkpoint_seeds() {
  torch::manual_seed(1);
  // The parameters fuzz/checkpoint.cpp gives its optimiser: [4, 3] and [4].
  std::vector<torch::Tensor> params{torch::randn({4, 3}).requires_grad_(),
                                    torch::randn({4}).requires_grad_()};
  torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-3));
  (params[0].sum() + params[1].sum()).backward();
  adam.step();
  train::NamedTensors pretrain;
  pretrain.insert("online.backbone.stem.weight", params[0].detach());
  pretrain.insert("online.backbone.stem.bias", params[1].detach());
  pretrain.insert("target.backbone.stem.weight", params[0].detach() * 2);
  json meta = {{"kind", "pretrain"},
               {"step", 10},
               {"config", {{"steps", 30}, {"method", "pgl"}}},
               {"plan", {{"spacing", {1, 1, 1}}}}};
  std::string with_optimizer = saved_checkpoint(meta, pretrain, &adam);
  seed("checkpoint", "pgl_pretrain_with_optimizer.pt", with_optimizer);
  seed("checkpoint", "pgl_pretrain_with_optimizer.members", member_form(with_optimizer));
  train::NamedTensors finetune;
  finetune.insert("backbone.stem.weight", params[0].detach());
  finetune.insert("head.weight", torch::ones({2, 4}));
  std::string plain = saved_checkpoint({{"kind", "finetune"}, {"step", 3}}, finetune, nullptr);
  seed("checkpoint", "pgl_finetune.pt", plain);
  seed("checkpoint", "pgl_finetune.members", member_form(plain));
  // Well-formed archives that are not quite pgl checkpoints.
  auto dict = [] { return c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get()); };
  auto state = c10::Dict<std::string, at::Tensor>();
  state.insert("backbone.stem.weight", torch::zeros({2, 2}));
  auto d1 = dict();
  d1.insert(std::string("format"), int64_t{1});
  d1.insert(std::string("meta"), std::string("{}"));
  d1.insert(std::string("state"), state);
  seed("checkpoint", "foreign_format_is_int.members", member_form(pickled(d1)));
  auto d2 = dict();
  d2.insert(std::string("format"), std::string("pgl-checkpoint-1"));
  d2.insert(std::string("meta"), std::string("[1, 2]"));
  d2.insert(std::string("state"), state);
  d2.insert(std::string("torch_rng"), torch::zeros({3}));
  seed("checkpoint", "foreign_meta_array_float_rng.members", member_form(pickled(d2)));
  auto d3 = dict();
  d3.insert(std::string("format"), std::string("pgl-checkpoint-1"));
  d3.insert(std::string("state"), std::string("no tensors"));
  seed("checkpoint", "foreign_no_meta.members", member_form(pickled(d3)));
  seed("checkpoint", "foreign_list.members", member_form(pickled(c10::List<int64_t>({1, 2, 3}))));
  seed("checkpoint", "bad_truncated.pt", with_optimizer.substr(0, with_optimizer.size() / 2));
  seed("checkpoint", "bad_empty.pt", "");

  std::string weights_path = fuzz::scratch_path("weights.pt");
  train::NamedTensors backbone;
  backbone.insert("stem.weight", params[0].detach());
  backbone.insert("stem.bias", params[1].detach());
  backbone.insert("enc.0.norm.running_mean", torch::zeros({4}));
  train::save_state_dict(weights_path, backbone);
  std::string weights = fuzz::read_file(weights_path);
  seed("weights", "pgl_weights.pt", weights);
  seed("weights", "pgl_weights.members", member_form(weights));
  auto mixed = dict();
  mixed.insert(std::string("stem.weight"), torch::zeros({2}));
  mixed.insert(std::string("note"), std::string("not a tensor"));
  seed("weights", "foreign_non_tensor_entry.members", member_form(pickled(mixed)));
  seed("weights", "foreign_checkpoint_instead.members", member_form(plain));
  seed("weights", "bad_truncated.pt", weights.substr(0, weights.size() - 30));
}

// ---- the preprocessing cache ------------------------------------------------------------------------------

void cache_seeds() {
  fuzz::cache_sidecar(nullptr, 0);  // an empty sidecar is refused: build_cache writes the entry afresh
  std::string sidecar, image, label;
  for (const auto& e : fs::recursive_directory_iterator(fuzz::scratch_path("cache"))) {
    std::string name = e.path().filename().string();
    if (e.path().extension() == ".json" && name != "plan.json") sidecar = fuzz::read_file(e.path().string());
    if (name.size() > 8 && name.compare(name.size() - 8, 8, "_seg.nii") == 0)
      label = fuzz::read_file(e.path().string());
    else if (e.path().extension() == ".nii")
      image = fuzz::read_file(e.path().string());
  }
  fuzz::require(!sidecar.empty() && !image.empty() && !label.empty(), "cache entry not found");
  for (size_t at = sidecar.find(fuzz::scratch_dir()); at != std::string::npos;
       at = sidecar.find(fuzz::scratch_dir(), at))
    sidecar.replace(at, fuzz::scratch_dir().size(), "@SCRATCH@");
  sidecar = std::regex_replace(sidecar, std::regex("\"a-[0-9a-f]{10}"), "\"@STEM@");  // the entry's stem
  seed("cache_sidecar", "pgl_entry.json", sidecar);
  json j = json::parse(sidecar);
  j.erase("label");
  j["classes"] = json::array();
  j["foreground"] = json::object();
  seed("cache_sidecar", "pgl_entry_unlabelled.json", j.dump());
  seed("cache_sidecar", "bad_truncated.json", sidecar.substr(0, sidecar.size() / 2));
  seed("cache_header", "pgl_cached_volume.nii", image);
  seed("cache_header", "pgl_cached_label.nii", label);
  LabelMap big = labels(700);
  seed("cache_header", "pgl_cached_label_uint16.nii",
       written(".nii", [&](const std::string& p) { write_label_map(big, p); }));
  seed("cache_header", "bad_truncated.nii", image.substr(0, image.size() - 64));
}

}  // namespace

int main(int argc, char** argv) {
  g_out = argc > 1 ? argv[1] : fuzz::source_dir();
  g_shared = argc > 2 ? argv[2] : (fs::path(g_out) / "../../shared/data").lexically_normal().string();
  try {
    fs::create_directories(g_out + "/fixtures");
    fuzz::write_file(g_out + "/fixtures/data.raw", data_raw());
    nifti_seeds();
    nrrd_seeds();
    metaimage_seeds();
    dicom_seeds();
    dataset_seeds();
    checkpoint_seeds();
    cache_seeds();
  } catch (const std::exception& e) {
    std::cerr << "make_seeds: " << e.what() << "\n";
    return 1;
  }
  std::cout << "seeds written under " << g_out << "/corpus\n";
  return 0;
}
