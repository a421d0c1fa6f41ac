// Attack catalogue items 37-40 (sandbox.md): leaks and hygiene. Nothing of
// the service reaches the code, and nothing one run does is visible to the
// next.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <set>
#include <string>

#include "attack_fixture.h"

extern char** environ;

using namespace cjs::attack;

namespace {

// Removes the host's SysV objects with these keys (a sabotaged run creates them).
struct SysvCleanup {
  std::vector<key_t> keys;
  ~SysvCleanup() {
    for (key_t key : keys) {
      if (int id = shmget(key, 0, 0); id >= 0) shmctl(id, IPC_RMID, nullptr);
      if (int id = semget(key, 0, 0); id >= 0) semctl(id, 0, IPC_RMID);
      if (int id = msgget(key, 0); id >= 0) msgctl(id, IPC_RMID, nullptr);
    }
  }
};

key_t random_key() {
  std::uint32_t key = 0;
  for (char c : random_token(6)) key = key * 37 + static_cast<unsigned char>(c);
  return static_cast<key_t>((key & 0x3ffffffe) | 0x10000000);
}

}  // namespace

TEST_CASE("37: the service's environment does not leak into the sandbox", "[attack][hygiene]") {
  REQUIRE(setenv("CJS_TEST_ENV_LEAKAGE", "yes", 1) == 0);
  auto executor = make_executor(attack_config(), slot_for(37));
  Outcome out = run(executor,
                    "import os\n"
                    "leak = 'CJS_TEST_ENV_LEAKAGE' in os.environ\n"
                    "values = [v for v in os.environ.values() if 'yes' == v]\n"
                    "keys = sorted(os.environ)\n");
  unsetenv("CJS_TEST_ENV_LEAKAGE");
  INFO("body: " << out.body());
  CHECK(global(out.body(), "leak") == "false");
  CHECK(global(out.body(), "values") == "[]");
  // Only the sandbox's own variables; none inherited from the service.
  const std::set<std::string> allowed = {
      "PATH",   "TMPDIR",   "HOME",         "LANG",
      "LC_ALL", "LC_CTYPE", "MPLCONFIGDIR", "OPENBLAS_NUM_THREADS"};
  for (const auto& key : global_strs(out.body(), "keys")) {
    INFO("sandbox variable " << key);
    CHECK(allowed.count(key) == 1);
  }
  expect_clean_next_run(executor);
}

TEST_CASE("38: no file descriptor above 2 reaches the code", "[attack][hygiene]") {
  // Descriptors of the service without close-on-exec, low and high.
  int file = open("/etc/hostname", O_RDONLY);
  REQUIRE(file >= 0);
  int high = dup2(file, 1000);
  REQUIRE(high == 1000);
  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
  auto executor = make_executor(attack_config(), slot_for(38));
  Outcome out = run(executor,
                    "import os\n"
                    "def open_fds():\n"
                    "    found = []\n"
                    "    for fd in range(3, 1024):\n"
                    "        try:\n"
                    "            os.fstat(fd)\n"
                    "        except OSError:\n"
                    "            continue\n"
                    "        found.append(fd)\n"
                    "    return found\n"
                    "fds = open_fds()\n");
  close(file);
  close(high);
  close(pair[0]);
  close(pair[1]);
  CHECK(out.body() == R"({"globals_dict":{"fds":[]}})");
  expect_clean_next_run(executor);
}

TEST_CASE("39: SysV shared memory and semaphores and queues do not cross runs", "[attack][deny]") {
  const key_t key = random_key();
  const key_t host_key = key + 1;
  SysvCleanup cleanup{{key, host_key}};
  // An object of the host's IPC namespace, open to everyone.
  const int host_shm = shmget(host_key, 4096, IPC_CREAT | IPC_EXCL | 0666);
  REQUIRE(host_shm >= 0);

  auto executor = make_executor(attack_config(), slot_for(39));
  const std::string globals =
      R"({"key": )" + std::to_string(key) + R"(, "host_key": )" + std::to_string(host_key) + "}";
  Outcome first = run(executor,
                      kPySyscall +
                          "IPC_CREAT = 0o1000\n"
                          "created = [sc(29, key, 4096, IPC_CREAT | 0o666),\n"  // shmget
                          "           sc(64, key, 1, IPC_CREAT | 0o666),\n"     // semget
                          "           sc(68, key, IPC_CREAT | 0o666)]\n"        // msgget
                          "host = sc(29, host_key, 0, 0)\n"
                          "del IPC_CREAT\n",
                      globals);
  INFO("first: " << first.body());
  CHECK(global(first.body(), "created") == R"(["ok","ok","ok"])");
  CHECK(global_str(first.body(), "host") == "ENOENT");
  Outcome second =
      run(executor, kPySyscall + "seen = [sc(29, key, 0, 0), sc(64, key, 0, 0), sc(68, key, 0)]\n",
          globals);
  INFO("second: " << second.body());
  CHECK(global(second.body(), "seen") == R"(["ENOENT","ENOENT","ENOENT"])");
  expect_clean_next_run(executor);
}

TEST_CASE("39: keyrings cannot carry data from one run to the next", "[attack][deny]") {
  const std::string description = "cjs-attack-" + random_token(10);
  auto executor = make_executor(attack_config(), slot_for(39, 1));
  const std::string globals = R"({"description": ")" + description + "\"}";
  // A sabotaged run's key expires after 5 s (KEYCTL_SET_TIMEOUT).
  Outcome first = run(executor,
                      kPySyscall +
                          "def add():\n"
                          "    _ct.set_errno(0)\n"
                          "    k = _libc.syscall(_ct.c_long(248), b'user', description.encode(),\n"
                          "                      b'secret', _ct.c_long(6), _ct.c_long(-4))\n"
                          "    if k == -1:\n"
                          "        return _errno.errorcode[_ct.get_errno()]\n"
                          "    sc(250, 15, k, 5)\n"
                          "    return 'ok'\n"
                          "added = add()\n",
                      globals);
  Outcome second = run(
      executor,
      kPySyscall + "found = sc(250, 10, -4, b'user', description.encode(), 0)\n",  // KEYCTL_SEARCH
      globals);
  INFO("first: " << first.body());
  INFO("second: " << second.body());
  CHECK(global_str(first.body(), "added") == "EPERM");
  CHECK(global_str(second.body(), "found") == "EPERM");
  expect_clean_next_run(executor);
}

TEST_CASE("39: a file lock taken by one run does not outlive it", "[attack][hygiene]") {
  auto executor = make_executor(attack_config(), slot_for(39, 2));
  // A daemon of the run holds a lock on a file every run can read.
  Outcome first = run(executor,
                      "import os, fcntl, time\n"
                      "r, w = os.pipe()\n"
                      "if os.fork() == 0:\n"
                      "    os.setsid()\n"
                      "    if os.fork() == 0:\n"
                      "        f = open(os.__file__, 'rb')\n"
                      "        fcntl.flock(f, fcntl.LOCK_EX)\n"
                      "        os.write(w, b'locked')\n"
                      "        time.sleep(60)\n"
                      "    os._exit(0)\n"
                      "state = os.read(r, 6).decode()\n"
                      "path = os.__file__\n"
                      "del r, w\n");
  INFO("first: " << first.body());
  CHECK(global_str(first.body(), "state") == "locked");
  const std::string path = global_str(first.body(), "path");
  // The service sees the lock gone...
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0);
  flock(fd, LOCK_UN);
  close(fd);
  // ...and so does the next run.
  Outcome second = run(executor,
                       "import os, fcntl\n"
                       "with open(os.__file__, 'rb') as f:\n"
                       "    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
                       "    got = 'lock'\n");
  CHECK(second.body() == R"({"globals_dict":{"got":"lock"}})");
  expect_clean_next_run(executor);
}

TEST_CASE("40: random state and the hash seed differ between runs", "[attack][hygiene]") {
  auto executor = make_executor(attack_config(), slot_for(40));
  const std::string code =
      "import random, sys, os\n"
      "bits = str(random.getrandbits(128))\n"
      "h = str(hash('codejail'))\n"
      "hash_randomization = sys.flags.hash_randomization\n"
      "urandom = os.urandom(16).hex()\n";
  Outcome a = run(executor, code);
  Outcome b = run(executor, code);
  INFO("a: " << a.body());
  INFO("b: " << b.body());
  CHECK(global(a.body(), "hash_randomization") == "1");
  CHECK(global(b.body(), "hash_randomization") == "1");
  CHECK(global_str(a.body(), "bits") != global_str(b.body(), "bits"));
  CHECK(global_str(a.body(), "h") != global_str(b.body(), "h"));
  CHECK(global_str(a.body(), "urandom") != global_str(b.body(), "urandom"));
  expect_clean_next_run(executor);
}
