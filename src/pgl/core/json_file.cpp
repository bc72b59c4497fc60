#include "pgl/core/json_file.h"

#include <fstream>

#include "pgl/core/error.h"

namespace pgl {

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path, "cannot open file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for a number like 4444E44444 (it escaped; found by fuzz/dataset_json.cpp)
    std::string what = e.what();
    auto bracket = what.find(']');
    throw Error(path, "not valid JSON (" + (bracket == std::string::npos ? what : what.substr(bracket + 2)) + ")");
  }
}

}  // namespace pgl
