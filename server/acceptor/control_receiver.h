// The acceptor's end of the control channel (control_channel.h): every new
// worker's socket goes into the pool; the supervisor's drain order, or the
// supervisor going away, starts the drain. Workers the pool gave up on are
// reported back.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>

#include "server/worker_pool.h"

namespace cjs::server {

class ControlReceiver {
 public:
  using DrainOrder = std::function<void(const char* why)>;

  ControlReceiver(boost::asio::io_context& io, WorkerPool& pool, DrainOrder drain)
      : channel_(io), pool_(pool), drain_(std::move(drain)) {}

  // Adopts the channel (non-blocking reads); false (logged) when it cannot.
  bool adopt(int control_fd);
  void start() { watch(); }

  // Asks the supervisor to kill and replace a worker this side gave up on.
  void report_gave_up(int slot, int pid);

 private:
  void watch();
  // Handles every pending message; false when the supervisor is gone.
  bool receive_pending();

  boost::asio::posix::stream_descriptor channel_;
  WorkerPool& pool_;
  DrainOrder drain_;
};

}  // namespace cjs::server
