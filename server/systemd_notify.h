// systemd's notification protocol (sd_notify(3)) for Type=notify units:
// READY=1 once the service can answer, STATUS= lines for `systemctl
// status`, WATCHDOG=1 keep-alives, STOPPING=1 and RELOADING=1. Without
// $NOTIFY_SOCKET (not started by systemd) every call is a no-op.
//
// The unit uses NotifyAccess=all: READY, STATUS and the watchdog come from
// the acceptor (a child of the main process), so that a hung acceptor event
// loop, the one way into the service, stops the keep-alives.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace cjs::server {

class SystemdNotifier {
 public:
  // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID. The watchdog
  // applies when WATCHDOG_USEC is set and WATCHDOG_PID is unset or this
  // process (call it in the main process, before forking).
  static SystemdNotifier from_environment();

  bool enabled() const { return enabled_; }
  // The keep-alive period: half of WATCHDOG_USEC; nullopt without a watchdog.
  std::optional<std::chrono::microseconds> watchdog_ping_interval() const { return ping_; }

  // Sends `state` ("READY=1\nSTATUS=..."); false when disabled or on error.
  // Works from any process that inherited the environment, also after it
  // dropped privileges (an AF_UNIX datagram; the egress lock allows it).
  bool notify(const std::string& state) const;

 private:
  bool enabled_ = false;
  std::optional<std::chrono::microseconds> ping_;
};

// The variables above, for children that must not inherit them (workers).
bool is_systemd_notify_variable(const char* env_entry);

}  // namespace cjs::server
