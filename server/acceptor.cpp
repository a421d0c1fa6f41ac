#include "server/acceptor.h"

#include <grp.h>
#include <linux/capability.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <list>
#include <memory>
#include <string>

#include "common/egress.h"
#include "common/log.h"
#include "server/api_handler.h"
#include "server/control_channel.h"
#include "server/http_session.h"
#include "server/metrics.h"
#include "server/worker_pool.h"

namespace cjs::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Root -> the service account, with no capabilities left at all.
bool drop_privileges(const AcceptorSetup& setup, std::string& error) {
  // The bounding set first: emptying it needs CAP_SETPCAP, gone after setuid.
  for (int cap = 0; cap <= 63; ++cap) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  if (setup.run_as_uid) {
    if (setgroups(0, nullptr) != 0 ||
        setresgid(*setup.run_as_gid, *setup.run_as_gid, *setup.run_as_gid) != 0 ||
        setresuid(*setup.run_as_uid, *setup.run_as_uid, *setup.run_as_uid) != 0) {
      error = std::string("cannot switch to the service account: ") + std::strerror(errno);
      return false;
    }
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, data) != 0) {
    error = std::string("cannot clear capabilities: ") + std::strerror(errno);
    return false;
  }
  // No core dumps or ptrace by same-uid processes: request bodies hold code.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  return true;
}

// Each connection is a descriptor; the default soft limit (often 1024) would
// make EMFILE, not max_connections, the real cap. The hard limit needs no
// privilege to reach.
void raise_open_file_limit(int max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  // Listener, control channel, worker sockets, logs: some headroom.
  constexpr rlim_t kOtherFiles = 300;
  if (limit.rlim_cur != RLIM_INFINITY &&
      static_cast<rlim_t>(max_connections) + kOtherFiles > limit.rlim_cur) {
    log::warning("the open-file limit is below max_connections; accept will back off on EMFILE",
                 {{"nofile", log::number(static_cast<long long>(limit.rlim_cur))},
                  {"max_connections", log::number(static_cast<long long>(max_connections))}});
  }
}

// A warning that can recur at a high rate: at most one line per interval,
// carrying the number of occurrences suppressed since the previous line.
class RateLimitedWarning {
 public:
  RateLimitedWarning(const char* message, std::chrono::steady_clock::duration interval)
      : message_(message), interval_(interval) {}

  void operator()(log::Fields fields) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) {
      ++suppressed_;
      return;
    }
    fields.emplace_back("suppressed", log::number(static_cast<long long>(suppressed_)));
    log::warning(message_, fields);
    suppressed_ = 0;
    next_ = now + interval_;
  }

 private:
  const char* message_;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point next_{};
  std::uint64_t suppressed_ = 0;
};

class Acceptor {
 public:
  explicit Acceptor(AcceptorSetup setup)
      : setup_(std::move(setup)),
        pool_(io_,
              PoolSettings{static_cast<std::size_t>(setup_.config.queue_limit),
                           std::chrono::milliseconds(
                               static_cast<long>(setup_.config.queue_timeout_seconds * 1000))},
              metrics_),
        handler_(setup_.config, state_, pool_, metrics_),
        listener_(io_),
        control_(io_),
        signals_(io_, SIGTERM, SIGINT),
        drain_timer_(io_),
        accept_retry_timer_(io_),
        watchdog_timer_(io_),
        status_timer_(io_) {
    limits_.max_body_bytes = setup_.config.max_body_bytes;
  }

  // Sessions outliving the acceptor (their handlers are destroyed with
  // io_, after the other members) must not call back into it.
  ~Acceptor() { alive_.reset(); }

  int run() {
    state_.probes_passed = !setup_.probes.empty();
    for (const auto& probe : setup_.probes) {
      metrics_.set_probe(probe.name, probe.passed);
      state_.probes_passed = state_.probes_passed && probe.passed;
    }
    // This process's own egress is forbidden; prove it (api.md 6, "egress").
    std::string reason;
    bool egress = probe_egress(reason);
    metrics_.set_probe("egress (acceptor)", egress);
    if (egress) {
      log::info("Startup check 'egress' passed", {{"process", "acceptor"}});
    } else {
      log::error("Startup check 'egress' failed with: " + reason, {{"process", "acceptor"}});
      state_.probes_passed = false;
    }
    if (setup_.notifier.enabled() && !state_.probes_passed) {
      // systemd waits for READY=1, which can never come: fail the start.
      setup_.notifier.notify("STATUS=startup probes failed (acceptor): " + reason);
      log::error("startup probes failed under systemd: refusing to start");
      return kExitProbesFailed;
    }

    boost::system::error_code ec;
    listener_.assign(tcp::v6(), setup_.listen_fd, ec);  // family is re-read from the fd
    if (ec) {
      log::error("cannot adopt the listening socket", {{"error", ec.message()}});
      return 1;
    }
    control_.assign(setup_.control_fd, ec);
    if (ec) {
      log::error("cannot adopt the control channel", {{"error", ec.message()}});
      return 1;
    }
    start_systemd_notifications();
    accept();
    watch_control();
    signals_.async_wait([this](const boost::system::error_code& e, int) {
      if (!e) drain("signal");
    });
    log::info("accepting HTTP requests", {{"bind", setup_.config.bind},
                                          {"probes_passed", state_.probes_passed},
                                          {"enabled", setup_.config.enabled}});
    // An exception escaping a handler (std::bad_alloc under memory
    // pressure, say) unwinds out of run(); the io_context stays usable, so
    // log it and go on: the acceptor is the only way into the service.
    for (;;) {
      try {
        io_.run();
        break;  // stopped (drained) or out of work
      } catch (const std::exception& e) {
        log_exception(e.what());
      } catch (...) {
        log_exception("unknown exception");
      }
      // The handler that threw may have been the one to re-arm accepting.
      resume_accepting();
    }
    return 0;
  }

 private:
  static constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
  static constexpr std::chrono::seconds kAcceptWarningInterval{1};
  static constexpr std::chrono::seconds kStatusInterval{1};

  static void log_exception(const char* what) {
    try {
      log::error("exception in the acceptor's event loop; continuing",
                 {{"error", std::string(what)}});
    } catch (...) {
      // Out of memory even for the log line: nothing better to do.
    }
  }

  // Arms one accept unless one (or its retry) is pending, the service is
  // draining, or max_connections sessions are open; a closing session
  // calls this again. Beyond the cap, clients wait in the listen backlog
  // instead of being accepted and dropped.
  void accept() {
    if (accept_armed_ || state_.draining) return;
    if (sessions_.size() >= static_cast<std::size_t>(setup_.config.max_connections)) {
      capacity_warning_({{"max_connections",
                          log::number(static_cast<long long>(setup_.config.max_connections))}});
      return;
    }
    listener_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      accept_armed_ = false;
      if (state_.draining || ec == asio::error::operation_aborted) return;
      if (ec) return retry_accept(ec.message());
      try {
        start_session(std::move(socket));
        accept();
      } catch (const std::exception& e) {
        // std::bad_alloc, say: the same medicine as EMFILE.
        retry_accept(e.what());
      }
    });
    accept_armed_ = true;  // only now: async_accept may throw
  }

  // accept() where nothing may throw (a session's destructor, the loop's
  // exception handler).
  void resume_accepting() noexcept {
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

  void start_session(tcp::socket socket) {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto it = sessions_.emplace(sessions_.end());
    bool built = false;
    try {
      auto session = std::make_shared<HttpSession>(std::move(socket), handler_, limits_,
                                                   [this, it, alive = std::weak_ptr<int>(alive_)] {
                                                     if (alive.expired()) return;
                                                     sessions_.erase(it);
                                                     resume_accepting();  // below the cap again
                                                   });
      built = true;
      *it = session;
      session->start();
    } catch (...) {
      // A session that was built erased its entry when it was destroyed.
      if (!built) sessions_.erase(it);
      throw;
    }
  }

  // Accept errors (EMFILE, ENFILE, ENOBUFS, ...) persist until something
  // is freed: retrying at once would spin and flood the log. Retry after a
  // pause instead, warning at most once a second.
  void retry_accept(const std::string& error) {
    if (!accept_armed_) {  // else e.g. a closing session re-armed it meanwhile
      accept_retry_timer_.expires_after(kAcceptRetryDelay);
      accept_retry_timer_.async_wait([this](const boost::system::error_code& ec) {
        accept_armed_ = false;
        if (!ec) resume_accepting();
      });
      accept_armed_ = true;
    }
    accept_error_warning_({{"error", error}});
  }

  void watch_control() {
    control_.async_wait(
        asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
          if (ec) return;
          bool closed = false;
          try {
            while (auto message = receive_control(setup_.control_fd, closed)) {
              if (message->kind == ControlMessage::kWorker && message->fd >= 0) {
                pool_.add_worker(message->fd);
              } else if (message->kind == ControlMessage::kDrain) {
                drain("supervisor");
              }
            }
          } catch (const std::exception& e) {
            // Keep listening: this channel brings every replacement worker.
            log::error("handling a control message failed", {{"error", std::string(e.what())}});
          }
          if (closed) {
            log::error("the supervisor went away; draining");
            drain("supervisor gone");
            return;
          }
          watch_control();
        });
  }

  // systemd (systemd_notify.h): READY=1 once the probes passed and every
  // configured worker said hello, then STATUS= on changes (at most one per
  // kStatusInterval) and WATCHDOG=1 from this event loop.
  void start_systemd_notifications() {
    if (!setup_.notifier.enabled()) return;
    pool_.set_change_listener([this] { on_pool_change(); });
    if (auto interval = setup_.notifier.watchdog_ping_interval()) {
      log::info(
          "systemd watchdog enabled",
          {{"ping_interval_ms", log::number(static_cast<long long>(interval->count() / 1000))}});
      ping_watchdog(*interval);
    }
    on_pool_change();
  }

  void ping_watchdog(std::chrono::microseconds interval) {
    setup_.notifier.notify("WATCHDOG=1");
    watchdog_timer_.expires_after(interval);
    watchdog_timer_.async_wait([this, interval](const boost::system::error_code& ec) {
      if (!ec) ping_watchdog(interval);
    });
  }

  std::string status_text() const {
    std::string text = state_.draining ? "draining; " : "";
    text += state_.probes_passed ? "startup probes passed" : "startup probes FAILED";
    text += "; workers: " + std::to_string(pool_.busy()) + " busy, " +
            std::to_string(pool_.workers()) + " up of " + std::to_string(setup_.config.workers) +
            "; queued: " + std::to_string(pool_.queued());
    return text;
  }

  void on_pool_change() {
    if (!ready_sent_ && state_.probes_passed &&
        pool_.workers() >= static_cast<std::size_t>(setup_.config.workers)) {
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

  void send_status(const std::string& prefix) {
    std::string text = status_text();
    if (prefix.empty() && text == last_status_) return;
    last_status_ = text;
    last_status_sent_ = std::chrono::steady_clock::now();
    setup_.notifier.notify(prefix + "STATUS=" + text);
  }

  // Stop accepting, finish what is in flight, then stop.
  void drain(const char* why) {
    if (state_.draining) return;
    state_.draining = true;
    log::info("draining", {{"reason", std::string(why)}});
    if (setup_.notifier.enabled()) send_status("");
    boost::system::error_code ignored;
    listener_.close(ignored);
    accept_retry_timer_.cancel();
    for (auto& weak : sessions_) {
      if (auto session = weak.lock()) session->stop_after_current();
    }
    drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    check_drained();
  }

  void check_drained() {
    if ((sessions_.empty() && pool_.idle()) || std::chrono::steady_clock::now() > drain_deadline_) {
      log::info("drained; exiting");
      io_.stop();
      return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(50));
    drain_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) check_drained();
    });
  }

  AcceptorSetup setup_;
  asio::io_context io_{1};
  Metrics metrics_;
  ServiceState state_;
  WorkerPool pool_;
  ApiHandler handler_;
  SessionLimits limits_;
  tcp::acceptor listener_;
  asio::posix::stream_descriptor control_;
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  asio::steady_timer accept_retry_timer_;
  asio::steady_timer watchdog_timer_;
  asio::steady_timer status_timer_;
  std::chrono::steady_clock::time_point last_status_sent_{};
  std::string last_status_;
  bool ready_sent_ = false;
  bool status_armed_ = false;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::list<std::weak_ptr<HttpSession>> sessions_;  // live sessions, in accept order
  bool accept_armed_ = false;                       // an accept or its retry timer is pending
  RateLimitedWarning accept_error_warning_{"accept failed; retrying in 100 ms",
                                           kAcceptWarningInterval};
  RateLimitedWarning capacity_warning_{
      "max_connections reached; not accepting until a connection closes", kAcceptWarningInterval};
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // see ~Acceptor
};

}  // namespace

int run_acceptor(AcceptorSetup setup) {
  // Request bodies (up to max_body_bytes, e.g. a 2 MiB python_lib.zip) are
  // single large allocations. A fixed mmap threshold keeps them mmapped, so
  // freeing one returns it to the kernel; glibc's default threshold grows
  // after the first such free and the heap then keeps the peak for good.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  raise_open_file_limit(setup.config.max_connections);
  std::string error;
  if (!drop_privileges(setup, error)) {
    log::error(error);
    return 1;
  }
  EgressLock lock = restrict_own_network();
  log::info("acceptor egress lock", {{"detail", lock.detail}});
  Acceptor acceptor(std::move(setup));
  return acceptor.run();
}

}  // namespace cjs::server
