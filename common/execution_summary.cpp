#include "common/execution_summary.h"

namespace cjs {

std::string applied_layer_names(std::uint32_t layers) {
  static constexpr const char* kNames[] = {"user-ns", "pid-ns",   "mount-ns",  "net-ns",
                                           "ipc-ns",  "uts-ns",   "cgroup-ns", "mount-view",
                                           "uid",     "no-caps",  "rlimits",   "landlock",
                                           "seccomp", "apparmor", "exec-lock"};
  std::string out;
  for (std::size_t bit = 0; bit < std::size(kNames); ++bit) {
    if ((layers & (1u << bit)) == 0) continue;
    if (!out.empty()) out += ' ';
    out += kNames[bit];
  }
  return out.empty() ? "none" : out;
}

}  // namespace cjs
