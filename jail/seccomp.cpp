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

// New mount API call from Linux 6.15, newer than Debian 12's headers.
#ifndef __NR_open_tree_attr
#define __NR_open_tree_attr 467
#endif

namespace cjs::jail {
namespace {

// seccomp sees the full syscall number, so an x32 call is nr | this bit.
constexpr unsigned kX32SyscallBit = 0x40000000U;

constexpr scmp_datum_t kTiocsti = 0x5412;    // push a byte into a tty's input queue
constexpr scmp_datum_t kTioclinux = 0x541C;  // console selection paste: same effect

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

  static void check(int rc, const char* what) {
    if (rc < 0) {
      throw std::runtime_error(std::string("seccomp: ") + what + ": " + std::strerror(-rc));
    }
  }

 private:
  os::SeccompFilter ctx_{SCMP_ACT_ALLOW};
};

struct NamedSyscall {
  int nr;
  const char* name;
};

#define CJS_SYSCALL(name) \
  NamedSyscall { __NR_##name, #name }

// Escape and kernel-attack surface a Python exercise never needs: EPERM, as
// the kernel answers an unprivileged caller.
constexpr NamedSyscall kDeniedEperm[] = {
    // Other processes' memory and descriptors.
    CJS_SYSCALL(ptrace),
    CJS_SYSCALL(process_vm_readv),
    CJS_SYSCALL(process_vm_writev),
    CJS_SYSCALL(pidfd_getfd),
    CJS_SYSCALL(kcmp),
    CJS_SYSCALL(process_madvise),
    // Mounts, old and new API, and changing root.
    CJS_SYSCALL(mount),
    CJS_SYSCALL(umount2),
    CJS_SYSCALL(pivot_root),
    CJS_SYSCALL(chroot),
    CJS_SYSCALL(fsopen),
    CJS_SYSCALL(fsconfig),
    CJS_SYSCALL(fsmount),
    CJS_SYSCALL(fspick),
    CJS_SYSCALL(move_mount),
    CJS_SYSCALL(open_tree),
    CJS_SYSCALL(open_tree_attr),
    CJS_SYSCALL(mount_setattr),
    // Namespaces (clone with namespace flags is handled separately).
    CJS_SYSCALL(unshare),
    CJS_SYSCALL(setns),
    // Keyrings, shared across executions of the same uid.
    CJS_SYSCALL(keyctl),
    CJS_SYSCALL(add_key),
    CJS_SYSCALL(request_key),
    // Large kernel attack surface.
    CJS_SYSCALL(bpf),
    CJS_SYSCALL(perf_event_open),
    CJS_SYSCALL(userfaultfd),
    // Anonymous files: an exec route that no path rule covers, and memory
    // outside the tmpfs cap.
    CJS_SYSCALL(memfd_create),
    CJS_SYSCALL(memfd_secret),
    CJS_SYSCALL(io_uring_setup),
    CJS_SYSCALL(io_uring_enter),
    CJS_SYSCALL(io_uring_register),
    // Host administration.
    CJS_SYSCALL(kexec_load),
    CJS_SYSCALL(kexec_file_load),
    CJS_SYSCALL(init_module),
    CJS_SYSCALL(finit_module),
    CJS_SYSCALL(delete_module),
    CJS_SYSCALL(acct),
    CJS_SYSCALL(swapon),
    CJS_SYSCALL(swapoff),
    CJS_SYSCALL(reboot),
    CJS_SYSCALL(syslog),
    CJS_SYSCALL(open_by_handle_at),
    CJS_SYSCALL(quotactl),
    CJS_SYSCALL(quotactl_fd),
};

#undef CJS_SYSCALL

// clone() flags that create namespaces; any of them is refused.
constexpr scmp_datum_t kNamespaceFlags[] = {
    CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

void add_rules(Filter& f) {
  const std::uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  const std::uint32_t eacces = SCMP_ACT_ERRNO(EACCES);

  // Sockets: AF_UNIX only (the whole 64-bit argument must be AF_UNIX, so
  // junk in the upper half is refused too). EACCES is what AppArmor gave.
  f.add(eacces, __NR_socket, SCMP_A0(SCMP_CMP_NE, AF_UNIX), "socket");
  f.add(eacces, __NR_socketpair, SCMP_A0(SCMP_CMP_NE, AF_UNIX), "socketpair");

  for (const NamedSyscall& s : kDeniedEperm) f.add(eperm, s.nr, s.name);

  // One rule per flag: libseccomp has no "masked != 0", and rules OR together.
  for (scmp_datum_t flag : kNamespaceFlags) {
    f.add(eperm, __NR_clone, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag), "clone");
  }
  // clone3 passes its flags in memory, out of BPF's reach; ENOSYS makes glibc
  // fall back to clone(), whose flags are checked above.
  f.add(SCMP_ACT_ERRNO(ENOSYS), __NR_clone3, "clone3");

  // The kernel reads the request as 32 bits, so compare only those: a
  // 0x100005412 request is still TIOCSTI.
  f.add(eperm, __NR_ioctl, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU, kTiocsti), "ioctl TIOCSTI");
  f.add(eperm, __NR_ioctl, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU, kTioclinux), "ioctl TIOCLINUX");

  // personality(): only 0 (PER_LINUX) and 0xffffffff (query) of the 32 bits
  // the kernel reads. libseccomp allows one comparison per argument per rule,
  // so: any other value has some bit i set with bit i+1 (mod 32) clear, and
  // there is one rule per i.
  for (unsigned i = 0; i < 32; ++i) {
    scmp_datum_t bit = scmp_datum_t{1} << i;
    scmp_datum_t next = scmp_datum_t{1} << ((i + 1) % 32);
    f.add(eperm, __NR_personality, SCMP_A0(SCMP_CMP_MASKED_EQ, bit | next, bit), "personality");
  }

  // Exec: only execveat(kInterpreterExecFd, "", ..., AT_EMPTY_PATH). Which
  // file that descriptor may run is Landlock's job (EXECUTE is granted on the
  // interpreter only).
  f.add(eacces, __NR_execve, "execve");
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
