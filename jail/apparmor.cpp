#include "jail/apparmor.h"

#include <sys/apparmor.h>

#include <cerrno>
#include <cstring>

namespace cjs::jail {

bool apparmor_enabled(std::string* reason) {
  if (aa_is_enabled() == 1) return true;
  if (reason != nullptr) {
    *reason = errno == ENOSYS ? "the kernel has no AppArmor"
                              : std::string("AppArmor is not enabled: ") + std::strerror(errno);
  }
  return false;
}

int apparmor_stack_onexec(const char* profile) {
  return aa_stack_onexec(profile) == 0 ? 0 : errno;
}

}  // namespace cjs::jail
