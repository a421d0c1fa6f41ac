#include "os/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "os/fd_placement.h"
#include "os/parent_death.h"

namespace cjs::os {
namespace {

// In the child, before exec (no allocation): every placement made, every
// other descriptor from 3 up closed. Sources first move above every target,
// so that no placement overwrites a source still to be placed.
bool place_fds(const std::vector<FdPlacement>& fds, int top) {
  std::array<int, kMaxSpawnFds> staged{};
  for (std::size_t i = 0; i < fds.size(); ++i) {
    staged[i] = fcntl(fds[i].fd, F_DUPFD_CLOEXEC, top + 1);
    if (staged[i] < 0) return false;
  }
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (!place_fd(staged[i], fds[i].target)) return false;
  }
  for (int n = 3; n <= top; ++n) {
    if (std::none_of(fds.begin(), fds.end(), [n](const FdPlacement& p) { return p.target == n; })) {
      close(n);
    }
  }
  return close_range(static_cast<unsigned>(top) + 1, ~0U, 0) == 0;
}

}  // namespace

pid_t spawn_with_fds(const SpawnRequest& request, std::string& error) {
  if (request.fds.size() > kMaxSpawnFds) {
    error = "too many descriptors for a child";
    return -1;
  }
  int top = 2;
  for (const FdPlacement& placement : request.fds) top = std::max(top, placement.target);
  std::vector<std::string> args = request.argv;
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    if (request.die_with_parent && !die_with_parent(parent)) _exit(127);
    // A parent may block signals it reads from a signalfd; exec keeps the
    // mask, and the child needs none blocked.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!place_fds(request.fds, top)) _exit(127);
    execve(request.binary.c_str(), argv.data(), request.envp);
    _exit(127);
  }
  if (pid < 0) error = std::string("fork: ") + std::strerror(errno);
  return pid;
}

int sealed_memfd(const char* name, std::string_view text) {
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  if (!text.empty() && write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  lseek(fd, 0, SEEK_SET);
  return fd;
}

}  // namespace cjs::os
