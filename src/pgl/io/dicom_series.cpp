#include "pgl/io/dicom_series.h"

#include <gdcmSerieHelper.h>

#include <string>

#include "pgl/core/error.h"
#include "pgl/io/dicom_guard.h"

namespace pgl::io_detail {
namespace {

// GDCM's series helper, given files instead of a folder (AddFileName is protected: SetDirectory calls it for
// every file of the folder).
class SeriesOfFiles : public gdcm::SerieHelper {
 public:
  explicit SeriesOfFiles(const std::vector<std::string>& files) {
    SetUseSeriesDetails(true);
    CreateDefaultUniqueSeriesIdentifier();  // as itk::GDCMSeriesFileNames: series number, rows, columns, ...
    for (const auto& file : files) AddFileName(file);
  }
};

}  // namespace

std::vector<std::string> dicom_series_files(const std::string& folder) {
  SeriesOfFiles series(checked_dicom_files(folder));
  gdcm::FileList* best = nullptr;
  for (auto* files = series.GetFirstSingleSerieUIDFileSet(); files;
       files = series.GetNextSingleSerieUIDFileSet())
    if (!best || files->size() > best->size()) best = files;
  if (!best || best->empty())
    throw Error(folder,
                "no DICOM series found in this folder (pgl reads DICOM files with the DICM signature)");
  series.OrderFileList(best);
  std::vector<std::string> names;
  for (const auto& file : *best) names.push_back(file->filename);
  return names;
}

}  // namespace pgl::io_detail
