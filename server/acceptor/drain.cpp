#include "server/acceptor/drain.h"

#include <string>

#include "common/log.h"

namespace cjs::server {

void Drain::start(const char* why) {
  if (state_.draining) return;
  state_.draining = true;  // /health/ answers 503 from now on
  log::info("draining", {{"reason", std::string(why)}});
  status_.update();
  listener_.stop();
  deadline_ = std::chrono::steady_clock::now() + kDeadline;
  check();
}

void Drain::check() {
  if ((listener_.open_sessions() == 0 && pool_.idle()) ||
      std::chrono::steady_clock::now() > deadline_) {
    log::info("drained; exiting");
    io_.stop();
    return;
  }
  timer_.expires_after(kPollInterval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) check();
  });
}

}  // namespace cjs::server
