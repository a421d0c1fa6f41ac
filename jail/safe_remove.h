// Removing a sandbox dir without ever following what the code planted there.
#pragma once

#include <string>

namespace cjs::jail {

// Removes `name` (a directory) inside the directory open as `parent_fd`, and
// everything below it. Symlinks are unlinked, never followed; FIFOs, sockets
// and devices are unlinked, never opened; hard links only lose a name. Works
// on arbitrarily deep trees with a bounded number of open descriptors.
// Returns false (and leaves what it could not remove) on error; `error` then
// says why.
bool remove_tree_nofollow(int parent_fd, const std::string& name, std::string& error);

}  // namespace cjs::jail
