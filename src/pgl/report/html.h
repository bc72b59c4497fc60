#pragma once
// Small helpers for writing self-contained HTML: escaping and base64 data URIs.
#include <string>

namespace pgl::report {

// RFC 4648 base64 with padding.
std::string base64_encode(const std::string& bytes);
// "data:<mime>;base64,..." for embedding a file in the page.
std::string data_uri(const std::string& mime, const std::string& bytes);
// Escapes &, <, >, " and ' for text and attribute values.
std::string html_escape(const std::string& text);

}  // namespace pgl::report
