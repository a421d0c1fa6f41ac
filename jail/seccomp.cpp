#include "jail/seccomp.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "os/seccomp_filter.h"

// fchmodat2 is from Linux 6.6, newer than Debian 12's headers.
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

namespace cjs::jail {
namespace {

// seccomp sees the full syscall number, so an x32 call is nr | this bit.
constexpr unsigned kX32SyscallBit = 0x40000000U;

// os::SeccompFilter whose failures throw, naming the rule.
class Filter {
 public:
  Filter() {
    if (!ctx_) throw std::runtime_error("seccomp_init failed");
  }

  scmp_filter_ctx get() const { return ctx_.get(); }

  void add(std::uint32_t action, int nr, const char* what) { check(ctx_.add(action, nr), what); }
  void add(std::uint32_t action, int nr, scmp_arg_cmp cmp, const char* what) {
    check(ctx_.add(action, nr, cmp), what);
  }
  void add(std::uint32_t action, int nr, scmp_arg_cmp a, scmp_arg_cmp b, const char* what) {
    check(ctx_.add(action, nr, a, b), what);
  }

  static void check(int rc, const char* what) {
    if (rc < 0) {
      throw std::runtime_error(std::string("seccomp: ") + what + ": " + std::strerror(-rc));
    }
  }

 private:
  // Every call not allowed below is refused with EPERM, as the kernel
  // answers an unprivileged caller; calls a newer kernel adds are refused too.
  os::SeccompFilter ctx_{SCMP_ACT_ERRNO(EPERM)};
};

struct NamedSyscall {
  int nr;
  const char* name;
};

#define CJS_SYSCALL(name) \
  NamedSyscall { __NR_##name, #name }

// The allow-list: what CPython 3.11 and the sandbox's packages were measured
// to call (strace of test/measure/seccomp_workload.py, the integration and
// attack suites and the api suite under the filter in log mode; the table
// in docs/security.md 3.8 says which workload needed which group). Calls
// with argument rules (socket, clone, execveat, ioctl, personality) are in
// add_rules().
constexpr NamedSyscall kAllowed[] = {
    // Start-up: the loader and libc's thread and rseq registration.
    CJS_SYSCALL(brk),
    CJS_SYSCALL(arch_prctl),
    CJS_SYSCALL(set_tid_address),
    CJS_SYSCALL(set_robust_list),
    CJS_SYSCALL(rseq),
    CJS_SYSCALL(prlimit64),
    CJS_SYSCALL(getrandom),
    CJS_SYSCALL(uname),
    // prctl: the exec lock's PR_SET_NO_NEW_PRIVS and PR_SET_SECCOMP
    // (jail/exec_lock.c) and thread names.
    CJS_SYSCALL(prctl),
    // Memory.
    CJS_SYSCALL(mmap),
    CJS_SYSCALL(munmap),
    CJS_SYSCALL(mprotect),
    CJS_SYSCALL(mremap),
    CJS_SYSCALL(madvise),
    CJS_SYSCALL(msync),
    // Descriptors and file I/O.
    CJS_SYSCALL(read),
    CJS_SYSCALL(write),
    CJS_SYSCALL(readv),
    CJS_SYSCALL(writev),
    CJS_SYSCALL(pread64),
    CJS_SYSCALL(pwrite64),
    CJS_SYSCALL(lseek),
    CJS_SYSCALL(close),
    CJS_SYSCALL(close_range),
    CJS_SYSCALL(dup),
    CJS_SYSCALL(dup2),
    CJS_SYSCALL(dup3),
    CJS_SYSCALL(fcntl),
    CJS_SYSCALL(flock),
    CJS_SYSCALL(fsync),
    CJS_SYSCALL(fdatasync),
    CJS_SYSCALL(ftruncate),
    CJS_SYSCALL(sendfile),
    // Paths: lookups and metadata (Landlock decides what may be opened).
    CJS_SYSCALL(openat),
    CJS_SYSCALL(open),
    CJS_SYSCALL(newfstatat),
    CJS_SYSCALL(fstat),
    CJS_SYSCALL(stat),
    CJS_SYSCALL(lstat),
    CJS_SYSCALL(statx),
    CJS_SYSCALL(access),
    CJS_SYSCALL(faccessat),
    CJS_SYSCALL(faccessat2),
    CJS_SYSCALL(readlink),
    CJS_SYSCALL(readlinkat),
    CJS_SYSCALL(getdents64),
    CJS_SYSCALL(getcwd),
    CJS_SYSCALL(chdir),
    CJS_SYSCALL(fchdir),
    CJS_SYSCALL(umask),
    // Paths: changes, which Landlock confines to tmp/.
    CJS_SYSCALL(mkdir),
    CJS_SYSCALL(mkdirat),
    CJS_SYSCALL(rmdir),
    CJS_SYSCALL(unlink),
    CJS_SYSCALL(unlinkat),
    CJS_SYSCALL(rename),
    CJS_SYSCALL(renameat),
    CJS_SYSCALL(renameat2),
    CJS_SYSCALL(link),
    CJS_SYSCALL(linkat),
    CJS_SYSCALL(symlink),
    CJS_SYSCALL(symlinkat),
    CJS_SYSCALL(chmod),
    CJS_SYSCALL(fchmod),
    CJS_SYSCALL(fchmodat),
    CJS_SYSCALL(fchown),
    CJS_SYSCALL(utimensat),
    CJS_SYSCALL(truncate),
    // os.mkfifo (the integration suite plants FIFOs); device nodes need
    // CAP_MKNOD, and every mount of the view is nodev.
    CJS_SYSCALL(mknod),
    CJS_SYSCALL(mknodat),
    // Threads and processes (clone: see add_rules).
    CJS_SYSCALL(futex),
    CJS_SYSCALL(gettid),
    CJS_SYSCALL(sched_getaffinity),
    CJS_SYSCALL(sched_yield),
    CJS_SYSCALL(vfork),
    CJS_SYSCALL(wait4),
    CJS_SYSCALL(waitid),
    CJS_SYSCALL(exit),
    CJS_SYSCALL(exit_group),
    CJS_SYSCALL(getpid),
    CJS_SYSCALL(getppid),
    CJS_SYSCALL(getpgrp),
    CJS_SYSCALL(getpgid),
    CJS_SYSCALL(setpgid),
    CJS_SYSCALL(getsid),
    CJS_SYSCALL(setsid),
    CJS_SYSCALL(getuid),
    CJS_SYSCALL(geteuid),
    CJS_SYSCALL(getgid),
    CJS_SYSCALL(getegid),
    CJS_SYSCALL(getresuid),
    CJS_SYSCALL(getresgid),
    CJS_SYSCALL(getgroups),
    CJS_SYSCALL(getrusage),
    CJS_SYSCALL(times),
    // Signals.
    CJS_SYSCALL(rt_sigaction),
    CJS_SYSCALL(rt_sigprocmask),
    CJS_SYSCALL(rt_sigreturn),
    CJS_SYSCALL(restart_syscall),  // the kernel's resumption of a sleep a signal interrupted
    CJS_SYSCALL(rt_sigsuspend),
    CJS_SYSCALL(rt_sigtimedwait),
    CJS_SYSCALL(rt_sigpending),
    CJS_SYSCALL(sigaltstack),
    CJS_SYSCALL(kill),
    CJS_SYSCALL(tgkill),
    CJS_SYSCALL(tkill),
    CJS_SYSCALL(pause),
    CJS_SYSCALL(alarm),
    CJS_SYSCALL(setitimer),
    CJS_SYSCALL(getitimer),
    // Time.
    CJS_SYSCALL(clock_gettime),
    CJS_SYSCALL(clock_getres),
    CJS_SYSCALL(clock_nanosleep),
    CJS_SYSCALL(nanosleep),
    CJS_SYSCALL(gettimeofday),
    CJS_SYSCALL(time),
    // Pipes, polling and AF_UNIX sockets (socket(): see add_rules).
    CJS_SYSCALL(pipe),
    CJS_SYSCALL(pipe2),
    CJS_SYSCALL(poll),
    CJS_SYSCALL(ppoll),
    CJS_SYSCALL(select),
    CJS_SYSCALL(pselect6),
    CJS_SYSCALL(epoll_create1),
    CJS_SYSCALL(epoll_ctl),
    CJS_SYSCALL(epoll_wait),
    CJS_SYSCALL(epoll_pwait),
    CJS_SYSCALL(connect),
    CJS_SYSCALL(bind),
    CJS_SYSCALL(listen),
    CJS_SYSCALL(accept4),
    CJS_SYSCALL(sendto),
    CJS_SYSCALL(recvfrom),
    CJS_SYSCALL(sendmsg),
    CJS_SYSCALL(recvmsg),
    CJS_SYSCALL(sendmmsg),
    CJS_SYSCALL(shutdown),
    CJS_SYSCALL(getsockname),
    CJS_SYSCALL(getpeername),
    CJS_SYSCALL(getsockopt),
    CJS_SYSCALL(setsockopt),
    // SysV IPC, private to the run's own IPC namespace (attack 39 checks
    // that it works there and does not cross runs).
    CJS_SYSCALL(shmget),
    CJS_SYSCALL(shmat),
    CJS_SYSCALL(shmdt),
    CJS_SYSCALL(shmctl),
    CJS_SYSCALL(semget),
    CJS_SYSCALL(semop),
    CJS_SYSCALL(semtimedop),
    CJS_SYSCALL(semctl),
    CJS_SYSCALL(msgget),
    CJS_SYSCALL(msgsnd),
    CJS_SYSCALL(msgrcv),
    CJS_SYSCALL(msgctl),
};

// Calls that programs try first and fall back from only on ENOSYS ("the
// kernel has no such call"), which EPERM would not trigger.
constexpr NamedSyscall kFallbackEnosys[] = {
    // Its flags live in memory, out of BPF's reach; glibc falls back to
    // clone(), whose flags are checked.
    CJS_SYSCALL(clone3),
    // glibc >= 2.39 tries these before the older call.
    CJS_SYSCALL(fchmodat2),
    CJS_SYSCALL(openat2),
    CJS_SYSCALL(epoll_pwait2),
    // Python's asyncio probes pidfd support before using waitpid().
    CJS_SYSCALL(pidfd_open),
    CJS_SYSCALL(pidfd_send_signal),
};

#undef CJS_SYSCALL

// clone() flags that create namespaces; a clone with any of them is refused.
constexpr scmp_datum_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                         CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;

// ioctl requests allowed (the kernel reads the request as 32 bits, so only
// those are compared): what CPython's io, os and subprocess modules issue.
// TIOCSTI and TIOCLINUX, which push input into a terminal, are not among them.
constexpr scmp_datum_t kAllowedIoctls[] = {
    0x5401,  // TCGETS: isatty()
    0x5413,  // TIOCGWINSZ: os.get_terminal_size()
    0x541B,  // FIONREAD
    0x5421,  // FIONBIO
    0x5450,  // FIONCLEX
    0x5451,  // FIOCLEX
};

void add_rules(Filter& f) {
  const std::uint32_t allow = SCMP_ACT_ALLOW;
  const std::uint32_t eacces = SCMP_ACT_ERRNO(EACCES);

  for (const NamedSyscall& s : kAllowed) f.add(allow, s.nr, s.name);
  for (const NamedSyscall& s : kFallbackEnosys) f.add(SCMP_ACT_ERRNO(ENOSYS), s.nr, s.name);

  // Sockets: AF_UNIX only (the whole 64-bit argument must be AF_UNIX, so
  // junk in the upper half is refused too). EACCES is what AppArmor gave.
  f.add(allow, __NR_socket, SCMP_A0(SCMP_CMP_EQ, AF_UNIX), "socket");
  f.add(eacces, __NR_socket, SCMP_A0(SCMP_CMP_NE, AF_UNIX), "socket");
  f.add(allow, __NR_socketpair, SCMP_A0(SCMP_CMP_EQ, AF_UNIX), "socketpair");
  f.add(eacces, __NR_socketpair, SCMP_A0(SCMP_CMP_NE, AF_UNIX), "socketpair");

  // fork() and threads; a clone with any namespace flag falls to EPERM.
  f.add(allow, __NR_clone, SCMP_A0(SCMP_CMP_MASKED_EQ, kNamespaceFlags, 0), "clone");

  for (scmp_datum_t request : kAllowedIoctls) {
    f.add(allow, __NR_ioctl, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU, request), "ioctl");
  }

  // personality(): only 0 (PER_LINUX) and 0xffffffff (query), of the 32
  // bits the kernel reads.
  f.add(allow, __NR_personality, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffU, 0), "personality");
  f.add(allow, __NR_personality, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffU, 0xffffffffU),
        "personality");

  // Exec: only execveat(kInterpreterExecFd, "", ..., AT_EMPTY_PATH). Which
  // file that descriptor may run is Landlock's job (EXECUTE is granted on the
  // interpreter only). Every other exec reads EACCES, as under AppArmor.
  f.add(eacces, __NR_execve, "execve");
  f.add(allow, __NR_execveat, SCMP_A0(SCMP_CMP_EQ, kInterpreterExecFd),
        SCMP_A4(SCMP_CMP_EQ, AT_EMPTY_PATH), "execveat");
  f.add(eacces, __NR_execveat, SCMP_A0(SCMP_CMP_NE, kInterpreterExecFd), "execveat fd");
  f.add(eacces, __NR_execveat, SCMP_A4(SCMP_CMP_NE, AT_EMPTY_PATH), "execveat flags");
}

// libseccomp 2.5.4 emits, for an x86_64-only filter, "nr >= 0x40000000 and
// nr != -1 -> bad-arch action" right after the arch check, which kills x32
// calls. It is not in the PFC listing, so check the BPF itself and refuse to
// run if a libseccomp version ever stops doing it.
bool has_x32_check(const std::vector<sock_filter>& prog) {
  for (const sock_filter& insn : prog) {
    if (insn.code == (BPF_JMP | BPF_JGE | BPF_K) && insn.k == kX32SyscallBit) return true;
  }
  return false;
}

std::vector<sock_filter> export_bpf(const Filter& f) {
  int fd = memfd_create("cjs-seccomp", MFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
  std::vector<sock_filter> prog;
  try {
    Filter::check(seccomp_export_bpf(f.get(), fd), "export");
    struct stat st;
    if (fstat(fd, &st) != 0) throw std::runtime_error("seccomp: fstat of the export failed");
    auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0 || size % sizeof(sock_filter) != 0) {
      throw std::runtime_error("seccomp: exported program has a bad size");
    }
    prog.resize(size / sizeof(sock_filter));
    auto* out = reinterpret_cast<char*>(prog.data());
    std::size_t done = 0;
    while (done < size) {
      ssize_t n = pread(fd, out + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("seccomp: reading the export failed");
      done += static_cast<std::size_t>(n);
    }
  } catch (...) {
    close(fd);
    throw;
  }
  close(fd);
  return prog;
}

}  // namespace

SeccompProgram build_sandbox_seccomp() {
  Filter f;
  // Any other ABI (i386 int 0x80, x32) would bypass rules keyed on x86_64
  // syscall numbers: kill the whole process.
  Filter::check(seccomp_attr_set(f.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
                "bad-arch action");
  add_rules(f);
  SeccompProgram program{export_bpf(f)};
  if (program.instructions.size() > BPF_MAXINSNS) {
    throw std::runtime_error("seccomp: program exceeds BPF_MAXINSNS");
  }
  if (!has_x32_check(program.instructions)) {
    throw std::runtime_error("seccomp: libseccomp did not emit the x32 syscall check");
  }
  return program;
}

int apply_seccomp(const SeccompProgram& program) {
  if (program.instructions.empty() || program.instructions.size() > BPF_MAXINSNS) return EINVAL;
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.instructions.size());
  fprog.filter = const_cast<sock_filter*>(program.instructions.data());
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0) return errno;
  return 0;
}

}  // namespace cjs::jail
