// seccomp layer: a BPF filter (built with libseccomp before fork, loaded in
// the child as the very last step before exec) that
//  - lets socket()/socketpair() create AF_UNIX sockets only, EACCES otherwise;
//  - denies the kernel-attack and escape surface with EPERM: ptrace,
//    process_vm_*, mount family and new mount API, pivot_root, chroot,
//    unshare, setns, clone/clone3 with namespace flags, keyctl, add_key,
//    request_key, bpf, perf_event_open, userfaultfd, io_uring_*, kexec_*,
//    module loading, personality changes, acct, swapon/off, reboot, syslog,
//    open_by_handle_at, quotactl, ioctl TIOCSTI (low 32 bits of the request);
//  - allows exactly one exec: execveat() of the interpreter through the
//    fixed descriptor kInterpreterExecFd with AT_EMPTY_PATH; execve() and
//    every other exec get EACCES. The descriptor is close-on-exec and lies
//    above the sandbox's hard RLIMIT_NOFILE (kSandboxMaxOpenFiles), so once
//    the interpreter runs no process in the sandbox can create it again:
//    the one allowed exec cannot be reused;
//  - kills the process for any non-native syscall ABI (i386 int 0x80, x32).
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

namespace cjs::jail {

// The descriptor number through which the interpreter is executed, and the
// sandbox's open-file limit, which must stay below it (see above).
inline constexpr int kInterpreterExecFd = 1023;
inline constexpr int kSandboxMaxOpenFiles = 256;
static_assert(kSandboxMaxOpenFiles <= kInterpreterExecFd);

struct SeccompProgram {
  std::vector<sock_filter> instructions;
};

// Throws std::runtime_error if libseccomp fails.
SeccompProgram build_sandbox_seccomp();

// Loads the program for the calling thread (no_new_privs must be set).
// Async-signal-safe. Returns 0 or an errno.
int apply_seccomp(const SeccompProgram& program);

}  // namespace cjs::jail
