// The acceptor's end: stop accepting, let every session finish its current
// exchange and the pool its requests (at most a minute), then stop the event
// loop. Started by SIGTERM/SIGINT, the supervisor's order, or the supervisor
// going away.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

#include "server/acceptor/listener.h"
#include "server/acceptor/systemd_status.h"
#include "server/api_handler.h"
#include "server/worker_pool.h"

namespace cjs::server {

class Drain {
 public:
  Drain(boost::asio::io_context& io, ServiceState& state, Listener& listener,
        const WorkerPool& pool, SystemdStatus& status)
      : io_(io), state_(state), listener_(listener), pool_(pool), status_(status), timer_(io) {}

  // Once; later calls do nothing.
  void start(const char* why);

 private:
  static constexpr std::chrono::seconds kDeadline{60};
  static constexpr std::chrono::milliseconds kPollInterval{50};

  void check();

  boost::asio::io_context& io_;
  ServiceState& state_;
  Listener& listener_;
  const WorkerPool& pool_;
  SystemdStatus& status_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace cjs::server
