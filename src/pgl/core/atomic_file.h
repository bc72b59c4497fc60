#pragma once
// Atomic output: write to a temporary file in the destination's folder, flush it to disk, then rename over
// the destination. A kill at any moment leaves either the old file or the new one, never half of one.
#include <functional>
#include <string>

namespace pgl {

// Calls write(tmp_path) to produce the content, then fsyncs and renames tmp_path to path.
// On any exception the temporary file is removed and the exception propagates.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

// Convenience: atomically write a string (text files, JSON).
void write_text_atomically(const std::string& path, const std::string& text);

}  // namespace pgl
