// The acceptor process: the only one that parses untrusted HTTP. It runs
// without privileges (dropped to the service account when started as root),
// cannot open outbound connections, and hands executions to the workers.
//
// Its event loop holds small objects, one concern each (after the
// Boost.Beast server examples): the Listener accepts within the connection
// cap and runs an HttpSession per connection, the ApiHandler answers, the
// WorkerPool talks to the workers, the ControlReceiver adopts new workers
// from the supervisor, SystemdStatus reports to systemd, and Drain ends it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

#include "common/config.h"
#include "server/probe_outcome.h"
#include "server/systemd_notify.h"

namespace cjs::server {

struct AcceptorSetup {
  Config config;
  int listen_fd = -1;                // bound and listening TCP socket
  int control_fd = -1;               // from the supervisor (control_channel.h)
  std::vector<ProbeOutcome> probes;  // the workers' startup probes
  std::optional<uid_t> run_as_uid;   // drop to these when started as root
  std::optional<gid_t> run_as_gid;
  // READY/STATUS/WATCHDOG to systemd (a no-op when not started by it).
  SystemdNotifier notifier;
};

// Runs until drained (SIGTERM or the supervisor's drain order) or the
// supervisor goes away. Returns the process exit status.
int run_acceptor(AcceptorSetup setup);

}  // namespace cjs::server
