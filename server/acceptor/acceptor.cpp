#include "server/acceptor/acceptor.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <unistd.h>

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "common/log.h"
#include "os/egress_lock.h"
#include "os/parent_death.h"
#include "server/acceptor/control_receiver.h"
#include "server/acceptor/drain.h"
#include "server/acceptor/listener.h"
#include "server/acceptor/process_setup.h"
#include "server/acceptor/startup_health.h"
#include "server/acceptor/systemd_status.h"
#include "server/api_handler.h"
#include "server/http_session.h"
#include "server/metrics.h"
#include "server/worker_pool.h"

namespace cjs::server {
namespace {

namespace asio = boost::asio;

PoolSettings pool_settings(const Config& config) {
  return PoolSettings{
      static_cast<std::size_t>(config.queue_limit),
      std::chrono::milliseconds(static_cast<long>(config.queue_timeout_seconds * 1000))};
}

SessionLimits session_limits(const Config& config) {
  SessionLimits limits;
  limits.max_body_bytes = config.max_body_bytes;
  limits.body_budget = std::make_shared<BodyBudget>(config.max_buffered_body_bytes);
  limits.header_timeout =
      std::chrono::milliseconds(static_cast<long>(config.header_timeout_seconds * 1000));
  return limits;
}

void log_exception(const char* what) noexcept {
  try {
    log::error("exception in the acceptor's event loop; continuing",
               {{"error", std::string(what)}});
  } catch (...) {
    // Out of memory even for the log line: nothing better to do.
  }
}

// The acceptor's event loop and the objects on it (acceptor.h).
class Acceptor {
 public:
  explicit Acceptor(AcceptorSetup setup)
      : setup_(std::move(setup)),
        pool_(io_, pool_settings(setup_.config), metrics_),
        handler_(setup_.config, state_, pool_, metrics_),
        limits_(session_limits(setup_.config)),
        listener_(io_, handler_, limits_, static_cast<std::size_t>(setup_.config.max_connections),
                  static_cast<std::size_t>(setup_.config.max_connections_per_ip)),
        status_(io_, setup_.notifier, state_, pool_,
                static_cast<std::size_t>(setup_.config.workers)),
        drain_(io_, state_, listener_, pool_, status_),
        control_(io_, pool_, [this](const char* why) { drain_.start(why); }),
        signals_(io_, SIGTERM, SIGINT) {}

  int run() {
    std::string egress_failure;
    state_.probes_passed = check_startup_health(setup_.probes, metrics_, egress_failure);
    if (setup_.notifier.enabled() && !state_.probes_passed) {
      // systemd waits for READY=1, which can never come: fail the start.
      setup_.notifier.notify("STATUS=startup probes failed (acceptor): " + egress_failure);
      log::error("startup probes failed under systemd: refusing to start");
      return kExitProbesFailed;
    }
    if (!listener_.adopt(setup_.listen_fd) || !control_.adopt(setup_.control_fd)) return 1;
    pool_.set_gave_up_listener([this](int slot, int pid) { control_.report_gave_up(slot, pid); });
    status_.start();
    listener_.start();
    control_.start();
    signals_.async_wait([this](const boost::system::error_code& e, int) {
      if (!e) drain_.start("signal");
    });
    log::info("accepting HTTP requests", {{"bind", setup_.config.bind},
                                          {"probes_passed", state_.probes_passed},
                                          {"enabled", setup_.config.enabled}});
    run_event_loop();
    return 0;
  }

 private:
  // An exception escaping a handler (std::bad_alloc under memory pressure,
  // say) unwinds out of run(); the io_context stays usable, so log it and go
  // on: the acceptor is the only way into the service.
  void run_event_loop() {
    for (;;) {
      try {
        io_.run();
        return;  // stopped (drained) or out of work
      } catch (const std::exception& e) {
        log_exception(e.what());
      } catch (...) {
        log_exception("unknown exception");
      }
      // The handler that threw may have been the one to re-arm accepting.
      listener_.resume_accepting();
    }
  }

  AcceptorSetup setup_;
  asio::io_context io_{1};
  Metrics metrics_{CJS_VERSION};
  ServiceState state_;
  WorkerPool pool_;
  ApiHandler handler_;
  SessionLimits limits_;
  Listener listener_;
  SystemdStatus status_;
  Drain drain_;
  ControlReceiver control_;
  asio::signal_set signals_;
};

}  // namespace

int run_acceptor(AcceptorSetup setup) {
  keep_large_allocations_mmapped();
  raise_open_file_limit(setup.config.max_connections);
  const pid_t supervisor = getppid();
  std::string error;
  if (!drop_to_service_account(setup.run_as_uid, setup.run_as_gid, error)) {
    log::error(error);
    return 1;
  }
  // Changing the user clears the parent-death signal (prctl(2)): ask again,
  // or the acceptor would outlive a killed supervisor while it drains.
  if (!os::die_with_parent(supervisor)) return 1;
  os::EgressLock lock = os::restrict_own_network();
  log::info("acceptor egress lock", {{"detail", lock.detail}});
  Acceptor acceptor(std::move(setup));
  return acceptor.run();
}

}  // namespace cjs::server
