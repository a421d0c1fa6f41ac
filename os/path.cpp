#include "os/path.h"

#include <string_view>

namespace cjs::os {

std::string path_join(const std::string& base, const std::string& rel) {
  std::string out = base;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  std::string_view tail = rel;
  while (!tail.empty() && tail.front() == '/') tail.remove_prefix(1);
  if (tail.empty()) return out;
  return out + "/" + std::string(tail);
}

std::string dirname_of(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace cjs::os
