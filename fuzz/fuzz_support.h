#pragma once
// Shared by the fuzz targets (fuzz/<target>.cpp) and by the replay test of the normal build
// (tests/io/fuzz_replay_test.cpp, tests/seg/fuzz_replay_test.cpp).
//
// A target is a function `void pgl::fuzz::<target>(const uint8_t* data, size_t size)`: it writes the bytes
// where pgl expects such a file and calls pgl's own reader on it. Every read goes through attempt(): a
// pgl::Error is the expected outcome for bad input (its message must be one non-empty line naming the
// file); any other exception escapes, and a broken contract (require) aborts. In the libFuzzer build
// (entry.cpp) an escaping exception, an abort, a crash or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pgl::fuzz {

using Target = void (*)(const uint8_t* data, size_t size);

// This process's scratch folder (created on first use, removed at exit) and a path inside it.
const std::string& scratch_dir();
std::string scratch_path(const std::string& relative);

void write_file(const std::string& path, const uint8_t* data, size_t size);
void write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);
std::string gzip(const uint8_t* data, size_t size);
bool starts_with(const uint8_t* data, size_t size, const std::string& prefix);

// Aborts with `what` (a finding) unless `condition` holds.
void require(bool condition, const std::string& what);

// Runs one read. Returns true when it succeeded, false when it threw pgl::Error (after checking that the
// message is one line naming the scratch folder). Other exceptions propagate.
bool attempt(const std::function<void()>& read);

// Reads an image file or DICOM folder the ways pgl does: header, intensities, label map.
void read_image_all_ways(const std::string& path);

// Counters for the replay test: reads that succeeded / ended in pgl::Error since the last reset.
struct Outcomes {
  int succeeded = 0, refused = 0;
  std::string last_error;
};
Outcomes& outcomes();

// Targets (one file each under fuzz/).
void nifti(const uint8_t* data, size_t size);
void nifti_gz(const uint8_t* data, size_t size);
void nrrd(const uint8_t* data, size_t size);
void metaimage(const uint8_t* data, size_t size);
void dicom(const uint8_t* data, size_t size);
void dataset_json(const uint8_t* data, size_t size);
void cache_sidecar(const uint8_t* data, size_t size);
void cache_header(const uint8_t* data, size_t size);
void checkpoint(const uint8_t* data, size_t size);  // needs LibTorch
void weights(const uint8_t* data, size_t size);     // needs LibTorch

// The source folder's fuzz/ (corpus, regressions, fixtures).
std::string source_dir();

// The inputs the replay test runs for a target: fuzz/corpus/<target>/* and fuzz/regressions/<target>/*
// (README files and hidden files excepted), sorted.
std::vector<std::string> replay_inputs(const std::string& target);

}  // namespace pgl::fuzz
