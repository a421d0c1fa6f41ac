#include "server/supervisor/supervisor.h"

#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>
#include <vector>

#include "common/log.h"
#include "os/cgroup_leaf.h"
#include "os/egress_lock.h"
#include "os/parent_death.h"
#include "server/acceptor/acceptor.h"
#include "server/control_channel.h"
#include "server/supervisor/listen_socket.h"
#include "server/supervisor/startup_probes.h"
#include "server/supervisor/worker_launcher.h"
#include "server/supervisor/worker_slots.h"
#include "server/systemd_notify.h"

namespace cjs::server {
namespace {

// Before anything forks: on a cgroup v2 host, step aside into the leaf so
// that the service's (delegated) cgroup can enable controllers for the
// sandboxes' run cgroups (os/cgroup_leaf.h).
void step_into_service_leaf() {
  os::LeafMove leaf = os::move_self_into_service_leaf();
  if (leaf.outcome == os::LeafMove::kMoved || leaf.outcome == os::LeafMove::kAlreadyInLeaf) {
    log::info("cgroup v2: the service runs in " + leaf.detail);
  } else if (leaf.outcome == os::LeafMove::kFailed) {
    log::warning(
        "cgroup v2: cannot step into the service leaf; the sandboxes' cgroup "
        "layer may be unavailable",
        {{"detail", leaf.detail}});
  }
}

void unblock_all_signals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// The names of the probes that failed, comma-separated ("" when all passed).
std::string failed_probes(const std::vector<ProbeOutcome>& probes) {
  std::string failed;
  for (const auto& p : probes) {
    if (!p.passed) failed += (failed.empty() ? "" : ", ") + p.name;
  }
  return failed;
}

class Supervisor {
 public:
  Supervisor(ServiceConfig config, SupervisorOptions options)
      : config_(std::move(config)),
        options_(std::move(options)),
        launcher_(options_.worker_binary) {}

  int run() {
    step_into_service_leaf();
    notifier_ = SystemdNotifier::from_environment();
    std::string error;
    const int listener = open_listen_socket(config_.settings().bind, error);
    if (listener < 0) {
      log::error(error);
      return 1;
    }
    // With the listener open, nothing this process or its children do needs
    // a network socket again.
    os::EgressLock lock = os::restrict_own_network();
    log::info("egress lock", {{"detail", lock.detail}});
    notifier_.notify("STATUS=running the startup probes");
    std::vector<ProbeOutcome> probes = run_startup_probes(launcher_, config_.worker_text());
    if (!report_probes(probes)) return kExitProbesFailed;
    listen_fd_ = listener;
    probes_ = std::move(probes);
    if (!start_acceptor()) return 1;
    if (!block_signals()) return 1;
    for (int slot = 0; slot < config_.settings().workers; ++slot) workers_->start(slot, config_);
    return loop();
  }

 private:
  // Logs every probe; false when the service must refuse to start: under
  // systemd a failed probe fails the start itself (READY=1 would never come).
  bool report_probes(const std::vector<ProbeOutcome>& probes) {
    for (const auto& p : probes) {
      if (p.passed) {
        log::info("Startup check '" + p.name + "' passed");
      } else {
        log::error("Startup check '" + p.name + "' failed with: " + p.reason);
      }
    }
    const std::string failed = failed_probes(probes);
    if (failed.empty()) return true;
    if (notifier_.enabled()) {
      notifier_.notify("STATUS=startup probes failed: " + failed);
      log::error("startup probes failed (" + failed + "): refusing to start",
                 {{"exit_status", log::number(static_cast<long long>(kExitProbesFailed))}});
      return false;
    }
    log::error("startup probes failed: /health/ answers 503 and code execution is refused");
    return true;
  }

  // Forks the acceptor with the listener and its end of the control channel.
  // The supervisor keeps the listener, so that a new acceptor can take over
  // the same socket (and its backlog) when one dies.
  bool start_acceptor() {
    int control[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) != 0) {
      log::error(std::string("socketpair: ") + strerror(errno));
      return false;
    }
    AcceptorSetup setup;
    setup.config = config_.settings();
    setup.listen_fd = listen_fd_;
    setup.control_fd = control[1];
    setup.probes = probes_;
    setup.notifier = notifier_;
    if (geteuid() == 0) {
      passwd* pw = getpwnam(options_.service_user.c_str());
      if (pw == nullptr) {
        log::error("the service account '" + options_.service_user +
                   "' does not exist (deploy/setup-host creates it)");
        return false;
      }
      setup.run_as_uid = pw->pw_uid;
      setup.run_as_gid = pw->pw_gid;
    }
    const pid_t supervisor = getpid();
    acceptor_pid_ = fork();
    if (acceptor_pid_ < 0) {
      log::error(std::string("fork: ") + strerror(errno));
      return false;
    }
    if (acceptor_pid_ == 0) {
      // Without the supervisor nothing restarts a dead worker: the acceptor
      // goes with it, so systemd restarts a clean service.
      if (!os::die_with_parent(supervisor)) _exit(1);
      close(control[0]);
      if (signal_fd_ >= 0) close(signal_fd_);  // a restart: the supervisor's own
      unblock_all_signals();                   // whatever mask the service was started with
      _exit(run_acceptor(std::move(setup)));
    }
    acceptor_started_ = std::chrono::steady_clock::now();
    control_open_ = true;
    close(control[1]);
    if (workers_) {
      workers_->set_control_fd(control[0]);
    } else {
      workers_.emplace(launcher_, control[0]);
    }
    return true;
  }

  // The acceptor died while the service runs: a new one takes the same
  // listener at once. The workers' sockets ended with the old acceptor, and
  // with them whatever was in flight on them (a request half written, an
  // answer half read), so every worker is killed and its slot restarted with
  // a fresh socketpair handed to the new acceptor. An acceptor that keeps
  // dying at once (kMaxQuickAcceptorDeaths in a row) ends the service.
  bool restart_acceptor() {
    using namespace std::chrono;
    const bool quick = steady_clock::now() - acceptor_started_ < seconds(1);
    quick_acceptor_deaths_ = quick ? quick_acceptor_deaths_ + 1 : 0;
    if (quick_acceptor_deaths_ >= kMaxQuickAcceptorDeaths) {
      log::error("the acceptor keeps dying at its start; stopping");
      return false;
    }
    // The first restart is immediate (an acceptor killed soon after the
    // start is not a crash loop yet); later quick ones wait a little.
    if (quick_acceptor_deaths_ > 1) std::this_thread::sleep_for(milliseconds(500));
    workers_->close_control_fd();
    if (!start_acceptor()) return false;
    log::info("acceptor restarted",
              {{"acceptor_pid", log::number(static_cast<long long>(acceptor_pid_))}});
    workers_->kill_all();
    return true;
  }

  bool block_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return false;
    // Non-blocking: the loop drains every pending signal and then goes back
    // to poll, which also watches the acceptor's control channel.
    signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return signal_fd_ >= 0;
  }

  int loop() {
    int exit_status = 0;
    while (true) {
      pollfd p[2] = {{signal_fd_, POLLIN, 0},
                     {control_open_ ? workers_->control_fd() : -1, POLLIN, 0}};
      if (poll(p, 2, -1) < 0 && errno != EINTR) return 1;
      if (p[1].revents != 0) read_acceptor_messages();
      signalfd_siginfo info;
      while (read(signal_fd_, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
          drain();
        } else if (info.ssi_signo == SIGHUP) {
          reload();
        }
        // SIGCHLD: handled below for every signal, as they coalesce.
        reap(exit_status);
        if (acceptor_pid_ == 0) return finish(exit_status);
      }
    }
  }

  // The acceptor's reports: workers it gave up on. Its end closing means it
  // died; SIGCHLD handles that, and the channel is not watched until the
  // next acceptor's.
  void read_acceptor_messages() {
    bool closed = false;
    while (auto message = receive_control(workers_->control_fd(), closed)) {
      if (message->fd >= 0) close(message->fd);  // never expected this way
      if (message->kind == ControlMessage::kGaveUp) {
        workers_->kill_given_up(message->pid, message->slot);
      }
    }
    if (closed) control_open_ = false;
  }

  void drain() {
    if (draining_) return;
    log::info("SIGTERM: draining in-flight requests");
    notifier_.notify("STOPPING=1\nSTATUS=draining in-flight requests");
    draining_ = true;
    kill(acceptor_pid_, SIGTERM);
  }

  void reap(int& exit_status) {
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == acceptor_pid_) {
        acceptor_pid_ = 0;
        if (!draining_) {
          log::error("the acceptor exited unexpectedly",
                     {{"status", log::number(static_cast<long long>(status))}});
          bool probes_failed = WIFEXITED(status) && WEXITSTATUS(status) == kExitProbesFailed;
          exit_status = probes_failed ? kExitProbesFailed : 1;
          // A failed probe is final; anything else (a crash, a kill) heals.
          if (!probes_failed && restart_acceptor()) exit_status = 0;
        }
        continue;
      }
      // No replacements once draining or without an acceptor to serve.
      const bool replace = !draining_ && acceptor_pid_ != 0;
      workers_->on_exit(pid, status, replace ? &config_ : nullptr);
    }
  }

  // systemd sees RELOADING=1 ... READY=1 around every SIGHUP, whatever
  // its outcome (ExecReload=kill -HUP; Type=notify-reload needs 253+).
  void reload() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    notifier_.notify(
        "RELOADING=1\nMONOTONIC_USEC=" +
        std::to_string(static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000));
    reload_config();
    notifier_.notify("READY=1");
  }

  void reload_config() {
    if (config_.path().empty()) {
      log::info("SIGHUP: running on the embedded default configuration; nothing to reload");
      return;
    }
    std::vector<std::string> warnings;
    std::optional<ServiceConfig> fresh;
    try {
      fresh = config_.reread(warnings);
    } catch (const std::exception& e) {
      log::error("SIGHUP: configuration invalid, keeping the previous one",
                 {{"error", std::string(e.what())}});
      return;
    }
    for (const auto& w : warnings) log::warning(w);
    // A new configuration can change the interpreter, paths, the uid base:
    // it must pass the same confinement probes as at startup.
    for (const auto& probe : run_startup_probes(launcher_, fresh->worker_text())) {
      if (!probe.passed) {
        log::error("SIGHUP: startup check '" + probe.name + "' fails with the new configuration (" +
                   probe.reason + "); keeping the previous one");
        return;
      }
    }
    for (const auto& key : config_.restart_only_changes(*fresh)) {
      log::warning("SIGHUP: '" + key + "' changed; it takes effect at the next restart");
    }
    config_ = std::move(*fresh);
    log::info("SIGHUP: configuration reloaded; new workers use it", {{"config", config_.path()}});
  }

  int finish(int exit_status) {
    // The acceptor is gone, so every worker's socket closed: they exit on
    // their own. Give them a moment, then make sure.
    workers_->stop(std::chrono::seconds(10));
    log::info("stopped");
    return exit_status;
  }

  ServiceConfig config_;  // replaced whole by a reload
  SupervisorOptions options_;
  WorkerLauncher launcher_;
  SystemdNotifier notifier_;
  std::optional<WorkerSlots> workers_;  // once the acceptor runs
  int signal_fd_ = -1;
  int listen_fd_ = -1;                // kept for the acceptor's restarts
  std::vector<ProbeOutcome> probes_;  // the startup probes, for every acceptor
  pid_t acceptor_pid_ = 0;
  std::chrono::steady_clock::time_point acceptor_started_;
  int quick_acceptor_deaths_ = 0;
  bool control_open_ = false;  // the acceptor's end of the channel is open
  static constexpr int kMaxQuickAcceptorDeaths = 5;
  bool draining_ = false;
};

}  // namespace

int run_supervisor(ServiceConfig config, SupervisorOptions options) {
  return Supervisor(std::move(config), std::move(options)).run();
}

}  // namespace cjs::server
