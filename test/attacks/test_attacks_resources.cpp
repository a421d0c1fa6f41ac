// Attack catalogue items 1-16 (sandbox.md): resource exhaustion. Every
// attack ends bounded, the service answers, nothing of the run survives it,
// and the next run is clean.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "attack_fixture.h"

using namespace cjs::attack;

namespace {

// Code that reports a write-until-failure loop as (bytes or items, error).
constexpr const char* kFillTmp =
    "def fill():\n"
    "    n = 0\n"
    "    try:\n"
    "        for i in range(1024):\n"  // 64 MiB in 64 KiB files: four times tmp/'s cap
    "            with open('tmp/f%d' % i, 'wb') as f:\n"
    "                f.write(b'x' * 65536)\n"
    "            n += 65536\n"
    "    except OSError as e:\n"
    "        return [n, str(e)]\n"
    "    return [n, None]\n"
    "written, err = fill()\n";

}  // namespace

TEST_CASE("01: a fork bomb stops at NPROC and leaves no process behind", "[attack][limits]") {
  const int slot = slot_for(1);
  auto executor = make_executor(attack_config(), slot);
  const double bound = prompt_end_bound(executor, 1.0);  // a second of forking at most
  // Every child forks forever too; the parent stops at its first EAGAIN.
  Outcome out = run(executor,
                    "import os, time\n"
                    "forked = 0\n"
                    "try:\n"
                    "    while True:\n"
                    "        if os.fork() == 0:\n"
                    "            while True:\n"
                    "                try:\n"
                    "                    os.fork()\n"
                    "                except OSError:\n"
                    "                    time.sleep(0.01)\n"
                    "        forked += 1\n"
                    "except BlockingIOError as e:\n"
                    "    err = str(e)\n");
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "err") == "[Errno 11] Resource temporarily unavailable");
  const long long forked = global_int(out.body(), "forked");
  CHECK(forked >= 1);
  CHECK(forked <= 14);  // NPROC 15 counts the interpreter itself
  // The run ends as soon as its code does: the bomb's children die with it.
  CHECK(out.seconds < bound);
  CHECK(processes_of_uid(slot_uid(slot)).empty());
  expect_clean_next_run(executor);
}

TEST_CASE("02: a thread bomb stops at NPROC", "[attack][limits]") {
  const int slot = slot_for(2);
  auto executor = make_executor(attack_config(), slot);
  Outcome out = run(executor,
                    "import threading, time\n"
                    "started = 0\n"
                    "try:\n"
                    "    while True:\n"
                    "        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
                    "        started += 1\n"
                    "except RuntimeError as e:\n"
                    "    err = str(e)\n");
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "err") == "can't start new thread");
  CHECK(global_int(out.body(), "started") == 14);  // 15 tasks: the main thread + 14
  CHECK(processes_of_uid(slot_uid(slot)).empty());
  expect_clean_next_run(executor);
}

TEST_CASE("03: a memory bomb raises MemoryError at VMEM", "[attack][limits]") {
  // VMEM 512 MiB; ample CPU and REALTIME, so only memory can end these runs.
  auto executor = make_executor(attack_config(), slot_for(3));
  SECTION("1 GiB at once") {
    Outcome out = run(executor, "x = bytearray(1 << 30)\n");
    CHECK_THAT(emsg(out), Catch::StartsWith(
                              "Couldn't execute jailed code: stdout: b'', stderr: b'Traceback") &&
                              Catch::EndsWith(R"(\nMemoryError\n' with status code: 1)"));
  }
  SECTION("64 MiB at a time") {
    Outcome out = run(executor,
                      "chunks = []\n"
                      "try:\n"
                      "    while True:\n"
                      "        chunks.append(b'x' * (64 << 20))\n"
                      "except MemoryError as e:\n"
                      "    err = type(e).__name__\n"
                      "got = len(chunks)\n"
                      "del chunks\n");
    INFO("body: " << out.body());
    CHECK(global_str(out.body(), "err") == "MemoryError");
    const long long got = global_int(out.body(), "got");
    CHECK(got >= 5);
    CHECK(got <= 7);  // 8 * 64 MiB would be the whole address space
  }
  expect_clean_next_run(executor);
}

TEST_CASE("04: memory split across child processes hits the cgroup memory cap", "[attack][deny]") {
  // VMEM is per process: six children of 64 MiB each stay under it, and only
  // the run's cgroup (128 MiB, no swap) bounds their sum. The OOM killer
  // must pick the code's processes, never the run's keeper: the answer is
  // the code's own failure, not a machinery failure.
  auto executor = make_executor(attack_config([](cjs::Config& c) {
                                  c.memory_limit_bytes = 128 << 20;
                                  c.limits.vmem_bytes = 0;
                                }),
                                slot_for(4));
  const std::string code =
      "import os, time\n"
      "def spawn():\n"
      "    pid = os.fork()\n"
      "    if pid == 0:\n"
      "        try:\n"
      "            b = b'\\x01' * (64 << 20)\n"
      "            time.sleep(1)\n"
      "            os._exit(0)\n"
      "        except MemoryError:\n"
      "            os._exit(3)\n"
      "    return pid\n"
      "pids = [spawn() for _ in range(6)]\n"
      "statuses = sorted(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids)\n"
      "del pids\n";
  auto check_outcome = [](const Outcome& out) {
    INFO("body: " << out.body());
    INFO("failure: " << out.report.failure);
    CHECK(out.report.failure.empty());
    CHECK(out.report.hit_memory_limit);
    // The OOM killer chose victims among the children (SIGKILL), or the
    // interpreter itself: either way the code's status, never "See logs".
    auto e = emsg_of(out.body());
    if (e) {
      CHECK(*e == silent_kill_emsg(-9));
    } else {
      CHECK_THAT(global(out.body(), "statuses"), Catch::StartsWith("[-9,"));
    }
  };
  SECTION("a small service process") { check_outcome(run(executor, code)); }
  SECTION("a service process with 256 MiB resident") {
    // The keeper is a copy-on-write clone of the service process, so its
    // RSS counts everything the service has resident (a worker that just
    // parsed a 20 MiB request, or any sanitizer build).
    std::vector<char> ballast(256u << 20);
    std::memset(ballast.data(), 1, ballast.size());
    check_outcome(run(executor, code));
    CHECK(ballast[ballast.size() / 2] == 1);
  }
  expect_clean_next_run(executor);
}

TEST_CASE("05: /dev/shm and multiprocessing.shared_memory do not exist", "[attack][deny]") {
  const std::string name = "cjs-attack-" + random_token(10);
  auto executor = make_executor(attack_config(), slot_for(5));
  Outcome out = run(executor, kPyAttempt +
                                  "import os\n"
                                  "from multiprocessing import shared_memory\n"
                                  "shm = attempt(shared_memory.SharedMemory, " +
                                  py_str(name) +
                                  ", True, 1 << 30)\n"
                                  "devshm = attempt(lambda: open('/dev/shm/" +
                                  name +
                                  "', 'w'))\n"
                                  "dev = attempt(os.listdir, '/dev')\n");
  // A sabotaged run writes on the host's /dev/shm: clean up.
  ::unlink(("/dev/shm/" + name).c_str());
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "shm") ==
        "FileNotFoundError: [Errno 2] No such file or directory: '/" + name + "'");
  CHECK(global_str(out.body(), "devshm") ==
        "FileNotFoundError: [Errno 2] No such file or directory: '/dev/shm/" + name + "'");
  CHECK(global_str(out.body(), "dev") == "PermissionError: [Errno 13] Permission denied: '/dev'");
  expect_clean_next_run(executor);
}

TEST_CASE("06: an endless CPU loop gets SIGXCPU at the CPU limit", "[attack][limits]") {
  // REALTIME stays ample (attack_config): however slowly this machine hands
  // out CPU time, the run ends at CPU, and -24 shows it ended there.
  auto executor =
      make_executor(attack_config([](cjs::Config& c) { c.limits.cpu_seconds = 1; }), slot_for(6));
  Outcome out = run(executor, "while True:\n    pass\n");
  CHECK(out.body() == R"({"globals_dict":{},"emsg":")" + silent_kill_emsg(-24) + "\"}");
  CHECK(out.report.sandbox_status == -24);
  expect_clean_next_run(executor);
}

TEST_CASE("07: time.sleep(30) is killed with -9 at REALTIME", "[attack][limits]") {
  auto executor = make_executor(
      attack_config([](cjs::Config& c) { c.limits.realtime_seconds = 1; }), slot_for(7));
  const double bound = prompt_end_bound(executor, 1.0);
  Outcome out = run(executor, "import time\ntime.sleep(30)\n", R"({"a": 1})");
  CHECK(out.body() == R"({"globals_dict":{"a":1},"emsg":")" + silent_kill_emsg(-9) + "\"}");
  CHECK(out.report.sandbox_status == -9);
  CHECK(out.seconds < bound);
  expect_clean_next_run(executor);
}

TEST_CASE("08: ignoring SIGTERM and SIGINT does not survive REALTIME", "[attack][limits]") {
  auto executor = make_executor(
      attack_config([](cjs::Config& c) { c.limits.realtime_seconds = 1; }), slot_for(8));
  const double bound = prompt_end_bound(executor, 1.0);
  Outcome out = run(executor,
                    "import signal, time\n"
                    "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT,\n"
                    "          signal.SIGUSR1, signal.SIGXCPU):\n"
                    "    signal.signal(s, signal.SIG_IGN)\n"
                    "time.sleep(30)\n");
  CHECK(emsg(out) == silent_kill_emsg(-9));
  CHECK(out.seconds < bound);
  expect_clean_next_run(executor);
}

TEST_CASE("09: a process that SIGSTOPs itself is still killed", "[attack][limits]") {
  const int slot = slot_for(9);
  SECTION("the interpreter stops itself") {
    auto executor =
        make_executor(attack_config([](cjs::Config& c) { c.limits.realtime_seconds = 1; }), slot);
    const double bound = prompt_end_bound(executor, 1.0);
    Outcome out = run(executor, "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\nx = 1\n");
    CHECK(emsg(out) == silent_kill_emsg(-9));
    CHECK(out.seconds < bound);
    CHECK(processes_of_uid(slot_uid(slot)).empty());
    expect_clean_next_run(executor);
  }
  SECTION("a stopped child is left behind") {
    auto executor = make_executor(attack_config(), slot);
    Outcome out = run(executor,
                      "import os, signal\n"
                      "pid = os.fork()\n"
                      "if pid == 0:\n"
                      "    os.kill(os.getpid(), signal.SIGSTOP)\n"
                      "    os._exit(0)\n"
                      "os.waitpid(pid, os.WUNTRACED)\n"
                      "x = 1\n");
    CHECK(global(out.body(), "x") == "1");
    CHECK(processes_of_uid(slot_uid(slot)).empty());
    expect_clean_next_run(executor);
  }
}

TEST_CASE("10: a setsid double-fork daemon is gone when the response is ready",
          "[attack][hygiene]") {
  const int slot = slot_for(10);
  const std::string marker = "cjsd" + random_token(10);
  const std::string daemonize =
      "import os, time, ctypes, signal\n"
      "def daemonize():\n"
      "    r, w = os.pipe()\n"
      "    pid = os.fork()\n"
      "    if pid == 0:\n"
      "        os.setsid()\n"
      "        if os.fork() == 0:\n"
      "            for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
      "                signal.signal(s, signal.SIG_IGN)\n"
      "            named = ctypes.CDLL(None).prctl(15, b'" +
      marker +
      "', 0, 0, 0) == 0\n"
      "            for fd in (0, 1, 2):\n"
      "                os.close(fd)\n"
      "            os.write(w, b'up' if named else b'no')\n"
      "            os.close(w)\n"
      "            while True:\n"
      "                time.sleep(1)\n"
      "        os._exit(0)\n"
      "    os.close(w)\n"
      "    got = os.read(r, 2).decode()\n"
      "    os.waitpid(pid, 0)\n"
      "    return got\n"
      "started = daemonize()\n";
  SECTION("the run succeeds") {
    auto executor = make_executor(attack_config(), slot);
    Outcome out = run(executor, daemonize);
    auto left = processes_named(marker);
    auto of_uid = processes_of_uid(slot_uid(slot));
    kill_all(left);
    kill_all(of_uid);
    CHECK(out.body() == R"({"globals_dict":{"started":"up"}})");
    CHECK(left.empty());
    CHECK(of_uid.empty());
    expect_clean_next_run(executor);
  }
  SECTION("the run times out") {
    auto executor =
        make_executor(attack_config([](cjs::Config& c) { c.limits.realtime_seconds = 2; }), slot);
    Outcome out = run(executor, daemonize + "time.sleep(30)\n");
    auto left = processes_named(marker);
    auto of_uid = processes_of_uid(slot_uid(slot));
    kill_all(left);
    kill_all(of_uid);
    CHECK(emsg(out) == silent_kill_emsg(-9));
    CHECK(left.empty());
    CHECK(of_uid.empty());
    expect_clean_next_run(executor);
  }
}

TEST_CASE("11: filling tmp/ with small files stops at tmp_size with ENOSPC", "[attack][deny]") {
  ScratchDir root(0755);
  // CPU and wall time to spare (attack_config): only tmp/'s size may stop
  // the attack.
  auto executor = make_executor(attack_config([&](cjs::Config& c) { c.sandbox_root = root.path; }),
                                slot_for(11));
  Outcome out = run(executor, kFillTmp);
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "err") == "[Errno 28] No space left on device");
  const long long written = global_int(out.body(), "written");
  CHECK(written >= 15 << 20);  // tmp_size is 16 MiB, minus bookkeeping
  CHECK(written <= 16 << 20);
  CHECK(root.leftovers().empty());
  // Other runs are unaffected: the next one has its whole tmp/ again.
  CHECK(
      run(executor, "with open('tmp/a', 'wb') as f:\n    n = f.write(b'y' * (1 << 20))\n").body() ==
      R"({"globals_dict":{"n":1048576}})");
  CHECK(root.leftovers().empty());
  expect_clean_next_run(executor);
}

TEST_CASE("12: seek to 1 GiB then write fails with Errno 27 at FSIZE", "[attack][limits]") {
  auto executor = make_executor(attack_config(), slot_for(12));  // FSIZE 1 MiB
  SECTION("uncaught: the reference's message") {
    Outcome out =
        run(executor, "f = open('tmp/f', 'wb', buffering=0)\nf.seek(1 << 30)\nf.write(b'x')\n");
    CHECK_THAT(emsg(out),
               Catch::EndsWith(R"(\nOSError: [Errno 27] File too large\n' with status code: 1)"));
  }
  SECTION("caught: nothing was written") {
    Outcome out = run(executor, kPyAttempt +
                                    "import os\n"
                                    "f = open('tmp/f', 'wb', buffering=0)\n"
                                    "f.seek(1 << 30)\n"
                                    "err = attempt(f.write, b'x')\n"
                                    "f.close()\n"
                                    "trunc = attempt(os.truncate, 'tmp/f', 1 << 30)\n"
                                    "size = os.path.getsize('tmp/f')\n"
                                    "del f\n");
    CHECK(out.body() == R"({"globals_dict":{"err":"OSError: [Errno 27] File too large",)"
                        R"("trunc":"OSError: [Errno 27] File too large: 'tmp/f'","size":0}})");
  }
  expect_clean_next_run(executor);
}

TEST_CASE("13: inode exhaustion and deep nesting in tmp/ are bounded and cleaned",
          "[attack][deny]") {
  ScratchDir root(0755);
  SECTION("24000 empty files") {
    // tmp/ is a 16 MiB tmpfs with 16384 inodes (one is tmp/ itself).
    auto executor = make_executor(
        attack_config([&](cjs::Config& c) { c.sandbox_root = root.path; }), slot_for(13));
    Outcome out =
        run(executor,
            "import os\n"
            "def many():\n"
            "    n = 0\n"
            "    try:\n"
            "        for i in range(24000):\n"
            "            os.close(os.open('tmp/f%d' % i, os.O_CREAT | os.O_WRONLY, 0o600))\n"
            "            n += 1\n"
            "    except OSError as e:\n"
            "        return [n, str(e)]\n"
            "    return [n, None]\n"
            "files, err = many()\n");
    CHECK(
        out.body() ==
        R"({"globals_dict":{"files":16383,"err":"[Errno 28] No space left on device: 'tmp/f16383'"}})");
    CHECK(root.leftovers().empty());
    expect_clean_next_run(executor);
  }
  SECTION("4000 nested directories") {
    // A 1 MiB tmp/ has 1024 inodes. (Landlock makes every access cost the
    // depth of the path, so nesting is also bounded by the CPU limit.)
    auto executor = make_executor(attack_config([&](cjs::Config& c) {
                                    c.sandbox_root = root.path;
                                    c.tmp_size_bytes = 1 << 20;
                                  }),
                                  slot_for(13, 1));
    Outcome out = run(executor,
                      "import os\n"
                      "def nest():\n"
                      "    start = os.getcwd()\n"
                      "    os.chdir('tmp')\n"
                      "    n = 0\n"
                      "    try:\n"
                      "        for i in range(4000):\n"
                      "            os.mkdir('d')\n"
                      "            os.chdir('d')\n"
                      "            n += 1\n"
                      "    except OSError as e:\n"
                      "        return [n, str(e)]\n"
                      "    finally:\n"
                      "        os.chdir(start)\n"
                      "    return [n, None]\n"
                      "depth, err = nest()\n");
    CHECK(out.body() ==
          R"({"globals_dict":{"depth":1023,"err":"[Errno 28] No space left on device: 'd'"}})");
    CHECK(root.leftovers().empty());
    expect_clean_next_run(executor);
  }
}

TEST_CASE("14: stdout and stderr floods are capped and end at the deadline", "[attack][limits]") {
  // The deadline is part of what is tested: production-like CPU 1, REALTIME 2.
  auto executor = make_executor(attack_config([](cjs::Config& c) {
                                  c.stdout_cap_bytes = 4096;
                                  c.stderr_cap_bytes = 4096;
                                  c.limits.cpu_seconds = 1;
                                  c.limits.realtime_seconds = 2;
                                }),
                                slot_for(14));
  const double bound = prompt_end_bound(executor, 2.0);
  SECTION("sys.__stdout__") {
    Outcome out = run(executor, "import sys\nwhile True:\n    sys.__stdout__.write('x' * 65536)\n");
    const std::string e = emsg(out);
    CHECK_THAT(e, Catch::StartsWith("Couldn't execute jailed code: stdout: b'xxxx"));
    CHECK_THAT(e, Catch::EndsWith("', stderr: b'' with status code: -24") ||
                      Catch::EndsWith("', stderr: b'' with status code: -9"));
    CHECK(out.report.stdout_truncated);
    CHECK(out.report.stdout_bytes > 1000000);
    CHECK(e.size() < 4096 + 1000);
    CHECK(out.seconds < bound);
  }
  SECTION("stderr") {
    Outcome out = run(executor, "import sys\nwhile True:\n    sys.stderr.write('y' * 65536)\n");
    const std::string e = emsg(out);
    CHECK_THAT(e, Catch::StartsWith("Couldn't execute jailed code: stdout: b'', stderr: b'yyyy"));
    CHECK_THAT(
        e, Catch::EndsWith("' with status code: -24") || Catch::EndsWith("' with status code: -9"));
    CHECK(out.report.stderr_truncated);
    CHECK(out.report.stderr_bytes > 1000000);
    CHECK(e.size() < 4096 + 1000);
    CHECK(out.seconds < bound);
  }
  expect_clean_next_run(executor);
}

TEST_CASE("15: opening files until EMFILE stops at 256 descriptors", "[attack][limits]") {
  auto executor = make_executor(attack_config(), slot_for(15));
  Outcome out = run(executor,
                    "import os, resource\n"
                    "fds = []\n"
                    "try:\n"
                    "    while True:\n"
                    "        fds.append(os.open('/dev/null', os.O_RDONLY))\n"
                    "except OSError as e:\n"
                    "    err = str(e)\n"
                    "highest = max(fds)\n"
                    "for fd in fds:\n"
                    "    os.close(fd)\n"
                    "limit = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
                    "del fds, fd\n");
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "err") == "[Errno 24] Too many open files: '/dev/null'");
  CHECK(global(out.body(), "highest") == "255");
  CHECK(global(out.body(), "limit") == "[256,256]");
  expect_clean_next_run(executor);
}

TEST_CASE("16: many parallel runs each get their own clean result", "[attack][limits]") {
  // One process per worker slot, as the service's workers are.
  constexpr int kRuns = 8;
  const cjs::Config config = attack_config();
  std::vector<ForkedRun> runs;
  for (int k = 0; k < kRuns; ++k) {
    runs.push_back(start_forked_run(config, slot_for(16, k),
                                    "import os, time\n"
                                    "with open('tmp/mine-%d' % k, 'w') as f:\n"
                                    "    f.write('x' * 1000)\n"
                                    "del f\n"
                                    "total = sum(range(k * 100000))\n"
                                    "time.sleep(0.3)\n"
                                    "files = os.listdir('tmp')\n"
                                    "uid = os.getuid()\n",
                                    R"({"k": )" + std::to_string(k) + "}"));
  }
  for (int k = 0; k < kRuns; ++k) {
    const std::string body = finish_forked_run(runs[static_cast<std::size_t>(k)]);
    long long total = 0;
    for (long long i = 0; i < k * 100000LL; ++i) total += i;
    INFO("run " << k);
    CHECK(body == R"({"globals_dict":{"k":)" + std::to_string(k) + R"(,"total":)" +
                      std::to_string(total) + R"(,"files":["mine-)" + std::to_string(k) +
                      R"("],"uid":)" + std::to_string(slot_uid(slot_for(16, k))) + "}}");
  }
  auto executor = make_executor(config, slot_for(16, 0));
  expect_clean_next_run(executor);
}
