// Cleanup must never follow what the sandboxed code planted (sandbox.md 8, 21).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "jail/safe_remove.h"
#include "jail/sandbox_dir.h"

namespace {

// A scratch directory outside any sandbox, removed by the test itself.
struct Scratch {
  std::string path;
  Scratch() {
    char tmpl[] = "/tmp/cjs-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~Scratch() {
    // Best effort: a leftover scratch dir fails no test.
    [[maybe_unused]] const int status = std::system(("rm -rf '" + path + "'").c_str());
  }
};

bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("removal unlinks symlinks without touching their targets", "[safe_remove]") {
  Scratch scratch;
  std::string victim_dir = scratch.path + "/victim";
  REQUIRE(mkdir(victim_dir.c_str(), 0755) == 0);
  { std::ofstream(victim_dir + "/precious") << "keep me"; }

  std::string tree = scratch.path + "/tree";
  REQUIRE(mkdir(tree.c_str(), 0755) == 0);
  REQUIRE(symlink(victim_dir.c_str(), (tree + "/dirlink").c_str()) == 0);
  REQUIRE(symlink((victim_dir + "/precious").c_str(), (tree + "/filelink").c_str()) == 0);
  REQUIRE(link((victim_dir + "/precious").c_str(), (tree + "/hardlink").c_str()) == 0);
  REQUIRE(mkfifo((tree + "/fifo").c_str(), 0600) == 0);

  int root = open(scratch.path.c_str(), O_RDONLY | O_DIRECTORY);
  std::string error;
  CHECK(cjs::jail::remove_tree_nofollow(root, "tree", error));
  close(root);
  CHECK(error.empty());
  CHECK_FALSE(exists(tree));
  CHECK(exists(victim_dir + "/precious"));
  std::ifstream in(victim_dir + "/precious");
  std::string content;
  std::getline(in, content);
  CHECK(content == "keep me");
}

TEST_CASE("removal handles deep nesting and unreadable directories", "[safe_remove]") {
  Scratch scratch;
  std::string path = scratch.path + "/deep";
  REQUIRE(mkdir(path.c_str(), 0755) == 0);
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY);
  // Deeper than PATH_MAX allows to name from the top, built relative to fds.
  for (int i = 0; i < 600; ++i) {
    REQUIRE(mkdirat(fd, "dddddddddd", 0755) == 0);
    int next = openat(fd, "dddddddddd", O_RDONLY | O_DIRECTORY);
    close(fd);
    fd = next;
  }
  REQUIRE(mkdirat(fd, "locked", 0000) == 0);
  close(fd);

  int root = open(scratch.path.c_str(), O_RDONLY | O_DIRECTORY);
  std::string error;
  CHECK(cjs::jail::remove_tree_nofollow(root, "deep", error));
  close(root);
  INFO(error);
  CHECK_FALSE(exists(path));
}

TEST_CASE("removing an absent tree succeeds", "[safe_remove]") {
  Scratch scratch;
  int root = open(scratch.path.c_str(), O_RDONLY | O_DIRECTORY);
  std::string error;
  CHECK(cjs::jail::remove_tree_nofollow(root, "nothing-here", error));
  close(root);
}

TEST_CASE("sandbox dirs have the reference's name shape and layout", "[sandbox_dir]") {
  Scratch scratch;
  std::string host_path;
  {
    auto dir = cjs::jail::SandboxDir::create(scratch.path, std::nullopt);
    host_path = dir.host_path();
    CHECK(dir.name().size() == std::string("codejail-").size() + 8);
    CHECK(dir.name().rfind("codejail-", 0) == 0);
    CHECK(dir.name().find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_", 9) ==
          std::string::npos);
    dir.create_file("jailed_code", "pass\n");
    CHECK_THROWS(dir.create_file("jailed_code", "again"));  // never replaces
    CHECK_THROWS(dir.create_file("../escape", "x"));
    CHECK_THROWS(dir.create_file("a/b", "x"));
    CHECK_THROWS(dir.create_file("..", "x"));
    CHECK_THROWS(dir.create_file(std::string("nul\0byte", 8), "x"));
    CHECK(exists(host_path + "/tmp"));
    CHECK(exists(host_path + "/jailed_code"));
  }
  CHECK_FALSE(exists(host_path));  // the destructor removes it
  CHECK_FALSE(exists(scratch.path + "/escape"));
}

TEST_CASE("file names are checked before anything is created", "[sandbox_dir]") {
  using cjs::jail::is_safe_file_name;
  CHECK(is_safe_file_name("python_lib.zip"));
  CHECK_FALSE(is_safe_file_name(""));
  CHECK_FALSE(is_safe_file_name("."));
  CHECK_FALSE(is_safe_file_name(".."));
  CHECK_FALSE(is_safe_file_name("/etc/passwd"));
  CHECK_FALSE(is_safe_file_name(std::string(256, 'a')));
}
