// Runs one sandboxed interpreter: feeds stdin, captures bounded stdout and
// stderr, enforces the wall-clock limit, and leaves no process behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "jail/cgroups.h"
#include "jail/child_setup.h"

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
};

// Clones the keeper into the plan's namespaces (child_setup), and supervises
// the run. Must be called from a single-threaded process: the children run
// code between fork and exec. Makes the calling process a child subreaper,
// so that even without a pid namespace (sabotaged test runs) descendants
// that daemonize are reparented to it and killed with the run.
RunResult run_sandboxed(const ChildPlan& plan, std::string_view stdin_data,
                        const RunOptions& options);

}  // namespace cjs::jail
