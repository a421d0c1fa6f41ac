#include "server/supervisor/worker_launcher.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "os/spawn.h"
#include "server/systemd_notify.h"

extern char** environ;

namespace cjs::server {
namespace {

// Our environment minus systemd's notification variables.
std::vector<char*> worker_environment() {
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!is_systemd_notify_variable(*e)) env.push_back(*e);
  }
  env.push_back(nullptr);
  return env;
}

}  // namespace

pid_t WorkerLauncher::launch(const WorkerLaunch& launch, std::string& error) const {
  if (launch.fds.size() + 1 > os::kMaxSpawnFds) {
    error = "too many descriptors for a worker";
    return -1;
  }
  const int config_fd = os::sealed_memfd("codejail-config", launch.config_text);
  if (config_fd < 0) {
    error = std::string("cannot hand over the configuration: ") + std::strerror(errno);
    return -1;
  }
  os::SpawnRequest request{binary_, {"codejail-worker"}, nullptr, {}};
  // A worker (and so its run: the keeper dies with it) never outlives the
  // supervisor, so a restarted service starts clean.
  request.die_with_parent = true;
  for (const auto& [fd, target] : launch.fds) request.fds.push_back({fd, target});
  request.fds.push_back({config_fd, kWorkerConfigFd});
  request.argv.insert(request.argv.end(), launch.args.begin(), launch.args.end());
  request.argv.insert(request.argv.end(), {"--config-fd", std::to_string(kWorkerConfigFd)});
  std::vector<char*> env = worker_environment();
  request.envp = env.data();
  const pid_t pid = os::spawn_with_fds(request, error);
  close(config_fd);
  return pid;
}

}  // namespace cjs::server
