// Attack catalogue items 17-23 (sandbox.md): the code reads nothing outside
// its sandbox dir and the interpreter's files, writes only its tmp/, keeps
// nothing across runs, and cannot make the service follow what it plants.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "attack_fixture.h"
#include "common/payload.h"
#include "jail/sandbox_dir.h"

using namespace cjs::attack;

namespace {

// Removes host paths a sabotaged run may have created.
struct RemoveOnExit {
  std::vector<std::string> paths;
  ~RemoveOnExit() {
    for (const auto& p : paths) ::unlink(p.c_str());
  }
};

struct FileStat {
  off_t size;
  mode_t mode;
  uid_t uid;
  gid_t gid;
  nlink_t nlink;
  timespec mtime;
};

FileStat stat_of(const std::string& path) {
  struct stat st {};
  REQUIRE(lstat(path.c_str(), &st) == 0);
  return FileStat{st.st_size, st.st_mode, st.st_uid, st.st_gid, st.st_nlink, st.st_mtim};
}

void check_unchanged(const std::string& path, const FileStat& before) {
  FileStat after = stat_of(path);
  INFO("path: " << path);
  CHECK(after.size == before.size);
  CHECK(after.mode == before.mode);
  CHECK(after.uid == before.uid);
  CHECK(after.gid == before.gid);
  CHECK(after.nlink == before.nlink);
  CHECK(after.mtime.tv_sec == before.mtime.tv_sec);
  CHECK(after.mtime.tv_nsec == before.mtime.tv_nsec);
}

constexpr const char* kDenied = "PermissionError: [Errno 13] Permission denied: ";

}  // namespace

TEST_CASE("17: reading host files and the service config is denied", "[attack][deny]") {
  // A service config readable by everyone on the host (as operators' often are).
  const std::string config_path = "/etc/codejail-service-test-" + random_token(10) + ".yaml";
  RemoveOnExit cleanup{{config_path}};
  { std::ofstream(config_path) << "CODEJAIL_ENABLED: true\nCODE_JAIL:\n  user: sandbox\n"; }
  REQUIRE(chmod(config_path.c_str(), 0644) == 0);

  auto executor = make_executor(attack_config(), slot_for(17));
  Outcome out = run(executor, kPyAttempt +
                                  "def read(path):\n"
                                  "    with open(path, 'rb') as f:\n"
                                  "        f.read()\n"
                                  "hosts = attempt(read, '/etc/hosts')\n"
                                  "passwd = attempt(read, '/etc/passwd')\n"
                                  "shadow = attempt(read, '/etc/shadow')\n"
                                  "init_cmdline = attempt(read, '/proc/1/cmdline')\n"
                                  "config = attempt(read, " +
                                  py_str(config_path) + ")\n");
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "hosts") == std::string(kDenied) + "'/etc/hosts'");
  CHECK(global_str(out.body(), "passwd") == std::string(kDenied) + "'/etc/passwd'");
  CHECK(global_str(out.body(), "shadow") == std::string(kDenied) + "'/etc/shadow'");
  CHECK(global_str(out.body(), "init_cmdline") == std::string(kDenied) + "'/proc/1/cmdline'");
  CHECK(global_str(out.body(), "config") == std::string(kDenied) + "'" + config_path + "'");
  expect_clean_next_run(executor);
}

TEST_CASE("18: listing / and /sys and /tmp and ../ is denied", "[attack][deny]") {
  auto executor = make_executor(attack_config(), slot_for(18));
  Outcome out = run(executor, kPyAttempt +
                                  "import os\n"
                                  "root = attempt(os.listdir, '/')\n"
                                  "sys_ = attempt(os.listdir, '/sys')\n"
                                  "tmp = attempt(os.listdir, '/tmp')\n"
                                  "parent = attempt(os.listdir, '../')\n"
                                  "etc = attempt(os.listdir, '/etc')\n"
                                  "proc = attempt(os.listdir, '/proc')\n"
                                  "own = sorted(os.listdir('.'))\n");
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "root") == std::string(kDenied) + "'/'");
  CHECK(global_str(out.body(), "sys_") == std::string(kDenied) + "'/sys'");
  CHECK(global_str(out.body(), "tmp") == std::string(kDenied) + "'/tmp'");
  CHECK(global_str(out.body(), "parent") == std::string(kDenied) + "'../'");
  CHECK(global_str(out.body(), "etc") == std::string(kDenied) + "'/etc'");
  CHECK(global_str(out.body(), "proc") == std::string(kDenied) + "'/proc'");
  CHECK(global(out.body(), "own") == R"(["jailed_code","tmp"])");
  expect_clean_next_run(executor);
}

TEST_CASE("19: writing outside tmp/ is denied", "[attack][deny]") {
  const std::string token = random_token(10);
  const std::string in_tmp = "/tmp/cjs-attack-" + token + "-a";
  const std::string in_parent = "cjs-attack-" + token + "-b";  // ../ is the sandbox root, /tmp
  const std::string in_usr = "/usr/lib/python3/cjs-attack-" + token;
  const std::string venv = "/opt/codejail-service/sandbox-venv/cjs-attack-" + token;
  const std::string in_etc = "/etc/cjs-attack-" + token;
  RemoveOnExit cleanup{{in_tmp, "/tmp/" + in_parent, in_usr, venv, in_etc}};

  auto executor = make_executor(attack_config(), slot_for(19));
  Outcome out = run(executor, kPyAttempt +
                                  "import os\n"
                                  "def write(path):\n"
                                  "    with open(path, 'w') as f:\n"
                                  "        f.write('x')\n"
                                  "tmp = attempt(write, " +
                                  py_str(in_tmp) +
                                  ")\n"
                                  "parent = attempt(write, '../" +
                                  in_parent +
                                  "')\n"
                                  "usr = attempt(write, " +
                                  py_str(in_usr) +
                                  ")\n"
                                  "venv = attempt(write, " +
                                  py_str(venv) +
                                  ")\n"
                                  "etc = attempt(write, " +
                                  py_str(in_etc) +
                                  ")\n"
                                  "own = attempt(write, 'x')\n"
                                  "wrapper = attempt(write, 'jailed_code')\n"
                                  "mkdir = attempt(os.mkdir, '/tmp/cjs-attack-" +
                                  token +
                                  "-c')\n"
                                  "scratch = attempt(write, 'tmp/x')\n");
  ::rmdir(("/tmp/cjs-attack-" + token + "-c").c_str());
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "tmp") == std::string(kDenied) + "'" + in_tmp + "'");
  CHECK(global_str(out.body(), "parent") == std::string(kDenied) + "'../" + in_parent + "'");
  // Interpreter dirs are read-only binds: the mount answers before Landlock.
  CHECK(global_str(out.body(), "usr") ==
        "OSError: [Errno 30] Read-only file system: '" + in_usr + "'");
  CHECK(global_str(out.body(), "venv") ==
        "OSError: [Errno 30] Read-only file system: '" + venv + "'");
  CHECK(global_str(out.body(), "etc") ==
        "OSError: [Errno 30] Read-only file system: '" + in_etc + "'");
  CHECK(global_str(out.body(), "own") == std::string(kDenied) + "'x'");
  CHECK(global_str(out.body(), "wrapper") == std::string(kDenied) + "'jailed_code'");
  CHECK(global_str(out.body(), "mkdir") ==
        std::string(kDenied) + "'/tmp/cjs-attack-" + token + "-c'");
  CHECK(global_str(out.body(), "scratch") == "ok");
  CHECK_FALSE(path_exists(in_tmp));
  CHECK_FALSE(path_exists("/tmp/" + in_parent));
  expect_clean_next_run(executor);
}

TEST_CASE("20: files left in tmp/ or /dev/shm or /tmp are invisible to the next run",
          "[attack][deny]") {
  const std::string name = "cjs-attack-" + random_token(10);
  RemoveOnExit cleanup{{"/dev/shm/" + name, "/tmp/" + name}};
  auto executor = make_executor(attack_config(), slot_for(20));
  Outcome first = run(executor, kPyAttempt +
                                    "def write(path):\n"
                                    "    with open(path, 'w') as f:\n"
                                    "        f.write('secret')\n"
                                    "tmp = attempt(write, 'tmp/" +
                                    name +
                                    "')\n"
                                    "shm = attempt(write, '/dev/shm/" +
                                    name +
                                    "')\n"
                                    "slash_tmp = attempt(write, '/tmp/" +
                                    name + "')\n");
  INFO("first: " << first.body());
  CHECK(global_str(first.body(), "tmp") == "ok");
  CHECK(global_str(first.body(), "shm") ==
        "FileNotFoundError: [Errno 2] No such file or directory: '/dev/shm/" + name + "'");
  CHECK(global_str(first.body(), "slash_tmp") == std::string(kDenied) + "'/tmp/" + name + "'");
  Outcome second = run(executor,
                       "import os\n"
                       "seen = [os.path.exists(p) for p in ('tmp/" +
                           name + "', '/dev/shm/" + name + "', '/tmp/" + name +
                           "')]\n"
                           "left = os.listdir('tmp')\n");
  CHECK(second.body() == R"({"globals_dict":{"seen":[false,false,false],"left":[]}})");
  expect_clean_next_run(executor);
}

TEST_CASE("21: planted symlinks and hard links and FIFOs are never followed by cleanup",
          "[attack][hygiene]") {
  ScratchDir root(0755);
  ScratchDir canary(0755);
  const std::string precious = canary.path + "/precious";
  { std::ofstream(precious) << "keep me"; }
  REQUIRE(chmod(precious.c_str(), 0666) == 0);  // even writable by anyone
  const FileStat passwd_before = stat_of("/etc/passwd");
  const FileStat hosts_before = stat_of("/etc/hosts");
  const FileStat precious_before = stat_of(precious);

  auto executor = make_executor(attack_config([&](cjs::Config& c) { c.sandbox_root = root.path; }),
                                slot_for(21));
  Outcome out = run(executor,
                    "import os\n"
                    "def quiet(f, *a):\n"
                    "    try:\n"
                    "        f(*a)\n"
                    "    except OSError:\n"
                    "        pass\n"
                    "os.symlink('/etc/passwd', 'tmp/passwd')\n"
                    "os.symlink('/etc', 'tmp/etc')\n"
                    "os.symlink('" +
                        canary.path +
                        "', 'tmp/canary')\n"
                        "os.symlink('" +
                        precious +
                        "', 'tmp/precious')\n"
                        "os.symlink('/', 'tmp/root')\n"
                        "quiet(os.link, '/etc/hosts', 'tmp/hosts')\n"
                        "quiet(os.link, '" +
                        precious +
                        "', 'tmp/hard')\n"
                        "os.mkfifo('tmp/fifo')\n"
                        "os.mkfifo('tmp/jailed_code')\n"
                        "os.makedirs('tmp/a/b')\n"
                        "os.symlink('/etc/passwd', 'tmp/a/b/l')\n"
                        "os.mkfifo('tmp/a/b/f')\n"
                        "os.chmod('tmp/a/b', 0)\n"
                        "os.chmod('tmp/a', 0)\n"
                        "os.chmod('tmp', 0)\n"
                        "x = 1\n");
  CHECK(out.body() == R"({"globals_dict":{"x":1}})");
  CHECK(root.leftovers().empty());
  check_unchanged("/etc/passwd", passwd_before);
  check_unchanged("/etc/hosts", hosts_before);
  check_unchanged(precious, precious_before);
  CHECK(read_file(precious) == "keep me");
  CHECK(list_dir(canary.path) == std::vector<std::string>{"precious"});
  expect_clean_next_run(executor);
  CHECK(root.leftovers().empty());
}

TEST_CASE("22: upload names with slashes or dots or NUL or absolute paths are refused",
          "[attack][hygiene]") {
  const std::string payload = R"({"code":"x = 1","globals_dict":{}})";
  const std::vector<std::string> bad_names = {
      "../python_lib.zip",
      "a/python_lib.zip",
      "/etc/passwd",
      "/python_lib.zip",
      "python_lib.zip/",
      "..",
      ".",
      "",
      std::string("python_lib.zip\0", 15),
      std::string("python_lib.zip\0/../x", 20),
      "python_lib.zip/../python_lib.zip",
  };
  for (const auto& name : bad_names) {
    INFO("name: " << name);
    cjs::PayloadCheck check = cjs::check_payload(payload, {name});
    CHECK_FALSE(check.payload.has_value());
    CHECK(check.error.http_status == 400);
    CHECK(check.error.message == "Only allowed name for uploaded file is 'python_lib.zip'");
    // The same with python_lib.zip uploaded too.
    check = cjs::check_payload(payload, {"python_lib.zip", name});
    CHECK(check.error.message == "Only allowed name for uploaded file is 'python_lib.zip'");
  }
  // python_path entries are held to the same name.
  cjs::PayloadCheck path_check = cjs::check_payload(
      R"({"code":"x = 1","globals_dict":{},"python_path":["../python_lib.zip"]})", {});
  CHECK(path_check.error.http_status == 400);
  CHECK(path_check.error.message == "Only allowed entry in 'python_path' is 'python_lib.zip'");

  // Below the payload check, the sandbox dir refuses them too.
  for (const auto& name :
       {std::string("../x"), std::string("a/b"), std::string("/etc/x"), std::string(".."),
        std::string("."), std::string(""), std::string("x\0y", 3)}) {
    INFO("name: " << name);
    CHECK_FALSE(cjs::jail::is_safe_file_name(name));
  }
  CHECK(cjs::jail::is_safe_file_name("python_lib.zip"));
  {
    ScratchDir root(0755);
    cjs::jail::SandboxDir dir = cjs::jail::SandboxDir::create(root.path, std::nullopt);
    for (const auto& name : {std::string("../escape"), std::string("tmp/../../escape"),
                             root.path + "/escape", std::string("..")}) {
      INFO("name: " << name);
      CHECK_THROWS_AS(dir.create_file(name, "evil"), std::invalid_argument);
    }
    dir.create_file("python_lib.zip", "fine");
    CHECK(list_dir(dir.host_path()) == std::vector<std::string>{"python_lib.zip", "tmp"});
    std::string error;
    CHECK(dir.remove(error));
    CHECK(root.leftovers().empty());
  }

  // And an executor handed such a file (bypassing the check) writes nothing.
  ScratchDir root(0755);
  auto executor = make_executor(attack_config([&](cjs::Config& c) { c.sandbox_root = root.path; }),
                                slot_for(22));
  const std::string escapee = "cjs-attack-" + random_token(10);
  cjs::PayloadCheck ok = cjs::check_payload(payload, {});
  REQUIRE(ok.payload.has_value());
  for (const auto& name : {"../" + escapee, root.path + "/" + escapee}) {
    INFO("name: " << name);
    cjs::ExecutionSummary report =
        cjs::test::execute_in_mode(executor, *ok.payload, {cjs::UploadedFile{name, "evil"}});
    CHECK(report.body ==
          R"({"globals_dict":{},"emsg":"Couldn't execute sandboxed code: See logs."})");
    CHECK_FALSE(path_exists(root.path + "/" + escapee));
    CHECK(root.leftovers().empty());
  }
  expect_clean_next_run(executor);
}

TEST_CASE("23: /proc of pid 1 and of the service is out of reach", "[attack][deny]") {
  auto executor = make_executor(attack_config(), slot_for(23));
  const std::string service = std::to_string(getpid());
  Outcome out = run(executor,
                    kPyAttempt +
                        "import os\n"
                        "def read(path):\n"
                        "    with open(path, 'rb') as f:\n"
                        "        f.read()\n"
                        "environ = attempt(read, '/proc/1/environ')\n"
                        "cmdline = attempt(read, '/proc/1/cmdline')\n"
                        "fds = attempt(os.listdir, '/proc/1/fd')\n"
                        "mountinfo = attempt(read, '/proc/1/mountinfo')\n"
                        "self_mountinfo = attempt(read, '/proc/self/mountinfo')\n"
                        "self_environ = attempt(read, '/proc/self/environ')\n"
                        "service_cmdline = attempt(read, '/proc/%d/cmdline' % service)\n"
                        "service_fds = attempt(os.listdir, '/proc/%d/fd' % service)\n",
                    R"({"service": )" + service + "}");
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "environ") == std::string(kDenied) + "'/proc/1/environ'");
  CHECK(global_str(out.body(), "cmdline") == std::string(kDenied) + "'/proc/1/cmdline'");
  CHECK(global_str(out.body(), "fds") == std::string(kDenied) + "'/proc/1/fd'");
  CHECK(global_str(out.body(), "mountinfo") == std::string(kDenied) + "'/proc/1/mountinfo'");
  CHECK(global_str(out.body(), "self_mountinfo") ==
        std::string(kDenied) + "'/proc/self/mountinfo'");
  CHECK(global_str(out.body(), "self_environ") == std::string(kDenied) + "'/proc/self/environ'");
  // The service's pid does not exist in the run's pid namespace.
  CHECK(global_str(out.body(), "service_cmdline") ==
        "FileNotFoundError: [Errno 2] No such file or directory: '/proc/" + service + "/cmdline'");
  CHECK(global_str(out.body(), "service_fds") ==
        "FileNotFoundError: [Errno 2] No such file or directory: '/proc/" + service + "/fd'");
  expect_clean_next_run(executor);
}
