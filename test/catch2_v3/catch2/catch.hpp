// Catch2 v3 (Debian 13, Ubuntu 24.04) under the v2 header name the tests
// include: v3's headers, plus the v2 spellings the tests use.
#pragma once

#include <catch2/catch_all.hpp>
#include <string>

using Catch::Approx;

namespace Catch {
using Matchers::EndsWith;
using Matchers::StartsWith;
// v2's Catch::Contains matched a substring; v3's Matchers::Contains matches
// a range element, so the substring matcher gets the v2 name here.
inline Matchers::StringContainsMatcher Contains(const std::string& needle,
                                                CaseSensitive sensitivity = CaseSensitive::Yes) {
  return Matchers::ContainsSubstring(needle, sensitivity);
}
}  // namespace Catch
