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

  // Warm start (CODEJAIL_SERVICE.warm_start): starts the sandbox of a run
  // with this python_path under these limits ahead of its request. Its
  // interpreter starts up, fully confined, and waits for the code on stdin;
  // the next execute() asking for the same uses it, any other discards it
  // and runs cold. A failure is logged, and the next run is cold.
  void prestart(const std::vector<std::string>& python_path, const Limits& limits);
  // prestart() for what the last execution asked (before any: no
  // python_path, the default limits); nothing when warm start is off or a
  // sandbox is already waiting.
  void prestart_next();
  bool has_prestarted() const { return warm_.has_value(); }

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
    bool warm = false;                  // it ran in a prestarted sandbox
  };

  // A sandbox ready to start: its dir (wrapper and files written, sealed),
  // its cgroup, and the plan of its processes.
  struct PreparedSandbox {
    SandboxDir dir;
    std::unique_ptr<RunCgroup> cgroup;
    ChildPlan plan;
  };
  // A sandbox started ahead of its request, and what it was started for.
  struct WarmSandbox {
    SandboxDir dir;
    std::unique_ptr<RunCgroup> cgroup;
    StartedSandbox sandbox;  // declared after dir and cgroup: destroyed (killed) first
    std::vector<std::string> python_path;
    Limits limits;
  };

  // Throws when the machinery fails.
  PreparedSandbox prepare_sandbox(const std::vector<std::string>& python_path,
                                  const std::vector<UploadedFile>& files, const Limits& limits);
  // The prestarted sandbox if it was started for this python_path and these
  // limits and still waits; otherwise discards it (if any) and gives nothing.
  std::optional<WarmSandbox> take_prestarted(const std::vector<std::string>& python_path,
                                             const Limits& limits);
  // Kills a prestarted sandbox's run and removes its dirs.
  void discard(WarmSandbox& warm);

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
  std::optional<WarmSandbox> warm_;  // the prestarted sandbox, if any
  // What the last execution asked, which prestart_next() expects again.
  std::vector<std::string> last_python_path_;
  std::optional<Limits> last_limits_;
};

}  // namespace cjs::jail
