#pragma once
// Checks on a checkpoint file before LibTorch 1.13 reads it, for what its reader does not survive (found by
// fuzz/checkpoint.cpp and fuzz/weights.cpp). Both throw pgl::Error naming `path`.
#include <cstddef>
#include <string>
#include <vector>

namespace pgl::train {

// The zip archive's directory: PyTorchStreamReader's constructor leaks miniz's state when it throws after
// opening the archive (no member in a folder, no version record, a version that is not a number in 1..10),
// so these are checked here first. Archives this check cannot follow (zip64) are left to LibTorch.
void check_torch_archive(const std::vector<char>& bytes, const std::string& path);

// The pickle (data.pkl): every length must fit in it and every memo index stay below its size. LibTorch's
// Unpickler resizes its memo table to any index it reads (LONG_BINPUT 1484065393: a 24 GB allocation from a
// 280-byte file) and allocates any string length before reading it.
void check_pickle(const char* data, size_t size, const std::string& path);

// TorchScript source (code/*.py in the optimiser state's archive): only the lines LibTorch generates for a
// torch::serialize archive, brackets nested at most 64 deep. Its parser dereferences null on a class constant
// such as "__paraMeters__ = []" (SEGV in ScriptTypeParser::parseClassConstant, found by fuzz/checkpoint.cpp)
// and recurses once per nesting level.
void check_source(const char* data, size_t size, const std::string& path);

}  // namespace pgl::train
