// Which multipart file parts Django skips: MultiPartParser.sanitize_file_name
// (html.unescape, then the last path component) returning None.
#pragma once

#include <string_view>

namespace cjs::server::form {

// True when sanitize_file_name(name) returns None: the name (UTF-8) ends in
// "", "." or ".." after html.unescape() and dropping everything up to the
// last '/' or '\'.
bool file_name_sanitizes_to_none(std::string_view name);

}  // namespace cjs::server::form
