#include "common/cgroup_leaf.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cjs {
namespace {

constexpr unsigned long kCgroup2SuperMagic = 0x63677270;

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream words(text);
  std::string w;
  while (words >> w) {
    if (w == word) return true;
  }
  return false;
}

std::string join(const std::string& base, const std::string& rel) {
  std::string out = base;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  std::string_view tail = rel;
  while (!tail.empty() && tail.front() == '/') tail.remove_prefix(1);
  return tail.empty() ? out : out + "/" + std::string(tail);
}

bool is_cgroup2(const std::string& path) {
  struct statfs st {};
  return statfs(path.c_str(), &st) == 0 &&
         static_cast<unsigned long>(st.f_type) == kCgroup2SuperMagic;
}

}  // namespace

std::optional<std::string> cgroup_v2_path(std::string_view text) {
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (line.starts_with("0::/")) return std::string(line.substr(3));
  }
  return std::nullopt;
}

LeafMove move_self_into_leaf_on(const std::string& cgroup_root) {
  LeafMove result;
  result.outcome = LeafMove::kFailed;
  if (!is_cgroup2(cgroup_root)) {
    result.detail = cgroup_root + " is not a cgroup2 mount";
    return result;
  }
  auto own = cgroup_v2_path(read_text("/proc/self/cgroup").value_or(""));
  if (!own) {
    result.detail = "no cgroup v2 entry in /proc/self/cgroup";
    return result;
  }
  std::string own_dir = join(cgroup_root, *own);
  std::string base_name = own->substr(own->rfind('/') + 1);
  if (*own != "/" && base_name == kCgroupServiceLeaf) {
    result.outcome = LeafMove::kAlreadyInLeaf;
    result.detail = own_dir;
    return result;
  }
  std::string leaf = join(own_dir, kCgroupServiceLeaf);
  if (mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
    result.detail = "cannot create " + leaf + ": " + std::strerror(errno);
    return result;
  }
  std::string procs = join(leaf, "cgroup.procs");
  int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  // "0" moves the writing process with all its threads.
  bool moved = fd >= 0 && write(fd, "0", 1) == 1;
  int err = errno;
  if (fd >= 0) close(fd);
  if (!moved) {
    result.detail = "cannot move into " + leaf + ": " + std::strerror(err);
    return result;
  }
  result.outcome = LeafMove::kMoved;
  result.detail = leaf;
  return result;
}

LeafMove move_self_into_service_leaf(const std::string& cgroup_root) {
  LeafMove result;
  auto controllers = read_text(join(cgroup_root, "cgroup.controllers"));
  if (!controllers || !is_cgroup2(cgroup_root)) {
    result.detail = cgroup_root + " is not a cgroup v2 hierarchy";
    return result;
  }
  if (!has_word(*controllers, "memory") || !has_word(*controllers, "pids")) {
    result.detail = "cgroup v2 at " + cgroup_root + " has no memory/pids controllers";
    return result;
  }
  return move_self_into_leaf_on(cgroup_root);
}

}  // namespace cjs
