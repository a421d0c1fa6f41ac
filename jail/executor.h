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
#include "common/payload.h"
#include "jail/cgroups.h"
#include "jail/landlock.h"
#include "jail/process_runner.h"
#include "jail/sandbox_dir.h"
#include "jail/seccomp.h"

namespace cjs::jail {

struct UploadedFile {
  std::string name;  // the multipart field name (api.md 2: the file's name)
  std::string content;
};

// Everything a caller needs to answer and to log one execution.
struct ExecutionReport {
  std::string body;                   // the HTTP 200 body
  bool success = false;               // no emsg
  std::string telemetry_status;       // "executed.success" / "executed.error"
  std::optional<int> sandbox_status;  // exit code / -signal, when it ran
  std::string failure;                // machinery failure details, for logs only
  Limits limits;                      // effective limits used
  double wall_seconds = 0;
  std::size_t stdout_bytes = 0, stderr_bytes = 0;
  bool stdout_truncated = false, stderr_truncated = false;
  std::uint32_t applied_layers = 0;  // AppliedLayer bits of this run
  bool hit_memory_limit = false;     // the run's cgroup memory cap was reached
};

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

  ExecutionReport execute(const ExecPayload& payload, const std::vector<UploadedFile>& files);
  // The same under `limits` instead of those the configuration gives the
  // payload's context (the startup probes, which test confinement, not speed).
  ExecutionReport execute(const ExecPayload& payload, const std::vector<UploadedFile>& files,
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
  // ExecutionReport::applied_layers says what actually was.
  std::vector<LayerState> layer_states() const;

  // Whether confinement is on (false only in sabotaged test builds).
  bool confined() const { return confine_; }

 private:
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
