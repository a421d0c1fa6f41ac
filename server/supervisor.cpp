#include "server/supervisor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "common/cgroup_leaf.h"
#include "common/egress.h"
#include "common/json_parse.h"
#include "common/log.h"
#include "server/acceptor/acceptor.h"
#include "server/control_channel.h"
#include "server/systemd_notify.h"

extern char** environ;

namespace cjs::server {
namespace {

using Clock = std::chrono::steady_clock;

// In a child before exec: places `fd` at `target` without close-on-exec.
// (dup2 onto itself is a no-op that would leave close-on-exec set.)
bool place_fd(int fd, int target) {
  if (fd == target) return fcntl(fd, F_SETFD, 0) == 0;
  return dup2(fd, target) == target;
}

// A memfd holding `text`, for a child to read as its configuration.
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

// Runs `codejail-worker --probes-json` and parses its report.
// Our environment minus systemd's notification variables: workers never
// talk to systemd (systemd_notify.h).
std::vector<char*> worker_environment() {
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!is_systemd_notify_variable(*e)) env.push_back(*e);
  }
  env.push_back(nullptr);
  return env;
}

std::vector<ProbeOutcome> run_probes(const std::string& worker_binary, const std::string& yaml) {
  std::vector<ProbeOutcome> probes;
  int out[2];
  int config_fd = config_memfd(yaml);
  if (config_fd < 0 || pipe2(out, O_CLOEXEC) != 0) {
    probes.push_back({"startup", false, std::string("cannot start probes: ") + strerror(errno)});
    return probes;
  }
  std::vector<char*> env = worker_environment();
  pid_t pid = fork();
  if (pid == 0) {
    if (!place_fd(out[1], 1) || !place_fd(config_fd, 4)) _exit(127);
    close_range(5, ~0U, 0);
    const char* args[] = {"codejail-worker", "--probes-json", "--config-fd", "4", nullptr};
    execve(worker_binary.c_str(), const_cast<char* const*>(args), env.data());
    _exit(127);
  }
  close(out[1]);
  close(config_fd);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) text.append(buf, static_cast<std::size_t>(n));
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  json::ParseResult parsed = json::parse(text);
  const json::Value* list = parsed && parsed.value->is_object()
                                ? json::find_member(parsed.value->as_object(), "probes")
                                : nullptr;
  if (list == nullptr || !list->is_array()) {
    probes.push_back(
        {"startup", false,
         "the probe run failed (worker exit status " + std::to_string(WEXITSTATUS(status)) + ")"});
    return probes;
  }
  for (const auto& item : list->as_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    const json::Value* name = json::find_member(o, "name");
    const json::Value* passed = json::find_member(o, "passed");
    const json::Value* reason = json::find_member(o, "reason");
    probes.push_back({name && name->is_string() ? name->as_string() : "?",
                      passed && passed->is_bool() && passed->as_bool(),
                      reason && reason->is_string() ? reason->as_string() : ""});
  }
  return probes;
}

int open_listener(const std::string& bind_spec, std::string& error) {
  auto colon = bind_spec.rfind(':');
  std::string host = bind_spec.substr(0, colon), port = bind_spec.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = "cannot resolve " + bind_spec + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
      error = "cannot listen on " + bind_spec + ": " + strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options) : options_(std::move(options)) {}

  int run() {
    // Before anything forks: on a cgroup v2 host, step aside into the leaf
    // so that the service's (delegated) cgroup can enable controllers for
    // the sandboxes' run cgroups (common/cgroup_leaf.h).
    LeafMove leaf = move_self_into_service_leaf();
    if (leaf.outcome == LeafMove::kMoved || leaf.outcome == LeafMove::kAlreadyInLeaf) {
      log::info("cgroup v2: the service runs in " + leaf.detail);
    } else if (leaf.outcome == LeafMove::kFailed) {
      log::warning(
          "cgroup v2: cannot step into the service leaf; the sandboxes' cgroup "
          "layer may be unavailable",
          {{"detail", leaf.detail}});
    }
    notifier_ = SystemdNotifier::from_environment();
    std::string error;
    int listener = open_listener(options_.config.bind, error);
    if (listener < 0) {
      log::error(error);
      return 1;
    }
    // With the listener open, nothing this process or its children do needs
    // a network socket again.
    EgressLock lock = restrict_own_network();
    log::info("egress lock", {{"detail", lock.detail}});
    notifier_.notify("STATUS=running the startup probes");
    std::vector<ProbeOutcome> probes = run_probes(options_.worker_binary, options_.config_yaml);
    bool all_passed = !probes.empty();
    for (const auto& p : probes) {
      all_passed = all_passed && p.passed;
      if (p.passed) {
        log::info("Startup check '" + p.name + "' passed");
      } else {
        log::error("Startup check '" + p.name + "' failed with: " + p.reason);
      }
    }
    if (!all_passed && notifier_.enabled()) {
      // Under systemd the start itself fails (no READY=1 would ever come).
      std::string failed;
      for (const auto& p : probes) {
        if (!p.passed) failed += (failed.empty() ? "" : ", ") + p.name;
      }
      notifier_.notify("STATUS=startup probes failed: " + failed);
      log::error("startup probes failed (" + failed + "): refusing to start",
                 {{"exit_status", log::number(static_cast<long long>(kExitProbesFailed))}});
      return kExitProbesFailed;
    }
    if (!all_passed) {
      log::error("startup probes failed: /health/ answers 503 and code execution is refused");
    }

    int control[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) != 0) {
      log::error(std::string("socketpair: ") + strerror(errno));
      return 1;
    }
    control_fd_ = control[0];

    AcceptorSetup setup;
    setup.config = options_.config;
    setup.listen_fd = listener;
    setup.control_fd = control[1];
    setup.probes = probes;
    setup.notifier = notifier_;
    if (geteuid() == 0) {
      passwd* pw = getpwnam(options_.service_user.c_str());
      if (pw == nullptr) {
        log::error("the service account '" + options_.service_user +
                   "' does not exist (deploy/setup-host creates it)");
        return 1;
      }
      setup.run_as_uid = pw->pw_uid;
      setup.run_as_gid = pw->pw_gid;
    }
    acceptor_pid_ = fork();
    if (acceptor_pid_ < 0) {
      log::error(std::string("fork: ") + strerror(errno));
      return 1;
    }
    if (acceptor_pid_ == 0) {
      close(control[0]);
      restore_signals();
      _exit(run_acceptor(std::move(setup)));
    }
    close(listener);
    close(control[1]);

    if (!block_signals()) return 1;
    for (int slot = 0; slot < options_.config.workers; ++slot) spawn_worker(slot);
    return loop();
  }

 private:
  bool block_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return false;
    signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC);
    return signal_fd_ >= 0;
  }

  static void restore_signals() {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
  }

  long max_requests_with_jitter() const {
    const auto& c = options_.config;
    if (c.max_requests == 0) return 0;
    unsigned int r = 0;
    if (c.max_requests_jitter > 0) getrandom(&r, sizeof r, 0);
    return c.max_requests + (c.max_requests_jitter > 0 ? r % (c.max_requests_jitter + 1) : 0);
  }

  void spawn_worker(int slot) {
    int pair[2];
    int config_fd = config_memfd(options_.config_yaml);
    if (config_fd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      log::error("cannot prepare a worker", {{"error", std::string(strerror(errno))}});
      if (config_fd >= 0) close(config_fd);
      return;
    }
    std::string slot_text = std::to_string(slot);
    std::string max_text = std::to_string(max_requests_with_jitter());
    std::vector<char*> env = worker_environment();
    pid_t pid = fork();
    if (pid == 0) {
      restore_signals();
      // config_fd may sit at 3 and pair[1] at 4: move them out of the way first.
      int sock = fcntl(pair[1], F_DUPFD_CLOEXEC, 10), conf = fcntl(config_fd, F_DUPFD_CLOEXEC, 10);
      if (sock < 0 || conf < 0 || !place_fd(sock, 3) || !place_fd(conf, 4)) _exit(127);
      close_range(5, ~0U, 0);
      const char* args[] = {"codejail-worker",
                            "--fd",
                            "3",
                            "--config-fd",
                            "4",
                            "--slot",
                            slot_text.c_str(),
                            "--max-requests",
                            max_text.c_str(),
                            nullptr};
      execve(options_.worker_binary.c_str(), const_cast<char* const*>(args), env.data());
      _exit(127);
    }
    close(pair[1]);
    close(config_fd);
    if (pid < 0) {
      log::error("cannot fork a worker", {{"error", std::string(strerror(errno))}});
      close(pair[0]);
      return;
    }
    workers_[pid] = Worker{slot, Clock::now()};
    if (!send_control(control_fd_, {ControlMessage::kWorker, slot, pair[0]})) {
      log::error("cannot hand a worker to the acceptor");
    }
    close(pair[0]);
  }

  int loop() {
    int exit_status = 0;
    while (true) {
      pollfd p{signal_fd_, POLLIN, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return 1;
      signalfd_siginfo info;
      while (read(signal_fd_, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
          if (!draining_) {
            log::info("SIGTERM: draining in-flight requests");
            notifier_.notify("STOPPING=1\nSTATUS=draining in-flight requests");
            draining_ = true;
            kill(acceptor_pid_, SIGTERM);
          }
        } else if (info.ssi_signo == SIGHUP) {
          reload();
        }
        // SIGCHLD: handled below for every signal, as they coalesce.
        reap(exit_status);
        if (acceptor_pid_ == 0) return finish(exit_status);
      }
    }
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
        }
        continue;
      }
      auto it = workers_.find(pid);
      if (it == workers_.end()) continue;
      Worker worker = it->second;
      workers_.erase(it);
      if (draining_ || acceptor_pid_ == 0) continue;
      bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!clean) {
        log::error("worker died", {{"slot", log::number(static_cast<long long>(worker.slot))},
                                   {"worker_pid", log::number(static_cast<long long>(pid))},
                                   {"status", log::number(static_cast<long long>(status))}});
        // A worker that cannot even start would otherwise respawn in a
        // tight loop: slow down.
        if (Clock::now() - worker.started < std::chrono::seconds(1)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
      }
      spawn_worker(worker.slot);
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
    if (options_.config_path.empty()) {
      log::info("SIGHUP: running on the embedded default configuration; nothing to reload");
      return;
    }
    std::ifstream in(options_.config_path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::string> warnings;
    try {
      Config fresh = parse_config(text.str(), options_.config_path, warnings);
      for (const auto& w : warnings) log::warning(w);
      // A new configuration can change the interpreter, paths, the uid base:
      // it must pass the same confinement probes as at startup.
      for (const auto& probe : run_probes(options_.worker_binary, text.str())) {
        if (!probe.passed) {
          log::error("SIGHUP: startup check '" + probe.name +
                     "' fails with the new "
                     "configuration (" +
                     probe.reason + "); keeping the previous one");
          return;
        }
      }
      options_.config_yaml = text.str();
      log::info("SIGHUP: configuration reloaded; new workers use it",
                {{"config", options_.config_path}});
    } catch (const std::exception& e) {
      log::error("SIGHUP: configuration invalid, keeping the previous one",
                 {{"error", std::string(e.what())}});
    }
  }

  int finish(int exit_status) {
    // The acceptor is gone, so every worker's socket closed: they exit on
    // their own. Give them a moment, then make sure.
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!workers_.empty() && Clock::now() < deadline) {
      int status;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid > 0) {
        workers_.erase(pid);
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (const auto& [pid, worker] : workers_) kill(pid, SIGKILL);
    while (waitpid(-1, nullptr, 0) > 0) {
    }
    log::info("stopped");
    return exit_status;
  }

  struct Worker {
    int slot;
    Clock::time_point started;
  };

  SupervisorOptions options_;
  SystemdNotifier notifier_;
  int control_fd_ = -1;
  int signal_fd_ = -1;
  pid_t acceptor_pid_ = 0;
  bool draining_ = false;
  std::map<pid_t, Worker> workers_;
};

}  // namespace

int run_supervisor(SupervisorOptions options) { return Supervisor(std::move(options)).run(); }

}  // namespace cjs::server
