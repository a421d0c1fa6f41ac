// cgroup v2 "no internal processes": a cgroup that enables controllers for
// its children may not hold processes itself. Under systemd with
// Delegate=yes the service's own cgroup is the delegated one, so the
// service's processes step aside into a leaf below it, and the jail's run
// cgroups go next to that leaf. The supervisor moves itself before it
// forks anything, so every worker starts in the leaf already; the jail
// (jail/cgroups.cpp) recognizes the leaf by this name.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cjs::os {

inline constexpr const char* kCgroupServiceLeaf = "service";

// The cgroup v2 path ("0::/a/b" -> "/a/b") in a /proc/<pid>/cgroup text,
// or nullopt when there is none.
std::optional<std::string> cgroup_v2_path(std::string_view proc_pid_cgroup);

struct LeafMove {
  enum Outcome {
    kMoved,          // the calling process now lives in <own>/service
    kAlreadyInLeaf,  // it was there already
    kNotApplicable,  // not a pure cgroup v2 host with memory and pids
    kFailed,         // applicable but the move failed (not root, no delegation...)
  };
  Outcome outcome = kNotApplicable;
  std::string detail;  // for the log: the leaf, or why not
};

// When `cgroup_root` is a cgroup2 mount offering memory and pids (a pure v2
// host): moves the calling process (all its threads) into the leaf below
// its own cgroup, creating the leaf if needed.
LeafMove move_self_into_service_leaf(const std::string& cgroup_root = "/sys/fs/cgroup");

// The move alone, on any cgroup2 mount whatever its controllers (tests use
// one without memory/pids): `cgroup_root` must be a cgroup2 mount of the
// hierarchy /proc/self/cgroup's "0::" line refers to.
LeafMove move_self_into_leaf_on(const std::string& cgroup_root);

}  // namespace cjs::os
