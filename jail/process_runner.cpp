#include "jail/process_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

namespace cjs::jail {
namespace {

using Clock = std::chrono::steady_clock;

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read_end, write_end;
};

Pipe make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

int wait_status_to_code(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return -WTERMSIG(wstatus);
  return -1;
}

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

// Kills the run's process group and every descendant that was reparented to
// us (we are a subreaper), until none is left; reaps them all.
void kill_everything(pid_t leader) {
  kill(-leader, SIGKILL);
  for (int round = 0; round < 1000; ++round) {
    std::vector<pid_t> children = list_children();
    if (children.empty()) return;
    for (pid_t child : children) kill(child, SIGKILL);
    for (pid_t child : children) {
      while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

int pidfd_open(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Appends what `fd` has to `stream` (keeping at most `cap` bytes). Returns
// false at EOF or on error.
bool drain(int fd, CapturedStream& stream, std::size_t cap) {
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      auto got = static_cast<std::size_t>(n);
      stream.total_bytes += got;
      if (stream.data.size() < cap) stream.data.append(buf, std::min(got, cap - stream.data.size()));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;  // EOF or error
  }
}

}  // namespace

RunResult run_sandboxed(const ChildPlan& plan, std::string_view stdin_data,
                        const RunOptions& options) {
  RunResult result;
  const auto started = Clock::now();
  // Orphans of the run (setsid + double fork) are reparented to us, so that
  // kill_everything() can find them.
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  Pipe in = make_pipe(), out = make_pipe(), err = make_pipe(), status = make_pipe();

  pid_t pid = fork();
  if (pid < 0) {
    result.failure = std::string("fork: ") + std::strerror(errno);
    return result;
  }
  if (pid == 0) {
    enter_sandbox(plan, ChildFds{in.read_end.get(), out.write_end.get(), err.write_end.get(),
                                 status.write_end.get()});
  }
  // Also set here: whichever of parent and child runs first, the group
  // exists before we might signal it.
  setpgid(pid, pid);
  in.read_end.reset();
  out.write_end.reset();
  err.write_end.reset();
  status.write_end.reset();

  Fd pidfd(pidfd_open(pid));
  set_nonblocking(in.write_end.get());
  set_nonblocking(out.read_end.get());
  set_nonblocking(err.read_end.get());

  const bool has_deadline = options.realtime_seconds > 0;
  const auto deadline =
      started + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(has_deadline ? options.realtime_seconds : 0));
  std::size_t stdin_written = 0;
  if (stdin_data.empty()) in.write_end.reset();
  bool exited = false, timed_out = false;
  int wstatus = 0;

  // Until the interpreter is gone and both output pipes reached EOF.
  while (!exited || out.read_end || err.read_end) {
    std::vector<pollfd> fds;
    if (in.write_end) fds.push_back({in.write_end.get(), POLLOUT, 0});
    if (out.read_end) fds.push_back({out.read_end.get(), POLLIN, 0});
    if (err.read_end) fds.push_back({err.read_end.get(), POLLIN, 0});
    if (!exited && pidfd) fds.push_back({pidfd.get(), POLLIN, 0});

    int timeout_ms = -1;
    if (has_deadline && !timed_out) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      timeout_ms = static_cast<int>(std::max<long>(0, left.count() + 1));
    } else if (!pidfd && !exited) {
      timeout_ms = 10;  // no pidfd: poll waitpid below
    }
    int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) break;

    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in.write_end.get()) {
        if (p.revents & (POLLERR | POLLHUP)) {
          in.write_end.reset();  // the code closed stdin: fine
          continue;
        }
        ssize_t n = write(p.fd, stdin_data.data() + stdin_written, stdin_data.size() - stdin_written);
        if (n > 0) stdin_written += static_cast<std::size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || stdin_written == stdin_data.size()) {
          in.write_end.reset();
        }
      } else if (p.fd == out.read_end.get()) {
        if (!drain(p.fd, result.stdout_stream, options.stdout_cap)) out.read_end.reset();
      } else if (p.fd == err.read_end.get()) {
        if (!drain(p.fd, result.stderr_stream, options.stderr_cap)) err.read_end.reset();
      }
    }

    if (!exited) {
      pid_t done = waitpid(pid, &wstatus, WNOHANG);
      if (done == pid) {
        exited = true;
        // The interpreter is gone: whatever it left running dies now, which
        // also closes any copy of the output pipes a daemon kept.
        kill_everything(pid);
      }
    }
    if (!exited && has_deadline && !timed_out && Clock::now() >= deadline) {
      timed_out = true;
      kill(pid, SIGKILL);
      kill_everything(pid);
      waitpid(pid, &wstatus, 0);
      exited = true;
    }
  }
  in.write_end.reset();
  kill_everything(pid);  // no-op normally; covers early loop exits
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();

  ChildSetupFailure failure;
  ssize_t n = read(status.read_end.get(), &failure, sizeof failure);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    result.outcome = RunResult::Outcome::kSetupFailed;
    result.failure = std::string("sandbox setup failed at ") + child_step_name(failure.step) +
                     ": " + std::strerror(failure.error);
    return result;
  }
  if (timed_out) {
    result.outcome = RunResult::Outcome::kTimedOut;
    result.status = -SIGKILL;
    return result;
  }
  result.outcome = RunResult::Outcome::kCompleted;
  result.status = wait_status_to_code(wstatus);
  return result;
}

}  // namespace cjs::jail
