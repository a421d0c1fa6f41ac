// What the acceptor tells systemd (systemd_notify.h): READY=1 once the
// startup probes passed and every configured worker said hello, then STATUS=
// on changes (at most one per second), and WATCHDOG=1 from this event loop,
// so that a hung loop, the one way into the service, stops the keep-alives.
// Nothing at all when not started by systemd.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <string>

#include "server/api_handler.h"
#include "server/systemd_notify.h"
#include "server/worker_pool.h"

namespace cjs::server {

class SystemdStatus {
 public:
  SystemdStatus(boost::asio::io_context& io, const SystemdNotifier& notifier,
                const ServiceState& state, WorkerPool& pool, std::size_t configured_workers);

  // Follows the pool from now on and starts the watchdog keep-alives.
  void start();
  // Sends the current STATUS now (a drain started).
  void update();

 private:
  static constexpr std::chrono::seconds kStatusInterval{1};

  void on_pool_change();
  void ping_watchdog(std::chrono::microseconds interval);
  void send_status(const std::string& prefix);
  std::string status_text() const;

  const SystemdNotifier& notifier_;
  const ServiceState& state_;
  WorkerPool& pool_;
  const std::size_t configured_workers_;
  boost::asio::steady_timer watchdog_timer_;
  boost::asio::steady_timer status_timer_;
  std::chrono::steady_clock::time_point last_status_sent_{};
  std::string last_status_;
  bool ready_sent_ = false;
  bool status_armed_ = false;
};

}  // namespace cjs::server
