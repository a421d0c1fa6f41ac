// Landlock layer (sandbox.md "Landlock"): every check runs in a forked child so
// the test process itself stays unrestricted. Each denial is also run without
// the layer (the "control") to prove the check can fail.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "jail/landlock.h"
#include "os/egress_lock.h"
#include "test/support/test_support.h"

namespace {

using cjs::jail::LandlockLayout;
using cjs::jail::LandlockPlan;

// Upstream UAPI values (not in Debian 12's headers), as jail/landlock.cpp uses.
constexpr std::uint64_t kExecute = 1ULL << 0;
constexpr std::uint64_t kWriteFile = 1ULL << 1;
constexpr std::uint64_t kReadFile = 1ULL << 2;
constexpr std::uint64_t kReadDir = 1ULL << 3;
constexpr std::uint64_t kMakeChar = 1ULL << 6;
constexpr std::uint64_t kMakeBlock = 1ULL << 11;
constexpr std::uint64_t kRefer = 1ULL << 13;
constexpr std::uint64_t kTruncate = 1ULL << 14;
constexpr std::uint64_t kIoctlDev = 1ULL << 15;

constexpr int kSetupFailed = 250;  // the child could not restrict itself
// in_child(): 1000 + signal number, as wait_child_code() reports it.
constexpr int kSignaled = cjs::test::kChildSignaled;

// fork(), optionally confine, run body; returns its exit code (an errno, 0
// for success), kSetupFailed, or kSignaled + signal.
template <typename Body>
int in_child(const LandlockPlan* plan, Body body) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (plan != nullptr) {
      int failed_rule = -1;
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(kSetupFailed);
      if (cjs::jail::apply_landlock(*plan, &failed_rule) != 0) _exit(kSetupFailed);
    }
    _exit(body());
  }
  return cjs::test::wait_child_code(pid);
}

// 0 when a call returning a descriptor or 0 succeeded, else its errno.
int result(long rc) {
  if (rc < 0) return errno;
  return 0;
}

int open_result(const std::string& path, int flags, mode_t mode = 0600) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

int write_file(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  int err = write(fd, "x", 1) == 1 ? 0 : errno;
  close(fd);
  return err;
}

int bind_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  int err = result(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
  close(fd);
  return err;
}

int connect_tcp(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int err = result(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
  close(fd);
  return err;
}

// bind(127.0.0.1:0) + listen; the port through *port when non-null.
int listen_tcp(int* fd_out, std::uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    close(fd);
    return err;
  }
  if (port != nullptr) *port = ntohs(addr.sin_port);
  if (fd_out != nullptr) {
    *fd_out = fd;
  } else {
    close(fd);
  }
  return 0;
}

socklen_t abstract_addr(const std::string& name, sockaddr_un* addr) {
  *addr = sockaddr_un{};
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path + 1, name.data(), name.size());  // leading NUL: abstract
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

int connect_abstract(const std::string& name) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_un addr;
  socklen_t len = abstract_addr(name, &addr);
  int err = result(connect(fd, reinterpret_cast<sockaddr*>(&addr), len));
  close(fd);
  return err;
}

int exec_result(const std::string& path) {
  char* const argv[] = {const_cast<char*>(path.c_str()), nullptr};
  char* const envp[] = {nullptr};
  execve(path.c_str(), argv, envp);
  return errno;
}

// A scratch tree standing in for a sandbox's mount view:
//   ro/file.txt, ro/interp (a copy of /usr/bin/true)  read-only root
//   box/data.txt, box/tmp/                              sandbox dir and its tmp
//   outside/secret.txt                                  must stay unreachable
struct Tree {
  std::string root, ro, interp, box, tmp, outside, secret;
  LandlockLayout layout;

  Tree() {
    char tmpl[] = "/tmp/cjs-landlock-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    root = tmpl;
    ro = root + "/ro";
    interp = ro + "/interp";
    box = root + "/box";
    tmp = box + "/tmp";
    outside = root + "/outside";
    secret = outside + "/secret.txt";
    for (const std::string& dir : {ro, box, tmp, outside}) {
      REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    }
    std::ofstream(ro + "/file.txt") << "read me";
    std::ofstream(box + "/data.txt") << "data";
    std::ofstream(secret) << "secret";
    std::filesystem::copy_file("/usr/bin/true", interp);
    REQUIRE(chmod(interp.c_str(), 0755) == 0);

    // /usr: the copied interpreter's libraries (readable, not executable).
    layout.read_exec_roots = {ro, "/usr"};
    layout.interpreter = interp;
    // A file (its READ_DIR must be dropped at apply time) and a missing path.
    layout.read_only_extras = {"/etc/ld.so.cache", root + "/missing"};
    layout.devices = {"/dev/null"};
    layout.sandbox_dir = box;
    layout.sandbox_tmp = tmp;
  }
  ~Tree() {
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }
};

const cjs::jail::LandlockRule* find_rule(const LandlockPlan& plan, const std::string& path) {
  for (const auto& rule : plan.rules) {
    if (rule.path == path) return &rule;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("Landlock plan covers the kernel's ABI and the layout", "[landlock]") {
  Tree tree;
  LandlockPlan plan = cjs::jail::plan_landlock(tree.layout);
  int abi = cjs::jail::landlock_abi_version();
  REQUIRE(plan.abi == abi);
  if (abi == 0) {
    REQUIRE(plan.degraded.size() == 1);
    CHECK(plan.rules.empty());
    WARN("Landlock unavailable on this kernel");
    return;
  }

  if (abi >= 5) CHECK(plan.handled_fs == 0xffff);  // bits 0..15, verified against the kernel
  CHECK((plan.handled_net != 0) == (abi >= 4));
  CHECK((plan.scoped != 0) == (abi >= 6));
  if (abi >= 6) CHECK(plan.degraded.empty());

  const auto* usr = find_rule(plan, "/usr");
  REQUIRE(usr != nullptr);
  CHECK(usr->access == (kReadFile | kReadDir));  // readable, never executable
  CHECK_FALSE(usr->optional);

  const auto* interp = find_rule(plan, tree.interp);
  REQUIRE(interp != nullptr);
  CHECK(interp->access == (kExecute | kReadFile));

  const auto* extra = find_rule(plan, "/etc/ld.so.cache");
  REQUIRE(extra != nullptr);
  CHECK(extra->optional);
  CHECK((extra->access & kExecute) == 0);

  const auto* dev = find_rule(plan, "/dev/null");
  REQUIRE(dev != nullptr);
  CHECK((dev->access & (kReadFile | kWriteFile)) == (kReadFile | kWriteFile));
  CHECK((dev->access & kIoctlDev) == 0);
  CHECK(((dev->access & kTruncate) != 0) == (abi >= 3));

  const auto* tmp = find_rule(plan, tree.tmp);
  REQUIRE(tmp != nullptr);
  CHECK((tmp->access & (kExecute | kMakeChar | kMakeBlock)) == 0);
  CHECK((tmp->access & kWriteFile) != 0);
  CHECK(((tmp->access & kRefer) != 0) == (abi >= 2));

  const auto* box = find_rule(plan, tree.box);
  REQUIRE(box != nullptr);
  CHECK(box->access == (kReadFile | kReadDir));

  for (const auto& rule : plan.rules) CHECK((rule.access & ~plan.handled_fs) == 0);
}

TEST_CASE("Landlock without kernel support degrades explicitly", "[landlock]") {
  LandlockPlan plan;  // abi 0: what plan_landlock returns on such a kernel
  int failed_rule = 7;
  CHECK(cjs::jail::apply_landlock(plan, &failed_rule) == 0);
  CHECK(failed_rule == -1);
}

TEST_CASE("Landlock confines the filesystem", "[landlock]") {
  Tree tree;
  LandlockPlan plan = cjs::jail::plan_landlock(tree.layout);
  if (plan.abi == 0) {
    WARN("Landlock unavailable on this kernel");
    return;
  }
  const LandlockPlan* on = &plan;

  SECTION("reading a file outside is EACCES") {
    auto probe = [&] { return open_result(tree.secret, O_RDONLY); };
    CHECK(in_child(on, probe) == EACCES);
    CHECK(in_child(nullptr, probe) == 0);
  }
  SECTION("listing a directory outside, or /, is EACCES") {
    auto outside = [&] { return open_result(tree.outside, O_RDONLY | O_DIRECTORY); };
    auto root = [] { return open_result("/", O_RDONLY | O_DIRECTORY); };
    CHECK(in_child(on, outside) == EACCES);
    CHECK(in_child(on, root) == EACCES);
    CHECK(in_child(nullptr, outside) == 0);
  }
  SECTION("creating a file in a read-only root or the sandbox dir is EACCES") {
    auto in_ro = [&] { return write_file(tree.ro + "/new"); };
    auto in_box = [&] { return write_file(tree.box + "/new"); };
    auto overwrite = [&] { return open_result(tree.box + "/data.txt", O_WRONLY); };
    CHECK(in_child(on, in_ro) == EACCES);
    CHECK(in_child(on, in_box) == EACCES);
    CHECK(in_child(on, overwrite) == EACCES);
    CHECK(in_child(nullptr, in_ro) == 0);  // as root, only Landlock stands in the way
  }
  SECTION("the allowed paths stay usable") {
    CHECK(in_child(on, [&] { return open_result(tree.ro + "/file.txt", O_RDONLY); }) == 0);
    CHECK(in_child(on, [&] { return open_result(tree.ro, O_RDONLY | O_DIRECTORY); }) == 0);
    CHECK(in_child(on, [&] { return open_result(tree.box + "/data.txt", O_RDONLY); }) == 0);
    CHECK(in_child(on, [] { return open_result("/etc/ld.so.cache", O_RDONLY); }) == 0);
    // Python's open("/dev/null", "w") uses O_TRUNC.
    CHECK(in_child(on, [] { return open_result("/dev/null", O_WRONLY | O_TRUNC); }) == 0);
  }
  SECTION("tmp/ is fully writable, and Unix sockets bind only there") {
    auto work = [&] {
      const std::string& t = tree.tmp;
      if (int err = write_file(t + "/a")) return err;
      if (int err = result(truncate((t + "/a").c_str(), 0))) return err;
      if (int err = result(mkdir((t + "/d").c_str(), 0700))) return err;
      if (int err = result(rename((t + "/a").c_str(), (t + "/d/a").c_str()))) return err;
      if (int err = result(symlink("a", (t + "/d/link").c_str()))) return err;
      if (int err = result(mkfifo((t + "/fifo").c_str(), 0600))) return err;
      if (int err = bind_unix(t + "/sock")) return err;
      if (int err = result(unlink((t + "/d/a").c_str()))) return err;
      if (int err = result(unlink((t + "/d/link").c_str()))) return err;
      return result(rmdir((t + "/d").c_str()));
    };
    CHECK(in_child(on, work) == 0);
    auto sock_in_box = [&] { return bind_unix(tree.box + "/sock"); };
    CHECK(in_child(on, sock_in_box) == EACCES);
    CHECK(in_child(nullptr, sock_in_box) == 0);
  }
  SECTION("tmp/ refuses device nodes") {
    auto node = [&] {
      return result(mknod((tree.tmp + "/null").c_str(), S_IFCHR | 0600, makedev(1, 3)));
    };
    CHECK(in_child(on, node) == EACCES);
    CHECK(in_child(nullptr, node) == 0);
  }
  SECTION("only the interpreter executes (its ELF loader included)") {
    CHECK(in_child(on, [&] { return exec_result(tree.interp); }) == 0);
    auto other = [] { return exec_result("/usr/bin/true"); };
    CHECK(in_child(on, other) == EACCES);
    CHECK(in_child(nullptr, other) == 0);
    // A copy in tmp/ is writable but never executable.
    auto planted = [&] {
      std::error_code ec;
      std::filesystem::copy_file(tree.interp, tree.tmp + "/prog", ec);
      if (ec) return ec.value();
      if (chmod((tree.tmp + "/prog").c_str(), 0755) != 0) return errno;
      return exec_result(tree.tmp + "/prog");
    };
    CHECK(in_child(on, planted) == EACCES);
  }
  SECTION("device ioctls are refused (ABI >= 5)") {
    if (plan.abi < 5) return;
    auto tcgets = [] {
      int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
      if (fd < 0) return 200;
      termios t;
      int err = result(ioctl(fd, TCGETS, &t));
      close(fd);
      return err;
    };
    CHECK(in_child(on, tcgets) == EACCES);
    CHECK(in_child(nullptr, tcgets) == ENOTTY);
  }
}

TEST_CASE("Landlock skips missing optional paths and reports missing required ones", "[landlock]") {
  Tree tree;
  LandlockPlan plan = cjs::jail::plan_landlock(tree.layout);
  if (plan.abi == 0) return;
  // The layout already has an optional missing extra; the child confines fine.
  REQUIRE(find_rule(plan, tree.root + "/missing") != nullptr);
  CHECK(in_child(&plan, [] { return 0; }) == 0);

  plan.rules.push_back({tree.root + "/absent", kReadFile, /*optional=*/false});
  int expected_index = static_cast<int>(plan.rules.size()) - 1;
  auto apply = [&] {
    int failed_rule = -1;
    int err = cjs::jail::apply_landlock(plan, &failed_rule);
    return err == ENOENT && failed_rule == expected_index ? 0 : 1;
  };
  CHECK(in_child(nullptr, apply) == 0);
}

TEST_CASE("Landlock denies TCP, abstract sockets and signals outside the sandbox", "[landlock]") {
  Tree tree;
  LandlockPlan plan = cjs::jail::plan_landlock(tree.layout);
  const LandlockPlan* on = &plan;

  SECTION("TCP connect and bind are EACCES (ABI >= 4)") {
    if (plan.abi < 4) return;
    int listener = -1;
    std::uint16_t port = 0;
    REQUIRE(listen_tcp(&listener, &port) == 0);
    auto connect = [&] { return connect_tcp(port); };
    CHECK(in_child(on, connect) == EACCES);
    CHECK(in_child(nullptr, connect) == 0);
    auto bind = [] { return listen_tcp(nullptr, nullptr); };
    CHECK(in_child(on, bind) == EACCES);
    CHECK(in_child(nullptr, bind) == 0);
    close(listener);
  }
  SECTION("abstract Unix sockets of the host are EPERM (ABI >= 6)") {
    if (plan.abi < 6) return;
    std::string name = "cjs-landlock-test-" + std::to_string(getpid());
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener >= 0);
    sockaddr_un addr;
    socklen_t len = abstract_addr(name, &addr);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(listen(listener, 16) == 0);
    auto connect = [&] { return connect_abstract(name); };
    CHECK(in_child(on, connect) == EPERM);
    CHECK(in_child(nullptr, connect) == 0);
    close(listener);
  }
  SECTION("signalling the parent is EPERM (ABI >= 6)") {
    if (plan.abi < 6) return;
    auto signal_parent = [] { return result(kill(getppid(), 0)); };
    CHECK(in_child(on, signal_parent) == EPERM);
    CHECK(in_child(nullptr, signal_parent) == 0);
    // Its own process stays signalable.
    CHECK(in_child(on, [] { return result(kill(getpid(), 0)); }) == 0);
  }
}

TEST_CASE("restrict_own_tcp_connect blocks connect but not bind or files", "[landlock]") {
  if (cjs::jail::landlock_abi_version() < 4) {
    WARN("Landlock ABI < 4: no TCP rules");
    return;
  }
  int listener = -1;
  std::uint16_t port = 0;
  REQUIRE(listen_tcp(&listener, &port) == 0);

  auto restricted = [&](auto body) {
    return [&, body] {
      if (cjs::os::restrict_own_tcp_connect() != 0) return kSetupFailed;
      return body();
    };
  };
  auto connect = [&] { return connect_tcp(port); };
  CHECK(in_child(nullptr, restricted(connect)) == EACCES);
  CHECK(in_child(nullptr, connect) == 0);
  CHECK(in_child(nullptr, restricted([] { return listen_tcp(nullptr, nullptr); })) == 0);
  CHECK(in_child(nullptr, restricted([] { return open_result("/etc/passwd", O_RDONLY); })) == 0);
  close(listener);
}
