// seccomp layer: a BPF filter (built with libseccomp before fork, loaded in
// the child as the very last step before exec). It is an allow-list: the
// system calls CPython and the sandbox's packages were measured to need
// (docs/security.md 3.8 has the table); every other call, including any a
// newer kernel adds, fails with EPERM. Within the list:
//  - socket()/socketpair() create AF_UNIX sockets only, EACCES otherwise;
//  - clone() without namespace flags; clone3 and a few newer calls that
//    libc and Python fall back from get ENOSYS;
//  - ioctl() with the few requests CPython issues (TCGETS, TIOCGWINSZ,
//    FIONREAD, FIONBIO, FIOCLEX, FIONCLEX; low 32 bits compared), so not
//    TIOCSTI or TIOCLINUX;
//  - personality() only to query or to set PER_LINUX;
//  - exactly one exec: execveat() of the interpreter through the fixed
//    descriptor kInterpreterExecFd with AT_EMPTY_PATH; execve() and every
//    other exec get EACCES. The descriptor is close-on-exec and lies above
//    the sandbox's hard RLIMIT_NOFILE (kSandboxMaxOpenFiles), so once the
//    interpreter runs no process in the sandbox can create it again: the
//    one allowed exec cannot be reused;
//  - any non-native syscall ABI (i386 int 0x80, x32) kills the process.
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
