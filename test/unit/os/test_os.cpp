// os/: descriptor owners, capped reads and whole writes, path joining, fd
// placement, and spawning a real program with placed descriptors.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "os/fd.h"
#include "os/fd_placement.h"
#include "os/io.h"
#include "os/path.h"
#include "os/process_stats.h"
#include "os/spawn.h"
#include "os/text.h"

namespace os = cjs::os;

namespace {

bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

// A temporary file holding `content`, removed at scope exit.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/cjs-os-test-XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(os::write_all(fd, content));
    close(fd);
    path = name;
  }
  ~TempFile() { unlink(path.c_str()); }
};

int wait_exit_code(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("os: Fd closes what it owns, and release gives it up") {
  os::Pipe pipe = os::make_pipe();
  const int read_fd = pipe.read_end.get();
  const int write_fd = pipe.write_end.get();
  CHECK(is_open(read_fd));
  CHECK((fcntl(read_fd, F_GETFD) & FD_CLOEXEC) != 0);  // pipe2(O_CLOEXEC)
  pipe.read_end.reset();
  CHECK_FALSE(is_open(read_fd));
  CHECK_FALSE(pipe.read_end);

  int released = -1;
  {
    os::Fd moved = std::move(pipe.write_end);
    CHECK_FALSE(pipe.write_end);
    CHECK(moved.get() == write_fd);
    { os::Fd other(dup(write_fd)); }  // a scope's copy closes at its end
    released = moved.release();
  }
  CHECK(is_open(released));  // released: the Fd did not close it
  close(released);
  {
    os::Fd owner(dup(STDERR_FILENO));
    released = owner.get();
  }
  CHECK_FALSE(is_open(released));
}

TEST_CASE("os: read_all reads to EOF within the cap and refuses more") {
  const std::string content(10000, 'x');
  TempFile file(content);
  os::ReadResult whole = os::read_file(file.path, content.size());
  CHECK(whole);
  CHECK(whole.data == content);

  os::ReadResult capped = os::read_file(file.path, content.size() - 1);
  CHECK_FALSE(capped);
  CHECK(capped.error == EFBIG);
  CHECK(capped.data.size() == content.size() - 1);

  os::ReadResult missing = os::read_file(file.path + ".missing", 100);
  CHECK(missing.error == ENOENT);
}

TEST_CASE("os: write_all writes everything, write_file never creates") {
  os::Pipe pipe = os::make_pipe();
  const std::string data(3000, 'y');
  REQUIRE(os::write_all(pipe.write_end.get(), data));
  pipe.write_end.reset();
  CHECK(os::read_all(pipe.read_end.get(), 1 << 20).data == data);

  TempFile file("old");
  CHECK(os::write_file(file.path, "new"));
  CHECK(os::read_file(file.path, 100).data == "new");  // written over, not appended
  os::WriteResult absent = os::write_file(file.path + ".absent", "x");
  CHECK(absent.stage == os::WriteResult::kOpen);
  CHECK(absent.error == ENOENT);
  CHECK(access((file.path + ".absent").c_str(), F_OK) != 0);
}

TEST_CASE("os: write_all carries on after writes cut short by a signal") {
  // A small pipe, a slow reader in another process, and a timer whose
  // handler (no SA_RESTART) interrupts writes midway: write() then returns
  // a partial count that write_all must continue from.
  os::Pipe pipe = os::make_pipe();
  REQUIRE(fcntl(pipe.write_end.get(), F_SETPIPE_SZ, 4096) >= 0);
  const std::size_t total = 4 << 20;
  const pid_t reader = fork();
  REQUIRE(reader >= 0);
  if (reader == 0) {
    pipe.write_end.reset();
    os::ReadResult got = os::read_all(pipe.read_end.get(), total + 1);
    _exit(got && got.data.size() == total ? 0 : 1);
  }
  pipe.read_end.reset();
  struct sigaction action {};
  action.sa_handler = [](int) {};
  struct sigaction previous {};
  REQUIRE(sigaction(SIGALRM, &action, &previous) == 0);
  itimerval every_100us{{0, 100}, {0, 100}};
  REQUIRE(setitimer(ITIMER_REAL, &every_100us, nullptr) == 0);
  const bool written = os::write_all(pipe.write_end.get(), std::string(total, 'w'));
  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  sigaction(SIGALRM, &previous, nullptr);
  pipe.write_end.reset();
  CHECK(written);
  CHECK(wait_exit_code(reader) == 0);
}

TEST_CASE("os: path_join puts exactly one slash between base and rest") {
  CHECK(os::path_join("/sys/fs/cgroup", "a/b") == "/sys/fs/cgroup/a/b");
  CHECK(os::path_join("/sys/fs/cgroup/", "/a") == "/sys/fs/cgroup/a");
  CHECK(os::path_join("cgroup", "a") == "cgroup/a");
  CHECK(os::path_join("/x", "") == "/x");
  CHECK(os::path_join("/x//", "//") == "/x");
  CHECK(os::dirname_of("/a/b") == "/a");
  CHECK(os::dirname_of("/a") == "/");
  CHECK(os::basename_of("/a/b") == "b");
}

TEST_CASE("os: has_word matches whole whitespace-separated words") {
  CHECK(os::has_word("cpu memory pids\n", "memory"));
  CHECK(os::has_word("cpu\tpids", "pids"));
  CHECK_FALSE(os::has_word("cpu memoryx pids", "memory"));
  CHECK_FALSE(os::has_word("", "memory"));
}

TEST_CASE("os: place_fd puts a descriptor at its number without close-on-exec") {
  os::Pipe pipe = os::make_pipe();
  const int target = fcntl(pipe.write_end.get(), F_DUPFD_CLOEXEC, 100);  // a number we own
  REQUIRE(target >= 0);
  close(target);
  REQUIRE(os::place_fd(pipe.write_end.get(), target));
  os::Fd placed(target);
  CHECK(fcntl(target, F_GETFD) == 0);  // no FD_CLOEXEC on the copy
  REQUIRE(os::write_all(target, "z"));
  placed.reset();
  pipe.write_end.reset();
  CHECK(os::read_all(pipe.read_end.get(), 10).data == "z");

  // Already there: only close-on-exec is cleared.
  os::Pipe other = os::make_pipe();
  const int fd = other.read_end.get();
  REQUIRE(os::place_fd(fd, fd));
  CHECK(fcntl(fd, F_GETFD) == 0);
}

TEST_CASE("os: spawn_with_fds runs a program with its descriptors placed") {
  // The child writes to fd 9, lists which of 3..12 and 20..22 it has (only
  // 9) and its blocked signals (none).
  os::Pipe out = os::make_pipe();
  os::Pipe stray = os::make_pipe();  // open here, must not reach the child
  REQUIRE(stray.read_end.get() < 9);
  REQUIRE(fcntl(stray.read_end.get(), F_SETFD, 0) == 0);   // even without CLOEXEC
  os::Fd high(fcntl(stray.write_end.get(), F_DUPFD, 20));  // above every target, no CLOEXEC
  REQUIRE(high);
  char* env[] = {nullptr};
  os::SpawnRequest request{"/bin/sh",
                           {"sh", "-c",
                            "echo hello >&9; for n in 3 4 5 6 7 8 9 10 11 12 20 21 22; do "
                            "[ -e /proc/self/fd/$n ] && echo fd$n >&9; done; while read k v; do "
                            "[ $k = SigBlk: ] && echo $v >&9; done </proc/self/status; exit 7"},
                           env,
                           {{out.write_end.get(), 9}}};
  // A signal blocked here (as the supervisor blocks those it reads from a
  // signalfd) is not blocked in the child.
  sigset_t usr1, previous;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  REQUIRE(sigprocmask(SIG_BLOCK, &usr1, &previous) == 0);
  std::string error;
  const pid_t pid = os::spawn_with_fds(request, error);
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  REQUIRE(pid > 0);
  out.write_end.reset();
  const std::string text = os::read_all(out.read_end.get(), 4096).data;
  CHECK(wait_exit_code(pid) == 7);
  CHECK(text == "hello\nfd9\n0000000000000000\n");
}

TEST_CASE("os: spawn_with_fds swaps descriptors whose numbers cross") {
  // Source of one placement = target of the other: staging keeps both.
  os::Pipe a = os::make_pipe();
  os::Pipe b = os::make_pipe();
  const int fd_a = a.write_end.get(), fd_b = b.write_end.get();
  char* env[] = {nullptr};
  os::SpawnRequest request{
      "/bin/sh",
      {"sh", "-c", "echo A >&" + std::to_string(fd_b) + "; echo B >&" + std::to_string(fd_a)},
      env,
      {{fd_a, fd_b}, {fd_b, fd_a}}};
  std::string error;
  const pid_t pid = os::spawn_with_fds(request, error);
  REQUIRE(pid > 0);
  a.write_end.reset();
  b.write_end.reset();
  CHECK(os::read_all(a.read_end.get(), 100).data == "A\n");
  CHECK(os::read_all(b.read_end.get(), 100).data == "B\n");
  CHECK(wait_exit_code(pid) == 0);
}

TEST_CASE("os: spawn_with_fds reports a missing program as exit 127") {
  char* env[] = {nullptr};
  std::string error;
  const pid_t pid = os::spawn_with_fds({"/nonexistent/program", {"x"}, env, {}}, error);
  REQUIRE(pid > 0);
  CHECK(wait_exit_code(pid) == 127);
}

TEST_CASE("os: sealed_memfd holds the text, readable from its start, and cannot change") {
  os::Fd fd(os::sealed_memfd("cjs-os-test", "config: 1\n"));
  REQUIRE(fd);
  CHECK(os::read_all(fd.get(), 100).data == "config: 1\n");
  errno = 0;
  CHECK(write(fd.get(), "x", 1) == -1);
  CHECK(errno == EPERM);
}

TEST_CASE("process stats: the fields of a /proc/PID/stat line", "[os][process_stats]") {
  // A comm with a space and a parenthesis; utime 250 and stime 50 ticks,
  // starttime 1000 ticks after boot, vsize 123456789, rss 2048 pages.
  const std::string line =
      "4242 (a b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1000 123456789 "
      "2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  auto stats = cjs::os::parse_proc_stat(line, 100, 4096, 1'700'000'000.0);
  REQUIRE(stats.has_value());
  CHECK(stats->cpu_seconds == Approx(3.0));
  CHECK(stats->start_time_seconds == Approx(1'700'000'010.0));
  CHECK(stats->vsize_bytes == 123456789u);
  CHECK(stats->rss_bytes == 2048u * 4096u);
  CHECK_FALSE(cjs::os::parse_proc_stat("4242 (x) S 1 2 3", 100, 4096, 0).has_value());
  CHECK_FALSE(cjs::os::parse_proc_stat("garbage", 100, 4096, 0).has_value());
}

TEST_CASE("process stats: this process has memory, descriptors and a start",
          "[os][process_stats]") {
  auto stats = cjs::os::self_process_stats();
  REQUIRE(stats.has_value());
  CHECK(stats->rss_bytes > 0);
  CHECK(stats->vsize_bytes >= stats->rss_bytes);
  CHECK(stats->open_fds >= 3);  // stdin, stdout, stderr at least
  CHECK(stats->max_fds >= stats->open_fds);
  CHECK(stats->start_time_seconds > 1'500'000'000.0);
}
