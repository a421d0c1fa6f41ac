// cgroup layer: one cgroup per execution, where the host offers one, with a
// memory cap (no swap), a pids cap, an equal CPU weight and CPU accounting
// (where the cpu controllers exist), and a kill of everything in it at the
// end. cgroup v2 (a delegated subtree) and v1 (memory + pids hierarchies, as
// on hosts without a unified memory controller) are supported; otherwise the
// layer reports itself unavailable and the pid namespace does the killing.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cjs::jail {

struct CgroupLimits {
  std::int64_t memory_bytes = 0;  // 0: no memory cap
  std::int64_t pids_max = 0;      // 0: no pids cap
  // CPU bandwidth quota in cores (cpu.max, cfs_quota_us); 0: none. Every run
  // gets the same weight (cpu.weight 100, cpu.shares 1024) either way, so
  // concurrent runs share the CPU by run, not by process.
  double cpu_max_cores = 0;
};

// One execution's cgroup(s). Destruction kills what is left and removes them.
class RunCgroup {
 public:
  virtual ~RunCgroup() = default;
  // Moves `pid` (and its future children) into the cgroup(s).
  virtual bool attach(pid_t pid, std::string& error) = 0;
  // cgroup v1: the `tasks` file of each group, to which the run's first
  // process writes "0" to join by itself before it does anything else.
  // Moving oneself (one thread) skips the kernel's global threadgroup lock
  // that moving another process by pid takes (an RCU grace period: 8-14 ms
  // per run measured here). Empty (v2): the runner uses attach() instead.
  virtual std::vector<std::string> self_attach_files() const = 0;
  // SIGKILLs every process still inside, waits until empty (bounded).
  virtual void kill_all() = 0;
  // Peak memory use, when the controller reports it.
  virtual std::optional<std::int64_t> memory_peak_bytes() const = 0;
  // Whether the memory cap made the kernel OOM-kill something in the run.
  virtual bool hit_memory_limit() const = 0;
  // CPU time used so far by all the run's processes together, dead ones
  // included (v2 cpu.stat usage_usec, v1 cpuacct.usage); nothing when the
  // host does not account it (CgroupManager::cpu_accounted()).
  virtual std::optional<std::int64_t> cpu_usage_usec() const = 0;
  // Sends `signal` to every process inside but `except` (through pidfds,
  // like kill_all).
  virtual void signal_all(int signal, pid_t except) = 0;
};

class CgroupManager {
 public:
  // Detects what the host offers under /sys/fs/cgroup and prepares our
  // parent group(s) named `group_name` (e.g. "codejail-service"). Never
  // throws: an unusable host gives an unavailable manager with a reason.
  static CgroupManager detect(const std::string& group_name,
                              const std::string& cgroup_root = "/sys/fs/cgroup");

  bool available() const { return mode_ != Mode::kNone; }
  // "v2 (memory, pids)", "v1 (memory, pids)", or "not available: <reason>".
  std::string description() const;
  // Whether run groups also have the cpu controller (equal weights) and CPU
  // accounting, so a run's CPU can be bounded across all its processes.
  bool cpu_accounted() const { return cpu_accounted_; }
  // "v1 cpu, cpuacct", "v2 cpu", or "not available: <reason>".
  std::string cpu_description() const;

  // A fresh cgroup for one run named `run_name` (unique per execution).
  // nullptr when unavailable or on error (then `error` says why).
  std::unique_ptr<RunCgroup> create_run(const std::string& run_name, const CgroupLimits& limits,
                                        std::string& error) const;

  enum class Mode { kNone, kV1, kV2 };
  Mode mode() const { return mode_; }
  // The parent group(s) run cgroups are created in (empty when unavailable).
  const std::vector<std::string>& parents() const { return parents_; }

 private:
  void require_writable_parents();

  void add_v1_cpu(const std::string& root, const std::string& group);

  Mode mode_ = Mode::kNone;
  std::string reason_;  // why unavailable
  bool cpu_accounted_ = false;
  std::string cpu_reason_;                // why no CPU accounting, or what provides it
  std::vector<std::string> parents_;      // v1: one per controller hierarchy; v2: one
  std::vector<std::string> controllers_;  // per parent: "memory,pids", "cpu", "cpuacct", ...
};

}  // namespace cjs::jail
