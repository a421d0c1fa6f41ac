// The one place where a sandboxed child is set up, between fork and exec.
//
// Everything the child needs is computed before fork (ChildPlan), so the
// child only makes system calls. Confinement layers plug in here, in
// enter_sandbox(), in a fixed order; each layer lives in its own file.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "jail/rlimits.h"

namespace cjs::jail {

struct ChildPlan {
  std::string python_bin;              // absolute path of the sandbox interpreter
  std::vector<std::string> argv;       // argv[0] is python_bin (venvs need it)
  std::vector<std::string> env;        // "NAME=value", nothing inherited
  std::string cwd;                     // the sandbox dir as the code sees it
  RlimitPlan rlimits;
  std::optional<uid_t> uid;            // switch to this uid/gid (service runs as root)
  std::optional<gid_t> gid;

  // Pointer arrays for execve, built from argv/env by finalize().
  std::vector<char*> argv_ptrs;
  std::vector<char*> env_ptrs;
  void finalize();
};

// File descriptors the child receives.
struct ChildFds {
  int stdin_fd;    // becomes 0
  int stdout_fd;   // becomes 1
  int stderr_fd;   // becomes 2
  int error_fd;    // close-on-exec; a setup failure is reported here
};

// A setup failure as the child reports it through error_fd.
struct ChildSetupFailure {
  int step = 0;   // a ChildStep value
  int error = 0;  // errno
};

enum ChildStep : int {
  kStepSession = 1,
  kStepFds,
  kStepSignals,
  kStepChdir,
  kStepRlimits,
  kStepGroups,
  kStepGid,
  kStepUid,
  kStepExec,
};

const char* child_step_name(int step);

// Runs in the forked child: applies every layer and execs the interpreter.
// Never returns; on failure writes a ChildSetupFailure to fds.error_fd and
// exits with status 127.
[[noreturn]] void enter_sandbox(const ChildPlan& plan, const ChildFds& fds);

}  // namespace cjs::jail
