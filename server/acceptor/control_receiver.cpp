#include "server/acceptor/control_receiver.h"

#include <exception>
#include <string>

#include "common/log.h"
#include "server/control_channel.h"

namespace cjs::server {

bool ControlReceiver::adopt(int control_fd) {
  boost::system::error_code ec;
  channel_.assign(control_fd, ec);
  if (ec) log::error("cannot adopt the control channel", {{"error", ec.message()}});
  return !ec;
}

void ControlReceiver::report_gave_up(int slot, int pid) {
  if (!send_control(channel_.native_handle(), {ControlMessage::kGaveUp, slot, -1, pid})) {
    log::error("cannot ask the supervisor to replace a worker",
               {{"worker_pid", log::number(static_cast<long long>(pid))}});
  }
}

void ControlReceiver::watch() {
  channel_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this](const boost::system::error_code& ec) {
                        if (ec) return;
                        if (!receive_pending()) {
                          log::error("the supervisor went away; draining");
                          drain_("supervisor gone");
                          return;
                        }
                        watch();
                      });
}

bool ControlReceiver::receive_pending() {
  bool closed = false;
  try {
    while (auto message = receive_control(channel_.native_handle(), closed)) {
      if (message->kind == ControlMessage::kWorker && message->fd >= 0) {
        pool_.add_worker(message->fd);
      } else if (message->kind == ControlMessage::kDrain) {
        drain_("supervisor");
      }
    }
  } catch (const std::exception& e) {
    // Keep listening: this channel brings every replacement worker.
    log::error("handling a control message failed", {{"error", std::string(e.what())}});
  }
  return !closed;
}

}  // namespace cjs::server
