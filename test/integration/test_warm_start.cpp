// Warm start (CODEJAIL_SERVICE.warm_start): a sandbox started ahead of its
// request, as the worker does between requests. The rest of the suite runs
// in both modes (test/support/warm_start.h); these tests are about what only
// the warm path has: fresh state per run, files that come after the start,
// the prestarted sandbox's lifetime, and the fallback to a cold run.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "executor_fixture.h"

using namespace cjs::itest;

namespace {

cjs::Config warm_config(const std::string& sandbox_root = "") {
  return config_with([&](cjs::Config& c) {
    c.warm_start = true;
    if (!sandbox_root.empty()) c.sandbox_root = sandbox_root;
  });
}

cjs::ExecPayload payload_of(std::string_view code, const RunArgs& args = {}) {
  std::vector<std::string> names;
  for (const auto& f : args.files) names.push_back(f.name);
  return cjs::test::accepted_payload(payload_json(code, "{}", args), names);
}

// What the worker does after each answer: remove the last run's dirs and
// start the next sandbox.
void between_requests(cjs::jail::Executor& executor) {
  executor.finish_cleanup();
  executor.prestart_next();
  REQUIRE(executor.has_prestarted());
}

// The prestarted interpreter, once it is blocked reading its stdin (the
// pipe): a process of the sandbox uid below us waiting in the kernel's
// pipe_read (anon_pipe_read on newer kernels).
pid_t waiting_interpreter() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    for (pid_t pid : descendants_of_uid(sandbox_uid())) {
      const std::string wchan = cjs::test::read_file("/proc/" + std::to_string(pid) + "/wchan");
      if (wchan.find("pipe_read") != std::string::npos) {
        return pid;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("the prestarted interpreter never waited for its stdin");
  return -1;
}

// The parent pid of `pid` (from /proc/PID/stat), or -1.
pid_t parent_of(pid_t pid) {
  const std::string stat = cjs::test::read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  char state = 0;
  int ppid = -1;
  if (std::sscanf(stat.c_str() + close_paren + 1, " %c %d", &state, &ppid) != 2) return -1;
  return ppid;
}

// A request that uploads python_lib.zip, on its python_path, holding
// zipped.py with ANSWER = `answer`.
RunArgs with_zipped_answer(int answer) {
  RunArgs args;
  args.python_path = {"python_lib.zip"};
  args.files = {{"python_lib.zip",
                 make_stored_zip({{"zipped.py", "ANSWER = " + std::to_string(answer) + "\n"}})}};
  return args;
}

// SIGKILLs the waiting interpreter and waits until it is gone; with
// `stop_keeper_first`, its keeper is stopped before, so it cannot report.
void kill_waiting_interpreter(bool stop_keeper_first) {
  const pid_t interpreter = waiting_interpreter();
  if (stop_keeper_first) {
    const pid_t keeper = parent_of(interpreter);
    REQUIRE(keeper > 1);
    REQUIRE(kill(keeper, SIGSTOP) == 0);
  }
  REQUIRE(kill(interpreter, SIGKILL) == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!descendants_of_uid(sandbox_uid()).empty() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

TEST_CASE("warm start: each run gets fresh hash(), random, urandom and temp names",
          "[integration][warm]") {
  cjs::jail::Executor executor(warm_config(), test_slot());
  executor.set_deferred_cleanup(true);
  const std::string code =
      "import random, os, tempfile\n"
      "h = hash('codejail')\n"
      "r = random.random()\n"
      "u = os.urandom(16).hex()\n"
      "t = os.path.basename(tempfile.mktemp())\n";
  std::set<std::string> seen[4];
  for (int i = 0; i < 3; ++i) {
    between_requests(executor);
    const cjs::ExecutionSummary report = executor.execute(payload_of(code), {});
    INFO("body: " << report.body);
    REQUIRE(report.warm_start);
    int k = 0;
    for (const char* name : {"h", "r", "u", "t"}) {
      auto value = global_json(report.body, name);
      REQUIRE(value.has_value());
      seen[k++].insert(*value);
    }
  }
  for (const auto& values : seen) CHECK(values.size() == 3);
}

TEST_CASE("warm start: a run that changes modules, builtins or sys leaves the next untouched",
          "[integration][warm]") {
  cjs::jail::Executor executor(warm_config(), test_slot());
  executor.set_deferred_cleanup(true);
  between_requests(executor);
  const cjs::ExecutionSummary vandal =
      executor.execute(payload_of("import math, string, sys, builtins\n"
                                  "math.pi = 3\n"
                                  "string.digits = ''\n"
                                  "builtins.sorted = None\n"
                                  "sys.modules['random'] = None\n"
                                  "sys.path.insert(0, '/nowhere')\n"
                                  "x = 1\n"),
                       {});
  REQUIRE(vandal.warm_start);
  CHECK(vandal.body == R"({"globals_dict":{"x":1}})");
  between_requests(executor);
  const cjs::ExecutionSummary next =
      executor.execute(payload_of("import math, random, string, sys\n"
                                  "pi = math.pi\n"
                                  "s = sorted(string.digits[:3])\n"
                                  "ok = isinstance(random.random(), float)\n"
                                  "p = '/nowhere' in sys.path\n"),
                       {});
  REQUIRE(next.warm_start);
  CHECK(next.body ==
        R"({"globals_dict":{"pi":3.141592653589793,"s":["0","1","2"],"ok":true,"p":false}})");
}

TEST_CASE("warm start: files uploaded after the interpreter started are there",
          "[integration][warm]") {
  const RunArgs args = with_zipped_answer(42);
  cjs::jail::Executor executor(warm_config(), test_slot());
  const cjs::ExecPayload payload =
      payload_of("import os, zipped\nx = zipped.ANSWER\nlisting = sorted(os.listdir('.'))\n", args);
  executor.prestart(payload.python_path, executor.config().limits);
  // The interpreter has started, listed its directory (importing json) and
  // waits: the file comes after that, as in the worker.
  waiting_interpreter();
  const cjs::ExecutionSummary report = executor.execute(payload, args.files);
  INFO("failure: " << report.failure);
  CHECK(report.warm_start);
  CHECK(report.body ==
        R"({"globals_dict":{"x":42,"listing":["jailed_code","python_lib.zip","tmp"]}})");
}

TEST_CASE("warm start: a request for another python_path runs cold, then warm",
          "[integration][warm]") {
  const RunArgs args = with_zipped_answer(7);
  cjs::jail::Executor executor(warm_config(), test_slot());
  executor.set_deferred_cleanup(true);
  between_requests(executor);  // for the defaults: no python_path
  const cjs::ExecPayload payload = payload_of("import zipped\nx = zipped.ANSWER\n", args);
  const cjs::ExecutionSummary cold = executor.execute(payload, args.files);
  CHECK_FALSE(cold.warm_start);
  CHECK(cold.body == R"({"globals_dict":{"x":7}})");
  CHECK_FALSE(executor.has_prestarted());  // the unused one was discarded
  between_requests(executor);              // now for what that request asked
  const cjs::ExecutionSummary warm = executor.execute(payload, args.files);
  CHECK(warm.warm_start);
  CHECK(warm.body == cold.body);
}

TEST_CASE("warm start: a prestarted interpreter killed while it waited gives way to a cold run",
          "[integration][warm]") {
  ScratchDir root(0755);
  cjs::jail::Executor executor(warm_config(root.path), test_slot());
  executor.set_deferred_cleanup(true);
  between_requests(executor);
  kill_waiting_interpreter(false);
  const cjs::ExecutionSummary report = executor.execute(payload_of("x = 5"), {});
  CHECK_FALSE(report.warm_start);
  CHECK(report.body == R"({"globals_dict":{"x":5}})");
  executor.finish_cleanup();  // the discarded sandbox's dir went before the cold run
  CHECK(root.leftovers().empty());
}

TEST_CASE("warm start: an interpreter killed just before its request gives way to a cold run",
          "[integration][warm]") {
  cjs::jail::Executor executor(warm_config(), test_slot());
  executor.set_deferred_cleanup(true);
  between_requests(executor);
  // Its keeper, stopped, cannot report the death: the sandbox still looks
  // alive when the request comes, and only the refused stdin tells. The
  // request runs cold at once, not after the dead sandbox's REALTIME (20 s).
  kill_waiting_interpreter(true);
  const auto start = std::chrono::steady_clock::now();
  const cjs::ExecutionSummary report = executor.execute(payload_of("x = 6"), {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK_FALSE(report.warm_start);
  CHECK(report.body == R"({"globals_dict":{"x":6}})");
  CHECK(seconds < kAmpleRealtimeSeconds / 2);
}

TEST_CASE("warm start: a request for other limits never runs under the prestarted ones",
          "[integration][warm]") {
  cjs::Config config = warm_config();
  cjs::LimitOverride smaller;
  smaller.nproc = 7;
  smaller.fsize_bytes = 4096;
  config.limit_overrides["warm-test:smaller"] = smaller;
  cjs::jail::Executor executor(config, test_slot());
  executor.set_deferred_cleanup(true);
  const std::string code =
      "import resource\n"
      "n = resource.getrlimit(resource.RLIMIT_NPROC)[0]\n"
      "f = resource.getrlimit(resource.RLIMIT_FSIZE)[0]\n";
  RunArgs smaller_args;
  smaller_args.limit_overrides_context = "warm-test:smaller";
  const std::string smaller_body = R"({"globals_dict":{"n":7,"f":4096}})";
  const std::string default_body = R"({"globals_dict":{"n":15,"f":1048576}})";

  between_requests(executor);  // for the default limits
  const cjs::ExecutionSummary first = executor.execute(payload_of(code, smaller_args), {});
  CHECK_FALSE(first.warm_start);
  CHECK(first.body == smaller_body);
  between_requests(executor);  // now for the smaller ones
  const cjs::ExecutionSummary second = executor.execute(payload_of(code, smaller_args), {});
  CHECK(second.warm_start);
  CHECK(second.body == smaller_body);
  between_requests(executor);
  const cjs::ExecutionSummary third = executor.execute(payload_of(code), {});
  CHECK_FALSE(third.warm_start);
  CHECK(third.body == default_body);
}

TEST_CASE("warm start: REALTIME counts from the request, not from the prestart",
          "[integration][warm]") {
  cjs::Config config = warm_config();
  config.limits.realtime_seconds = 1;
  cjs::jail::Executor executor(config, test_slot());
  executor.set_deferred_cleanup(true);
  between_requests(executor);
  waiting_interpreter();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // longer than REALTIME
  // Nor do the dir's timestamps tell how long the sandbox waited (tmp/ is a
  // tmpfs mounted at the prestart: docs/security.md 3.14).
  const cjs::ExecutionSummary report = executor.execute(
      payload_of("import os, time\n"
                 "ages = [time.time() - os.stat(p).st_mtime < 1 for p in ('.', 'jailed_code')]\n"
                 "x = 1\n"),
      {});
  CHECK(report.warm_start);
  CHECK(report.body == R"({"globals_dict":{"ages":[true,true],"x":1}})");
  CHECK(report.wall_seconds < 1.0);
}

TEST_CASE("warm start: a traceback is the same as a cold run's", "[integration][warm]") {
  const std::string code = "def f():\n    raise ValueError('boom')\nf()\n";
  cjs::jail::Executor cold(test_config(), test_slot());
  const cjs::ExecutionSummary cold_report = cold.execute(payload_of(code), {});
  cjs::jail::Executor warm(warm_config(), test_slot());
  between_requests(warm);
  const cjs::ExecutionSummary warm_report = warm.execute(payload_of(code), {});
  REQUIRE(warm_report.warm_start);
  REQUIRE_FALSE(cold_report.warm_start);
  CHECK(normalize_sandbox_dir(warm_report.body) == normalize_sandbox_dir(cold_report.body));
  CHECK(warm_report.body.find("jailed_code\\\", line 19, in <module>") != std::string::npos);
}

TEST_CASE("warm start: nothing of a prestarted sandbox outlives its executor",
          "[integration][warm]") {
  ScratchDir root(0755);
  {
    cjs::jail::Executor executor(warm_config(root.path), test_slot());
    between_requests(executor);
    waiting_interpreter();
    CHECK(root.leftovers().size() == 1);  // the prestarted sandbox's dir
  }
  CHECK(descendants_of_uid(sandbox_uid()).empty());
  CHECK(root.leftovers().empty());
}

TEST_CASE("warm start: a run can neither see nor signal another worker's waiting sandbox",
          "[integration][warm]") {
  cjs::jail::Executor waiting(warm_config(), test_slot());
  between_requests(waiting);
  const pid_t interpreter = waiting_interpreter();
  // Another worker's run, on a slot (uid) of its own and in a process of its
  // own (a runner kills its process's other children), looks for it and
  // signals everything it may.
  const int other_slot = claim_extra_slot();
  const std::string code =
      "import os, signal\n"
      "try:\n"
      "    pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
      "except OSError:\n"
      "    pids = []\n"
      "try:\n"
      "    os.kill(-1, signal.SIGKILL)\n"
      "except OSError:\n"
      "    pass\n"
      "try:\n"
      "    os.kill(" +
      std::to_string(interpreter) +
      ", signal.SIGKILL)\n"
      "    hit = True\n"
      "except OSError:\n"
      "    hit = False\n";
  const std::string body = cjs::test::text_of_forked_child([&] {
    cjs::jail::Executor other(test_config(), other_slot);
    return other.execute(payload_of(code), {}).body;
  });
  INFO("body: " << body);
  // No /proc at all, and no signal reaches outside the run's pid namespace.
  CHECK(body == R"({"globals_dict":{"pids":[],"hit":false}})");
  const cjs::ExecutionSummary report = waiting.execute(payload_of("x = 3"), {});
  CHECK(report.warm_start);
  CHECK(report.body == R"({"globals_dict":{"x":3}})");
}
