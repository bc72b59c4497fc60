#pragma once
// Atomic output: write to a temporary file in the destination's folder, flush it to disk, then rename over
// the destination. A kill at any moment leaves either the old file or the new one, never half of one.
#include <cstddef>
#include <functional>
#include <string>

namespace pgl {

// Calls write(tmp_path) to produce the content, then fsyncs and renames tmp_path to path.
// On any exception the temporary file is removed and the exception propagates.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

// Atomically writes size bytes. A failed write or close throws one error naming path and the system's reason.
void write_bytes_atomically(const std::string& path, const void* data, size_t size);

// Convenience: atomically write a string (text files, JSON).
void write_text_atomically(const std::string& path, const std::string& text);

// Removes the temporary files in folder (not below it) that a killed writer on this machine left behind:
// those whose process no longer runs. Files of running processes and of other machines stay. Returns the
// count.
int remove_stale_temporaries(const std::string& folder);

}  // namespace pgl
