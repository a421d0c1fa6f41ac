// Sweeping what a killed worker left behind: sandbox dirs and run cgroups of
// executions that no process owns any more.
//
// A live execution holds an exclusive flock on its sandbox dir for as long
// as the dir exists (SandboxDir), and the lock is released by the kernel
// when its holder dies, however it dies. So a sandbox dir under the sandbox
// root whose lock can be taken is stale, whoever made it: another slot's
// live runs are never touched. A run cgroup is named after its sandbox dir
// and created after it, and removed before it; so a run cgroup whose sandbox
// dir is gone is stale too (and it is only removed once empty).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cjs::jail {

struct SweepReport {
  int dirs_removed = 0;
  int dirs_live = 0;  // locked by a running execution: left alone
  int cgroups_removed = 0;
  int cgroups_busy = 0;  // still has processes (dying): left for the next sweep
  std::vector<std::string> errors;
};

// "codejail-" + 8 characters from [a-z0-9_]: the names SandboxDir creates.
bool is_sandbox_dir_name(std::string_view name);

// The name a sandbox dir has while it is being prepared: "." + that + ".new".
bool is_staging_dir_name(std::string_view name);

// Removes every stale sandbox dir directly under `sandbox_root` (owned by
// our euid, a real directory, not locked, unchanged for `min_age_seconds`),
// never following anything. The age guard covers what the lock cannot: a
// staging dir is unlocked for an instant right after its mkdir, and a
// sandbox dir of an older version of this service (or of its tests) sharing
// the root is never locked.
SweepReport sweep_stale_sandbox_dirs(const std::string& sandbox_root, double min_age_seconds);

// Removes the empty run cgroups under each of `cgroup_parents` whose sandbox
// dir no longer exists under `sandbox_root` and that were created at least
// `min_age_seconds` ago. Never kills anything: what is still inside a stale
// group belongs to a dead pid namespace and is dying. The age guard keeps
// the sweep off a group that another service sharing the parent (with
// another sandbox root) has just created and not yet joined.
SweepReport sweep_stale_run_cgroups(const std::vector<std::string>& cgroup_parents,
                                    const std::string& sandbox_root, double min_age_seconds);

}  // namespace cjs::jail
