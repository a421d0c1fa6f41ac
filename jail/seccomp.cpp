#include "jail/seccomp.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "os/seccomp_filter.h"

// fchmodat2 is from Linux 6.6, newer than Debian 12's headers (libseccomp's
// SCMP_SYS(fchmodat2) expands to this). Calls from 424 on have one number on
// x86_64 and aarch64 alike.
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

namespace cjs::jail {
namespace {

// seccomp sees the full syscall number, so an x32 call is nr | this bit.
constexpr unsigned kX32SyscallBit = 0x40000000U;

// A call as the policy names it. nr is SCMP_SYS(name): this build's number,
// or libseccomp's pseudo number where this architecture has no such call.
// libseccomp maps it by name to the filter's architecture.
struct NamedSyscall {
  int nr;
  const char* name;
};

#define CJS_SYSCALL(name) \
  NamedSyscall { SCMP_SYS(name), #name }

// os::SeccompFilter for one architecture whose failures throw, naming the
// rule. Calls the architecture lacks are left out (and listed in absent()).
class Filter {
 public:
  explicit Filter(std::uint32_t arch) : arch_(arch) {
    if (!ctx_) throw std::runtime_error("seccomp_init failed");
    // A foreign architecture replaces the native one; the native filter is
    // left exactly as seccomp_init made it.
    if (arch != kSeccompNativeArch) {
      check(seccomp_arch_add(ctx_.get(), arch), "adding the architecture");
      check(seccomp_arch_remove(ctx_.get(), SCMP_ARCH_NATIVE), "removing the native architecture");
    }
  }

  scmp_filter_ctx get() const { return ctx_.get(); }
  const std::vector<std::string>& absent() const { return absent_; }

  void add(std::uint32_t action, NamedSyscall s) {
    if (present(s)) check(ctx_.add(action, s.nr), s.name);
  }
  void add(std::uint32_t action, NamedSyscall s, scmp_arg_cmp cmp) {
    if (present(s)) check(ctx_.add(action, s.nr, cmp), s.name);
  }
  void add(std::uint32_t action, NamedSyscall s, scmp_arg_cmp a, scmp_arg_cmp b) {
    if (present(s)) check(ctx_.add(action, s.nr, a, b), s.name);
  }

  static void check(int rc, const char* what) {
    if (rc < 0) {
      throw std::runtime_error(std::string("seccomp: ") + what + ": " + std::strerror(-rc));
    }
  }

 private:
  // libseccomp gives a pseudo number (< 0) for a call it knows but this
  // architecture lacks, and __NR_SCMP_ERROR for a name it does not know. An
  // unknown name still works natively (by this build's number), but cannot
  // be mapped to another architecture.
  bool present(NamedSyscall s) {
    const int nr = seccomp_syscall_resolve_name_arch(arch_, s.name);
    if (nr == __NR_SCMP_ERROR) {
      if (arch_ == kSeccompNativeArch && s.nr >= 0) return true;
      throw std::runtime_error(std::string("seccomp: libseccomp does not know ") + s.name);
    }
    if (nr >= 0) return true;
    for (const std::string& name : absent_) {
      if (name == s.name) return false;
    }
    absent_.emplace_back(s.name);
    return false;
  }

  std::uint32_t arch_;
  std::vector<std::string> absent_;
  // Every call not allowed below is refused with EPERM, as the kernel
  // answers an unprivileged caller; calls a newer kernel adds are refused too.
  os::SeccompFilter ctx_{SCMP_ACT_ERRNO(EPERM)};
};

// The allow-list: what CPython 3.11 and the sandbox's packages were measured
// to call (strace of test/measure/seccomp_workload.py, the integration and
// attack suites and the api suite under the filter in log mode; the table
// in docs/security.md 3.8 says which workload needed which group). Calls
// with argument rules (socket, clone, execveat, ioctl, personality) are in
// add_rules(). The old calls aarch64 lacks (open, stat, access, pipe, poll,
// dup2, vfork, ...) are left out of its program; each one's *at or newer
// form is here too, and test/unit/jail/test_seccomp_arch.cpp checks that.
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

constexpr NamedSyscall kSocket = CJS_SYSCALL(socket);
constexpr NamedSyscall kSocketpair = CJS_SYSCALL(socketpair);
constexpr NamedSyscall kClone = CJS_SYSCALL(clone);
constexpr NamedSyscall kIoctl = CJS_SYSCALL(ioctl);
constexpr NamedSyscall kPersonality = CJS_SYSCALL(personality);
constexpr NamedSyscall kExecve = CJS_SYSCALL(execve);
constexpr NamedSyscall kExecveat = CJS_SYSCALL(execveat);

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
// x86_64 and aarch64 both use the generic tty ioctl numbers.
static_assert(TCGETS == 0x5401 && TIOCGWINSZ == 0x5413 && FIONREAD == 0x541B && FIONBIO == 0x5421 &&
              FIONCLEX == 0x5450 && FIOCLEX == 0x5451);

void add_rules(Filter& f) {
  const std::uint32_t allow = SCMP_ACT_ALLOW;
  const std::uint32_t eacces = SCMP_ACT_ERRNO(EACCES);

  for (const NamedSyscall& s : kAllowed) f.add(allow, s);
  for (const NamedSyscall& s : kFallbackEnosys) f.add(SCMP_ACT_ERRNO(ENOSYS), s);

  // Sockets: AF_UNIX only (the whole 64-bit argument must be AF_UNIX, so
  // junk in the upper half is refused too). EACCES is what AppArmor gave.
  f.add(allow, kSocket, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
  f.add(eacces, kSocket, SCMP_A0(SCMP_CMP_NE, AF_UNIX));
  f.add(allow, kSocketpair, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
  f.add(eacces, kSocketpair, SCMP_A0(SCMP_CMP_NE, AF_UNIX));

  // fork() and threads; a clone with any namespace flag falls to EPERM. The
  // flags are the first argument on both architectures.
  f.add(allow, kClone, SCMP_A0(SCMP_CMP_MASKED_EQ, kNamespaceFlags, 0));

  for (scmp_datum_t request : kAllowedIoctls) {
    f.add(allow, kIoctl, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU, request));
  }

  // personality(): only 0 (PER_LINUX) and 0xffffffff (query), of the 32
  // bits the kernel reads.
  f.add(allow, kPersonality, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffU, 0));
  f.add(allow, kPersonality, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffU, 0xffffffffU));

  // Exec: only execveat(kInterpreterExecFd, "", ..., AT_EMPTY_PATH). Which
  // file that descriptor may run is Landlock's job (EXECUTE is granted on the
  // interpreter only). Every other exec reads EACCES, as under AppArmor.
  f.add(eacces, kExecve);
  f.add(allow, kExecveat, SCMP_A0(SCMP_CMP_EQ, kInterpreterExecFd),
        SCMP_A4(SCMP_CMP_EQ, AT_EMPTY_PATH));
  f.add(eacces, kExecveat, SCMP_A0(SCMP_CMP_NE, kInterpreterExecFd));
  f.add(eacces, kExecveat, SCMP_A4(SCMP_CMP_NE, AT_EMPTY_PATH));
}

// Every rule, for the filter's architecture.
void build_filter(Filter& f) {
  // Any other ABI would bypass rules keyed on this one's syscall numbers
  // (x86_64: i386 int 0x80 and x32; aarch64: AArch32 compat): kill the
  // whole process.
  Filter::check(seccomp_attr_set(f.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
                "bad-arch action");
  add_rules(f);
}

void check_arch(std::uint32_t arch) {
  if (arch != kSeccompArchX86_64 && arch != kSeccompArchAarch64) {
    throw std::invalid_argument("seccomp: the policy is written for x86_64 and aarch64 only");
  }
}

// The program opens with "load seccomp_data.arch; if it is not `arch`, kill
// the process", which is what stops every other ABI (i386 and AArch32 calls
// carry their own arch value). Checked like the x32 test below.
bool has_arch_check(const std::vector<sock_filter>& prog, std::uint32_t arch) {
  constexpr std::uint32_t kArchOffset = 4;  // offsetof(struct seccomp_data, arch)
  if (prog.size() < 2) return false;
  const sock_filter& load = prog[0];
  const sock_filter& test = prog[1];
  if (load.code != (BPF_LD | BPF_W | BPF_ABS) || load.k != kArchOffset) return false;
  if (test.code != (BPF_JMP | BPF_JEQ | BPF_K) || test.k != arch) return false;
  const std::size_t mismatch = 2 + static_cast<std::size_t>(test.jf);
  return mismatch < prog.size() && prog[mismatch].code == (BPF_RET | BPF_K) &&
         prog[mismatch].k == SECCOMP_RET_KILL_PROCESS;
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

// What libseccomp's export function writes to a descriptor (a memfd), read
// back whole.
std::string export_to_memory(const std::function<int(int)>& write_to) {
  int fd = memfd_create("cjs-seccomp", MFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
  std::string data;
  try {
    Filter::check(write_to(fd), "export");
    struct stat st;
    if (fstat(fd, &st) != 0) throw std::runtime_error("seccomp: fstat of the export failed");
    auto size = static_cast<std::size_t>(st.st_size);
    data.resize(size);
    std::size_t done = 0;
    while (done < size) {
      ssize_t n = pread(fd, data.data() + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("seccomp: reading the export failed");
      done += static_cast<std::size_t>(n);
    }
  } catch (...) {
    close(fd);
    throw;
  }
  close(fd);
  return data;
}

std::vector<sock_filter> export_bpf(const Filter& f) {
  const std::string data =
      export_to_memory([&f](int fd) { return seccomp_export_bpf(f.get(), fd); });
  if (data.empty() || data.size() % sizeof(sock_filter) != 0) {
    throw std::runtime_error("seccomp: exported program has a bad size");
  }
  std::vector<sock_filter> prog(data.size() / sizeof(sock_filter));
  std::memcpy(prog.data(), data.data(), data.size());
  return prog;
}

}  // namespace

SeccompProgram build_sandbox_seccomp() { return build_sandbox_seccomp(kSeccompNativeArch); }

SeccompProgram build_sandbox_seccomp(std::uint32_t arch) {
  check_arch(arch);
  Filter f(arch);
  build_filter(f);
  SeccompProgram program{export_bpf(f)};
  if (program.instructions.size() > BPF_MAXINSNS) {
    throw std::runtime_error("seccomp: program exceeds BPF_MAXINSNS");
  }
  if (!has_arch_check(program.instructions, arch)) {
    throw std::runtime_error("seccomp: libseccomp did not emit the architecture check");
  }
  // x32 calls carry x86_64's arch value, so they need a check of their own;
  // aarch64 has no such second ABI under its arch value.
  if (arch == kSeccompArchX86_64 && !has_x32_check(program.instructions)) {
    throw std::runtime_error("seccomp: libseccomp did not emit the x32 syscall check");
  }
  return program;
}

std::string describe_sandbox_seccomp(std::uint32_t arch) {
  check_arch(arch);
  Filter f(arch);
  build_filter(f);
  return export_to_memory([&f](int fd) { return seccomp_export_pfc(f.get(), fd); });
}

std::vector<std::string> sandbox_seccomp_absent_syscalls(std::uint32_t arch) {
  check_arch(arch);
  Filter f(arch);
  build_filter(f);
  return f.absent();
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
