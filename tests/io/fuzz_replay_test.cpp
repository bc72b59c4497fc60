// The fuzz targets without LibTorch, replayed on their seeds and regressions (tests/support/fuzz_replay.h).
#include "support/fuzz_replay.h"

namespace pgl {
namespace {

TEST(FuzzReplay, Nifti) { test::replay_fuzz_inputs("nifti", fuzz::nifti); }
TEST(FuzzReplay, NiftiGz) { test::replay_fuzz_inputs("nifti_gz", fuzz::nifti_gz); }
TEST(FuzzReplay, Nrrd) { test::replay_fuzz_inputs("nrrd", fuzz::nrrd); }
TEST(FuzzReplay, MetaImage) { test::replay_fuzz_inputs("metaimage", fuzz::metaimage); }
TEST(FuzzReplay, Dicom) { test::replay_fuzz_inputs("dicom", fuzz::dicom); }
TEST(FuzzReplay, DatasetJson) { test::replay_fuzz_inputs("dataset_json", fuzz::dataset_json); }
TEST(FuzzReplay, CacheSidecar) { test::replay_fuzz_inputs("cache_sidecar", fuzz::cache_sidecar, false); }
TEST(FuzzReplay, CacheHeader) { test::replay_fuzz_inputs("cache_header", fuzz::cache_header); }

}  // namespace
}  // namespace pgl
