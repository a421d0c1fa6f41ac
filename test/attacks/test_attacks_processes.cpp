// Attack catalogue items 24-32 (sandbox.md): no other program runs, no
// privilege is gained, nothing outside the run can be traced or signalled,
// and the kernel's riskier interfaces answer EPERM.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "attack_fixture.h"
#include "test/support/host_features.h"

using namespace cjs::attack;

namespace {

constexpr const char* kRunCommand =
    "import subprocess\n"
    "def command(argv):\n"
    "    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,\n"
    "                   stderr=subprocess.DEVNULL, timeout=1)\n";

// in_child(f): runs f() in a forked child whose exit status is f's small
// integer result (an errno), so that an exec that succeeds cannot replace
// the interpreter that reports.
constexpr const char* kInChild =
    "import os\n"
    "def in_child(f):\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        try:\n"
    "            os._exit(f())\n"
    "        finally:\n"
    "            os._exit(254)\n"
    "    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])\n";

// A process of the sandbox uid outside any sandbox: another execution, as
// far as the code can tell. A child of this process: the caller must run
// its executions through start_forked_run (see attack_fixture.h), and the
// victim is killed when it goes out of scope.
struct Victim {
  pid_t pid = -1;
  explicit Victim(uid_t uid) {
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      if (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) _exit(1);
      setpgid(0, 0);
      prctl(PR_SET_NAME, "cjs-victim", 0, 0, 0);
      while (true) pause();
    }
  }
  ~Victim() { stop(); }
  Victim(const Victim&) = delete;
  Victim& operator=(const Victim&) = delete;
  void stop() {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

}  // namespace

TEST_CASE("24: executing other programs is denied", "[attack][deny]") {
  auto executor = make_executor(attack_config(), slot_for(24));
  Outcome out =
      run(executor,
          kPySyscall + kRunCommand + kInChild +
              "import sys\n"
              "true = attempt(command, ['/usr/bin/true'])\n"
              "ls = attempt(command, ['ls', '/'])\n"
              "python = attempt(command, [sys.executable, '-c', 'pass'])\n"
              "ps = attempt(command, ['ps'])\n"
              "ldso = attempt(command, ['/lib64/ld-linux-x86-64.so.2', '/usr/bin/true'])\n"
              "shell = attempt(os.system, 'true')\n"
              "system = os.system('true')\n"
              "def execv(path, argv):\n"
              "    try:\n"
              "        os.execv(path, argv)\n"
              "    except OSError as e:\n"
              "        return e.errno\n"
              "execv_true = in_child(lambda: execv('/usr/bin/true', ['true']))\n"
              "execv_ldso = in_child(lambda: execv('/lib64/ld-linux-x86-64.so.2',\n"
              "                                    ['ld.so', '/usr/bin/true']))\n"
              "execv_self = in_child(lambda: execv(sys.executable, ['python', '-c', 'pass']))\n"
              // The interpreter's own exec descriptor is closed and
              // cannot be recreated: 1023 is above RLIMIT_NOFILE.
              "dup_1023 = attempt(os.dup2, 0, 1023)\n"
              "argv = (_ct.c_char_p * 2)(b'true', None)\n"
              "envp = (_ct.c_char_p * 1)(None)\n"
              "AT_EMPTY_PATH = 0x1000\n"
              "execveat_1023 = sc(322, 1023, b'', argv, envp, AT_EMPTY_PATH)\n"
              "fd = os.open('/usr/bin/true', os.O_PATH)\n"
              "execveat_fd = in_child(lambda: getattr(_errno, sc(322, fd, b'', argv, envp, "
              "AT_EMPTY_PATH), 0))\n"
              "execveat_path = in_child(lambda: getattr(_errno, sc(322, -100, b'/usr/bin/true', "
              "argv, envp, 0), 0))\n"
              // An absolute path makes execveat ignore its descriptor:
              // the exec lock must refuse it anyway (ld.so would run
              // any readable program).
              "ld_argv = (_ct.c_char_p * 3)(b'ld.so', b'/usr/bin/true', None)\n"
              "execveat_abs = in_child(lambda: getattr(_errno, sc(322, 1023, "
              "b'/lib64/ld-linux-x86-64.so.2', ld_argv, envp, AT_EMPTY_PATH), 0))\n"
              "memfd = attempt(os.memfd_create, 'x')\n"
              "preload_visible = 'LD_PRELOAD' in os.environ\n"
              "os.close(fd)\n"
              "del argv, ld_argv, envp, fd, AT_EMPTY_PATH\n");
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "true") ==
        "PermissionError: [Errno 13] Permission denied: '/usr/bin/true'");
  CHECK(global_str(out.body(), "ls") == "PermissionError: [Errno 13] Permission denied: 'ls'");
  CHECK(global_str(out.body(), "python") ==
        "PermissionError: [Errno 13] Permission denied: "
        "'/opt/codejail-service/sandbox-venv/bin/python'");
  CHECK(global_str(out.body(), "ps") == "PermissionError: [Errno 13] Permission denied: 'ps'");
  CHECK(global_str(out.body(), "ldso") ==
        "PermissionError: [Errno 13] Permission denied: '/lib64/ld-linux-x86-64.so.2'");
  // os.system runs /bin/sh, which cannot be executed: the shell's child exits 127.
  CHECK(global_str(out.body(), "shell") == "ok");
  CHECK(global(out.body(), "system") == "32512");
  CHECK(global(out.body(), "execv_true") == "13");
  CHECK(global(out.body(), "execv_ldso") == "13");
  CHECK(global(out.body(), "execv_self") == "13");
  CHECK(global_str(out.body(), "dup_1023") == "OSError: [Errno 9] Bad file descriptor");
  // The exec lock refuses even before the descriptor is looked at.
  CHECK(global_str(out.body(), "execveat_1023") == "EACCES");
  CHECK(global(out.body(), "execveat_fd") == "13");
  CHECK(global(out.body(), "execveat_path") == "13");
  CHECK(global(out.body(), "execveat_abs") == "13");
  CHECK(global_str(out.body(), "memfd") == "PermissionError: [Errno 1] Operation not permitted");
  CHECK(global(out.body(), "preload_visible") == "false");
  expect_clean_next_run(executor);
}

TEST_CASE("25: setuid binaries give no privilege", "[attack][deny]") {
  const int slot = slot_for(25);
  auto executor = make_executor(attack_config(), slot);
  Outcome out =
      run(executor, kPySyscall + kRunCommand +
                        "import os\n"
                        "su = attempt(command, ['/usr/bin/su', '--version'])\n"
                        "passwd = attempt(command, ['/usr/bin/passwd', '--help'])\n"
                        "no_new_privs = _libc.prctl(39, 0, 0, 0, 0)\n"
                        "bounding = [c for c in range(64) if _libc.prctl(23, c, 0, 0, 0) == 1]\n"
                        "ids = list(os.getresuid()) + list(os.getresgid())\n"
                        "groups = os.getgroups()\n"
                        "setuid = attempt(os.setuid, 0)\n"
                        "setgid = attempt(os.setgid, 0)\n");
  INFO("body: " << out.body());
  const std::string uid = std::to_string(slot_uid(slot));
  CHECK(global_str(out.body(), "su") ==
        "PermissionError: [Errno 13] Permission denied: '/usr/bin/su'");
  CHECK(global_str(out.body(), "passwd") ==
        "PermissionError: [Errno 13] Permission denied: '/usr/bin/passwd'");
  CHECK(global(out.body(), "no_new_privs") == "1");
  CHECK(global(out.body(), "bounding") == "[]");
  CHECK(global(out.body(), "ids") ==
        "[" + uid + "," + uid + "," + uid + "," + uid + "," + uid + "," + uid + "]");
  CHECK(global(out.body(), "groups") == "[]");
  CHECK(global_str(out.body(), "setuid") == "PermissionError: [Errno 1] Operation not permitted");
  CHECK(global_str(out.body(), "setgid") == "PermissionError: [Errno 1] Operation not permitted");
  expect_clean_next_run(executor);
}

TEST_CASE("26: ptrace and process_vm_readv are denied even on the run's own children",
          "[attack][deny]") {
  auto executor = make_executor(attack_config(), slot_for(26));
  Outcome out = run(executor, kPySyscall +
                                  "import os, time\n"
                                  "child = os.fork()\n"
                                  "if child == 0:\n"
                                  "    time.sleep(5)\n"
                                  "    os._exit(0)\n"
                                  "attach = sc(101, 16, child, 0, 0)\n"        // PTRACE_ATTACH
                                  "seize = sc(101, 0x4206, child, 0, 0)\n"     // PTRACE_SEIZE
                                  "vm_read = sc(310, child, 0, 0, 0, 0, 0)\n"  // process_vm_readv
                                  "vm_write = sc(311, child, 0, 0, 0, 0, 0)\n"
                                  "os.kill(child, 9)\n"
                                  "os.waitpid(child, 0)\n"
                                  "traceme = sc(101, 0, 0, 0, 0)\n"  // PTRACE_TRACEME
                                  "del child\n");
  CHECK(out.body() == R"({"globals_dict":{"attach":"EPERM","seize":"EPERM","vm_read":"EPERM",)"
                      R"("vm_write":"EPERM","traceme":"EPERM"}})");
  expect_clean_next_run(executor);
}

TEST_CASE("27: signals cannot reach the service or other executions", "[attack][deny]") {
  // The victim runs as the very uid of the attacking run, outside its sandbox.
  const int slot = slot_for(27);
  const uid_t uid = slot_uid(slot);
  Victim victim_process(uid);
  const pid_t victim = victim_process.pid;
  const std::string globals = R"({"victim": )" + std::to_string(victim) + R"(, "service": )" +
                              std::to_string(getpid()) + "}";
  ForkedRun forked = start_forked_run(attack_config(), slot,
                                      kPyAttempt +
                                          "import os\n"
                                          "kill_victim = attempt(os.kill, victim, 9)\n"
                                          "kill_victim_group = attempt(os.killpg, victim, 9)\n"
                                          "kill_service = attempt(os.kill, service, 9)\n"
                                          "kill_parent = attempt(os.kill, os.getppid(), 9)\n"
                                          "kill_all = attempt(os.kill, -1, 9)\n"
                                          "alive = attempt(os.kill, victim, 0)\n",
                                      globals);
  const std::string body = finish_forked_run(forked);
  const bool victim_alive = process_alive(victim);
  victim_process.stop();
  INFO("body: " << body);
  CHECK(victim_alive);
  CHECK(body == R"({"globals_dict":{"victim":)" + std::to_string(victim) + R"(,"service":)" +
                    std::to_string(getpid()) +
                    R"(,"kill_victim":"ProcessLookupError: [Errno 3] No such process",)"
                    R"("kill_victim_group":"ProcessLookupError: [Errno 3] No such process",)"
                    R"("kill_service":"ProcessLookupError: [Errno 3] No such process",)"
                    R"("kill_parent":"PermissionError: [Errno 1] Operation not permitted",)"
                    R"("kill_all":"ProcessLookupError: [Errno 3] No such process",)"
                    R"("alive":"ProcessLookupError: [Errno 3] No such process"}})");
  auto executor = make_executor(attack_config(), slot);
  expect_clean_next_run(executor);
}

TEST_CASE("28: TIOCSTI is denied including its high-bit variants", "[attack][deny]") {
  auto executor = make_executor(attack_config(), slot_for(28));
  Outcome out = run(executor, kPySyscall +
                                  "import fcntl, termios\n"
                                  "c = _ct.c_char(b'x')\n"
                                  "tiocsti = attempt(fcntl.ioctl, 0, termios.TIOCSTI, b'x')\n"
                                  "high_bit = sc(16, 0, 0x100005412, _ct.byref(c))\n"
                                  "all_high = sc(16, 0, 0xffffffff00005412, _ct.byref(c))\n"
                                  "stdout_fd = sc(16, 1, 0x5412, _ct.byref(c))\n"
                                  "tioclinux = sc(16, 0, 0x541c, _ct.byref(c))\n"
                                  "del c\n");
  CHECK(out.body() ==
        R"({"globals_dict":{"tiocsti":"PermissionError: [Errno 1] Operation not permitted",)"
        R"("high_bit":"EPERM","all_high":"EPERM","stdout_fd":"EPERM","tioclinux":"EPERM"}})");
  expect_clean_next_run(executor);
}

TEST_CASE("29: unshare and new user namespaces and mount and setns are denied", "[attack][deny]") {
  auto executor = make_executor(attack_config(), slot_for(29));
  Outcome out = run(executor, kPySyscall +
                                  "userns = sc(272, 0x10000000)\n"  // unshare(CLONE_NEWUSER)
                                  "mntns = sc(272, 0x00020000)\n"   // CLONE_NEWNS
                                  "netns = sc(272, 0x40000000)\n"   // CLONE_NEWNET
                                  "pidns = sc(272, 0x20000000)\n"   // CLONE_NEWPID
                                  "libc_unshare = _libc.unshare(0x10000000)\n"
                                  "libc_errno = _ct.get_errno()\n"
                                  "setns = sc(308, 0, 0)\n"
                                  "mount = sc(165, b'none', b'tmp', b'tmpfs', 0, 0)\n"
                                  "umount = sc(166, b'/proc', 2)\n"
                                  "pivot_root = sc(155, b'tmp', b'tmp')\n"
                                  "chroot = sc(161, b'tmp')\n"
                                  "clone_userns = sc(56, 0x10000000 | 17, 0, 0, 0, 0)\n"
                                  "fsopen = sc(430, b'tmpfs', 0)\n"
                                  "open_tree = sc(428, -100, b'/', 0)\n");
  CHECK(out.body() == R"({"globals_dict":{"userns":"EPERM","mntns":"EPERM","netns":"EPERM",)"
                      R"("pidns":"EPERM","libc_unshare":-1,"libc_errno":1,"setns":"EPERM",)"
                      R"("mount":"EPERM","umount":"EPERM","pivot_root":"EPERM","chroot":"EPERM",)"
                      R"("clone_userns":"EPERM","fsopen":"EPERM","open_tree":"EPERM"}})");
  expect_clean_next_run(executor);
}

TEST_CASE(
    "30: keyctl and bpf and perf_event_open and userfaultfd and io_uring and personality are "
    "denied",
    "[attack][deny]") {
  auto executor = make_executor(attack_config(), slot_for(30));
  Outcome out =
      run(executor, kPySyscall +
                        "buf = _ct.create_string_buffer(256)\n"
                        "keyctl = sc(250, 0, -3, 0)\n"  // GET_KEYRING_ID session
                        "add_key = sc(248, b'user', b'cjs', b'x', 1, -2)\n"  // process keyring
                        "request_key = sc(249, b'user', b'cjs', 0, 0)\n"
                        "bpf = sc(321, 0, buf, 72)\n"  // BPF_MAP_CREATE
                        // perf_event_attr: software task clock, user space only.
                        "import struct\n"
                        "perf_attr = _ct.create_string_buffer(struct.pack('<IIQQQQQ', 1, 128, 1, "
                        "0, 0, 0, 0x61), 128)\n"
                        "perf = sc(298, perf_attr, 0, -1, -1, 0)\n"
                        "userfaultfd = sc(323, 1)\n"  // UFFD_USER_MODE_ONLY
                        "io_uring_setup = sc(425, 1, buf)\n"
                        "io_uring_enter = sc(426, 0, 0, 0, 0, 0, 0)\n"
                        "io_uring_register = sc(427, 0, 0, 0, 0)\n"
                        "personality = sc(135, 0x0040000)\n"  // ADDR_NO_RANDOMIZE
                        "personality_query = sc(135, 0xffffffff)\n"
                        "del buf, perf_attr\n");
  CHECK(
      out.body() ==
      R"({"globals_dict":{"keyctl":"EPERM","add_key":"EPERM","request_key":"EPERM","bpf":"EPERM",)"
      R"("perf":"EPERM","userfaultfd":"EPERM","io_uring_setup":"EPERM","io_uring_enter":"EPERM",)"
      R"("io_uring_register":"EPERM","personality":"EPERM","personality_query":"ok"}})");
  expect_clean_next_run(executor);
}

namespace {

// Runs machine code from an RWX page: a system call through another ABI.
const std::string kRunMachineCode =
    "import mmap, ctypes\n"
    "m = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,\n"
    "              prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
    "m.write(CODE)\n"
    "f = ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(m)))\n"
    "r = f()\n";

}  // namespace

TEST_CASE("31: x32 system calls kill the process with SIGSYS", "[attack][deny]") {
  // seccomp sees the x32 bit before the kernel dispatches: this holds whether
  // or not the kernel supports x32 (without it the call gives ENOSYS).
  auto executor = make_executor(attack_config(), slot_for(31));
  // mov eax, 0x40000027 (x32 getpid); syscall; ret
  Outcome out =
      run(executor, "CODE = b'\\xb8\\x27\\x00\\x00\\x40\\x0f\\x05\\xc3'\n" + kRunMachineCode);
  CHECK(out.body() == R"({"globals_dict":{},"emsg":")" + silent_kill_emsg(-31) + "\"}");
  expect_clean_next_run(executor);
}

TEST_CASE("31: i386 system calls kill the process with SIGSYS where the kernel has them",
          "[attack][deny]") {
  // A kernel without IA32 emulation faults on int 0x80 (SIGSEGV) before any
  // filter runs: the call cannot succeed there, confined or not, so this
  // test cannot fail under sabotage on such a host and says so.
  WARN(cjs::test::describe_i386_abi());
  const bool abi = cjs::test::host_has_i386_abi();
  if (!abi) {
    cjs::test::declare_not_applicable_under_sabotage(
        Catch::getResultCapture().getCurrentTestName(),
        "this kernel has no i386 ABI: int 0x80 faults whether or not seccomp is on");
  }
  auto executor = make_executor(attack_config(), slot_for(31, 1));
  // mov eax, 20 (getpid); int 0x80; ret
  Outcome out =
      run(executor, "CODE = b'\\xb8\\x14\\x00\\x00\\x00\\xcd\\x80\\xc3'\n" + kRunMachineCode);
  const std::string killed_by_seccomp =
      R"({"globals_dict":{},"emsg":")" + silent_kill_emsg(-31) + "\"}";
  const std::string faulted = R"({"globals_dict":{},"emsg":")" + silent_kill_emsg(-11) + "\"}";
  if (abi) {
    CHECK(out.body() == killed_by_seccomp);
  } else if (cjs::test::i386_abi_absence_simulated()) {
    CHECK((out.body() == killed_by_seccomp || out.body() == faulted));
  } else {
    CHECK(out.body() == faulted);
  }
  expect_clean_next_run(executor);
}

TEST_CASE("32: a segfault through ctypes gives status -11 and the service is fine",
          "[attack][hygiene]") {
  auto executor = make_executor(attack_config(), slot_for(32));
  Outcome out = run(executor, "import ctypes\nctypes.string_at(0)\n", R"({"a": [1]})");
  CHECK(out.body() == R"({"globals_dict":{"a":[1]},"emsg":")" + silent_kill_emsg(-11) + "\"}");
  CHECK(out.report.sandbox_status == -11);
  expect_clean_next_run(executor);
}
