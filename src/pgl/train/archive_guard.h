#pragma once
// Checks on a checkpoint file before LibTorch 1.13 reads it, for what its reader does not survive (found by
// fuzz/checkpoint.cpp and fuzz/weights.cpp). Both throw pgl::Error naming `path`.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pgl::train {

// The zip archive's directory: PyTorchStreamReader's constructor leaks miniz's state when it throws after
// opening the archive (no member in a folder, no version record, a version that is not a number in 1..10),
// so these are checked here first. Returns the members (named inside the archive's folder) and their sizes.
using ArchiveMembers = std::map<std::string, uint64_t>;
ArchiveMembers check_torch_archive(const std::vector<char>& bytes, const std::string& path);

// The pickle (data.pkl): every length must fit in it and every memo index stay below its size. LibTorch's
// Unpickler resizes its memo table to any index it reads (LONG_BINPUT 1484065393: a 24 GB allocation from a
// 280-byte file) and allocates any string length before reading it. Every storage must fit in its member
// `storage_folder` + key of `members`, and every tensor (only plain ones) inside its storage: LibTorch takes
// both sizes from the pickle without checking them.
void check_pickle(const char* data, size_t size, const std::string& path, const ArchiveMembers& members,
                  const std::string& storage_folder);

// TorchScript source (code/*.py in the optimiser state's archive): only the lines LibTorch generates for a
// torch::serialize archive, brackets nested at most 64 deep. Its parser dereferences null on a class constant
// such as "__paraMeters__ = []" (SEGV in ScriptTypeParser::parseClassConstant, found by fuzz/checkpoint.cpp)
// and recurses once per nesting level.
void check_source(const char* data, size_t size, const std::string& path);

}  // namespace pgl::train
