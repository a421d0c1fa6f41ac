#include "server/acceptor.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <cstring>
#include <list>
#include <memory>

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
    if (setgroups(0, nullptr) != 0 || setresgid(*setup.run_as_gid, *setup.run_as_gid,
                                                *setup.run_as_gid) != 0 ||
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
        drain_timer_(io_) {
    limits_.max_body_bytes = setup_.config.max_body_bytes;
  }

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
    accept();
    watch_control();
    signals_.async_wait([this](const boost::system::error_code& e, int) {
      if (!e) drain("signal");
    });
    log::info("accepting HTTP requests",
              {{"bind", setup_.config.bind},
               {"probes_passed", state_.probes_passed},
               {"enabled", setup_.config.enabled}});
    io_.run();
    return 0;
  }

 private:
  void accept() {
    listener_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (state_.draining) return;
      if (!ec) {
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto it = sessions_.emplace(sessions_.end());
        auto session = std::make_shared<HttpSession>(std::move(socket), handler_, limits_,
                                                     [this, it] { sessions_.erase(it); });
        *it = session;
        session->start();
      } else if (ec == asio::error::operation_aborted) {
        return;
      } else {
        // EMFILE and friends: back off briefly instead of spinning.
        log::warning("accept failed", {{"error", ec.message()}});
      }
      accept();
    });
  }

  void watch_control() {
    control_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;
      bool closed = false;
      while (auto message = receive_control(setup_.control_fd, closed)) {
        if (message->kind == ControlMessage::kWorker && message->fd >= 0) {
          pool_.add_worker(message->fd);
        } else if (message->kind == ControlMessage::kDrain) {
          drain("supervisor");
        }
      }
      if (closed) {
        log::error("the supervisor went away; draining");
        drain("supervisor gone");
        return;
      }
      watch_control();
    });
  }

  // Stop accepting, finish what is in flight, then stop.
  void drain(const char* why) {
    if (state_.draining) return;
    state_.draining = true;
    log::info("draining", {{"reason", std::string(why)}});
    boost::system::error_code ignored;
    listener_.close(ignored);
    for (auto& weak : sessions_) {
      if (auto session = weak.lock()) session->stop_after_current();
    }
    drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    check_drained();
  }

  void check_drained() {
    if ((sessions_.empty() && pool_.idle()) ||
        std::chrono::steady_clock::now() > drain_deadline_) {
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
  std::chrono::steady_clock::time_point drain_deadline_;
  std::list<std::weak_ptr<HttpSession>> sessions_;
};

}  // namespace

int run_acceptor(AcceptorSetup setup) {
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
