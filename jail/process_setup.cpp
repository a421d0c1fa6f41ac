#include "jail/process_setup.h"

#include <signal.h>
#include <sys/resource.h>

#include "common/log.h"
#include "os/egress_lock.h"

namespace cjs::jail {

void prepare_runner_process() {
  signal(SIGPIPE, SIG_IGN);
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  os::EgressLock lock = os::restrict_own_network();
  if (!lock.landlock && !lock.seccomp) {
    log::warning("cannot forbid outbound connections for this process", {{"detail", lock.detail}});
  }
}

}  // namespace cjs::jail
