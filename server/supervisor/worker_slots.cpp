#include "server/supervisor/worker_slots.h"

#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "common/log.h"
#include "server/control_channel.h"

namespace cjs::server {

long WorkerSlots::max_requests_with_jitter(const Config& settings) {
  if (settings.max_requests == 0) return 0;
  unsigned int r = 0;
  // Without randomness (a failed getrandom) there is no jitter.
  if (settings.max_requests_jitter > 0 &&
      getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
    r = 0;
  return settings.max_requests +
         (settings.max_requests_jitter > 0 ? r % (settings.max_requests_jitter + 1) : 0);
}

void WorkerSlots::start(int slot, const ServiceConfig& config) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    log::error("cannot prepare a worker", {{"error", std::string(strerror(errno))}});
    return;
  }
  const WorkerLaunch launch{{"--fd", "3", "--slot", std::to_string(slot), "--max-requests",
                             std::to_string(max_requests_with_jitter(config.settings()))},
                            config.worker_text(),
                            {{pair[1], 3}}};
  std::string error;
  const pid_t pid = launcher_.launch(launch, error);
  close(pair[1]);
  if (pid < 0) {
    log::error("cannot start a worker", {{"error", error}});
    close(pair[0]);
    return;
  }
  workers_[pid] = Worker{slot, Clock::now()};
  if (!send_control(control_fd_, {ControlMessage::kWorker, slot, pair[0]})) {
    log::error("cannot hand a worker to the acceptor");
  }
  close(pair[0]);
}

void WorkerSlots::close_control_fd() {
  if (control_fd_ >= 0) close(control_fd_);
  control_fd_ = -1;
}

void WorkerSlots::kill_all() {
  for (auto& [pid, worker] : workers_) {
    worker.killed = true;
    kill(pid, SIGKILL);
  }
}

bool WorkerSlots::kill_given_up(pid_t pid, int slot) {
  auto it = workers_.find(pid);
  if (it == workers_.end() || it->second.slot != slot) return false;
  log::error("killing a worker that missed its answer deadline",
             {{"slot", log::number(static_cast<long long>(slot))},
              {"worker_pid", log::number(static_cast<long long>(pid))}});
  it->second.killed = true;
  kill(pid, SIGKILL);
  return true;
}

bool WorkerSlots::on_exit(pid_t pid, int status, const ServiceConfig* replacement) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return false;
  const Worker worker = it->second;
  workers_.erase(it);
  if (replacement == nullptr) return true;
  const bool clean = worker.killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (!clean) {
    log::error("worker died", {{"slot", log::number(static_cast<long long>(worker.slot))},
                               {"worker_pid", log::number(static_cast<long long>(pid))},
                               {"status", log::number(static_cast<long long>(status))}});
    // A worker that cannot even start would otherwise respawn in a tight
    // loop: slow down.
    if (Clock::now() - worker.started < std::chrono::seconds(1)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  start(worker.slot, *replacement);
  return true;
}

void WorkerSlots::stop(std::chrono::seconds grace) {
  const auto deadline = Clock::now() + grace;
  while (!workers_.empty() && Clock::now() < deadline) {
    int status;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      workers_.erase(pid);
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& [pid, worker] : workers_) kill(pid, SIGKILL);
  while (waitpid(-1, nullptr, 0) > 0) {
  }
  workers_.clear();
}

}  // namespace cjs::server
