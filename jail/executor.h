// One execution, end to end: validated payload in, API response body out.
//
//   payload + files -> sandbox dir -> confined interpreter -> (status,
//   stdout, stderr) -> {"globals_dict": ..., "emsg"?: ...}
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/execution_summary.h"
#include "common/payload.h"
#include "common/upload.h"
#include "jail/cgroups.h"
#include "jail/landlock.h"
#include "jail/process_runner.h"
#include "jail/sandbox_dir.h"
#include "jail/seccomp.h"

namespace cjs::jail {

// One confinement layer's state, as health and --self-test report it.
struct LayerState {
  std::string name;  // e.g. "landlock"
  bool active = false;
  std::string detail;  // e.g. "ABI 7", "not available: the kernel has no AppArmor"
};

class Executor {
 public:
  // Prepares everything runs share (seccomp program, cgroup parents, the
  // mount staging dir, the slot's uid). `slot` is the worker slot: distinct
  // slots run as distinct uids when the service starts as root. Throws
  // ConfigError if the host cannot run sandboxes as configured.
  explicit Executor(Config config, int slot = 0);

  ExecutionSummary execute(const ExecPayload& payload, const std::vector<UploadedFile>& files);
  // The same under `limits` instead of those the configuration gives the
  // payload's context (the startup probes, which test confinement, not speed).
  ExecutionSummary execute(const ExecPayload& payload, const std::vector<UploadedFile>& files,
                           const Limits& limits);

  // With deferred cleanup on (the worker), execute() returns as soon as
  // every process of the run is dead and leaves the removal of the run's
  // sandbox dir and cgroup dirs to finish_cleanup(), which the caller runs
  // after sending the answer. execute() runs it first too, so nothing of a
  // run is ever left when the next one starts.
  void set_deferred_cleanup(bool on) { defer_cleanup_ = on; }
  void finish_cleanup();

  const Config& config() const { return config_; }
  // The cgroup layer (its parents are where run cgroups live).
  const CgroupManager& cgroups() const { return cgroups_; }

  // Each layer and whether it will be applied to the next run. A run's own
  // ExecutionSummary::applied_layers says what actually was.
  std::vector<LayerState> layer_states() const;

  // Whether confinement is on (false only in sabotaged test builds).
  bool confined() const { return confine_; }

 private:
  // What the sandboxed interpreter did, and whether its cgroup's memory cap
  // OOM-killed something.
  struct SandboxRun {
    RunResult run;
    bool hit_memory_limit = false;
    std::size_t max_output_values = 0;  // the parse budget of its stdout
  };

  // Sandbox dir, cgroup, plan, and the run itself; throws when the machinery
  // fails before the interpreter could run.
  SandboxRun run_in_sandbox(const ExecPayload& payload, const std::vector<UploadedFile>& files,
                            const Limits& limits);
  ChildPlan plan_run(const std::string& host_dir, const std::string& view_dir,
                     const Limits& limits) const;

  Config config_;
  int slot_ = 0;
  bool confine_ = true;
  bool user_namespace_ = false;       // service unprivileged: a user ns per run
  std::optional<uid_t> sandbox_uid_;  // service root: base + slot
  std::optional<gid_t> sandbox_gid_;
  std::string interpreter_realpath_;            // the binary python_bin resolves to
  std::vector<std::string> interpreter_roots_;  // read-only dirs the interpreter needs
  std::string staging_root_;                    // mountpoint of each run's new root
  std::string exec_lock_;                       // libcodejail-execlock.so (preloaded)
  std::vector<std::string> etc_files_;          // the /etc files the interpreter may read
  std::vector<std::string> thp_files_;          // the host's THP mode files, for malloc
  SeccompProgram seccomp_;
  CgroupManager cgroups_;
  std::string apparmor_profile_;  // empty: AppArmor not used
  std::string apparmor_reason_;   // why not
  int landlock_abi_ = 0;
  bool defer_cleanup_ = false;
  std::optional<SandboxDir> pending_dir_;  // the last run's, until finish_cleanup()
  std::unique_ptr<RunCgroup> pending_cgroup_;
};

}  // namespace cjs::jail
