#include "jail/process_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "os/fd.h"
#include "os/io.h"

namespace cjs::jail {
namespace {

using Clock = std::chrono::steady_clock;

using os::Fd;
using os::make_pipe;
using os::Pipe;

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Our direct children, found by scanning /proc (this kernel may lack
// /proc/PID/task/TID/children).
std::vector<pid_t> list_children() {
  std::vector<pid_t> children;
  const pid_t self = getpid();
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE* f = std::fopen(path, "re");
    if (f == nullptr) continue;
    char buf[512];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // "pid (comm) state ppid ...": comm may contain spaces and ')'.
    const char* close_paren = std::strrchr(buf, ')');
    if (close_paren == nullptr) continue;
    char state = 0;
    long ppid = 0;
    if (std::sscanf(close_paren + 1, " %c %ld", &state, &ppid) == 2 && ppid == self) {
      children.push_back(static_cast<pid_t>(pid));
    }
  }
  closedir(proc);
  return children;
}

// Kills every descendant that was reparented to us (we are a subreaper)
// until none is left, and reaps them all. (No process-group kill: once the
// keeper is reaped its pid may belong to someone else.)
void kill_everything() {
  for (int round = 0; round < 1000; ++round) {
    // Exact and cheap: no child at all (the normal case, where the pid
    // namespace died with the keeper) needs no scan of every /proc entry.
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 && errno == ECHILD) {
      return;
    }
    std::vector<pid_t> children = list_children();
    if (children.empty()) return;
    for (pid_t child : children) kill(child, SIGKILL);
    for (pid_t child : children) {
      while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

// Appends what `fd` has to `stream` (keeping at most `cap` bytes). Returns
// false at EOF or on error.
bool drain(int fd, CapturedStream& stream, std::size_t cap) {
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      auto got = static_cast<std::size_t>(n);
      stream.total_bytes += got;
      if (stream.data.size() < cap)
        stream.data.append(buf, std::min(got, cap - stream.data.size()));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;  // EOF or error
  }
}

}  // namespace

namespace {

// One value per write, into an existing file: os::write_file. errno is the
// failure's (EIO for a short write).
bool write_proc_file(const std::string& path, std::string_view content) {
  os::WriteResult written = os::write_file(path, content);
  if (!written) errno = written.stage == os::WriteResult::kShort ? EIO : written.error;
  return static_cast<bool>(written);
}

// An unprivileged service maps only its own ids into the run's user
// namespace: the code keeps our uid, with no capabilities over anything.
bool write_id_maps(pid_t pid, std::string& error) {
  const std::string proc = "/proc/" + std::to_string(pid);
  const std::string uid = std::to_string(getuid()), gid = std::to_string(getgid());
  if (!write_proc_file(proc + "/setgroups", "deny") ||
      !write_proc_file(proc + "/uid_map", uid + " " + uid + " 1") ||
      !write_proc_file(proc + "/gid_map", gid + " " + gid + " 1")) {
    error = std::string("cannot write the user namespace id maps: ") + std::strerror(errno);
    return false;
  }
  return true;
}

std::string describe_failure(const ChildReport& r) {
  std::string text = std::string("sandbox setup failed at ") + child_step_name(r.step);
  if (r.detail >= 0) text += " (item " + std::to_string(r.detail) + ")";
  return text + ": " + std::strerror(r.error);
}

// Where the keeper can join the run's cgroup by itself (v1), it does so
// through descriptors opened here, before the clone; otherwise (none added)
// the runner moves it by pid.
bool open_cgroup_fds(const RunOptions& options, ChildFds& child_fds, std::vector<Fd>& owned,
                     std::string& failure) {
  if (options.cgroup == nullptr) return true;
  std::vector<std::string> files = options.cgroup->self_attach_files();
  if (files.size() > static_cast<std::size_t>(ChildFds::kMaxCgroupFds)) files.clear();
  for (const std::string& file : files) {
    Fd fd(open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
      failure = "cannot open " + file + ": " + std::strerror(errno);
      return false;
    }
    child_fds.cgroup_fds[child_fds.cgroup_fd_count++] = fd.get();
    owned.push_back(std::move(fd));
  }
  return true;
}

// Before the keeper may start: ids and cgroup membership; then the go byte.
// On failure the keeper is killed and reaped, and `failure` says why.
bool start_keeper(pid_t pid, unsigned long flags, const ChildFds& child_fds,
                  const RunOptions& options, Fd& go, std::string& failure) {
  std::string setup_error;
  bool ready = (!(flags & CLONE_NEWUSER) || write_id_maps(pid, setup_error)) &&
               (options.cgroup == nullptr || child_fds.cgroup_fd_count > 0 ||
                options.cgroup->attach(pid, setup_error));
  if (ready) {
    char byte = 1;
    ready = write(go.get(), &byte, 1) == 1;
    if (!ready) setup_error = std::string("cannot start the keeper: ") + std::strerror(errno);
  }
  go.reset();
  if (!ready) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    failure = setup_error;
  }
  return ready;
}

// The runner's ends of the run's stdio, and how much of stdin went out.
struct RunStreams {
  Fd& stdin_w;
  Fd& stdout_r;
  Fd& stderr_r;
  std::string_view stdin_data;
  std::size_t stdin_written = 0;
};

// How the keeper ended, as the runner saw it.
struct KeeperEnd {
  bool exited = false;
  bool timed_out = false;
  bool cpu_killed = false;  // the run's CPU time reached the hard limit
  int status = 0;           // waitpid's, when it exited by itself
};

// RLIMIT_CPU's two steps for the run's cgroup as a whole: SIGXCPU to every
// process at the soft limit, SIGKILL of the run at the hard one (one second
// more), as the kernel does for one process. Checked by polling the
// cgroup's CPU time, sooner as the limit nears.
class CpuWatch {
 public:
  CpuWatch(const RunOptions& options, pid_t keeper)
      : cgroup_(options.cgroup), keeper_(keeper), soft_usec_(options.cpu_seconds * 1e6) {
    if (cgroup_ == nullptr || options.cpu_seconds <= 0 || !cgroup_->cpu_usage_usec()) {
      cgroup_ = nullptr;  // nothing to watch: RLIMIT_CPU per process only
    }
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cpus_ = cpus > 0 ? static_cast<double>(cpus) : 1.0;
    next_check_ = Clock::now();
  }

  bool active() const { return cgroup_ != nullptr; }

  // Milliseconds until the next check (for poll), or -1 when inactive.
  int timeout_ms() const {
    if (!active()) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_check_ - Clock::now());
    return static_cast<int>(std::max<long>(0, left.count() + 1));
  }

  // True when the run must be killed now (the hard limit).
  bool check() {
    if (!active() || Clock::now() < next_check_) return false;
    const double used = static_cast<double>(cgroup_->cpu_usage_usec().value_or(0));
    if (used >= soft_usec_ + 1e6) return true;
    if (used >= soft_usec_ && !signalled_) {
      signalled_ = true;
      cgroup_->signal_all(SIGXCPU, keeper_);  // never the keeper: it reports the status
    }
    // All CPUs busy for the run reach the next threshold no sooner than this.
    const double next = used < soft_usec_ ? soft_usec_ : soft_usec_ + 1e6;
    const double wait_usec = std::clamp((next - used) / cpus_, 5e3, 200e3);
    next_check_ = Clock::now() + std::chrono::microseconds(static_cast<long>(wait_usec));
    return false;
  }

 private:
  RunCgroup* cgroup_;
  pid_t keeper_;
  double soft_usec_;
  double cpus_ = 1;
  bool signalled_ = false;
  Clock::time_point next_check_;
};

std::vector<pollfd> poll_set(const RunStreams& s, const KeeperEnd& keeper, const Fd& pidfd) {
  std::vector<pollfd> fds;
  if (s.stdin_w) fds.push_back({s.stdin_w.get(), POLLOUT, 0});
  if (s.stdout_r) fds.push_back({s.stdout_r.get(), POLLIN, 0});
  if (s.stderr_r) fds.push_back({s.stderr_r.get(), POLLIN, 0});
  if (!keeper.exited && pidfd) fds.push_back({pidfd.get(), POLLIN, 0});
  return fds;
}

// Until the deadline, if any; without a pidfd the keeper's exit is polled.
int poll_timeout_ms(const std::optional<Clock::time_point>& deadline, const KeeperEnd& keeper,
                    bool have_pidfd) {
  if (deadline && !keeper.timed_out) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
    return static_cast<int>(std::max<long>(0, left.count() + 1));
  }
  if (!have_pidfd && !keeper.exited) return 10;  // no pidfd: poll waitpid
  return -1;
}

// The sooner of two poll timeouts (-1: none).
int sooner(int a, int b) {
  if (a < 0) return b;
  if (b < 0) return a;
  return std::min(a, b);
}

// Ends the run from outside: the keeper's death ends its pid namespace.
void kill_keeper(pid_t pid, KeeperEnd& keeper) {
  kill(pid, SIGKILL);
  kill_everything();
  waitpid(pid, nullptr, 0);
  keeper.exited = true;
}

void feed_stdin(short revents, RunStreams& s, RunResult& result) {
  if (revents & (POLLERR | POLLHUP)) {
    // The code closed stdin (fine), or the interpreter never read it.
    result.stdin_refused = s.stdin_written == 0;
    s.stdin_w.reset();
    return;
  }
  ssize_t n = write(s.stdin_w.get(), s.stdin_data.data() + s.stdin_written,
                    s.stdin_data.size() - s.stdin_written);
  if (n > 0) s.stdin_written += static_cast<std::size_t>(n);
  if (n < 0 && errno == EPIPE && s.stdin_written == 0) result.stdin_refused = true;
  if ((n < 0 && errno != EAGAIN && errno != EINTR) || s.stdin_written == s.stdin_data.size()) {
    s.stdin_w.reset();
  }
}

// Moves data on every stream poll found ready; one at EOF or error closes.
void serve_streams(const std::vector<pollfd>& fds, RunStreams& s, const RunOptions& options,
                   RunResult& result) {
  for (const pollfd& p : fds) {
    if (p.revents == 0) continue;
    if (p.fd == s.stdin_w.get()) {
      feed_stdin(p.revents, s, result);
    } else if (p.fd == s.stdout_r.get()) {
      if (!drain(p.fd, result.stdout_stream, options.stdout_cap)) s.stdout_r.reset();
    } else if (p.fd == s.stderr_r.get()) {
      if (!drain(p.fd, result.stderr_stream, options.stderr_cap)) s.stderr_r.reset();
    }
  }
}

// Feeds stdin and collects the output until the keeper is gone and both
// output pipes reached EOF; at the deadline kills the run.
KeeperEnd watch_run(pid_t pid, const Fd& pidfd, RunStreams& s,
                    const std::optional<Clock::time_point>& deadline, const RunOptions& options,
                    RunResult& result) {
  KeeperEnd keeper;
  CpuWatch cpu(options, pid);
  while (!keeper.exited || s.stdout_r || s.stderr_r) {
    std::vector<pollfd> fds = poll_set(s, keeper, pidfd);
    const int timeout_ms = sooner(poll_timeout_ms(deadline, keeper, static_cast<bool>(pidfd)),
                                  keeper.exited ? -1 : cpu.timeout_ms());
    int ready_count = poll(fds.data(), fds.size(), timeout_ms);
    if (ready_count < 0 && errno != EINTR) break;
    serve_streams(fds, s, options, result);

    if (!keeper.exited && waitpid(pid, &keeper.status, WNOHANG) == pid) {
      keeper.exited = true;
      // The keeper's exit killed its namespace; without one (sabotage) kill
      // what it left, which also closes any copy of the pipes a daemon kept.
      kill_everything();
    }
    if (!keeper.exited && deadline && !keeper.timed_out && Clock::now() >= *deadline) {
      keeper.timed_out = true;
      kill_keeper(pid, keeper);  // the whole pid namespace dies with its init
    }
    if (!keeper.exited && cpu.check()) {
      keeper.cpu_killed = true;
      kill_keeper(pid, keeper);
    }
    if (!keeper.exited && result.stdin_refused && options.end_on_refused_stdin) {
      // The interpreter died before it read a byte: nothing of the request
      // ran, and the caller runs it elsewhere at once.
      kill_keeper(pid, keeper);
    }
  }
  return keeper;
}

// What the keeper and the interpreter child reported, in order: the layers
// (into `result`), a setup failure, or the interpreter's exit status.
struct Reports {
  bool setup_failed = false;
  bool have_exit = false;
  int exit_status = 0;
};

Reports read_reports(int fd, RunResult& result) {
  // Every writer is gone by now; non-blocking only guards against surprises.
  set_nonblocking(fd);
  Reports reports;
  ChildReport record;
  while (read(fd, &record, sizeof record) == sizeof record) {
    if (record.kind == ChildReport::kSetupFailed) {
      result.outcome = RunResult::Outcome::kSetupFailed;
      result.failure = describe_failure(record);
      reports.setup_failed = true;
      return reports;
    }
    if (record.kind == ChildReport::kLayers) {
      result.applied_layers = static_cast<std::uint32_t>(record.value);
      result.landlock_abi = record.step;
    } else if (record.kind == ChildReport::kExited) {
      reports.have_exit = true;
      reports.exit_status = record.value;
    }
  }
  return reports;
}

void set_outcome(const Reports& reports, const KeeperEnd& keeper, RunResult& result) {
  if (keeper.timed_out) {
    result.outcome = RunResult::Outcome::kTimedOut;
    result.status = -SIGKILL;
    return;
  }
  if (keeper.cpu_killed && !reports.have_exit) {
    // The hard CPU limit, as the kernel's for one process: SIGKILL, -9.
    result.outcome = RunResult::Outcome::kCompleted;
    result.status = -SIGKILL;
    result.cpu_limit_killed = true;
    return;
  }
  if (!reports.have_exit) {
    // SIGKILLed from outside (the memory cgroup's OOM killer, typically):
    // the run was killed, and -9 says so truthfully. Anything else is ours.
    if (WIFSIGNALED(keeper.status) && WTERMSIG(keeper.status) == SIGKILL) {
      result.outcome = RunResult::Outcome::kCompleted;
      result.status = -SIGKILL;
      return;
    }
    result.failure = "the sandbox keeper ended without reporting a status";
    return;
  }
  result.outcome = RunResult::Outcome::kCompleted;
  result.status = reports.exit_status;
}

}  // namespace

StartedSandbox::StartedSandbox(StartedSandbox&& other) noexcept
    : keeper_(std::exchange(other.keeper_, -1)),
      stdin_w_(std::move(other.stdin_w_)),
      stdout_r_(std::move(other.stdout_r_)),
      stderr_r_(std::move(other.stderr_r_)),
      report_r_(std::move(other.report_r_)),
      pidfd_(std::move(other.pidfd_)),
      started_(other.started_),
      applied_layers_(other.applied_layers_),
      landlock_abi_(other.landlock_abi_) {}

StartedSandbox::~StartedSandbox() { kill_run(); }

void StartedSandbox::kill_run() {
  if (keeper_ < 0) return;
  // The keeper is pid 1 of the run: its death ends every process inside.
  // Without a pid namespace (sabotage) its orphans come to us: kill those.
  ::kill(keeper_, SIGKILL);
  while (waitpid(keeper_, nullptr, 0) < 0 && errno == EINTR) {
  }
  keeper_ = -1;
  kill_everything();
}

bool StartedSandbox::alive() {
  if (keeper_ < 0) return false;
  bool ended = waitpid(keeper_, nullptr, WNOHANG) != 0;
  if (ended) keeper_ = -1;  // reaped (or not our child any more)
  // The interpreter's end reaches the reports before the keeper exits.
  set_nonblocking(report_r_.get());
  ChildReport record;
  while (!ended && read(report_r_.get(), &record, sizeof record) == sizeof record) {
    if (record.kind == ChildReport::kLayers) {
      applied_layers_ = static_cast<std::uint32_t>(record.value);
      landlock_abi_ = record.step;
    } else {
      ended = true;  // kExited or kSetupFailed
    }
  }
  if (ended && keeper_ >= 0) {
    kill_run();
  } else if (ended) {
    kill_everything();  // what a keeper without a pid namespace left
  }
  return !ended;
}

void StartedSandbox::restart_clock() { started_ = Clock::now(); }

std::optional<StartedSandbox> start_sandboxed(const ChildPlan& plan, const RunOptions& options,
                                              std::string& failure) {
  const auto started = Clock::now();
  // Orphans of the run are reparented to us when there is no pid namespace.
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  Pipe in = make_pipe(), out = make_pipe(), err = make_pipe(), report = make_pipe(),
       go = make_pipe();
  ChildFds child_fds{in.read_end.get(), out.write_end.get(), err.write_end.get(),
                     report.write_end.get(), go.read_end.get()};
  std::vector<Fd> cgroup_fds;
  if (!open_cgroup_fds(options, child_fds, cgroup_fds, failure)) return std::nullopt;

  // The keeper is pid 1 of the run's namespaces. Raw clone: it behaves like
  // fork (the child continues here on a copy of our stack).
  const unsigned long flags = plan.confine ? plan.clone_flags : 0;
  pid_t pid =
      static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) {
    failure = std::string("clone: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (pid == 0) {
    keeper_main(plan, child_fds);
  }
  cgroup_fds.clear();
  in.read_end.reset();
  out.write_end.reset();
  err.write_end.reset();
  report.write_end.reset();
  go.read_end.reset();
  if (!start_keeper(pid, flags, child_fds, options, go.write_end, failure)) return std::nullopt;

  StartedSandbox sandbox;
  sandbox.keeper_ = pid;
  sandbox.pidfd_ = Fd(os::pidfd_open(pid));
  sandbox.stdin_w_ = std::move(in.write_end);
  sandbox.stdout_r_ = std::move(out.read_end);
  sandbox.stderr_r_ = std::move(err.read_end);
  sandbox.report_r_ = std::move(report.read_end);
  sandbox.started_ = started;
  set_nonblocking(sandbox.stdin_w_.get());
  set_nonblocking(sandbox.stdout_r_.get());
  set_nonblocking(sandbox.stderr_r_.get());
  return sandbox;
}

RunResult finish_sandboxed(StartedSandbox& sandbox, std::string_view stdin_data,
                           const RunOptions& options) {
  RunResult result;
  if (sandbox.keeper_ < 0) {
    result.failure = "the sandbox was already finished";
    return result;
  }
  const pid_t pid = sandbox.keeper_;
  std::optional<Clock::time_point> deadline;
  if (options.realtime_seconds > 0) {
    deadline = sandbox.started_ + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(options.realtime_seconds));
  }
  if (stdin_data.empty()) sandbox.stdin_w_.reset();
  RunStreams streams{sandbox.stdin_w_, sandbox.stdout_r_, sandbox.stderr_r_, stdin_data};
  const KeeperEnd keeper = watch_run(pid, sandbox.pidfd_, streams, deadline, options, result);
  sandbox.keeper_ = -1;  // watch_run reaped it

  sandbox.stdin_w_.reset();
  kill_everything();  // no-op normally; covers early loop exits
  if (options.cgroup != nullptr) options.cgroup->kill_all();
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - sandbox.started_).count();

  result.applied_layers = sandbox.applied_layers_;  // if alive() read that record
  result.landlock_abi = sandbox.landlock_abi_;
  const Reports reports = read_reports(sandbox.report_r_.get(), result);
  if (!reports.setup_failed) set_outcome(reports, keeper, result);
  return result;
}

RunResult run_sandboxed(const ChildPlan& plan, std::string_view stdin_data,
                        const RunOptions& options) {
  RunResult result;
  std::optional<StartedSandbox> sandbox = start_sandboxed(plan, options, result.failure);
  if (!sandbox) return result;
  return finish_sandboxed(*sandbox, stdin_data, options);
}

}  // namespace cjs::jail
