// api.md 4 and sandbox.md's hygiene attacks: what the code sees, what it
// inherits, and what it leaves behind (nothing).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "executor_fixture.h"

extern char** environ;

using namespace cjs::itest;

namespace {

RunArgs in_root(const std::string& sandbox_root) {
  RunArgs args;
  args.config = config_with([&](cjs::Config& c) { c.sandbox_root = sandbox_root; });
  return args;
}

// A run ended by REALTIME: the limit under test.
RunArgs with_realtime(double seconds) {
  RunArgs args;
  args.config = config_with_limits([&](cjs::Limits& l) { l.realtime_seconds = seconds; });
  return args;
}

}  // namespace

TEST_CASE("the sandbox dir holds jailed_code and tmp", "[integration][hygiene]") {
  CHECK(run("import os\nlisting = sorted(os.listdir('.'))\n") ==
        R"({"globals_dict":{"listing":["jailed_code","tmp"]}})");
}

TEST_CASE("argv, sys.path[0], cwd and TMPDIR", "[integration][hygiene]") {
  const std::string body = run(
      "import os, sys\n"
      "argv = sys.argv\n"
      "path0 = sys.path[0]\n"
      "cwd = os.getcwd()\n"
      "tmpdir = os.environ.get('TMPDIR')\n"
      "flags = [sys.flags.ignore_environment, sys.flags.dont_write_bytecode, sys.flags.no_site]\n");
  CHECK(normalize_sandbox_dir(body) ==
        R"({"globals_dict":{"argv":["jailed_code"],"path0":"/tmp/codejail-XXXXXXXX",)"
        R"("cwd":"/tmp/codejail-XXXXXXXX","tmpdir":"tmp","flags":[1,1,0]}})");
  CHECK(global_json(body, "path0") == global_json(body, "cwd"));
}

TEST_CASE("tmp/ is writable, the sandbox dir is not", "[integration][hygiene]") {
  RunArgs args;
  args.config = config_with_limits([](cjs::Limits& l) { l.fsize_bytes = 1 << 20; });
  const std::string body =
      run("def attempt(f):\n"
          "    try:\n"
          "        f()\n"
          "        return 'ok'\n"
          "    except OSError as e:\n"
          "        return [e.errno, e.strerror]\n"
          "def write_tmp():\n"
          "    with open('tmp/x', 'w') as f:\n"
          "        f.write('hi')\n"
          "tmp_write = attempt(write_tmp)\n"
          "with open('tmp/x') as f:\n"
          "    tmp_read = f.read()\n"
          "del f\n"
          "dir_write = attempt(lambda: open('x', 'w'))\n"
          "dir_mkdir = attempt(lambda: __import__('os').mkdir('d'))\n"
          "wrapper_append = attempt(lambda: open('jailed_code', 'a'))\n"
          "import os\n"
          "wrapper_unlink = attempt(lambda: os.unlink('jailed_code'))\n"
          "tmp_rename = attempt(lambda: os.rename('tmp', 'tmp2'))\n"
          "listing = sorted(os.listdir('.'))\n",
          "{}", args);
  CHECK(body ==
        R"({"globals_dict":{"tmp_write":"ok","tmp_read":"hi",)"
        R"("dir_write":[13,"Permission denied"],"dir_mkdir":[13,"Permission denied"],)"
        R"("wrapper_append":[13,"Permission denied"],"wrapper_unlink":[13,"Permission denied"],)"
        R"("tmp_rename":[13,"Permission denied"],"listing":["jailed_code","tmp"]}})");
}

TEST_CASE("nothing of the service's environment leaks", "[integration][hygiene]") {
  REQUIRE(setenv("CJS_TEST_ENV_LEAKAGE", "yes", 1) == 0);
  const std::string body =
      run("import os\n"
          "leak = 'CJS_TEST_ENV_LEAKAGE' in os.environ\n"
          "has_path = 'PATH' in os.environ\n"
          "keys = sorted(os.environ)\n");
  unsetenv("CJS_TEST_ENV_LEAKAGE");
  CHECK(global_json(body, "leak") == "false");
  CHECK(global_json(body, "has_path") == "true");
  // No other variable of ours appears either (a few have to exist in any
  // process; their values are the sandbox's own).
  const std::set<std::string> allowed = {
      "PATH",   "TMPDIR",   "HOME",         "LANG",
      "LC_ALL", "LC_CTYPE", "MPLCONFIGDIR", "OPENBLAS_NUM_THREADS"};
  std::set<std::string> ours;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    ours.insert(entry.substr(0, entry.find('=')));
  }
  const cjs::json::Object globals = globals_of(body);
  const cjs::json::Value* keys = cjs::json::find_member(globals, "keys");
  REQUIRE(keys != nullptr);
  REQUIRE(keys->is_array());
  for (const auto& key : keys->as_array()) {
    REQUIRE(key.is_string());
    INFO("sandbox variable " << key.as_string());
    CHECK((allowed.count(key.as_string()) == 1 || ours.count(key.as_string()) == 0));
  }
}

TEST_CASE("no file descriptor above 2 is inherited", "[integration][hygiene]") {
  // A descriptor without close-on-exec in the service must not reach the code.
  int leaky = open("/etc/hostname", O_RDONLY);
  REQUIRE(leaky >= 0);
  const std::string body =
      run("import os\n"
          "open_fds = []\n"
          "for fd in range(3, 1024):\n"
          "    try:\n"
          "        os.fstat(fd)\n"
          "    except OSError:\n"
          "        continue\n"
          "    open_fds.append(fd)\n"
          "del fd\n");
  close(leaky);
  CHECK(body == R"({"globals_dict":{"open_fds":[]}})");
}

TEST_CASE("signal dispositions and the signal mask are not inherited", "[integration][hygiene]") {
  // What the service ignores or blocks must not carry over to the code.
  struct sigaction ignore {
  }, old_usr1{};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(sigaction(SIGUSR1, &ignore, &old_usr1) == 0);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  sigaddset(&block, SIGTERM);
  REQUIRE(sigprocmask(SIG_BLOCK, &block, &old_mask) == 0);
  const std::string body =
      run("import signal\n"
          "usr1_default = signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL\n"
          "blocked = sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, []))\n");
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGUSR1, &old_usr1, nullptr);
  CHECK(body == R"({"globals_dict":{"usr1_default":true,"blocked":[]}})");
}

TEST_CASE("a daemonized grandchild does not outlive the run", "[integration][hygiene]") {
  // The grandchild names itself (comm, 15 chars max) so we can find it.
  const std::string marker = "cjsd" + random_token(10);
  const std::string daemonize =
      "import os, time, ctypes\n"
      "def daemonize():\n"
      "    r, w = os.pipe()\n"
      "    pid = os.fork()\n"
      "    if pid == 0:\n"
      "        os.setsid()\n"
      "        if os.fork() == 0:\n"
      "            named = ctypes.CDLL(None).prctl(15, b'" +
      marker +
      "', 0, 0, 0) == 0\n"
      "            for fd in (0, 1, 2):\n"
      "                os.close(fd)\n"
      "            os.write(w, b'up' if named else b'no')\n"
      "            os.close(w)\n"
      "            time.sleep(60)\n"
      "        os._exit(0)\n"
      "    os.close(w)\n"
      "    got = os.read(r, 2).decode()\n"
      "    os.waitpid(pid, 0)\n"
      "    return got\n"
      "started = daemonize()\n";
  SECTION("the run succeeds") {
    const std::string body = run(daemonize);
    auto left = processes_named(marker);
    kill_all(left);
    CHECK(body == R"({"globals_dict":{"started":"up"}})");
    CHECK(left.empty());
  }
  SECTION("the run times out") {
    const std::string body = run(daemonize + "time.sleep(30)\n", "{}", with_realtime(2));
    auto left = processes_named(marker);
    kill_all(left);
    CHECK(emsg_of(body) ==
          "Couldn't execute jailed code: stdout: b'', stderr: b'' with status code: -9");
    CHECK(left.empty());
  }
  SECTION("the run fails") {
    const std::string body = run(daemonize + "1/0\n");
    auto left = processes_named(marker);
    kill_all(left);
    CHECK_THAT(emsg_of(body).value_or(""), Catch::Contains("ZeroDivisionError"));
    CHECK(left.empty());
  }
  // And nothing at all of the sandbox user is left over.
  auto sandbox_processes = descendants_of_uid(sandbox_uid());
  CHECK(sandbox_processes.empty());
  CHECK(run("x = x + 1", R"({"x": 16})") == R"({"globals_dict":{"x":17}})");
}

TEST_CASE("no sandbox dir is left behind", "[integration][hygiene]") {
  ScratchDir root(0755);
  RunArgs args = in_root(root.path);
  SECTION("success") { CHECK(run("x = 1", "{}", args) == R"({"globals_dict":{"x":1}})"); }
  SECTION("an exception") { CHECK(emsg_of(run("1/0", "{}", args)).has_value()); }
  SECTION("a timeout") {
    args.config->limits.realtime_seconds = 1;
    CHECK(emsg_of(run("import time\ntime.sleep(30)", "{}", args)).has_value());
  }
  SECTION("a segfault") {
    CHECK(emsg_of(run("import ctypes\nctypes.string_at(0)", "{}", args)).has_value());
  }
  SECTION("an upload") {
    args.files = {{"python_lib.zip", make_stored_zip({{"m.py", "V = 1\n"}})}};
    args.python_path = {"python_lib.zip"};
    CHECK(run("import m\nv = m.V", "{}", args) == R"({"globals_dict":{"v":1}})");
  }
  SECTION("files written to tmp/") {
    args.config->limits.fsize_bytes = 1 << 20;
    CHECK(run("import os\ndef fill():\n    for i in range(100):\n"
              "        with open('tmp/f%d' % i, 'w') as f:\n            f.write('x' * 1000)\n"
              "fill()\nos.makedirs('tmp/a/b/c')\nx = 1\n",
              "{}", args) == R"({"globals_dict":{"x":1}})");
  }
  CHECK(root.leftovers().empty());
}

TEST_CASE("the default sandbox dir under /tmp is removed after the run", "[integration][hygiene]") {
  const std::string body = run("import os\ncwd = os.getcwd()\n");
  auto cwd = global_json(body, "cwd");
  REQUIRE(cwd.has_value());
  const std::string path = cwd->substr(1, cwd->size() - 2);  // strip the JSON quotes
  CHECK(normalize_sandbox_dir(path) == "/tmp/codejail-XXXXXXXX");
  CHECK_FALSE(path_exists(path));
}

TEST_CASE("what the code plants in tmp/ is cleaned up without being followed",
          "[integration][hygiene]") {
  ScratchDir root(0755);
  ScratchDir canary(0755);
  const std::string precious = canary.path + "/precious";
  { std::ofstream(precious) << "keep me"; }
  REQUIRE(chmod(precious.c_str(), 0644) == 0);

  struct stat passwd_before {
  }, precious_before{};
  REQUIRE(stat("/etc/passwd", &passwd_before) == 0);
  REQUIRE(stat(precious.c_str(), &precious_before) == 0);

  RunArgs args = in_root(root.path);
  const std::string body =
      run("import os\n"
          "os.symlink('/etc/passwd', 'tmp/link')\n"
          "os.symlink('" +
              canary.path +
              "', 'tmp/dirlink')\n"
              "os.symlink('" +
              precious +
              "', 'tmp/filelink')\n"
              "os.symlink('/etc', 'tmp/etclink')\n"
              "try:\n"
              "    os.link('/etc/passwd', 'tmp/hard')\n"
              "except OSError:\n"
              "    pass\n"
              "try:\n"
              "    os.link('" +
              precious +
              "', 'tmp/hard2')\n"
              "except OSError:\n"
              "    pass\n"
              "os.mkfifo('tmp/fifo')\n"
              "os.makedirs('tmp/locked/inner')\n"
              "with open('tmp/locked/inner/f', 'w'):\n"
              "    pass\n"
              "os.symlink('/etc/passwd', 'tmp/locked/inner/link')\n"
              "os.chmod('tmp/locked/inner', 0)\n"
              "os.chmod('tmp/locked', 0)\n"
              "deep = 'tmp/' + '/'.join(['d'] * 200)\n"
              "os.makedirs(deep)\n"
              "os.symlink('/etc', deep + '/etc')\n"
              "os.mkfifo(deep + '/fifo')\n"
              "os.chmod(deep, 0)\n"
              "os.chmod('tmp', 0o500)\n"
              "del deep\n"
              "x = 1\n",
          "{}", args);
  CHECK(body == R"({"globals_dict":{"x":1}})");
  CHECK(root.leftovers().empty());

  struct stat passwd_after {
  }, precious_after{};
  REQUIRE(stat("/etc/passwd", &passwd_after) == 0);
  CHECK(passwd_after.st_size == passwd_before.st_size);
  CHECK(passwd_after.st_mode == passwd_before.st_mode);
  CHECK(passwd_after.st_uid == passwd_before.st_uid);
  CHECK(passwd_after.st_gid == passwd_before.st_gid);
  CHECK(passwd_after.st_nlink == passwd_before.st_nlink);
  CHECK(passwd_after.st_mtim.tv_sec == passwd_before.st_mtim.tv_sec);
  CHECK(passwd_after.st_mtim.tv_nsec == passwd_before.st_mtim.tv_nsec);
  REQUIRE(stat(precious.c_str(), &precious_after) == 0);
  CHECK(precious_after.st_mode == precious_before.st_mode);
  CHECK(precious_after.st_uid == precious_before.st_uid);
  CHECK(precious_after.st_nlink == precious_before.st_nlink);
  std::ifstream in(precious);
  std::stringstream content;
  content << in.rdbuf();
  CHECK(content.str() == "keep me");
  CHECK(path_exists("/etc/hostname"));

  // The next run starts clean.
  CHECK(run("import os\nleft = os.listdir('tmp')\nx = 1\n", "{}", args) ==
        R"({"globals_dict":{"left":[],"x":1}})");
  CHECK(root.leftovers().empty());
}

TEST_CASE("deferred cleanup (the worker's mode): the run is over when execute() returns",
          "[integration][hygiene]") {
  // The worker answers before removing the run's dirs; nothing of the run
  // may still be running then, and nothing may be left when the next run
  // starts or after finish_cleanup().
  ScratchDir root(0755);
  cjs::jail::Executor executor(config_with([&](cjs::Config& c) { c.sandbox_root = root.path; }),
                               test_slot());
  executor.set_deferred_cleanup(true);
  const std::string marker = "cjs-defer-" + random_token(6);
  const std::string code =
      "import ctypes, os, time\n"
      "if os.fork() == 0:\n"
      "    os.setsid()\n"
      "    ctypes.CDLL(None).prctl(15, b'" +
      marker +
      "', 0, 0, 0)\n"
      "    time.sleep(60)\n"
      "x = 1\n";
  const cjs::ExecPayload daemon = cjs::test::accepted_payload(payload_json(code, "{}"), {});
  auto report = executor.execute(daemon, {});
  auto left = processes_named(marker);
  kill_all(left);
  CHECK(report.body == R"({"globals_dict":{"x":1}})");
  CHECK(left.empty());
  CHECK(descendants_of_uid(sandbox_uid()).empty());
  CHECK(root.leftovers().size() == 1);  // only the finished run's dir, until cleanup

  // The next execute() removes the previous run's dir before it starts.
  const cjs::ExecPayload plain = cjs::test::accepted_payload(payload_json("y = 2", "{}"), {});
  auto first = root.leftovers();
  CHECK(executor.execute(plain, {}).body == R"({"globals_dict":{"y":2}})");
  auto second = root.leftovers();
  REQUIRE(second.size() == 1);
  CHECK(second != first);

  executor.finish_cleanup();
  CHECK(root.leftovers().empty());
}
