// The Landlock system calls, which glibc does not wrap, and the UAPI
// constants and structures newer than Debian 12's headers. No policy here:
// jail/landlock.h decides what a run may touch, os/egress_lock.h what the
// service may connect to.
#pragma once

#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

// Debian 12's linux-libc-dev (6.1) stops at ABI 2; these come from the
// upstream UAPI and were checked against the running kernel (an unknown bit
// makes landlock_create_ruleset fail with EINVAL).
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // ABI 5
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)  // ABI 4
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)  // ABI 4
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)  // ABI 6
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)  // ABI 6
#endif

namespace cjs::os {

// struct landlock_ruleset_attr as of ABI 6. The system header's copy only has
// the first field; the kernel accepts a prefix of it (the size passed says
// which fields are there).
struct LandlockRulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;  // ABI 4
  std::uint64_t scoped;              // ABI 6
};

// The kernel's Landlock ABI version; < 0 with errno set (ENOSYS: not built,
// EOPNOTSUPP: disabled).
inline long landlock_abi() {
  return syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
}

// A ruleset from the first `size` bytes of `attr`; its fd, or -1 with errno.
inline int landlock_create_ruleset(const LandlockRulesetAttr& attr, std::size_t size) {
  return static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0U));
}

// 0, or -1 with errno.
inline int landlock_add_path_rule(int ruleset_fd, const landlock_path_beneath_attr& attr) {
  return static_cast<int>(
      syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0U));
}

// Confines the calling thread (and its future children); 0, or -1 with errno.
inline int landlock_restrict_self(int ruleset_fd) {
  return static_cast<int>(syscall(SYS_landlock_restrict_self, ruleset_fd, 0U));
}

}  // namespace cjs::os
