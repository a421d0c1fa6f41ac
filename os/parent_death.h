// Dying with the parent: a child the service starts must not outlive it, or
// a restarted service (systemd) would find the old one's processes running.
#pragma once

#include <sys/types.h>

namespace cjs::os {

// In a freshly forked child: asks the kernel for SIGKILL when the parent
// (`parent`, its pid taken before the fork) dies. False when the parent is
// already gone: it died between the fork and the request, which the kernel
// would then never signal, so the caller must exit at once. Async-signal-safe.
bool die_with_parent(pid_t parent);

}  // namespace cjs::os
