#include "os/parent_death.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace cjs::os {

bool die_with_parent(pid_t parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return false;
  // Reparented already: the parent died before the request took effect.
  return getppid() == parent;
}

}  // namespace cjs::os
