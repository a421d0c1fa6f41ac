// os/cgroup_leaf.h against a real cgroup2 mount (run as root): the
// "no internal processes" rule that Delegate=yes runs into, and the move into
// the service leaf that lifts it. This host may be cgroup v1 for memory and
// pids, so a forked child mounts the v2 hierarchy in a private mount
// namespace and uses whatever controller v2 has (hugetlb on a hybrid host).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "os/cgroup_leaf.h"
#include "os/cgroupfs.h"
#include "os/io.h"

namespace {

// The file's text, "" when it cannot be read.
std::string read_text(const std::string& path) {
  return cjs::os::read_control_file(path).value_or("");
}

// 0, or the errno of the failed open/write.
int write_text(const std::string& path, const std::string& value) {
  cjs::os::WriteResult written = cjs::os::write_file(path, value);
  return written.stage == cjs::os::WriteResult::kShort ? EIO : written.error;
}

std::string first_word(const std::string& text) {
  std::istringstream in(text);
  std::string w;
  in >> w;
  return w;
}

// Runs in the forked child; returns "" on success, else what failed.
std::string scenario(const std::string& mnt) {
  if (unshare(CLONE_NEWNS) != 0) return std::string("unshare: ") + strerror(errno);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return std::string("make-rprivate: ") + strerror(errno);
  }
  if (mount("none", mnt.c_str(), "cgroup2", 0, nullptr) != 0) {
    return std::string("mount cgroup2: ") + strerror(errno);
  }
  // A controller of the v2 hierarchy, enabled at its root for our group.
  std::string root_enabled = read_text(mnt + "/cgroup.subtree_control");
  std::string controller = first_word(root_enabled);
  bool enabled_by_us = false;
  if (controller.empty()) {
    controller = first_word(read_text(mnt + "/cgroup.controllers"));
    if (controller.empty()) return "the cgroup2 hierarchy has no controller at all";
    if (int err = write_text(mnt + "/cgroup.subtree_control", "+" + controller)) {
      return "cannot enable " + controller + " at the v2 root: " + strerror(err);
    }
    enabled_by_us = true;
  }
  std::string group = mnt + "/cjs-leaf-test-" + std::to_string(getpid());
  std::string result;
  auto fail = [&](const std::string& what) {
    if (result.empty()) result = what;
  };
  if (mkdir(group.c_str(), 0755) != 0) return "mkdir " + group + ": " + strerror(errno);
  // The unit's cgroup, with us (the supervisor) in it.
  if (int err = write_text(group + "/cgroup.procs", "0"))
    fail(std::string("join: ") + strerror(err));
  // What Delegate=yes runs into: a cgroup holding processes cannot enable
  // controllers for children.
  int busy = write_text(group + "/cgroup.subtree_control", "+" + controller);
  if (busy != EBUSY) {
    fail("enabling " + controller + " with a process inside gave '" + strerror(busy) +
         "', not EBUSY");
  }
  cjs::os::LeafMove move = cjs::os::move_self_into_leaf_on(mnt);
  if (move.outcome != cjs::os::LeafMove::kMoved) fail("move: " + move.detail);
  if (move.detail != group + "/service") fail("moved into " + move.detail);
  std::string expected = "0::/cjs-leaf-test-" + std::to_string(getpid()) + "/service\n";
  std::string now = read_text("/proc/self/cgroup");
  if (now.find(expected) == std::string::npos) fail("/proc/self/cgroup is now " + now);
  if (!read_text(group + "/cgroup.procs").empty()) fail("the group still holds processes");
  // Now the delegated group can enable controllers for the run cgroups.
  if (int err = write_text(group + "/cgroup.subtree_control", "+" + controller)) {
    fail("enabling " + controller + " after the move: " + strerror(err));
  }
  if (cjs::os::move_self_into_leaf_on(mnt).outcome != cjs::os::LeafMove::kAlreadyInLeaf) {
    fail("a second move did not see the leaf");
  }
  // A worker forked afterwards starts in the leaf already.
  pid_t worker = fork();
  if (worker == 0) {
    _exit(cjs::os::move_self_into_leaf_on(mnt).outcome == cjs::os::LeafMove::kAlreadyInLeaf ? 0
                                                                                            : 1);
  }
  int status = 0;
  waitpid(worker, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("a forked child was not in the leaf");
  // Clean up: back to the root, controllers off, groups gone.
  write_text(mnt + "/cgroup.procs", "0");
  write_text(group + "/cgroup.subtree_control", "-" + controller);
  rmdir((group + "/service").c_str());
  if (rmdir(group.c_str()) != 0) fail("rmdir " + group + ": " + strerror(errno));
  if (enabled_by_us) write_text(mnt + "/cgroup.subtree_control", "-" + controller);
  umount(mnt.c_str());
  return result;
}

}  // namespace

TEST_CASE("the supervisor's move into the service leaf lifts cgroup v2's EBUSY") {
  REQUIRE(geteuid() == 0);
  char dir[] = "/tmp/cjs-cgroup2-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  int report[2];
  REQUIRE(pipe(report) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(report[0]);
    std::string result = scenario(dir);
    (void)!write(report[1], result.data(), result.size());
    _exit(result.empty() ? 0 : 1);
  }
  close(report[1]);
  std::string text;
  char buf[512];
  ssize_t n;
  while ((n = read(report[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(report[0]);
  int status = 0;
  waitpid(child, &status, 0);
  rmdir(dir);
  INFO(text);
  CHECK(text.empty());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
