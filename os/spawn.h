// Starting a program with chosen descriptors: fork, then in the child the
// descriptors placed, every other one from 3 up closed, no signal blocked,
// and exec.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cjs::os {

// How many descriptors one spawn can place (the child must not allocate).
inline constexpr std::size_t kMaxSpawnFds = 8;

struct FdPlacement {
  int fd;      // the descriptor here
  int target;  // its number in the child
};

struct SpawnRequest {
  std::string binary;             // the path given to execve
  std::vector<std::string> argv;  // argv[0] included
  char* const* envp = nullptr;    // the child's environment (null-terminated)
  std::vector<FdPlacement> fds;   // at most kMaxSpawnFds, distinct targets
  bool die_with_parent = false;   // SIGKILL when the caller dies (os/parent_death.h)
};

// The child's pid, or -1 with `error` set. The caller keeps (and closes)
// its descriptors; the child has its own copies. A child that cannot place
// its descriptors or exec exits with 127.
pid_t spawn_with_fds(const SpawnRequest& request, std::string& error);

// A sealed memfd (no write, grow, shrink or further seals) holding `text`,
// positioned at its start: what a child reads its input from. -1 with errno
// set on failure.
int sealed_memfd(const char* name, std::string_view text);

}  // namespace cjs::os
