#include "server/systemd_notify.h"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace cjs::server {

SystemdNotifier SystemdNotifier::from_environment() {
  SystemdNotifier n;
  const char* socket = std::getenv("NOTIFY_SOCKET");
  n.enabled_ = socket != nullptr && *socket != '\0';
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  if (n.enabled_ && usec != nullptr && *usec != '\0') {
    char* end = nullptr;
    unsigned long long value = std::strtoull(usec, &end, 10);
    bool ours = pid == nullptr || *pid == '\0' ||
                std::strtoll(pid, nullptr, 10) == static_cast<long long>(getpid());
    if (*end == '\0' && value > 0 && ours) {
      n.ping_ = std::chrono::microseconds(value / 2 > 0 ? value / 2 : 1);
    }
  }
  return n;
}

bool SystemdNotifier::notify(const std::string& state) const {
  if (!enabled_) return false;
  return sd_notify(0, state.c_str()) > 0;
}

bool is_systemd_notify_variable(const char* entry) {
  std::string_view e(entry);
  for (std::string_view name : {"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID="}) {
    if (e.starts_with(name)) return true;
  }
  return false;
}

}  // namespace cjs::server
