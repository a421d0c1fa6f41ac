#include "server/acceptor/systemd_status.h"

#include <algorithm>

#include "common/log.h"

namespace cjs::server {

SystemdStatus::SystemdStatus(boost::asio::io_context& io, const SystemdNotifier& notifier,
                             const ServiceState& state, WorkerPool& pool,
                             std::size_t configured_workers)
    : notifier_(notifier),
      state_(state),
      pool_(pool),
      configured_workers_(configured_workers),
      watchdog_timer_(io),
      status_timer_(io) {}

void SystemdStatus::start() {
  if (!notifier_.enabled()) return;
  pool_.set_change_listener([this] { on_pool_change(); });
  if (auto interval = notifier_.watchdog_ping_interval()) {
    log::info(
        "systemd watchdog enabled",
        {{"ping_interval_ms", log::number(static_cast<long long>(interval->count() / 1000))}});
    ping_watchdog(*interval);
  }
  on_pool_change();
}

void SystemdStatus::update() {
  if (notifier_.enabled()) send_status("");
}

void SystemdStatus::ping_watchdog(std::chrono::microseconds interval) {
  notifier_.notify("WATCHDOG=1");
  watchdog_timer_.expires_after(interval);
  watchdog_timer_.async_wait([this, interval](const boost::system::error_code& ec) {
    if (!ec) ping_watchdog(interval);
  });
}

std::string SystemdStatus::status_text() const {
  std::string text = state_.draining ? "draining; " : "";
  text += state_.probes_passed ? "startup probes passed" : "startup probes FAILED";
  text += "; workers: " + std::to_string(pool_.busy()) + " busy, " +
          std::to_string(pool_.workers()) + " up of " + std::to_string(configured_workers_) +
          "; queued: " + std::to_string(pool_.queued());
  return text;
}

void SystemdStatus::on_pool_change() {
  if (!ready_sent_ && state_.probes_passed && pool_.workers() >= configured_workers_) {
    ready_sent_ = true;
    send_status("READY=1\n");
    log::info("ready (notified systemd)");
    return;
  }
  if (status_armed_) return;
  status_armed_ = true;
  status_timer_.expires_at(
      std::max(std::chrono::steady_clock::now(), last_status_sent_ + kStatusInterval));
  status_timer_.async_wait([this](const boost::system::error_code& ec) {
    status_armed_ = false;
    if (!ec) send_status("");
  });
}

void SystemdStatus::send_status(const std::string& prefix) {
  std::string text = status_text();
  if (prefix.empty() && text == last_status_) return;
  last_status_ = text;
  last_status_sent_ = std::chrono::steady_clock::now();
  notifier_.notify(prefix + "STATUS=" + text);
}

}  // namespace cjs::server
