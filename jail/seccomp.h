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
//  - any non-native syscall ABI kills the process: on x86_64 i386 (int 0x80)
//    and x32, on aarch64 AArch32 (compat) calls.
// The policy is written for x86_64 and aarch64. Calls are named, and
// libseccomp gives each architecture its own numbers; the old calls aarch64
// never had (open, stat, pipe, ...) are left out there, its libc uses the
// *at and newer forms, which are on the list.
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cjs::jail {

// The descriptor number through which the interpreter is executed, and the
// sandbox's open-file limit, which must stay below it (see above).
inline constexpr int kInterpreterExecFd = 1023;
inline constexpr int kSandboxMaxOpenFiles = 256;
static_assert(kSandboxMaxOpenFiles <= kInterpreterExecFd);

// The architectures the policy is written for, as the kernel names them in
// seccomp_data.arch (libseccomp's SCMP_ARCH_* are the same values).
inline constexpr std::uint32_t kSeccompArchX86_64 = AUDIT_ARCH_X86_64;
inline constexpr std::uint32_t kSeccompArchAarch64 = AUDIT_ARCH_AARCH64;
#if defined(__x86_64__)
inline constexpr std::uint32_t kSeccompNativeArch = kSeccompArchX86_64;
#elif defined(__aarch64__)
inline constexpr std::uint32_t kSeccompNativeArch = kSeccompArchAarch64;
#else
#error "jail/seccomp: the sandbox policy is written for x86_64 and aarch64 only"
#endif

struct SeccompProgram {
  std::vector<sock_filter> instructions;
};

// The policy for this build's architecture. Throws std::runtime_error if
// libseccomp fails or its program lacks the foreign-ABI checks.
SeccompProgram build_sandbox_seccomp();

// The same policy for `arch` (one of the kSeccompArch* values), e.g. to
// check on x86_64 what aarch64 would load. Only the native program can be
// applied. Throws std::invalid_argument for any other architecture.
SeccompProgram build_sandbox_seccomp(std::uint32_t arch);

// libseccomp's readable listing (PFC) of the policy for `arch`: one block
// per call, named, with that architecture's number and its rules.
std::string describe_sandbox_seccomp(std::uint32_t arch);

// The calls on the list that `arch` does not have, left out of its program.
std::vector<std::string> sandbox_seccomp_absent_syscalls(std::uint32_t arch);

// Loads the program for the calling thread (no_new_privs must be set).
// Async-signal-safe. Returns 0 or an errno.
int apply_seccomp(const SeccompProgram& program);

}  // namespace cjs::jail
