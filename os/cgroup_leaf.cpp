#include "os/cgroup_leaf.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "os/cgroupfs.h"
#include "os/io.h"
#include "os/path.h"
#include "os/text.h"

namespace cjs::os {
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
  auto own = cgroup_v2_path(read_control_file("/proc/self/cgroup").value_or(""));
  if (!own) {
    result.detail = "no cgroup v2 entry in /proc/self/cgroup";
    return result;
  }
  std::string own_dir = path_join(cgroup_root, *own);
  std::string base_name = own->substr(own->rfind('/') + 1);
  if (*own != "/" && base_name == kCgroupServiceLeaf) {
    result.outcome = LeafMove::kAlreadyInLeaf;
    result.detail = own_dir;
    return result;
  }
  std::string leaf = path_join(own_dir, kCgroupServiceLeaf);
  if (mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
    result.detail = "cannot create " + leaf + ": " + std::strerror(errno);
    return result;
  }
  std::string procs = path_join(leaf, "cgroup.procs");
  // "0" moves the writing process with all its threads.
  WriteResult written = write_file(procs, "0");
  if (!written) {
    const int err = written.stage == WriteResult::kShort ? EIO : written.error;
    result.detail = "cannot move into " + leaf + ": " + std::strerror(err);
    return result;
  }
  result.outcome = LeafMove::kMoved;
  result.detail = leaf;
  return result;
}

LeafMove move_self_into_service_leaf(const std::string& cgroup_root) {
  LeafMove result;
  auto controllers = read_control_file(path_join(cgroup_root, "cgroup.controllers"));
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

}  // namespace cjs::os
