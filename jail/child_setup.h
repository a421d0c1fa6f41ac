// The one place where a sandboxed run is set up, between fork and exec.
//
// A run is two processes of ours and then the interpreter:
//
//   runner (the worker)  --clone(new pid/mount/net/ipc/uts/cgroup[/user] ns)-->
//     keeper  (pid 1 of the run's namespaces: builds the mount view, forks the
//              interpreter, reaps, reports its status, exits; when it exits
//              the kernel kills everything left in the namespace)
//       interpreter child (drops privileges, applies rlimits, Landlock,
//              seccomp, AppArmor; execs the interpreter exactly once)
//
// Everything is computed before fork (ChildPlan), so the children only make
// system calls. Each layer lives in its own file; this file orders them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/execution_summary.h"
#include "jail/landlock.h"
#include "jail/mount_view.h"
#include "jail/privileges.h"
#include "jail/rlimits.h"
#include "jail/seccomp.h"

namespace cjs::jail {

struct ChildPlan {
  std::string python_bin;         // absolute path of the sandbox interpreter
  std::vector<std::string> argv;  // argv[0] is python_bin (venvs need it)
  std::vector<std::string> env;   // "NAME=value", nothing inherited
  std::string cwd;                // the sandbox dir as the code sees it
  RlimitPlan rlimits;
  IdentityPlan identity;

  // false only when the test-only sabotage switch is on (sabotage.h): then
  // no namespaces, mount view, hardening, Landlock, seccomp or AppArmor.
  bool confine = true;
  unsigned long clone_flags = 0;  // CLONE_NEW* for the keeper
  MountPlan mounts;
  LandlockPlan landlock;
  SeccompProgram seccomp;
  std::string apparmor_profile;  // empty: no AppArmor layer
  std::string exec_lock;         // the preloaded exec lock, checked before exec

  // Pointer arrays for execve, built from argv/env by finalize().
  std::vector<char*> argv_ptrs;
  std::vector<char*> env_ptrs;
  void finalize();
};

// File descriptors the keeper receives.
struct ChildFds {
  int stdin_fd;   // becomes the interpreter's 0
  int stdout_fd;  // becomes 1
  int stderr_fd;  // becomes 2
  int report_fd;  // close-on-exec; ChildReport records go here
  int go_fd;      // the runner writes one byte when the keeper may start
  // cgroup v1 `tasks` files (RunCgroup::self_attach_files), opened for
  // writing by the runner; the keeper joins each before anything else.
  static constexpr int kMaxCgroupFds = 4;
  int cgroup_fds[kMaxCgroupFds] = {-1, -1, -1, -1};
  int cgroup_fd_count = 0;
};

// A record the keeper or the interpreter child writes to report_fd. Small
// enough that pipe writes are atomic.
struct ChildReport {
  enum Kind : int { kSetupFailed = 1, kLayers, kExited };
  int kind = 0;
  int step = 0;    // kSetupFailed: a ChildStep; kLayers: the Landlock ABI used
  int error = 0;   // kSetupFailed: errno
  int value = 0;   // kLayers: AppliedLayer bits; kExited: exit code or -signal
  int detail = 0;  // kSetupFailed: index of the failing mount step / rule, or -1
};

enum ChildStep : int {
  kStepWaitGo = 1,
  kStepMountView,
  kStepHostname,
  kStepForkInterpreter,
  kStepProcessGroup,
  kStepFds,
  kStepSignals,
  kStepChdir,
  kStepExecFd,
  kStepRlimits,
  kStepPrivileges,
  kStepAppArmor,
  kStepLandlock,
  kStepSeccomp,
  kStepExecLock,
  kStepExec,
  kStepCgroup,
};

const char* child_step_name(int step);

// Runs in the keeper (the child of clone). Never returns.
[[noreturn]] void keeper_main(const ChildPlan& plan, const ChildFds& fds);

}  // namespace cjs::jail
