// The supervisor: the service's first process. It keeps only what spawning
// sandboxes needs (the workers it execs run as root when it is root); it
// never parses HTTP. It runs the startup probes, opens the listener, forks
// the unprivileged acceptor, execs the jail workers (codejail-worker) and
// replaces them when they recycle or die, and turns SIGTERM into a drain and
// SIGHUP into a configuration reload for the workers started after it.
#pragma once

#include <string>

#include "server/service_config.h"

namespace cjs::server {

struct SupervisorOptions {
  std::string worker_binary;              // path of codejail-worker
  std::string service_user = "codejail";  // the acceptor's account when started as root
};

// Returns the process exit status.
int run_supervisor(ServiceConfig config, SupervisorOptions options);

}  // namespace cjs::server
