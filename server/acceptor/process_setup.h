// What the acceptor process does to itself before it serves: give up every
// privilege, and make room for its connections.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace cjs::server {

// Switches to `uid`/`gid` when given (started as root), with no
// supplementary groups, no capabilities left (effective, permitted,
// inheritable, bounding), and not dumpable. False with `error` set.
bool drop_to_service_account(std::optional<uid_t> uid, std::optional<gid_t> gid,
                             std::string& error);

// Raises the soft open-file limit to the hard one, warning when it is still
// below `max_connections` plus headroom (accept then backs off on EMFILE).
void raise_open_file_limit(int max_connections);

// Request bodies (up to max_body_bytes, e.g. a 2 MiB python_lib.zip) are
// single large allocations. A fixed mmap threshold keeps them mmapped, so
// freeing one returns it to the kernel; glibc's default threshold grows
// after the first such free and the heap then keeps the peak for good.
void keep_large_allocations_mmapped();

}  // namespace cjs::server
