#include "server/acceptor/process_setup.h"

#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "os/privileges.h"

namespace cjs::server {

bool drop_to_service_account(std::optional<uid_t> uid, std::optional<gid_t> gid,
                             std::string& error) {
  // The bounding set first (best effort: an unprivileged service cannot);
  // then the service account, if any, and no capabilities.
  int step = 0;
  const os::PrivilegeDrop drop{
      .bounding_set_required = false, .clear_ambient = false, .no_new_privs = false};
  const os::Identity identity{uid, uid ? gid : std::nullopt};
  if (int err = os::drop_privileges(identity, drop, &step); err != 0) {
    error = std::string(step == os::kPrivCapabilities ? "cannot clear capabilities: "
                                                      : "cannot switch to the service account: ") +
            std::strerror(err);
    return false;
  }
  // No core dumps or ptrace by same-uid processes: request bodies hold code.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  return true;
}

// Each connection is a descriptor; the default soft limit (often 1024) would
// make EMFILE, not max_connections, the real cap. The hard limit needs no
// privilege to reach.
void raise_open_file_limit(int max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  // Listener, control channel, worker sockets, logs: some headroom.
  constexpr rlim_t kOtherFiles = 300;
  if (limit.rlim_cur != RLIM_INFINITY &&
      static_cast<rlim_t>(max_connections) + kOtherFiles > limit.rlim_cur) {
    log::warning("the open-file limit is below max_connections; accept will back off on EMFILE",
                 {{"nofile", log::number(static_cast<long long>(limit.rlim_cur))},
                  {"max_connections", log::number(static_cast<long long>(max_connections))}});
  }
}

void keep_large_allocations_mmapped() { mallopt(M_MMAP_THRESHOLD, 128 * 1024); }

}  // namespace cjs::server
