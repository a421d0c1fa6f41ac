#include "test/support/host_features.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace cjs::test {

namespace {

struct I386Probe {
  bool present = false;
  std::string how;  // what the probe saw, for describe_i386_abi()
};

bool simulate_absence() {
  const char* value = std::getenv("CJS_TEST_ASSUME_NO_I386_ABI");
  return value != nullptr && std::string_view(value) == "1";
}

#if defined(__x86_64__)
// In the child: getpid through the i386 entry point; exit 0 when it answered
// with our pid. Default signal dispositions, so that a fault ends the child
// quietly instead of running the test framework's (or a sanitizer's) handler.
[[noreturn]] void i386_getpid_child() {
  signal(SIGSEGV, SIG_DFL);
  signal(SIGBUS, SIG_DFL);
  signal(SIGILL, SIG_DFL);
  long ret = 20;  // __NR_getpid in the i386 table
  __asm__ volatile("int $0x80" : "+a"(ret) : : "r8", "r9", "r10", "r11", "memory");
  _exit(ret == syscall(SYS_getpid) ? 0 : 1);
}

I386Probe probe_i386() {
  const pid_t pid = fork();
  if (pid < 0) return {false, std::string("probe could not fork: ") + std::strerror(errno)};
  if (pid == 0) i386_getpid_child();
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return {false, "probe could not be waited for"};
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return {true, "probed: int 0x80 getpid answers"};
  }
  if (WIFSIGNALED(status)) {
    return {false, std::string("probed: int 0x80 ends in SIG") + sigabbrev_np(WTERMSIG(status)) +
                       ", the kernel has no i386 entry"};
  }
  return {false, "probed: int 0x80 getpid gives a wrong answer"};
}
#else
I386Probe probe_i386() { return {false, "not an x86-64 host"}; }
#endif

const I386Probe& i386_probe() {
  static const I386Probe probe =
      simulate_absence() ? I386Probe{false, "simulated by CJS_TEST_ASSUME_NO_I386_ABI=1"}
                         : probe_i386();
  return probe;
}

}  // namespace

bool host_has_i386_abi() { return i386_probe().present; }

std::string describe_i386_abi() {
  const I386Probe& probe = i386_probe();
  return std::string("i386 ABI: ") + (probe.present ? "present" : "absent") + " (" + probe.how +
         ")";
}

bool i386_abi_absence_simulated() { return simulate_absence(); }

void declare_not_applicable_under_sabotage(const std::string& test_name,
                                           const std::string& reason) {
  const char* path = std::getenv("CJS_TEST_NOT_APPLICABLE_FILE");
  if (path == nullptr || *path == '\0') return;
  // One line per declaration: "<test name>\t<reason>\n", appended.
  const int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const std::string line = test_name + "\t" + reason + "\n";
  [[maybe_unused]] const ssize_t n = write(fd, line.data(), line.size());
  close(fd);
}

}  // namespace cjs::test
