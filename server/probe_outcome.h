// A startup probe's outcome (api.md section 6), as the supervisor gets it from
// the worker binary's probe run and hands it to the acceptor, which serves
// /health/ and the probe metrics from it.
#pragma once

#include <string>

namespace cjs::server {

struct ProbeOutcome {
  std::string name;
  bool passed = false;
  std::string reason;
};

// Exit status when the startup probes fail under systemd (never READY).
inline constexpr int kExitProbesFailed = 3;

}  // namespace cjs::server
