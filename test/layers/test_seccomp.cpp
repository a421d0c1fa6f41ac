// seccomp layer (sandbox.md "seccomp-bpf", attacks 24-34): each probe runs in
// a forked child that loads the filter; the same probe without the filter
// (the "control") must give a different answer, so every check can fail.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "jail/seccomp.h"
#include "test/support/host_features.h"
#include "test/support/test_support.h"

#ifndef __NR_open_tree_attr
#define __NR_open_tree_attr 467
#endif

namespace {

using cjs::jail::kInterpreterExecFd;

constexpr int kSetupFailed = 250;  // the child could not load the filter
// in_child(): 1000 + signal number, as wait_child_code() reports it.
constexpr int kSignaled = cjs::test::kChildSignaled;

const cjs::jail::SeccompProgram& program() {
  static const cjs::jail::SeccompProgram built = cjs::jail::build_sandbox_seccomp();
  return built;
}

// fork(), run prepare(), load the filter when `confine`, run body; returns
// the exit code (an errno, 0 for success), kSetupFailed, or kSignaled + signal.
template <typename Body, typename Prepare>
int in_child(bool confine, Body body, Prepare prepare) {
  const cjs::jail::SeccompProgram& prog = program();
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!prepare()) _exit(kSetupFailed);
    if (confine) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(kSetupFailed);
      if (cjs::jail::apply_seccomp(prog) != 0) _exit(kSetupFailed);
    }
    _exit(body());
  }
  return cjs::test::wait_child_code(pid);
}

template <typename Body>
int in_child(bool confine, Body body) {
  return in_child(confine, body, [] { return true; });
}

int result(long rc) {
  if (rc < 0) return errno;
  return 0;
}

int socket_result(long family, int type) {
  long fd = syscall(SYS_socket, family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  close(static_cast<int>(fd));
  return 0;
}

// Checks that `probe` gets `expected` under the filter and something else
// without it.
template <typename Body>
void check_denied(Body probe, int expected) {
  CHECK(in_child(true, probe) == expected);
  CHECK(in_child(false, probe) != expected);
}

// Descriptor 0 on /dev/null, so an unfiltered TIOCSTI cannot reach a tty.
bool stdin_devnull() {
  int fd = open("/dev/null", O_RDONLY);
  return fd >= 0 && dup2(fd, 0) == 0;
}

bool interpreter_at_exec_fd() {
  int fd = open("/usr/bin/true", O_RDONLY | O_CLOEXEC);
  return fd >= 0 && dup3(fd, kInterpreterExecFd, O_CLOEXEC) == kInterpreterExecFd;
}

int execveat_result(int dirfd, const char* path, int flags) {
  char arg0[] = "true";
  char* const argv[] = {arg0, nullptr};
  char* const envp[] = {nullptr};
  syscall(SYS_execveat, dirfd, path, argv, envp, flags);
  return errno;
}

}  // namespace

TEST_CASE("seccomp program builds with the x32 check", "[seccomp]") {
  const auto& prog = program();
  REQUIRE_FALSE(prog.instructions.empty());
  CHECK(prog.instructions.size() <= BPF_MAXINSNS);
}

TEST_CASE("seccomp allows only AF_UNIX sockets", "[seccomp]") {
  check_denied([] { return socket_result(AF_INET, SOCK_STREAM); }, EACCES);
  check_denied([] { return socket_result(AF_INET, SOCK_DGRAM); }, EACCES);
  check_denied([] { return socket_result(AF_INET6, SOCK_STREAM); }, EACCES);
  check_denied([] { return socket_result(AF_INET6, SOCK_DGRAM); }, EACCES);
  check_denied([] { return socket_result(AF_NETLINK, SOCK_RAW); }, EACCES);
  check_denied([] { return socket_result(AF_PACKET, SOCK_RAW); }, EACCES);
  // The kernel reads the family as 32 bits; the filter refuses the junk.
  check_denied([] { return socket_result(0x100000000L | AF_UNIX, SOCK_STREAM); }, EACCES);
  check_denied(
      [] {
        int sv[2];
        return result(socketpair(AF_INET, SOCK_STREAM, 0, sv));
      },
      EACCES);
  CHECK(in_child(true, [] { return socket_result(AF_UNIX, SOCK_STREAM); }) == 0);
  CHECK(in_child(true, [] { return socket_result(AF_UNIX, SOCK_DGRAM); }) == 0);
  CHECK(in_child(true, [] {
          int sv[2];
          return result(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
        }) == 0);
}

TEST_CASE("seccomp denies namespaces, mounts and ptrace with EPERM", "[seccomp]") {
  check_denied([] { return result(unshare(CLONE_NEWUSER)); }, EPERM);
  check_denied([] { return result(unshare(CLONE_NEWNS)); }, EPERM);
  check_denied([] { return result(setns(-1, 0)); }, EPERM);
  // Unfiltered: ESRCH (the parent is not traced), never stopping the parent.
  check_denied([] { return result(syscall(SYS_ptrace, PTRACE_PEEKDATA, getppid(), 0, 0)); }, EPERM);
  check_denied(
      [] { return result(mount("none", "/nonexistent-cjs-seccomp", "tmpfs", 0, nullptr)); }, EPERM);
  check_denied([] { return result(umount2("/nonexistent-cjs-seccomp", 0)); }, EPERM);
  check_denied([] { return result(chroot("/nonexistent-cjs-seccomp")); }, EPERM);
  check_denied([] { return result(syscall(SYS_fsopen, "tmpfs", 0)); }, EPERM);
  check_denied([] { return result(syscall(__NR_open_tree_attr, -1, nullptr, 0, nullptr, 0)); },
               EPERM);
}

TEST_CASE("seccomp refuses clone with namespace flags, clone3 falls back", "[seccomp]") {
  auto clone_with = [](unsigned long flags) {
    return [flags] {
      long pid = syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
      if (pid == 0) _exit(0);
      if (pid < 0) return errno;
      waitpid(static_cast<pid_t>(pid), nullptr, 0);
      return 0;
    };
  };
  check_denied(clone_with(CLONE_NEWUSER), EPERM);
  check_denied(clone_with(CLONE_NEWNET), EPERM);
  check_denied(clone_with(CLONE_NEWPID | CLONE_NEWNS), EPERM);
  check_denied(clone_with(CLONE_NEWCGROUP), EPERM);
  CHECK(in_child(true, clone_with(0)) == 0);
  // Unfiltered, clone3 with no arguments is EFAULT/EINVAL.
  check_denied([] { return result(syscall(SYS_clone3, nullptr, 0)); }, ENOSYS);
  // fork() and threads keep working (glibc retries clone3 as clone).
  CHECK(in_child(true, [] {
          pid_t pid = fork();
          if (pid == 0) _exit(7);
          int status = 0;
          if (pid < 0 || waitpid(pid, &status, 0) != pid) return 1;
          return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 2;
        }) == 0);
}

TEST_CASE("seccomp refuses TIOCSTI, high-bit variants included", "[seccomp]") {
  auto tiocsti = [](unsigned long request) {
    return [request] {
      char c = 'x';
      return result(ioctl(0, request, &c));
    };
  };
  CHECK(in_child(true, tiocsti(0x5412), stdin_devnull) == EPERM);
  CHECK(in_child(false, tiocsti(0x5412), stdin_devnull) == ENOTTY);
  CHECK(in_child(true, tiocsti(0x100005412UL), stdin_devnull) == EPERM);
  CHECK(in_child(false, tiocsti(0x100005412UL), stdin_devnull) == ENOTTY);
  // Other ioctls still reach the kernel.
  CHECK(in_child(true, tiocsti(TCGETS), stdin_devnull) == ENOTTY);
}

TEST_CASE("seccomp denies keyrings, bpf, perf, userfaultfd and io_uring", "[seccomp]") {
  // Unfiltered these fail harmlessly (ENOKEY) rather than touch a keyring.
  check_denied(
      [] { return result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0)); },
      EPERM);
  check_denied([] { return result(syscall(SYS_add_key, "user", "cjs", "x", 1, 0x7fffffff)); },
               EPERM);
  check_denied([] { return result(syscall(SYS_bpf, 0, nullptr, 0)); }, EPERM);
  check_denied([] { return result(syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0)); }, EPERM);
  check_denied([] { return result(syscall(SYS_userfaultfd, 0)); }, EPERM);
  check_denied([] { return result(syscall(SYS_io_uring_setup, 0, nullptr)); }, EPERM);
  check_denied([] { return result(syscall(SYS_syslog, 10, nullptr, 0)); }, EPERM);
}

TEST_CASE("seccomp allows only the PER_LINUX personality and the query", "[seccomp]") {
  auto set = [](unsigned long persona) {
    return [persona] { return result(syscall(SYS_personality, persona)); };
  };
  check_denied(set(PER_LINUX32), EPERM);
  check_denied(set(ADDR_NO_RANDOMIZE), EPERM);
  check_denied(set(READ_IMPLIES_EXEC), EPERM);
  check_denied(set(0x80000000UL), EPERM);
  check_denied(set(0xfffffffeUL), EPERM);
  check_denied(set(0x7fffffffUL), EPERM);
  CHECK(in_child(true, set(0xffffffffUL)) == 0);
  CHECK(in_child(true, set(PER_LINUX)) == 0);
}

TEST_CASE("seccomp allows exec only through the interpreter descriptor", "[seccomp]") {
  auto execve_true = [] {
    char arg0[] = "true";
    char* const argv[] = {arg0, nullptr};
    char* const envp[] = {nullptr};
    execve("/bin/true", argv, envp);
    return errno;
  };
  CHECK(in_child(true, execve_true) == EACCES);
  CHECK(in_child(false, execve_true) == 0);  // exec'd true exits 0

  CHECK(in_child(true, [] { return execveat_result(AT_FDCWD, "/bin/true", 0); }) == EACCES);
  CHECK(in_child(false, [] { return execveat_result(AT_FDCWD, "/bin/true", 0); }) == 0);

  // The one allowed form really executes (true's exit code 0, not an errno).
  auto via_fd = [] { return execveat_result(kInterpreterExecFd, "", AT_EMPTY_PATH); };
  CHECK(in_child(true, via_fd, interpreter_at_exec_fd) == 0);
  // Same descriptor without AT_EMPTY_PATH, or another descriptor: refused.
  auto no_flag = [] { return execveat_result(kInterpreterExecFd, "", 0); };
  CHECK(in_child(true, no_flag, interpreter_at_exec_fd) == EACCES);
  CHECK(in_child(false, no_flag, interpreter_at_exec_fd) == ENOENT);
  auto other_fd = [] {
    int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 200;
    return execveat_result(fd, "", AT_EMPTY_PATH);
  };
  CHECK(in_child(true, other_fd) == EACCES);
  CHECK(in_child(false, other_fd) == 0);
}

// x86_64's second and third ABIs; aarch64's AArch32 calls cannot be made
// from an aarch64 process (test/unit/jail/test_seccomp_arch.cpp checks the
// arch test that kills them).
#if defined(__x86_64__)
TEST_CASE("seccomp kills x32 system calls", "[seccomp]") {
  // The filter sees the x32 bit before the kernel dispatches, so this holds
  // whether or not the kernel supports x32.
  auto x32_getpid = [] { return result(syscall(0x40000000L | SYS_getpid)); };
  CHECK(in_child(true, x32_getpid) == kSignaled + SIGSYS);
  CHECK(in_child(false, x32_getpid) < kSignaled);  // ENOSYS without x32 support
}

TEST_CASE("seccomp kills i386 system calls or the kernel has none", "[seccomp]") {
  // A kernel without IA32 emulation faults on int 0x80 before any filter
  // runs: there the call must still not succeed, and the control faults too.
  auto i386_getpid = [] {
    signal(SIGSEGV, SIG_DFL);  // not the test framework's handler, in the child
    long ret = 20;             // __NR_getpid in the i386 table
    __asm__ volatile("int $0x80" : "+a"(ret) : : "r8", "r9", "r10", "r11", "memory");
    return ret > 0 ? 0 : 1;
  };
  WARN(cjs::test::describe_i386_abi());
  if (cjs::test::host_has_i386_abi()) {
    CHECK(in_child(true, i386_getpid) == kSignaled + SIGSYS);
    CHECK(in_child(false, i386_getpid) == 0);
  } else if (cjs::test::i386_abi_absence_simulated()) {
    // The kernel may still have the ABI: the filter or the kernel stops it.
    const int confined = in_child(true, i386_getpid);
    CHECK((confined == kSignaled + SIGSYS || confined == kSignaled + SIGSEGV));
  } else {
    CHECK(in_child(true, i386_getpid) == kSignaled + SIGSEGV);
    CHECK(in_child(false, i386_getpid) == kSignaled + SIGSEGV);
  }
}
#endif

TEST_CASE("seccomp is an allow-list: calls outside it get EPERM", "[seccomp]") {
  // A number no kernel has yet: without the filter the kernel says ENOSYS.
  check_denied([] { return result(syscall(470)); }, EPERM);
  check_denied([] { return result(syscall(1000)); }, EPERM);
  // Observation channels onto other runs and the host (attacks 46-49).
  check_denied([] { return result(syscall(SYS_inotify_init1, IN_CLOEXEC)); }, EPERM);
#ifdef SYS_inotify_init  // not on aarch64
  check_denied([] { return result(syscall(SYS_inotify_init)); }, EPERM);
#endif
  check_denied([] { return result(syscall(SYS_fanotify_init, 0x200 /* FAN_REPORT_FID */, 0)); },
               EPERM);
  check_denied(
      [] {
        struct sysinfo info {};
        return result(syscall(SYS_sysinfo, &info));
      },
      EPERM);
  // listmount (458) and statmount (457): unfiltered, EINVAL for a bad request.
  check_denied([] { return result(syscall(458, nullptr, nullptr, 0, 0)); }, EPERM);
  check_denied([] { return result(syscall(457, nullptr, nullptr, 0, 0)); }, EPERM);
  // Host-wide resources and calls beyond the run's own memory (attack 50).
  check_denied(
      [] {
        aio_context_t ctx = 0;
        long rc = syscall(SYS_io_setup, 1, &ctx);
        if (rc == 0) syscall(SYS_io_destroy, ctx);
        return result(rc);
      },
      EPERM);
#ifdef SYS_modify_ldt  // x86 only
  check_denied(
      [] {
        char entry[16] = {};
        return result(syscall(SYS_modify_ldt, 0, entry, sizeof entry));
      },
      EPERM);
#endif
  check_denied([] { return result(syscall(SYS_vmsplice, -1, nullptr, 0, 0)); }, EPERM);
  check_denied([] { return result(syscall(SYS_move_pages, 0, 0, nullptr, nullptr, nullptr, 0)); },
               EPERM);
  check_denied([] { return result(syscall(SYS_mbind, nullptr, 0, 0, nullptr, 0, 0)); }, EPERM);
  check_denied([] { return result(syscall(SYS_syncfs, -1)); }, EPERM);
  check_denied([] { return result(syscall(SYS_name_to_handle_at, -1, "", nullptr, nullptr, 0)); },
               EPERM);
  check_denied([] { return result(syscall(SYS_memfd_create, "cjs", 0)); }, EPERM);
}

TEST_CASE("seccomp answers ENOSYS where programs fall back to an older call", "[seccomp]") {
  // Unfiltered, each of these exists (Linux >= 5.6) and fails differently.
  check_denied([] { return result(syscall(SYS_openat2, -1, nullptr, nullptr, 0)); }, ENOSYS);
  check_denied([] { return result(syscall(SYS_pidfd_open, getpid(), 0)); }, ENOSYS);
}

TEST_CASE("seccomp allows the ioctls CPython uses and no others", "[seccomp]") {
  auto ioctl_on_pipe = [](unsigned long request) {
    return [request] {
      int fds[2];
      if (pipe(fds) != 0) return 200;
      int value = 0;
      return result(ioctl(fds[0], request, &value));
    };
  };
  CHECK(in_child(true, ioctl_on_pipe(FIONREAD)) == 0);
  CHECK(in_child(true, ioctl_on_pipe(FIONBIO)) == 0);
  CHECK(in_child(true, ioctl_on_pipe(TCGETS)) == ENOTTY);
  // FIOASYNC: allowed unfiltered, not in the list.
  check_denied(ioctl_on_pipe(FIOASYNC), EPERM);
}
