// Path strings, without touching the filesystem.
#pragma once

#include <string>

namespace cjs::os {

// `base` + "/" + `rel`, with no doubled slash ("/a/" + "/b" -> "/a/b");
// `base` alone when `rel` is empty or only slashes.
std::string path_join(const std::string& base, const std::string& rel);

// "/a/b" -> "/a", "/a" -> "/", "a" -> ".".
std::string dirname_of(const std::string& path);

// "/a/b" -> "b", "a" -> "a".
std::string basename_of(const std::string& path);

}  // namespace cjs::os
