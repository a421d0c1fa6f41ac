// Sweeping what killed workers leave behind (jail/stale_cleanup.h): stale
// sandbox dirs and run cgroups go, live ones and anything not ours stay.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "jail/cgroups.h"
#include "jail/sandbox_dir.h"
#include "jail/stale_cleanup.h"

namespace {

struct Scratch {
  std::string path;
  Scratch() {
    char tmpl[] = "/tmp/cjs-sweep-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~Scratch() {
    // Best effort: a leftover scratch dir fails no test.
    [[maybe_unused]] const int status =
        std::system(("chmod -R u+rwx '" + path + "'; rm -rf '" + path + "'").c_str());
  }
};

bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

// A dir as a killed worker leaves it: sealed, with files, a symlink to a
// host file and a tmp/ subtree.
void plant_stale_dir(const std::string& path, const std::string& victim) {
  REQUIRE(mkdir(path.c_str(), 0755) == 0);
  REQUIRE(mkdir((path + "/tmp").c_str(), 0700) == 0);
  REQUIRE(mkdir((path + "/tmp/deep").c_str(), 0700) == 0);
  { std::ofstream(path + "/jailed_code") << "print(1)"; }
  REQUIRE(symlink(victim.c_str(), (path + "/tmp/deep/link").c_str()) == 0);
  REQUIRE(chmod(path.c_str(), 0555) == 0);
}

}  // namespace

TEST_CASE("sandbox dir names are recognised exactly", "[stale_cleanup]") {
  CHECK(cjs::jail::is_sandbox_dir_name("codejail-abc_1234"));
  CHECK(cjs::jail::is_sandbox_dir_name(cjs::jail::random_sandbox_name()));
  CHECK_FALSE(cjs::jail::is_sandbox_dir_name("codejail-abc_123"));
  CHECK_FALSE(cjs::jail::is_sandbox_dir_name("codejail-abc_12345"));
  CHECK_FALSE(cjs::jail::is_sandbox_dir_name("codejail-ABC_1234"));
  CHECK_FALSE(cjs::jail::is_sandbox_dir_name("codejail-abc/1234"));
  CHECK_FALSE(cjs::jail::is_sandbox_dir_name("xcodejail-abc1234"));
  CHECK(cjs::jail::is_staging_dir_name(".codejail-abc_1234.new"));
  CHECK_FALSE(cjs::jail::is_staging_dir_name("codejail-abc_1234.new"));
  CHECK_FALSE(cjs::jail::is_staging_dir_name(".codejail-abc_1234"));
}

TEST_CASE("a stale sandbox dir is removed without following its links", "[stale_cleanup]") {
  Scratch scratch;
  const std::string victim = scratch.path + "/victim";
  { std::ofstream(victim) << "keep me"; }
  plant_stale_dir(scratch.path + "/codejail-stale001", victim);
  plant_stale_dir(scratch.path + "/.codejail-stale002.new", victim);
  // Not ours by name: left alone whatever they hold.
  REQUIRE(mkdir((scratch.path + "/codejail-other").c_str(), 0755) == 0);
  REQUIRE(mkdir((scratch.path + "/other-dir").c_str(), 0755) == 0);
  // A symlink with a sandbox name is not a directory of ours: never followed.
  const std::string target = scratch.path + "/other-dir";
  REQUIRE(symlink(target.c_str(), (scratch.path + "/codejail-symlink").c_str()) == 0);
  { std::ofstream(target + "/precious") << "keep me"; }

  // Too young: the age guard keeps it.
  auto young = cjs::jail::sweep_stale_sandbox_dirs(scratch.path, 3600);
  CHECK(young.dirs_removed == 0);
  CHECK(exists(scratch.path + "/codejail-stale001"));

  auto report = cjs::jail::sweep_stale_sandbox_dirs(scratch.path, 0);
  CHECK(report.errors.empty());
  CHECK(report.dirs_removed == 2);
  CHECK_FALSE(exists(scratch.path + "/codejail-stale001"));
  CHECK_FALSE(exists(scratch.path + "/.codejail-stale002.new"));
  CHECK(exists(scratch.path + "/codejail-other"));
  CHECK(exists(scratch.path + "/codejail-symlink"));
  CHECK(exists(target + "/precious"));
  CHECK(exists(victim));
}

TEST_CASE("a stale dir owned by another user is left alone", "[stale_cleanup]") {
  if (geteuid() != 0) {
    FAIL("needs root to make a dir owned by another uid");
  }
  Scratch scratch;
  const std::string dir = scratch.path + "/codejail-foreign1";
  REQUIRE(mkdir(dir.c_str(), 0755) == 0);
  REQUIRE(chown(dir.c_str(), 12345, 12345) == 0);
  auto report = cjs::jail::sweep_stale_sandbox_dirs(scratch.path, 0);
  CHECK(report.dirs_removed == 0);
  CHECK(exists(dir));
}

TEST_CASE("a live execution's dir is never swept; a killed one's is", "[stale_cleanup]") {
  Scratch scratch;
  SECTION("held by this process") {
    auto live = cjs::jail::SandboxDir::create(scratch.path, std::nullopt);
    auto report = cjs::jail::sweep_stale_sandbox_dirs(scratch.path, 0);
    CHECK(report.dirs_removed == 0);
    CHECK(report.dirs_live == 1);
    CHECK(exists(live.host_path()));
  }
  SECTION("held by a process that is SIGKILLed mid-run") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      auto dir = cjs::jail::SandboxDir::create(scratch.path, std::nullopt);
      dir.create_file("jailed_code", "x = 1");
      dir.seal();
      std::string name = dir.name();
      (void)!write(fds[1], name.data(), name.size());
      close(fds[1]);
      for (;;) pause();
    }
    close(fds[1]);
    char buf[64] = {};
    REQUIRE(read(fds[0], buf, sizeof buf) == 17);
    close(fds[0]);
    const std::string path = scratch.path + "/" + buf;
    REQUIRE(exists(path));
    CHECK(cjs::jail::sweep_stale_sandbox_dirs(scratch.path, 0).dirs_live == 1);
    CHECK(exists(path));
    REQUIRE(kill(pid, SIGKILL) == 0);
    REQUIRE(waitpid(pid, nullptr, 0) == pid);
    auto report = cjs::jail::sweep_stale_sandbox_dirs(scratch.path, 0);
    CHECK(report.errors.empty());
    CHECK(report.dirs_removed == 1);
    CHECK_FALSE(exists(path));
  }
}

TEST_CASE("run cgroups whose sandbox dir is gone are removed once empty", "[stale_cleanup]") {
  Scratch root;
  Scratch parent;  // plain dirs stand in for cgroups: rmdir only removes empty ones
  auto live = cjs::jail::SandboxDir::create(root.path, std::nullopt);
  REQUIRE(mkdir((parent.path + "/" + live.name()).c_str(), 0755) == 0);
  REQUIRE(mkdir((parent.path + "/codejail-stale003").c_str(), 0755) == 0);
  REQUIRE(mkdir((parent.path + "/codejail-busy0004").c_str(), 0755) == 0);
  { std::ofstream(parent.path + "/codejail-busy0004/x") << "not empty"; }
  REQUIRE(mkdir((parent.path + "/service").c_str(), 0755) == 0);
  auto report = cjs::jail::sweep_stale_run_cgroups({parent.path}, root.path, 0);
  CHECK(report.cgroups_removed == 1);
  CHECK_FALSE(exists(parent.path + "/codejail-stale003"));
  CHECK(exists(parent.path + "/" + live.name()));
  CHECK(exists(parent.path + "/codejail-busy0004/x"));
  CHECK(exists(parent.path + "/service"));
}

TEST_CASE("a stale run cgroup in the real hierarchy is removed", "[stale_cleanup]") {
  if (geteuid() != 0) {
    FAIL("needs root for the host's cgroups");
  }
  auto manager = cjs::jail::CgroupManager::detect("codejail-service-sweep-test");
  REQUIRE(manager.available());
  Scratch root;
  const std::string name = "codejail-stale005";
  for (const auto& p : manager.parents()) REQUIRE(mkdir((p + "/" + name).c_str(), 0755) == 0);
  // Too young: another service may be about to join it.
  CHECK(cjs::jail::sweep_stale_run_cgroups(manager.parents(), root.path, 3600).cgroups_removed ==
        0);
  auto report = cjs::jail::sweep_stale_run_cgroups(manager.parents(), root.path, 0);
  CHECK(report.errors.empty());
  CHECK(report.cgroups_removed == static_cast<int>(manager.parents().size()));
  for (const auto& p : manager.parents()) {
    CHECK_FALSE(exists(p + "/" + name));
    rmdir(p.c_str());
  }
}
