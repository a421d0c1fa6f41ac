// Putting a descriptor at a given number for a program about to be exec'd.
// Async-signal-safe: usable between fork and exec.
#pragma once

namespace cjs::os {

// Makes `fd` available as `target` across exec: dup2 (the copy has no
// close-on-exec), or, when it is there already, clears its close-on-exec
// flag. False with errno set on failure.
bool place_fd(int fd, int target);

}  // namespace cjs::os
