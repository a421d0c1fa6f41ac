#include "jail/child_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace cjs::jail {
namespace {

[[noreturn]] void fail(const ChildFds& fds, int step) {
  ChildSetupFailure failure{step, errno};
  // Best effort: if the parent is gone there is nobody to tell.
  (void)!write(fds.error_fd, &failure, sizeof failure);
  _exit(127);
}

// Moves `fd` to `target` (dup2 clears close-on-exec on the copy).
bool install_fd(int fd, int target) {
  if (fd == target) return fcntl(fd, F_SETFD, 0) == 0;
  return dup2(fd, target) == target;
}

}  // namespace

void ChildPlan::finalize() {
  argv_ptrs.clear();
  for (auto& a : argv) argv_ptrs.push_back(a.data());
  argv_ptrs.push_back(nullptr);
  env_ptrs.clear();
  for (auto& e : env) env_ptrs.push_back(e.data());
  env_ptrs.push_back(nullptr);
}

const char* child_step_name(int step) {
  switch (step) {
    case kStepSession: return "setpgid";
    case kStepFds: return "set up stdio";
    case kStepSignals: return "reset signals";
    case kStepChdir: return "chdir to the sandbox dir";
    case kStepRlimits: return "setrlimit";
    case kStepGroups: return "setgroups";
    case kStepGid: return "setresgid";
    case kStepUid: return "setresuid";
    case kStepExec: return "execve of the sandbox interpreter";
    default: return "unknown step";
  }
}

void enter_sandbox(const ChildPlan& plan, const ChildFds& fds) {
  // Own process group, so the whole run can be signalled at once. Not a new
  // session: the code may call os.setsid() itself, as under the reference.
  if (setpgid(0, 0) < 0) fail(fds, kStepSession);

  // stdio from our pipes; every other descriptor is closed at exec (the
  // error pipe stays usable until then).
  if (!install_fd(fds.stdin_fd, 0) || !install_fd(fds.stdout_fd, 1) ||
      !install_fd(fds.stderr_fd, 2)) {
    fail(fds, kStepFds);
  }
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) fail(fds, kStepFds);

  // Dispositions set to "ignore" and the signal mask survive exec: reset them
  // so the code starts like any freshly started interpreter.
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) fail(fds, kStepSignals);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL);  // fails harmlessly for the few unsettable numbers
  }

  if (chdir(plan.cwd.c_str()) != 0) fail(fds, kStepChdir);

  // Limits before the uid switch: RLIMIT_NPROC is checked against the new
  // uid's process count when we exec.
  int failed_resource = 0;
  if (int err = apply_rlimits(plan.rlimits, &failed_resource); err != 0) {
    errno = err;
    fail(fds, kStepRlimits);
  }

  if (plan.gid) {
    if (setgroups(0, nullptr) != 0) fail(fds, kStepGroups);
    if (setresgid(*plan.gid, *plan.gid, *plan.gid) != 0) fail(fds, kStepGid);
  }
  if (plan.uid && setresuid(*plan.uid, *plan.uid, *plan.uid) != 0) fail(fds, kStepUid);

  execve(plan.python_bin.c_str(), plan.argv_ptrs.data(), plan.env_ptrs.data());
  fail(fds, kStepExec);
}

}  // namespace cjs::jail
