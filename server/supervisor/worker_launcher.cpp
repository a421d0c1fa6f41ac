#include "server/supervisor/worker_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "server/systemd_notify.h"

extern char** environ;

namespace cjs::server {
namespace {

constexpr std::size_t kMaxPlacedFds = 8;

// A sealed memfd holding `text`, read from its start; -1 on failure.
int config_memfd(const std::string& text) {
  int fd = memfd_create("codejail-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  if (!text.empty() && write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  lseek(fd, 0, SEEK_SET);
  return fd;
}

// Our environment minus systemd's notification variables.
std::vector<char*> worker_environment() {
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!is_systemd_notify_variable(*e)) env.push_back(*e);
  }
  env.push_back(nullptr);
  return env;
}

// In the child, before exec (no allocation): every {fd, target} placed
// without close-on-exec, every other descriptor from 3 up closed. Sources
// first move above every target, so that no placement overwrites a source
// still to be placed.
bool place_fds(const std::vector<std::pair<int, int>>& fds, int top) {
  std::array<int, kMaxPlacedFds> staged{};
  for (std::size_t i = 0; i < fds.size(); ++i) {
    staged[i] = fcntl(fds[i].first, F_DUPFD_CLOEXEC, top + 1);
    if (staged[i] < 0) return false;
  }
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (dup2(staged[i], fds[i].second) != fds[i].second) return false;  // the copy keeps no CLOEXEC
  }
  for (int n = 3; n <= top; ++n) {
    if (std::none_of(fds.begin(), fds.end(), [n](const auto& p) { return p.second == n; })) {
      close(n);
    }
  }
  return close_range(static_cast<unsigned>(top) + 1, ~0U, 0) == 0;
}

}  // namespace

pid_t WorkerLauncher::launch(const WorkerLaunch& launch, std::string& error) const {
  if (launch.fds.size() + 1 > kMaxPlacedFds) {
    error = "too many descriptors for a worker";
    return -1;
  }
  const int config_fd = config_memfd(launch.config_text);
  if (config_fd < 0) {
    error = std::string("cannot hand over the configuration: ") + std::strerror(errno);
    return -1;
  }
  std::vector<std::pair<int, int>> fds = launch.fds;
  fds.emplace_back(config_fd, kWorkerConfigFd);
  int top = 2;
  for (const auto& placement : fds) top = std::max(top, placement.second);
  std::vector<std::string> args = launch.args;
  args.insert(args.end(), {"--config-fd", std::to_string(kWorkerConfigFd)});
  std::vector<char*> argv{const_cast<char*>("codejail-worker")};
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> env = worker_environment();

  const pid_t pid = fork();
  if (pid == 0) {
    // The supervisor blocks the signals it reads from a signalfd; exec keeps
    // the mask, and a worker needs none blocked.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!place_fds(fds, top)) _exit(127);
    execve(binary_.c_str(), argv.data(), env.data());
    _exit(127);
  }
  const int fork_errno = errno;
  close(config_fd);
  if (pid < 0) error = std::string("fork: ") + std::strerror(fork_errno);
  return pid;
}

}  // namespace cjs::server
