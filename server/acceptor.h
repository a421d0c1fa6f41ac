// The acceptor process: the only one that parses untrusted HTTP. It runs
// without privileges (dropped to the service account when started as root),
// cannot open outbound connections, and hands executions to the workers.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "server/systemd_notify.h"

namespace cjs::server {

struct ProbeOutcome {
  std::string name;
  bool passed = false;
  std::string reason;
};

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

// Exit status when the startup probes fail under systemd (never READY).
inline constexpr int kExitProbesFailed = 3;

// Runs until drained (SIGTERM or the supervisor's drain order) or the
// supervisor goes away. Returns the process exit status.
int run_acceptor(AcceptorSetup setup);

}  // namespace cjs::server
