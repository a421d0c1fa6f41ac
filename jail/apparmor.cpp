#include "jail/apparmor.h"

#include <sys/apparmor.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace cjs::jail {

bool apparmor_enabled(std::string* reason) {
  if (aa_is_enabled() == 1) return true;
  if (reason != nullptr) {
    *reason = errno == ENOSYS ? "the kernel has no AppArmor"
                              : std::string("AppArmor is not enabled: ") + std::strerror(errno);
  }
  return false;
}

int apparmor_stack_onexec(const char* profile) { return aa_stack_onexec(profile) == 0 ? 0 : errno; }

bool apparmor_profile_loaded(const char* profile, std::string* reason) {
  const std::string prefix = std::string(profile) + " ";
  std::ifstream list("/sys/kernel/security/apparmor/profiles");
  if (list.is_open()) {
    std::string line;
    while (std::getline(list, line)) {
      if (line.rfind(prefix, 0) == 0) return true;
    }
    if (reason != nullptr) *reason = std::string("profile ") + profile + " is not loaded";
    return false;
  }
  // The list is root-only: the stack request itself says whether the profile
  // exists. Only the child's pending exec changes, and it never execs.
  pid_t child = fork();
  if (child < 0) {
    if (reason != nullptr) *reason = std::string("cannot probe the profile: ") + strerror(errno);
    return false;
  }
  if (child == 0) _exit(aa_stack_onexec(profile) == 0 ? 0 : (errno & 0x7f));
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  if (reason != nullptr) {
    int err = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    *reason = std::string("profile ") + profile + " cannot be stacked (" +
              (err == ENOENT ? std::string("not loaded") : std::string(strerror(err))) + ")";
  }
  return false;
}

}  // namespace cjs::jail
