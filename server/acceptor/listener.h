// Accepts connections and runs an HttpSession on each (after the Boost.Beast
// server examples' listener), at most max_connections at once: beyond the
// cap, clients wait in the listen backlog instead of being accepted and
// dropped. One client address holds at most max_connections_per_ip of them:
// its further connections are closed as soon as they are accepted, so a
// single client cannot take every connection from the others. Accept errors (EMFILE, ENFILE,
// ENOBUFS, out of memory) persist until something is freed, so accepting backs off for a moment
// instead of spinning, and the warnings about both are rate-limited.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "server/acceptor/rate_limited_warning.h"
#include "server/http_session.h"

namespace cjs::server {

class Listener {
 public:
  Listener(boost::asio::io_context& io, ApiHandler& handler, const SessionLimits& limits,
           std::size_t max_connections, std::size_t max_connections_per_ip);
  // Sessions outliving the listener (their handlers are destroyed with the
  // io_context, after it) must not call back into it.
  ~Listener() { alive_.reset(); }

  // Adopts the bound, listening socket; false (logged) when it cannot.
  bool adopt(int listen_fd);
  void start() { accept(); }
  // Stops accepting for good: the socket closes, and every open session
  // closes after its current exchange.
  void stop();
  std::size_t open_sessions() const { return sessions_.size(); }

  // Arms an accept again where nothing may throw (a closing session, the
  // event loop after a handler threw).
  void resume_accepting() noexcept;

 private:
  static constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
  static constexpr std::chrono::seconds kWarningInterval{1};

  void accept();
  void start_session(boost::asio::ip::tcp::socket socket);
  void retry_accept(const std::string& error);

  ApiHandler& handler_;
  const SessionLimits& limits_;
  const std::size_t max_connections_;
  const std::size_t max_connections_per_ip_;
  std::map<boost::asio::ip::address, std::size_t> per_ip_;  // open sessions by client address
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::list<std::weak_ptr<HttpSession>> sessions_;  // live sessions, in accept order
  bool armed_ = false;                              // an accept or its retry timer is pending
  bool stopped_ = false;
  RateLimitedWarning accept_error_warning_{"accept failed; retrying in 100 ms", kWarningInterval};
  RateLimitedWarning capacity_warning_{
      "max_connections reached; not accepting until a connection closes", kWarningInterval};
  RateLimitedWarning per_ip_warning_{
      "max_connections_per_ip reached; closing a new connection from that address",
      kWarningInterval};
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // see ~Listener
};

}  // namespace cjs::server
