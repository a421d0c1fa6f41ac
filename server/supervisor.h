// The supervisor: the service's first process. It keeps only what spawning
// sandboxes needs (the workers it execs run as root when it is root); it
// never parses HTTP. It runs the startup probes, opens the listener, forks
// the unprivileged acceptor, execs the jail workers (codejail-worker) and
// replaces them when they recycle or die, and turns SIGTERM into a drain and
// SIGHUP into a configuration reload for new workers.
#pragma once

#include <string>

#include "common/config.h"

namespace cjs::server {

struct SupervisorOptions {
  Config config;
  std::string config_yaml;                // the text `config` was parsed from, handed to workers
  std::string config_path;                // re-read on SIGHUP ("" for the embedded default)
  std::string worker_binary;              // path of codejail-worker
  std::string service_user = "codejail";  // the acceptor's account when started as root
};

// Returns the process exit status.
int run_supervisor(SupervisorOptions options);

}  // namespace cjs::server
