#include "jail/child_setup.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "jail/apparmor.h"
#include "os/fd_placement.h"

namespace cjs::jail {
namespace {

void report(int fd, const ChildReport& record) {
  // Best effort: if the runner is gone there is nobody to tell.
  (void)!write(fd, &record, sizeof record);
}

[[noreturn]] void fail(int report_fd, int step, int error, int detail = -1) {
  report(report_fd, ChildReport{ChildReport::kSetupFailed, step, error, 0, detail});
  _exit(127);
}

// Closes every descriptor except `keep` (ascending after sorting): the keeper
// never execs, so close-on-exec would not drop the runner's pipe ends, and a
// copy of the stdin write end would keep the interpreter waiting for EOF.
bool close_all_except(int* keep, int count) {
  for (int i = 1; i < count; ++i) {  // tiny insertion sort, no allocation
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; --j) std::swap(keep[j - 1], keep[j]);
  }
  unsigned int from = 3;
  for (int i = 0; i < count; ++i) {
    if (keep[i] < 3) continue;
    auto fd = static_cast<unsigned int>(keep[i]);
    if (fd > from && close_range(from, fd - 1, 0) != 0) return false;
    from = fd + 1;
  }
  return close_range(from, ~0U, 0) == 0;
}

std::uint32_t namespace_layers(unsigned long flags) {
  std::uint32_t layers = 0;
  if (flags & CLONE_NEWUSER) layers |= kLayerUserNs;
  if (flags & CLONE_NEWPID) layers |= kLayerPidNs;
  if (flags & CLONE_NEWNS) layers |= kLayerMountNs;
  if (flags & CLONE_NEWNET) layers |= kLayerNetNs;
  if (flags & CLONE_NEWIPC) layers |= kLayerIpcNs;
  if (flags & CLONE_NEWUTS) layers |= kLayerUtsNs;
  if (flags & CLONE_NEWCGROUP) layers |= kLayerCgroupNs;
  return layers;
}

// The steps below run in the interpreter child, between fork and exec: only
// system calls, no allocation. Each returns the layers it applied; a failure
// is reported and ends the child (fail closed).

// A process like any freshly started interpreter's: its own process group,
// stdio from our pipes, default signals, the sandbox dir as cwd.
void start_clean(const ChildPlan& plan, const ChildFds& fds) {
  const int rfd = fds.report_fd;
  // Own process group, so the whole run can be signalled at once. Not a new
  // session: the code may call os.setsid() itself, as under the reference.
  if (setpgid(0, 0) < 0) fail(rfd, kStepProcessGroup, errno);

  // stdio from our pipes; every other descriptor is closed at exec (the
  // report pipe stays usable until then).
  if (!os::place_fd(fds.stdin_fd, 0) || !os::place_fd(fds.stdout_fd, 1) ||
      !os::place_fd(fds.stderr_fd, 2)) {
    fail(rfd, kStepFds, errno);
  }
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) fail(rfd, kStepFds, errno);

  // Dispositions set to "ignore" and the signal mask survive exec: reset them
  // so the code starts like any freshly started interpreter.
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) fail(rfd, kStepSignals, errno);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL);  // fails harmlessly for the few unsettable numbers
  }

  if (chdir(plan.cwd.c_str()) != 0) fail(rfd, kStepChdir, errno);
}

// Confined runs only: the exec lock is there, and the one allowed exec has
// its descriptor.
std::uint32_t prepare_exec(const ChildPlan& plan, int rfd) {
  // ld.so only warns about a missing preload: make sure the exec lock is
  // there, or refuse to run (fail closed).
  if (access(plan.exec_lock.c_str(), R_OK) != 0) fail(rfd, kStepExecLock, errno);

  // The descriptor of the one allowed exec, placed before RLIMIT_NOFILE
  // drops below its number (seccomp.h explains why).
  int fd = open(plan.python_bin.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0 || dup3(fd, kInterpreterExecFd, O_CLOEXEC) != kInterpreterExecFd) {
    fail(rfd, kStepExecFd, errno);
  }
  close(fd);
  return kLayerExecLock;
}

// Limits before the uid switch: RLIMIT_NPROC is checked against the new
// uid's process count when we exec.
std::uint32_t apply_limits(const ChildPlan& plan, int rfd) {
  int failed_resource = 0;
  if (int err = apply_rlimits(plan.rlimits, &failed_resource); err != 0) {
    fail(rfd, kStepRlimits, err, failed_resource);
  }

  // Be the memory cgroup's first OOM victim rather than the keeper, whose
  // death would lose the run's status. Raising needs no privilege.
  if (int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC); fd >= 0) {
    (void)!write(fd, "1000", 4);
    close(fd);
  }
  return kLayerRlimits;
}

std::uint32_t switch_identity(const ChildPlan& plan, int rfd) {
  std::uint32_t layers = 0;
  int priv_step = 0;
  if (plan.confine) {
    if (int err = drop_sandbox_privileges(plan.identity, &priv_step); err != 0) {
      fail(rfd, kStepPrivileges, err, priv_step);
    }
    layers |= kLayerCapabilities;
  } else {
    // Sabotage keeps the reference's baseline: a separate uid, nothing more.
    IdentityPlan uid_only = plan.identity;
    if (int err = switch_identity_only(uid_only, &priv_step); err != 0) {
      fail(rfd, kStepPrivileges, err, priv_step);
    }
  }
  if (plan.identity.uid) layers |= kLayerUid;
  return layers;
}

// Confined runs only: the kernel's access controls, seccomp last.
std::uint32_t apply_access_controls(const ChildPlan& plan, int rfd) {
  std::uint32_t layers = 0;
  if (!plan.apparmor_profile.empty()) {
    if (int err = apparmor_stack_onexec(plan.apparmor_profile.c_str()); err != 0) {
      fail(rfd, kStepAppArmor, err);
    }
    layers |= kLayerAppArmor;
  }
  if (plan.landlock.abi > 0) {
    int failed_rule = -1;
    if (int err = apply_landlock(plan.landlock, &failed_rule); err != 0) {
      fail(rfd, kStepLandlock, err, failed_rule);
    }
    layers |= kLayerLandlock;
  }
  // Last: from here on only the filtered system calls are possible.
  if (int err = apply_seccomp(plan.seccomp); err != 0) fail(rfd, kStepSeccomp, err);
  return layers | kLayerSeccomp;
}

// Reports the applied layers (the report pipe closes at exec), then the one
// allowed exec.
[[noreturn]] void exec_interpreter(const ChildPlan& plan, int rfd, std::uint32_t layers) {
  report(rfd, ChildReport{ChildReport::kLayers, plan.landlock.abi, 0, static_cast<int>(layers), 0});
  if (plan.confine) {
    execveat(kInterpreterExecFd, "", plan.argv_ptrs.data(), plan.env_ptrs.data(), AT_EMPTY_PATH);
  } else {
    execve(plan.python_bin.c_str(), plan.argv_ptrs.data(), plan.env_ptrs.data());
  }
  fail(rfd, kStepExec, errno);
}

// The interpreter child: every per-process layer, in an order where each
// step still has the privileges it needs, then the one allowed exec.
[[noreturn]] void interpreter_main(const ChildPlan& plan, const ChildFds& fds) {
  const int rfd = fds.report_fd;
  std::uint32_t layers = plan.confine ? namespace_layers(plan.clone_flags) : 0;
  if (plan.confine && !plan.mounts.steps.empty()) layers |= kLayerMountView;

  start_clean(plan, fds);
  if (plan.confine) layers |= prepare_exec(plan, rfd);
  layers |= apply_limits(plan, rfd);
  layers |= switch_identity(plan, rfd);
  if (plan.confine) layers |= apply_access_controls(plan, rfd);
  exec_interpreter(plan, rfd, layers);
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
    case kStepWaitGo:
      return "wait for the runner";
    case kStepMountView:
      return "build the mount view";
    case kStepHostname:
      return "set the hostname";
    case kStepForkInterpreter:
      return "fork the interpreter";
    case kStepProcessGroup:
      return "setpgid";
    case kStepFds:
      return "set up stdio";
    case kStepSignals:
      return "reset signals";
    case kStepChdir:
      return "chdir to the sandbox dir";
    case kStepExecFd:
      return "open the interpreter";
    case kStepRlimits:
      return "setrlimit";
    case kStepPrivileges:
      return "drop privileges";
    case kStepAppArmor:
      return "AppArmor stack_onexec";
    case kStepLandlock:
      return "Landlock";
    case kStepSeccomp:
      return "seccomp";
    case kStepExecLock:
      return "find the exec lock library in the view";
    case kStepExec:
      return "exec the sandbox interpreter";
    case kStepCgroup:
      return "join the run's cgroup";
    default:
      return "unknown step";
  }
}

void keeper_main(const ChildPlan& plan, const ChildFds& fds) {
  const int rfd = fds.report_fd;
  int keep[5 + ChildFds::kMaxCgroupFds] = {fds.stdin_fd, fds.stdout_fd, fds.stderr_fd,
                                           fds.report_fd, fds.go_fd};
  for (int i = 0; i < fds.cgroup_fd_count; ++i) keep[5 + i] = fds.cgroup_fds[i];
  if (!close_all_except(keep, 5 + fds.cgroup_fd_count)) fail(rfd, kStepFds, errno);
  // If the runner dies (a worker killed mid-request), so do we, and with us
  // everything in the run's pid namespace: nobody would enforce REALTIME.
  // Set before waiting for the go byte: a runner that died earlier closed
  // the go pipe, which we then see as EOF.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(rfd, kStepWaitGo, errno);
  // The runner writes id maps and joins us to the run's cgroup first.
  char go = 0;
  ssize_t n;
  do {
    n = read(fds.go_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) fail(rfd, kStepWaitGo, n < 0 ? errno : EPIPE);
  close(fds.go_fd);

  // Join the run's cgroup(s) before building or forking anything, so every
  // process of the run is counted from its first instruction. A failure
  // ends the run (fail closed).
  for (int i = 0; i < fds.cgroup_fd_count; ++i) {
    ssize_t written;
    do {
      written = write(fds.cgroup_fds[i], "0", 1);
    } while (written < 0 && errno == EINTR);
    if (written != 1) fail(rfd, kStepCgroup, written < 0 ? errno : EIO, i);
    close(fds.cgroup_fds[i]);
  }

  if (plan.confine && !plan.mounts.steps.empty()) {
    int failed_step = -1;
    if (int err = build_mount_view(plan.mounts, &failed_step); err != 0) {
      fail(rfd, kStepMountView, err, failed_step);
    }
  }
  if (plan.confine && (plan.clone_flags & CLONE_NEWUTS)) {
    static constexpr char kHostname[] = "codejail";
    if (sethostname(kHostname, sizeof kHostname - 1) != 0) fail(rfd, kStepHostname, errno);
  }

  pid_t interpreter = fork();
  if (interpreter < 0) fail(rfd, kStepForkInterpreter, errno);
  if (interpreter == 0) interpreter_main(plan, fds);

  // Only the interpreter holds the stdio pipes now, so they close with it.
  close(fds.stdin_fd);
  close(fds.stdout_fd);
  close(fds.stderr_fd);

  // As pid 1 we also reap every orphan; we report when the interpreter ends.
  int status = -1;
  while (true) {
    int wstatus = 0;
    pid_t done = waitpid(-1, &wstatus, 0);
    if (done < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left (the interpreter was already reported)
    }
    if (done == interpreter) {
      status = WIFEXITED(wstatus)     ? WEXITSTATUS(wstatus)
               : WIFSIGNALED(wstatus) ? -WTERMSIG(wstatus)
                                      : -1;
      break;
    }
  }
  report(rfd, ChildReport{ChildReport::kExited, 0, 0, status, 0});
  // Exiting kills everything else in our pid namespace.
  _exit(0);
}

}  // namespace cjs::jail
