// The jail workers, one per slot: each started with the configuration current
// at its start (its max_requests drawn with the jitter then), its socket
// handed to the acceptor over the control channel, and replaced when it
// exits, whether it recycled or died.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>

#include "server/service_config.h"
#include "server/supervisor/worker_launcher.h"

namespace cjs::server {

class WorkerSlots {
 public:
  WorkerSlots(const WorkerLauncher& launcher, int control_fd)
      : launcher_(launcher), control_fd_(control_fd) {}

  // The acceptor's end of a new control channel (a restarted acceptor); the
  // old one is closed first (close_control_fd).
  void set_control_fd(int control_fd) { control_fd_ = control_fd; }
  void close_control_fd();

  // SIGKILLs every worker; each is replaced when it is reaped (on_exit),
  // without the error log and backoff of a worker that died by itself.
  void kill_all();

  // The acceptor gave up on the worker `pid` of `slot`: SIGKILL, if it is
  // still ours (not reaped yet, so the pid cannot have been reused); it is
  // replaced when reaped. False when it is not.
  bool kill_given_up(pid_t pid, int slot);

  int control_fd() const { return control_fd_; }

  // Starts a worker in `slot` with `config` (failures are logged).
  void start(int slot, const ServiceConfig& config);

  // A child reaped with `status`: false when it was no worker of ours. With
  // `replacement`, the slot gets a new worker on that configuration.
  bool on_exit(pid_t pid, int status, const ServiceConfig* replacement);

  // Shutdown, with the acceptor gone (so every worker's socket closed and
  // they exit on their own): waits up to `grace`, then kills the rest.
  void stop(std::chrono::seconds grace);

  // max_requests plus a random 0..max_requests_jitter; 0 stays 0 (never).
  static long max_requests_with_jitter(const Config& settings);

 private:
  using Clock = std::chrono::steady_clock;
  struct Worker {
    int slot;
    Clock::time_point started;
    bool killed = false;  // by kill_all: its end is expected
  };

  const WorkerLauncher& launcher_;
  int control_fd_;
  std::map<pid_t, Worker> workers_;
};

}  // namespace cjs::server
