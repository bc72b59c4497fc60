#include "pgl/io/volume_io.h"

#include <fmt/format.h>
#include <itkGDCMImageIO.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageSeriesReader.h>
#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>
#include <itkNrrdImageIO.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "pgl/core/atomic_file.h"
#include "pgl/core/error.h"
#include "pgl/core/memory.h"
#include "pgl/io/data_file_guard.h"
#include "pgl/io/dicom_series.h"
#include "pgl/io/itk_bridge.h"
#include "pgl/io/nifti_guard.h"

namespace pgl {
namespace fs = std::filesystem;
using io_detail::ItkImage;

namespace {

// Hard ceiling on the voxels of one image (2^31 floats = 8 GiB), whatever the header claims.
constexpr int64_t kMaxVoxels = int64_t{1} << 31;
// Deflate cannot compress better than about 1032:1; a compressed file declaring more is corrupt.
constexpr double kMaxCompressionRatio = 1100.0;

enum class Format { Nifti, Nrrd, Meta, Dicom };

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool detect_format(const std::string& path, Format* format) {
  if (fs::is_directory(path)) {
    *format = Format::Dicom;
    return true;
  }
  std::string p = lower(path);
  if (ends_with(p, ".nii") || ends_with(p, ".nii.gz"))
    *format = Format::Nifti;
  else if (ends_with(p, ".nrrd") || ends_with(p, ".nhdr"))
    *format = Format::Nrrd;
  else if (ends_with(p, ".mha") || ends_with(p, ".mhd"))
    *format = Format::Meta;
  else
    return false;
  return true;
}

Format format_of(const std::string& path) {
  Format f;
  if (!detect_format(path, &f))
    throw Error(path,
                "unsupported file type (expected .nii, .nii.gz, .nrrd, .nhdr, .mha, .mhd or a DICOM folder)");
  return f;
}

const char* format_name(Format f) {
  switch (f) {
    case Format::Nifti:
      return "NIfTI";
    case Format::Nrrd:
      return "NRRD";
    case Format::Meta:
      return "MetaImage";
    case Format::Dicom:
      return "DICOM";
  }
  return "?";
}

itk::ImageIOBase::Pointer make_io(Format f) {
  switch (f) {
    case Format::Nifti:
      return itk::NiftiImageIO::New().GetPointer();
    case Format::Nrrd:
      return itk::NrrdImageIO::New().GetPointer();
    case Format::Meta:
      return itk::MetaImageIO::New().GetPointer();
    case Format::Dicom:
      return itk::GDCMImageIO::New().GetPointer();
  }
  return nullptr;
}

// First line of an ITK exception's description, without ITK's file/line prefix.
std::string itk_message(const itk::ExceptionObject& e) {
  std::string d = e.GetDescription();
  if (auto nl = d.find('\n'); nl != std::string::npos) d = d.substr(0, nl);
  while (!d.empty() && std::isspace(static_cast<unsigned char>(d.back()))) d.pop_back();
  return d.empty() ? "unknown ITK error" : d;
}

std::string component_name(itk::IOComponentEnum c) {
  using C = itk::IOComponentEnum;
  switch (c) {
    case C::UCHAR:
      return "uint8";
    case C::CHAR:
      return "int8";
    case C::USHORT:
      return "uint16";
    case C::SHORT:
      return "int16";
    case C::UINT:
      return "uint32";
    case C::INT:
      return "int32";
    case C::ULONG:
      return "uint64";
    case C::LONG:
      return "int64";
    case C::ULONGLONG:
      return "uint64";
    case C::LONGLONG:
      return "int64";
    case C::FLOAT:
      return "float32";
    case C::DOUBLE:
      return "float64";
    default:
      return "unknown";
  }
}

void validate_info(const ImageInfo& info) {
  const Geometry& g = info.geometry;
  for (int a = 0; a < 3; ++a) {
    if (g.size[a] < 1) throw Error(info.path, fmt::format("invalid size {} along axis {}", g.size[a], a));
    if (!(g.spacing[a] > 0) || !std::isfinite(g.spacing[a]))
      throw Error(info.path, fmt::format("invalid voxel spacing {} along axis {}", g.spacing[a], a));
    if (!std::isfinite(g.origin[a])) throw Error(info.path, "origin is not finite");
  }
  if (g.size[0] > kMaxVoxels || g.size[1] > kMaxVoxels || g.size[2] > kMaxVoxels ||
      g.size[0] * g.size[1] > kMaxVoxels || g.voxels() > kMaxVoxels)
    throw Error(info.path, fmt::format("header declares {}x{}x{} voxels, more than pgl accepts (2^31)",
                                       g.size[0], g.size[1], g.size[2]));
  for (double d : g.direction)
    if (!std::isfinite(d)) throw Error(info.path, "direction matrix is not finite");
  if (info.components != 1)
    throw Error(info.path,
                fmt::format("unsupported pixel type {} ({} components per voxel); pgl reads scalar "
                            "images only",
                            info.pixel_type, info.components));
  if (info.pixel_type == "unknown") throw Error(info.path, "unsupported pixel type");
}

// The header must not promise more voxel data than the file can hold: a truncated or forged header would
// otherwise make us allocate gigabytes before failing.
void validate_against_file_size(const ImageInfo& info, size_t component_bytes) {
  if (info.format == "DICOM") return;  // per-slice files, checked by GDCM
  std::string p = lower(info.path);
  double declared = static_cast<double>(info.geometry.voxels()) * static_cast<double>(component_bytes);
  // Raw or compressed data after the header or in a data file (.mhd, .nhdr): a small detached header could
  // otherwise make ITK allocate gigabytes (found by fuzz/metaimage.cpp, fuzz/nrrd.cpp).
  if (info.format == "NRRD" || info.format == "MetaImage")
    return io_detail::check_data_file(info.path, info.format == "NRRD", declared);
  std::error_code ec;
  auto file_bytes = static_cast<double>(fs::file_size(info.path, ec));
  if (ec) return;
  bool compressed = !ends_with(p, ".nii");  // .nii.gz, and NRRD/MHA may carry compressed payloads
  if (!compressed && declared > file_bytes)
    throw Error(info.path,
                fmt::format("file is truncated: header declares {:.0f} bytes of voxels, file has {:.0f}",
                            declared, file_bytes));
  if (compressed && declared > file_bytes * kMaxCompressionRatio)
    throw Error(info.path,
                fmt::format("header declares {}x{}x{} voxels, impossible for a {:.0f}-byte compressed file",
                            info.geometry.size[0], info.geometry.size[1], info.geometry.size[2], file_bytes));
}

struct Header {
  ImageInfo info;
  itk::ImageIOBase::Pointer io;
  std::vector<std::string> dicom_files;
};

Header read_header(const std::string& path) {
  Header h;
  h.info.path = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path, "no such file or folder");
  Format f = format_of(path);
  h.info.format = format_name(f);
  h.io = make_io(f);
  std::string header_file = path;
  if (f == Format::Dicom) {
    try {
      h.dicom_files = io_detail::dicom_series_files(path);
    } catch (const itk::ExceptionObject& e) {
      throw Error(path, "cannot list DICOM files: " + itk_message(e));
    }
    header_file = h.dicom_files.front();
  } else {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw Error(path, "cannot open file (permission denied?)");
    if (fs::file_size(path, ec) == 0) throw Error(path, "file is empty");
    if (f == Format::Nrrd || f == Format::Meta)  // before MetaIO expands a data file pattern
      io_detail::check_data_file(path, f == Format::Nrrd, -1);
    if (!h.io->CanReadFile(path.c_str()))
      throw Error(path,
                  fmt::format("not a readable {} file (corrupt header or wrong extension)", h.info.format));
    if (f == Format::Nifti) io_detail::check_nifti_geometry(path);  // before vnl asserts on it
  }
  try {
    h.io->SetFileName(header_file);
    h.io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    throw Error(path, fmt::format("invalid {} header: {}", h.info.format, itk_message(e)));
  }
  unsigned dims = h.io->GetNumberOfDimensions();
  if (dims < 2 || dims > 4)
    throw Error(path, fmt::format("{}-dimensional image; pgl reads 3-D volumes", dims));
  if (dims == 4 && h.io->GetDimensions(3) > 1)
    throw Error(path,
                fmt::format("4-D image with {} time points; pgl reads 3-D volumes", h.io->GetDimensions(3)));
  Geometry& g = h.info.geometry;
  for (unsigned a = 0; a < 3; ++a) {
    bool present = a < dims;
    g.size[a] = present ? static_cast<int64_t>(h.io->GetDimensions(a)) : 1;
    g.spacing[a] = present ? h.io->GetSpacing(a) : 1.0;
    g.origin[a] = present ? h.io->GetOrigin(a) : 0.0;
    for (unsigned c = 0; c < 3; ++c) {
      if (a < dims && c < dims) {
        g.direction[a * 3 + c] = h.io->GetDirection(c)[a];
      } else {
        g.direction[a * 3 + c] = a == c ? 1.0 : 0.0;
      }
    }
  }
  if (f == Format::Dicom) g.size[2] = static_cast<int64_t>(h.dicom_files.size());
  h.info.components = static_cast<int>(h.io->GetNumberOfComponents());
  h.info.pixel_type = component_name(h.io->GetComponentType());
  if (h.info.components != 1)
    h.info.pixel_type =
        itk::ImageIOBase::GetPixelTypeAsString(h.io->GetPixelType()) + " of " + h.info.pixel_type;
  if (auto* gdcm = dynamic_cast<itk::GDCMImageIO*>(h.io.GetPointer())) {
    h.info.rescale_slope = gdcm->GetRescaleSlope();
    h.info.rescale_intercept = gdcm->GetRescaleIntercept();
  }
  validate_info(h.info);
  validate_against_file_size(h.info, h.io->GetComponentSize());
  return h;
}

template <class P>
typename ItkImage<P>::Pointer read_pixels(const Header& h) {
  if (h.info.format == "NRRD") io_detail::preload_nrrd(h.info.path);  // ITK leaks when this fails
  try {
    if (!h.dicom_files.empty()) {
      auto reader = itk::ImageSeriesReader<ItkImage<P>>::New();
      reader->SetImageIO(h.io);
      reader->SetFileNames(h.dicom_files);
      reader->Update();
      return reader->GetOutput();
    }
    auto reader = itk::ImageFileReader<ItkImage<P>>::New();
    reader->SetImageIO(h.io);
    reader->SetFileName(h.info.path);
    reader->Update();
    return reader->GetOutput();
  } catch (const itk::ExceptionObject& e) {
    throw Error(h.info.path, "cannot read voxel data (truncated or corrupt file?): " + itk_message(e));
  } catch (const std::bad_alloc&) {
    throw Error(h.info.path, "out of memory while reading voxel data");
  }
}

std::string index_text(const Geometry& g, size_t offset) {
  auto o = static_cast<int64_t>(offset);
  return fmt::format("({}, {}, {})", o % g.size[0], (o / g.size[0]) % g.size[1], o / (g.size[0] * g.size[1]));
}

template <class P>
void write_itk(const typename ItkImage<P>::Pointer& image, const std::string& path) {
  Format f = format_of(path);
  std::string p = lower(path);
  if (f == Format::Dicom || ends_with(p, ".mhd") || ends_with(p, ".nhdr"))
    throw Error(path, "pgl writes single-file formats only (.nii.gz, .nii, .nrrd, .mha)");
  write_atomically(path, [&](const std::string& tmp) {
    try {
      auto writer = itk::ImageFileWriter<ItkImage<P>>::New();
      writer->SetImageIO(make_io(f));
      writer->SetFileName(tmp);
      writer->SetInput(image);
      writer->SetUseCompression(!ends_with(p, ".nii"));
      writer->Update();
    } catch (const itk::ExceptionObject& e) {
      throw Error(path, "cannot write image: " + itk_message(e));
    }
    // nifti1_io reports a short write (a full disk) on stderr only and ITK goes on: read the length back.
    try {
      const int64_t voxels = static_cast<int64_t>(image->GetLargestPossibleRegion().GetNumberOfPixels());
      if (f == Format::Nifti)
        io_detail::inspect_nifti_payload(tmp, voxels, /*check_values=*/false);
      else
        io_detail::check_data_file(tmp, f == Format::Nrrd, static_cast<double>(voxels) * sizeof(P));
    } catch (const Error&) {
      throw Error(path, "cannot write image: the file came out incomplete (disk full?)");
    }
  });
}

}  // namespace

bool is_supported_image_path(const std::string& path) {
  Format f;
  return detect_format(path, &f);
}

ImageInfo read_image_info(const std::string& path) { return read_header(path).info; }

Volume read_volume(const std::string& path, const ReadOptions& options) {
  return read_volume(path, nullptr, options);
}

Volume read_volume(const std::string& path, ImageInfo* info, const ReadOptions& options) {
  Header h = read_header(path);
  // ITK's buffer and the Volume (float each) and the file's own type while ITK converts it: 10 bytes a
  // voxel, measured (bench/large_ct_memory.sh), before any of them is allocated.
  require_memory(path, static_cast<uint64_t>(h.info.geometry.voxels()) * 10, "read it");
  if (h.info.format == "NIfTI") {
    // nifti1_io turns NaN/Inf into 0 on its own: count them in the raw payload first.
    auto payload = io_detail::inspect_nifti_payload(path, h.info.geometry.voxels());
    if (payload.non_finite && !options.allow_non_finite)
      throw Error(path, fmt::format("{} voxels are NaN or infinite (first at index {}); refusing this image",
                                    payload.non_finite,
                                    index_text(h.info.geometry, static_cast<size_t>(payload.first_bad))));
  }
  auto image = read_pixels<float>(h);
  Volume v = io_detail::from_itk<float>(image.GetPointer());
  if (info) {
    *info = h.info;
    info->geometry = v.geometry;  // for DICOM the series reader knows the real slice spacing
  }
  size_t bad = 0, first = 0;
  for (size_t n = 0; n < v.data.size(); ++n)
    if (!std::isfinite(v.data[n])) {
      if (bad++ == 0) first = n;
      if (options.allow_non_finite) v.data[n] = 0.f;
    }
  if (bad && !options.allow_non_finite)
    throw Error(path, fmt::format("{} voxels are NaN or infinite (first at index {}); refusing this image",
                                  bad, index_text(v.geometry, first)));
  return v;
}

LabelMap read_label_map(const std::string& path) {
  Header h = read_header(path);
  // ITK's buffer (double, to catch non-integral values exactly), the file's own type while ITK converts it,
  // and the labels (uint16).
  require_memory(path, static_cast<uint64_t>(h.info.geometry.voxels()) * 12, "read it");
  if (h.info.format == "NIfTI") {
    auto payload = io_detail::inspect_nifti_payload(path, h.info.geometry.voxels());
    if (payload.non_finite)
      throw Error(path, fmt::format("label map holds {} NaN or infinite values", payload.non_finite));
  }
  auto image = read_pixels<double>(h);  // double: non-integral values are caught exactly
  const double* src = image->GetBufferPointer();
  LabelMap labels;
  labels.geometry = io_detail::geometry_of(image.GetPointer());
  labels.data.resize(static_cast<size_t>(labels.geometry.voxels()));
  for (size_t n = 0; n < labels.data.size(); ++n) {
    double v = src[n];
    if (!std::isfinite(v) || v < 0 || v > 65535 || v != std::floor(v))
      throw Error(path,
                  fmt::format("label map holds value {} at index {}; labels must be integers in 0..65535", v,
                              index_text(labels.geometry, n)));
    labels.data[n] = static_cast<uint16_t>(v);
  }
  return labels;
}

void write_volume(const Volume& volume, const std::string& path, Storage storage) {
  // Integral intensities within int16 (CT in HU) are stored as int16: a quarter of the size, exact.
  bool integral =
      storage == Storage::Auto && std::all_of(volume.data.begin(), volume.data.end(), [](float v) {
        return v == std::floor(v) && v >= std::numeric_limits<int16_t>::min() &&
               v <= std::numeric_limits<int16_t>::max();
      });
  if (integral)
    write_itk<int16_t>(io_detail::to_itk<int16_t>(volume), path);
  else
    write_itk<float>(io_detail::to_itk<float>(volume), path);
}

void write_label_map(const LabelMap& labels, const std::string& path) {
  uint16_t max = labels.data.empty() ? 0 : *std::max_element(labels.data.begin(), labels.data.end());
  if (max <= 255)
    write_itk<uint8_t>(io_detail::to_itk<uint8_t>(labels), path);
  else
    write_itk<uint16_t>(io_detail::to_itk<uint16_t>(labels), path);
}

}  // namespace pgl
