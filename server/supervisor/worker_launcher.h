// The one way the supervisor starts the worker binary (codejail-worker), for
// a jail worker and for the startup probe run alike: fork and exec with the
// configuration snapshot as a sealed memfd at fd 4, the given descriptors
// placed, every other descriptor (from 3 up) closed, no signal blocked, and
// the environment minus systemd's notification variables (workers never talk
// to systemd: systemd_notify.h). It is SIGKILLed when the supervisor dies.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace cjs::server {

// Where the worker finds its configuration (`--config-fd 4`).
inline constexpr int kWorkerConfigFd = 4;

struct WorkerLaunch {
  std::vector<std::string> args;  // after argv[0]; `--config-fd 4` is appended
  std::string config_text;        // the snapshot the worker parses
  // {descriptor here, number in the worker}; numbers other than 4.
  std::vector<std::pair<int, int>> fds;
};

class WorkerLauncher {
 public:
  explicit WorkerLauncher(std::string binary) : binary_(std::move(binary)) {}

  // The child's pid, or -1 with `error` set. The caller keeps (and closes)
  // its descriptors; the child has its own copies.
  pid_t launch(const WorkerLaunch& launch, std::string& error) const;

 private:
  std::string binary_;
};

}  // namespace cjs::server
