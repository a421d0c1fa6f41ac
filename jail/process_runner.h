// Runs one sandboxed interpreter: feeds stdin, captures bounded stdout and
// stderr, enforces the wall-clock limit, and leaves no process behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jail/cgroups.h"
#include "jail/child_setup.h"
#include "os/fd.h"

namespace cjs::jail {

// What one stream produced: at most `cap` bytes are kept; the rest is read
// and discarded so the writer never blocks on a full pipe.
struct CapturedStream {
  std::string data;
  std::size_t total_bytes = 0;
  bool truncated() const { return total_bytes > data.size(); }
};

struct RunResult {
  enum class Outcome {
    kCompleted,    // the interpreter exited or was killed by a signal
    kTimedOut,     // REALTIME expired and we killed everything (status -9)
    kSetupFailed,  // the child could not be set up; see `failure`
  };
  Outcome outcome = Outcome::kSetupFailed;
  int status = 0;  // exit code, or minus the signal number
  CapturedStream stdout_stream;
  CapturedStream stderr_stream;
  std::string failure;  // for logs, when outcome is kSetupFailed
  double wall_seconds = 0;
  // The interpreter was gone before it took a byte of stdin (the pipe's read
  // end was closed): no course code can have run.
  bool stdin_refused = false;
  bool cpu_limit_killed = false;     // ended at the hard CPU limit of all its processes
  std::uint32_t applied_layers = 0;  // AppliedLayer bits the interpreter child reported
  int landlock_abi = 0;              // the Landlock ABI it used (0: none)
};

struct RunOptions {
  double realtime_seconds = 1.0;  // 0: no wall-clock limit
  std::size_t stdout_cap = 1 << 20;
  std::size_t stderr_cap = 1 << 20;
  RunCgroup* cgroup = nullptr;  // the keeper joins it before anything runs
  // The run's CPU limit in seconds for all its processes together, as
  // RLIMIT_CPU is for one (0: none): at `cpu_seconds` of the cgroup's CPU
  // time every process of the run gets SIGXCPU, at one second more the run
  // is killed. Needs a cgroup that accounts CPU; without one each process is
  // bounded by its own RLIMIT_CPU only.
  double cpu_seconds = 0;
  // Kill the run as soon as its stdin is refused (RunResult::stdin_refused)
  // instead of collecting its end: for a prestarted sandbox, whose request
  // then runs cold. A cold run keeps the interpreter's own status.
  bool end_on_refused_stdin = false;
};

// A confined interpreter that has started and waits for its stdin: the
// keeper, the runner's ends of the run's pipes, and when its clock started.
// Destroying one that was not finished kills its whole run.
class StartedSandbox {
 public:
  StartedSandbox(StartedSandbox&& other) noexcept;
  StartedSandbox& operator=(StartedSandbox&&) = delete;
  StartedSandbox(const StartedSandbox&) = delete;
  ~StartedSandbox();

  // Whether the interpreter still waits: the keeper runs and has not
  // reported its exit or a setup failure. One that is not alive is killed
  // and can only be discarded.
  bool alive();
  // The run's wall clock (REALTIME, wall_seconds) starts now, not at start.
  void restart_clock();
  // Ends the run: every process of it is dead when this returns.
  void kill() { kill_run(); }

 private:
  friend std::optional<StartedSandbox> start_sandboxed(const ChildPlan&, const RunOptions&,
                                                       std::string&);
  friend RunResult finish_sandboxed(StartedSandbox&, std::string_view, const RunOptions&);
  StartedSandbox() = default;
  void kill_run();

  pid_t keeper_ = -1;  // -1 once reaped
  os::Fd stdin_w_, stdout_r_, stderr_r_, report_r_, pidfd_;
  std::chrono::steady_clock::time_point started_;
  // What alive() read of the reports before the run: the layers record.
  std::uint32_t applied_layers_ = 0;
  int landlock_abi_ = 0;
};

// Clones the keeper into the plan's namespaces (child_setup) and lets it
// start the interpreter, which runs until it reads stdin. Only options.cgroup
// is used here. Nothing on failure, with `failure` saying why. Must be
// called from a single-threaded process: the children run code between fork
// and exec. Makes the calling process a child subreaper, so that even
// without a pid namespace (sabotaged test runs) descendants that daemonize
// are reparented to it and killed with the run.
std::optional<StartedSandbox> start_sandboxed(const ChildPlan& plan, const RunOptions& options,
                                              std::string& failure);

// Feeds `stdin_data` to a started sandbox and supervises the run to its end
// under `options` (the same cgroup as at start): every process of the run
// is dead when it returns.
RunResult finish_sandboxed(StartedSandbox& sandbox, std::string_view stdin_data,
                           const RunOptions& options);

// start_sandboxed and finish_sandboxed at once: a cold run, whose clock
// starts before the clone.
RunResult run_sandboxed(const ChildPlan& plan, std::string_view stdin_data,
                        const RunOptions& options);

}  // namespace cjs::jail
