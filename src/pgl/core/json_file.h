#pragma once
// Reading a JSON file with one clear error (file name and problem) instead of a library exception.
#include <string>

#include <nlohmann/json.hpp>

namespace pgl {

// Throws pgl::Error "path: cannot open file" or "path: not valid JSON (...)".
nlohmann::json read_json_file(const std::string& path);

}  // namespace pgl
