#include "server/acceptor/listener.h"

#include <exception>
#include <utility>

#include "common/log.h"

namespace cjs::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Listener::Listener(asio::io_context& io, ApiHandler& handler, const SessionLimits& limits,
                   std::size_t max_connections, std::size_t max_connections_per_ip)
    : handler_(handler),
      limits_(limits),
      max_connections_(max_connections),
      max_connections_per_ip_(max_connections_per_ip),
      acceptor_(io),
      retry_timer_(io) {}

bool Listener::adopt(int listen_fd) {
  boost::system::error_code ec;
  acceptor_.assign(tcp::v6(), listen_fd, ec);  // the family is re-read from the fd
  if (ec) log::error("cannot adopt the listening socket", {{"error", ec.message()}});
  return !ec;
}

void Listener::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  for (auto& weak : sessions_) {
    if (auto session = weak.lock()) session->stop_after_current();
  }
}

// Arms one accept unless one (or its retry) is pending, the listener
// stopped, or max_connections sessions are open; a closing session calls
// this again.
void Listener::accept() {
  if (armed_ || stopped_) return;
  if (sessions_.size() >= max_connections_) {
    capacity_warning_({{"max_connections", log::number(static_cast<long long>(max_connections_))}});
    return;
  }
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    armed_ = false;
    if (stopped_ || ec == asio::error::operation_aborted) return;
    if (ec) return retry_accept(ec.message());
    try {
      start_session(std::move(socket));
      accept();
    } catch (const std::exception& e) {
      // std::bad_alloc, say: the same medicine as EMFILE.
      retry_accept(e.what());
    }
  });
  armed_ = true;  // only now: async_accept may throw
}

void Listener::resume_accepting() noexcept {
  try {
    accept();
    return;
  } catch (...) {
  }
  try {
    retry_accept("cannot start an accept (out of memory?)");
  } catch (...) {
    // The next closing session or caught exception tries again.
  }
}

void Listener::start_session(tcp::socket socket) {
  boost::system::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  asio::ip::address address = peer.address();
  // An IPv4 client of a dual-stack listener counts as its IPv4 address.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  if (per_ip_[address] >= max_connections_per_ip_) {
    per_ip_warning_(
        {{"client", address.to_string()},
         {"max_connections_per_ip", log::number(static_cast<long long>(max_connections_per_ip_))}});
    socket.close(ec);
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  auto it = sessions_.emplace(sessions_.end());
  ++per_ip_[address];
  // Undoes what this session counted; from its destructor, or below.
  auto forget = [this, it, address] {
    sessions_.erase(it);
    auto count = per_ip_.find(address);
    if (count != per_ip_.end() && --count->second == 0) per_ip_.erase(count);
  };
  bool built = false;
  try {
    auto session = std::make_shared<HttpSession>(
        std::move(socket), handler_, limits_, [this, forget, alive = std::weak_ptr<int>(alive_)] {
          if (alive.expired()) return;
          forget();
          resume_accepting();  // below the cap again
        });
    built = true;
    *it = session;
    session->start();
  } catch (...) {
    // A session that was built forgot itself when it was destroyed.
    if (!built) forget();
    throw;
  }
}

// Retries after a pause, warning at most once a second.
void Listener::retry_accept(const std::string& error) {
  if (!armed_) {  // else e.g. a closing session re-armed it meanwhile
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([this](const boost::system::error_code& ec) {
      armed_ = false;
      if (!ec) resume_accepting();
    });
    armed_ = true;
  }
  accept_error_warning_({{"error", error}});
}

}  // namespace cjs::server
