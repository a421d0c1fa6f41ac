// The cgroup layer against the host's real cgroups (run as root): memory and
// pids caps, attach, kill of a whole run, cleanup, and honest detection.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "jail/cgroups.h"
#include "os/cgroupfs.h"

namespace {

using cjs::jail::CgroupLimits;
using cjs::jail::CgroupManager;
using cjs::jail::RunCgroup;

constexpr std::int64_t kMiB = 1024 * 1024;
constexpr const char* kRoot = "/sys/fs/cgroup";

std::string group_name() { return "cjs-test-" + std::to_string(getpid()); }

bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The file's text, "" when it cannot be read.
std::string read_text(const std::string& path) {
  return cjs::os::read_control_file(path).value_or("");
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool host_is_v2() { return cjs::os::is_cgroup2(kRoot); }

// `pid`'s cgroup path in the hierarchy holding `controller` ("" for v2).
std::string cgroup_of(pid_t pid, const std::string& controller) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/cgroup"));
  std::string line;
  while (std::getline(in, line)) {
    size_t c1 = line.find(':');
    size_t c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::string list = "," + line.substr(c1 + 1, c2 - c1 - 1) + ",";
    bool match = controller.empty() ? line.compare(0, c2 + 1, "0::") == 0
                                    : list.find("," + controller + ",") != std::string::npos;
    if (match) return line.substr(c2 + 1);
  }
  return "";
}

std::string under(const std::string& dir, const std::string& rel) {
  return rel == "/" ? dir : dir + rel;
}

// Where detect() must put the parent group(s), worked out independently.
std::vector<std::string> expected_parents(const std::string& group) {
  if (host_is_v2()) {
    std::string own = cgroup_of(getpid(), "");
    if (own.size() > 8 && own.substr(own.size() - 8) == "/service") own.resize(own.size() - 8);
    return {under(kRoot, own) + "/" + group};
  }
  std::vector<std::string> out;
  for (const char* ctl : {"memory", "pids"}) {
    std::string hier = std::string(kRoot) + "/" + ctl;
    std::string own = under(hier, cgroup_of(getpid(), ctl));
    out.push_back((is_dir(own) ? own : hier) + "/" + group);
  }
  // The optional cpu and cpuacct hierarchies follow, one parent for both
  // when they are co-mounted (the names are then links to one directory).
  for (const char* ctl : {"cpu", "cpuacct"}) {
    char resolved[PATH_MAX];
    if (realpath((std::string(kRoot) + "/" + ctl).c_str(), resolved) == nullptr) continue;
    std::string hier = resolved;
    std::string own = under(hier, cgroup_of(getpid(), ctl));
    std::string parent = (is_dir(own) ? own : hier) + "/" + group;
    if (std::find(out.begin(), out.end(), parent) == out.end()) out.push_back(parent);
  }
  return out;
}

std::vector<std::string> run_dirs(const std::string& group, const std::string& run) {
  std::vector<std::string> out;
  for (const auto& p : expected_parents(group)) out.push_back(p + "/" + run);
  return out;
}

// The run dir holding the memory (index 0) or pids (index 1) controller.
std::string run_dir(const std::string& group, const std::string& run, size_t index) {
  auto dirs = run_dirs(group, run);
  return dirs[std::min(index, dirs.size() - 1)];
}

std::vector<std::string> subdirs(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && e->d_type == DT_DIR) out.push_back(path + "/" + name);
  }
  closedir(d);
  return out;
}

// A detected manager with a per-process group name whose parents are removed
// at the end of the test (declare it before any run so it outlives them).
// Whatever a failed test left behind is killed and removed too.
struct Manager {
  std::string group = group_name();
  CgroupManager mgr = CgroupManager::detect(group);
  ~Manager() {
    for (const auto& parent : expected_parents(group)) {
      for (const auto& run : subdirs(parent)) {
        for (int i = 0; i < 2000 && rmdir(run.c_str()) != 0 && errno == EBUSY; ++i) {
          std::istringstream pids(read_text(run + "/cgroup.procs"));
          for (pid_t pid; pids >> pid;) kill(pid, SIGKILL);
          usleep(1000);
        }
      }
      (void)rmdir(parent.c_str());
    }
  }
};

// A forked child that waits until the parent says go (after attaching it),
// then runs `body` and exits with its result. No Catch2 in the child.
class Child {
 public:
  explicit Child(const std::function<int()>& body) {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      alarm(30);  // never outlive a failed test for long
      close(fds[1]);
      char c;
      if (read(fds[0], &c, 1) != 1) _exit(100);
      _exit(body());
    }
    close(fds[0]);
    go_fd_ = fds[1];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (go_fd_ >= 0) close(go_fd_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void go() {
    char c = 'g';
    REQUIRE(write(go_fd_, &c, 1) == 1);
    close(go_fd_);
    go_fd_ = -1;
  }
  // The wait status; fails the test when the child is still running after 5 s
  // (a test must fail, not hang, when a kill does not happen).
  int wait() {
    int status = 0;
    for (int i = 0; i < 5000; ++i) {
      pid_t r = waitpid(pid_, &status, WNOHANG);
      REQUIRE(r >= 0);
      if (r == pid_) {
        pid_ = -1;
        return status;
      }
      usleep(1000);
    }
    FAIL("child " << pid_ << " still running after 5 s");
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int go_fd_ = -1;
};

bool killed_by_sigkill(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }

// Makes this process the reaper of orphaned descendants while it lives, so a
// test can wait for (and check the fate of) daemonized grandchildren.
struct Subreaper {
  Subreaper() { REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0); }
  ~Subreaper() {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
  }
};

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { REQUIRE(pipe2(fds, O_CLOEXEC) == 0); }
  ~Pipe() {
    close(fds[0]);
    close(fds[1]);
  }
  // Reads exactly `size` bytes (grandchildren keep the write end open, so no EOF).
  bool read_exact(void* buf, size_t size) {
    char* p = static_cast<char*>(buf);
    while (size > 0) {
      ssize_t n = read(fds[0], p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      p += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }
};

std::unique_ptr<RunCgroup> create(const Manager& m, const std::string& run,
                                  const CgroupLimits& limits) {
  std::string error;
  auto cg = m.mgr.create_run(run, limits, error);
  INFO(error);
  REQUIRE(cg != nullptr);
  return cg;
}

void attach(RunCgroup& cg, pid_t pid) {
  std::string error;
  bool ok = cg.attach(pid, error);
  INFO(error);
  REQUIRE(ok);
}

struct Scratch {
  std::string path;
  Scratch() {
    char tmpl[] = "/tmp/cjs-cgtest-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~Scratch() {
    // Best effort: a leftover scratch dir fails no test.
    [[maybe_unused]] const int status = std::system(("rm -rf '" + path + "'").c_str());
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    DIR* d = opendir(path.c_str());
    if (d == nullptr) return out;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    closedir(d);
    return out;
  }
};

}  // namespace

TEST_CASE("detect finds memory and pids controllers and prepares the parents", "[cgroups]") {
  std::string group = group_name();
  {
    auto mgr = CgroupManager::detect(group);
    WARN("cgroups on this host: " << mgr.description());
    REQUIRE(mgr.available());
    if (host_is_v2()) {
      CHECK(mgr.mode() == CgroupManager::Mode::kV2);
      CHECK(mgr.description() == "v2 (memory, pids)");
    } else {
      // The CI host: v1 memory and pids hierarchies plus a hugetlb-only v2 mount.
      CHECK(mgr.mode() == CgroupManager::Mode::kV1);
      CHECK(mgr.description() == "v1 (memory, pids)");
    }
    auto parents = expected_parents(group);
    for (const auto& p : parents) CHECK(is_dir(p));
    if (!host_is_v2()) {
      CHECK(exists(parents[0] + "/memory.limit_in_bytes"));
      CHECK(exists(parents[1] + "/pids.max"));
    }
    // The parents are reused: a second detect (e.g. a restart) is fine.
    auto again = CgroupManager::detect(group);
    INFO(again.description());
    CHECK(again.available());
  }
  // Left in place, but empty: removable.
  for (const auto& p : expected_parents(group)) {
    INFO(p);
    CHECK(rmdir(p.c_str()) == 0);
  }
}

TEST_CASE("a run cgroup gets the limits and holds an attached child", "[cgroups]") {
  Manager m;
  REQUIRE(m.mgr.available());
  auto cg = create(m, "run-attach", {64 * kMiB, 5});

  std::string mem_dir = run_dir(m.group, "run-attach", 0);
  std::string pids_dir = run_dir(m.group, "run-attach", 1);
  if (m.mgr.mode() == CgroupManager::Mode::kV1) {
    CHECK(trim(read_text(mem_dir + "/memory.limit_in_bytes")) == std::to_string(64 * kMiB));
    if (exists(mem_dir + "/memory.memsw.limit_in_bytes")) {
      CHECK(trim(read_text(mem_dir + "/memory.memsw.limit_in_bytes")) == std::to_string(64 * kMiB));
    }
  } else {
    CHECK(trim(read_text(mem_dir + "/memory.max")) == std::to_string(64 * kMiB));
    if (exists(mem_dir + "/memory.swap.max")) {
      CHECK(trim(read_text(mem_dir + "/memory.swap.max")) == "0");
    }
  }
  CHECK(trim(read_text(pids_dir + "/pids.max")) == "5");

  Child child([] { return 7; });
  attach(*cg, child.pid());
  std::string suffix = "/" + m.group + "/run-attach";
  auto ends_with_suffix = [&](const std::string& path) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (m.mgr.mode() == CgroupManager::Mode::kV1) {
    INFO(read_text("/proc/" + std::to_string(child.pid()) + "/cgroup"));
    CHECK(ends_with_suffix(cgroup_of(child.pid(), "memory")));
    CHECK(ends_with_suffix(cgroup_of(child.pid(), "pids")));
  } else {
    CHECK(ends_with_suffix(cgroup_of(child.pid(), "")));
  }
  CHECK(trim(read_text(pids_dir + "/cgroup.procs")) == std::to_string(child.pid()));
  child.go();
  int status = child.wait();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
  CHECK_FALSE(cg->hit_memory_limit());
}

TEST_CASE("zero limits leave the caps unset", "[cgroups]") {
  Manager m;
  REQUIRE(m.mgr.available());
  auto cg = create(m, "run-nocap", {0, 0});
  CHECK(trim(read_text(run_dir(m.group, "run-nocap", 1) + "/pids.max")) == "max");
  std::string mem_dir = run_dir(m.group, "run-nocap", 0);
  if (m.mgr.mode() == CgroupManager::Mode::kV1) {
    CHECK(std::stoll(read_text(mem_dir + "/memory.limit_in_bytes")) > (std::int64_t{1} << 60));
  } else {
    CHECK(trim(read_text(mem_dir + "/memory.max")) == "max");
  }
}

TEST_CASE("pids_max caps the processes of a run", "[cgroups]") {
  Manager m;
  REQUIRE(m.mgr.available());
  Subreaper reaper;
  auto cg = create(m, "run-pids", {64 * kMiB, 5});
  Pipe result;
  Child child([&result]() -> int {
    int count = 0;
    int err = 0;
    for (int i = 0; i < 20; ++i) {
      pid_t p = fork();
      if (p == 0) {
        alarm(30);
        for (;;) pause();
      }
      if (p < 0) {
        err = errno;
        break;
      }
      ++count;
    }
    int msg[2] = {count, err};
    if (write(result.fds[1], msg, sizeof msg) != sizeof msg) return 1;
    for (;;) pause();
  });
  attach(*cg, child.pid());
  child.go();
  int msg[2] = {-1, -1};
  REQUIRE(result.read_exact(msg, sizeof msg));
  // Five in all: the child itself and four forks; the fifth fork fails.
  CHECK(msg[0] == 4);
  CHECK(msg[1] == EAGAIN);
  CHECK(trim(read_text(run_dir(m.group, "run-pids", 1) + "/pids.current")) == "5");

  cg->kill_all();
  CHECK(killed_by_sigkill(child.wait()));
  // The orphaned forks came to us (subreaper): all four were SIGKILLed.
  int killed = 0;
  int status = 0;
  for (int i = 0; i < 2000 && killed < 4; ++i) {
    pid_t r = waitpid(-1, &status, WNOHANG);
    if (r < 0) break;
    if (r == 0) usleep(1000);
    if (r > 0 && killed_by_sigkill(status)) ++killed;
  }
  CHECK(killed == 4);
  for (const auto& d : run_dirs(m.group, "run-pids"))
    CHECK(trim(read_text(d + "/cgroup.procs")).empty());
}

TEST_CASE("a memory hog is OOM-killed by the run's memory cap", "[cgroups]") {
  Manager m;
  REQUIRE(m.mgr.available());
  auto cg = create(m, "run-oom", {64 * kMiB, 16});
  Child child([] {
    const size_t size = 256 * kMiB;
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 3;
    char* bytes = static_cast<char*>(p);
    for (size_t i = 0; i < size; i += 4096) bytes[i] = 1;
    return 0;  // the cap did not hold
  });
  attach(*cg, child.pid());
  CHECK_FALSE(cg->hit_memory_limit());
  child.go();
  int status = child.wait();
  INFO("status " << status);
  CHECK(killed_by_sigkill(status));
  CHECK(cg->hit_memory_limit());
  auto peak = cg->memory_peak_bytes();
  REQUIRE(peak.has_value());
  CHECK(*peak > 16 * kMiB);
  CHECK(*peak <= 64 * kMiB);
}

TEST_CASE("kill_all kills every attached process, setsid double-fork included", "[cgroups]") {
  Manager m;
  REQUIRE(m.mgr.available());
  Subreaper reaper;
  auto cg = create(m, "run-kill", {64 * kMiB, 16});
  Pipe result;
  Child child([&result]() -> int {
    pid_t g = fork();
    if (g == 0) {
      setsid();
      if (fork() == 0) {
        alarm(30);
        pid_t me = getpid();
        if (write(result.fds[1], &me, sizeof me) != sizeof me) _exit(1);
        for (;;) pause();
      }
      _exit(0);
    }
    waitpid(g, nullptr, 0);
    for (;;) pause();
  });
  attach(*cg, child.pid());
  child.go();
  pid_t daemon = -1;
  REQUIRE(result.read_exact(&daemon, sizeof daemon));
  REQUIRE(daemon > 0);
  int daemon_fd = static_cast<int>(syscall(SYS_pidfd_open, daemon, 0));
  REQUIRE(daemon_fd >= 0);
  pollfd pfd{daemon_fd, POLLIN, 0};
  CHECK(poll(&pfd, 1, 0) == 0);  // alive before the kill

  cg->kill_all();
  CHECK(killed_by_sigkill(child.wait()));
  int ready = poll(&pfd, 1, 2000);
  close(daemon_fd);
  REQUIRE(ready == 1);  // the daemon exited too
  int status = 0;
  CHECK(waitpid(daemon, &status, WNOHANG) == daemon);
  CHECK(killed_by_sigkill(status));
  for (const auto& d : run_dirs(m.group, "run-kill"))
    CHECK(trim(read_text(d + "/cgroup.procs")).empty());
}

TEST_CASE("destroying a run kills what is left and removes its cgroup dirs", "[cgroups]") {
  Manager m;
  REQUIRE(m.mgr.available());
  auto cg = create(m, "run-dtor", {64 * kMiB, 16});
  auto dirs = run_dirs(m.group, "run-dtor");
  for (const auto& d : dirs) REQUIRE(is_dir(d));
  Child child([]() -> int {
    for (;;) pause();
  });
  attach(*cg, child.pid());
  child.go();
  cg.reset();
  CHECK(killed_by_sigkill(child.wait()));
  for (const auto& d : dirs) {
    INFO(d);
    CHECK_FALSE(exists(d));
  }
}

TEST_CASE("create_run takes one fresh path component only", "[cgroups]") {
  Manager m;
  REQUIRE(m.mgr.available());
  std::string error;
  for (const char* bad : {"", ".", "..", "../escape", "a/b", "/abs"}) {
    INFO("name '" << bad << "'");
    error.clear();
    CHECK(m.mgr.create_run(bad, {64 * kMiB, 5}, error) == nullptr);
    CHECK_FALSE(error.empty());
  }
  CHECK_FALSE(exists(expected_parents(m.group)[0] + "/a"));

  auto first = create(m, "run-dup", {64 * kMiB, 5});
  error.clear();
  CHECK(m.mgr.create_run("run-dup", {64 * kMiB, 5}, error) == nullptr);
  CHECK(error.find("run-dup") != std::string::npos);
  // The failed attempt did not remove the first run's dirs.
  for (const auto& d : run_dirs(m.group, "run-dup")) CHECK(is_dir(d));
}

TEST_CASE("an empty cgroup root is unavailable, saying what is missing", "[cgroups]") {
  Scratch scratch;
  auto mgr = CgroupManager::detect("cjs-test", scratch.path);
  std::string d = mgr.description();
  INFO(d);
  CHECK_FALSE(mgr.available());
  CHECK(mgr.mode() == CgroupManager::Mode::kNone);
  CHECK(d.rfind("not available: ", 0) == 0);
  CHECK(d.find(scratch.path + "/cgroup.controllers") != std::string::npos);
  CHECK(d.find(scratch.path + "/memory is missing") != std::string::npos);
  std::string error;
  CHECK(mgr.create_run("run", {64 * kMiB, 5}, error) == nullptr);
  CHECK(error.find("not available") != std::string::npos);
  CHECK(scratch.entries().empty());
}

TEST_CASE("a hugetlb-only cgroup2 root is not mistaken for usable v2", "[cgroups]") {
  SECTION("a scratch root listing only hugetlb") {
    Scratch scratch;
    { std::ofstream(scratch.path + "/cgroup.controllers") << "hugetlb\n"; }
    REQUIRE(mkdir((scratch.path + "/unified").c_str(), 0755) == 0);
    { std::ofstream(scratch.path + "/unified/cgroup.controllers") << "hugetlb\n"; }
    auto mgr = CgroupManager::detect("cjs-test", scratch.path);
    INFO(mgr.description());
    CHECK_FALSE(mgr.available());
    CHECK(mgr.description().find("only: hugetlb") != std::string::npos);
    CHECK(scratch.entries().size() == 2);  // no service leaf, no group
  }
  SECTION("a scratch root listing memory and pids that is no cgroup2 mount") {
    Scratch scratch;
    { std::ofstream(scratch.path + "/cgroup.controllers") << "cpu memory pids\n"; }
    auto mgr = CgroupManager::detect("cjs-test", scratch.path);
    INFO(mgr.description());
    CHECK_FALSE(mgr.available());
    CHECK(mgr.description().find("not a cgroup2 mount") != std::string::npos);
    CHECK(scratch.entries().size() == 1);
  }
  SECTION("the host's own hugetlb-only unified mount") {
    std::string unified = std::string(kRoot) + "/unified";
    std::string controllers = read_text(unified + "/cgroup.controllers");
    if (!is_dir(unified) || controllers.find("memory") != std::string::npos) {
      WARN("no hugetlb-only " << unified << " on this host");
      return;
    }
    std::string group = group_name();
    auto mgr = CgroupManager::detect(group, unified);
    INFO(mgr.description());
    CHECK_FALSE(mgr.available());
    CHECK(mgr.description().find("no memory/pids controllers") != std::string::npos);
    CHECK_FALSE(exists(unified + "/service"));
    CHECK_FALSE(exists(unified + "/" + group));
    CHECK(cgroup_of(getpid(), "") == cgroup_of(getppid(), ""));  // we were not moved
  }
}

TEST_CASE("a run's first process joins the run cgroup by itself through self_attach_files",
          "[cgroups]") {
  Manager m;
  REQUIRE(m.mgr.available());
  auto cg = create(m, "run-self", {64 * kMiB, 5});
  std::vector<std::string> files = cg->self_attach_files();
  if (m.mgr.mode() == CgroupManager::Mode::kV2) {
    CHECK(files.empty());  // v2: the runner moves the keeper by pid
    return;
  }
  // v1: one `tasks` file per hierarchy, opened here as the runner does.
  std::vector<std::string> dirs = run_dirs(m.group, "run-self");
  REQUIRE(files.size() == dirs.size());
  std::vector<int> fds;
  for (size_t i = 0; i < files.size(); ++i) {
    CHECK(files[i] == dirs[i] + "/tasks");
    int fd = open(files[i].c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    fds.push_back(fd);
  }
  // Before the child writes, nothing is in the group; after, exactly it.
  Child child([&fds] {
    for (int fd : fds) {
      if (write(fd, "0", 1) != 1) return 10;
    }
    pause();  // stay in the group until killed
    return 11;
  });
  for (int fd : fds) close(fd);
  CHECK(trim(read_text(dirs.back() + "/cgroup.procs")).empty());
  child.go();
  std::string suffix = "/" + m.group + "/run-self";
  auto joined = [&] {
    for (const char* ctl : {"memory", "pids"}) {
      std::string path = cgroup_of(child.pid(), ctl);
      if (path.size() < suffix.size() ||
          path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return false;
      }
    }
    // And the cpu hierarchies', which the child joins last.
    for (const auto& dir : dirs) {
      if (trim(read_text(dir + "/cgroup.procs")).empty()) return false;
    }
    return true;
  };
  bool in_group = false;
  for (int i = 0; i < 2000 && !(in_group = joined()); ++i) usleep(1000);
  INFO(read_text("/proc/" + std::to_string(child.pid()) + "/cgroup"));
  CHECK(in_group);
  for (const auto& dir : dirs) {
    CHECK(trim(read_text(dir + "/cgroup.procs")) == std::to_string(child.pid()));
  }
  // The group's kill reaches it like any attached process.
  cg->kill_all();
  int status = child.wait();
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE("a run cgroup weighs its CPU equally, counts all its processes' CPU, and signals all",
          "[cgroups]") {
  Manager m;
  REQUIRE(m.mgr.available());
  INFO("cgroup CPU accounting: " << m.mgr.cpu_description());
  REQUIRE(m.mgr.cpu_accounted());  // the CI host has v1 cpu and cpuacct
  CgroupLimits limits{64 * kMiB, 10};
  limits.cpu_max_cores = 1.5;
  auto cg = create(m, "run-cpu", limits);
  if (m.mgr.mode() == CgroupManager::Mode::kV1) {
    const auto dirs = run_dirs(m.group, "run-cpu");
    REQUIRE(dirs.size() >= 3);
    const std::string cpu_dir = dirs[2];  // memory, pids, then cpu (or cpu,cpuacct)
    CHECK(trim(read_text(cpu_dir + "/cpu.shares")) == "1024");
    CHECK(trim(read_text(cpu_dir + "/cpu.cfs_period_us")) == "100000");
    CHECK(trim(read_text(cpu_dir + "/cpu.cfs_quota_us")) == "150000");
  } else {
    const std::string dir = run_dirs(m.group, "run-cpu")[0];
    if (exists(dir + "/cpu.weight")) {
      CHECK(trim(read_text(dir + "/cpu.weight")) == "100");
      CHECK(trim(read_text(dir + "/cpu.max")) == "150000 100000");
    }
  }
  // A busy child with a busy grandchild: the group's CPU time is theirs
  // together, more than the child's own.
  Child child([] {
    if (fork() < 0) return 1;
    for (;;) {
    }
  });
  attach(*cg, child.pid());
  child.go();
  std::optional<std::int64_t> usage;
  for (int i = 0; i < 10000; ++i) {
    usage = cg->cpu_usage_usec();
    REQUIRE(usage.has_value());
    if (*usage >= 400000) break;
    usleep(1000);
  }
  std::istringstream schedstat(read_text("/proc/" + std::to_string(child.pid()) + "/schedstat"));
  std::int64_t child_ns = 0;
  schedstat >> child_ns;
  usage = cg->cpu_usage_usec();
  INFO("group " << *usage << " us, the child alone " << child_ns / 1000 << " us");
  CHECK(*usage >= 400000);
  CHECK(*usage > child_ns / 1000 + 100000);
  // signal_all spares the one it is told to (the runner spares the keeper).
  const std::string procs_file = run_dirs(m.group, "run-cpu")[0] + "/cgroup.procs";
  std::istringstream listed(read_text(procs_file));
  std::vector<pid_t> members;
  for (pid_t pid; listed >> pid;) members.push_back(pid);
  CHECK(members.size() == 2);
  cg->signal_all(SIGTERM, child.pid());
  bool only_child = false;
  for (int i = 0; i < 2000 && !only_child; ++i) {
    only_child = trim(read_text(procs_file)) == std::to_string(child.pid());
    if (!only_child) usleep(1000);
  }
  CHECK(only_child);
  cg->kill_all();
  const int status = child.wait();
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}
