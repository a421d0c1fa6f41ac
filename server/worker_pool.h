// The acceptor's view of the jail workers: one Unix socket per worker, one
// request per worker at a time, and a bounded queue in front of them.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/worker_protocol.h"
#include "server/metrics.h"

namespace cjs::server {

struct PoolOutcome {
  enum Kind {
    kAnswered,      // `response` holds the worker's answer
    kWorkerDied,    // the worker went away mid-request
    kQueueFull,     // every worker busy and the queue full
    kQueueTimeout,  // waited longer than the queue timeout
    kNoMemory,      // the request could not be sent (allocation failed)
    kClientGone,    // its client closed the connection while it waited; never run
  };
  Kind kind = kAnswered;
  protocol::Response response;
  // kWorkerDied: the request's payload text, for the fallback answer. The
  // pool holds it anyway, so callers need not keep a copy (or a parsed DOM).
  std::string payload_text;
  double queue_seconds = 0;  // how long it waited for a worker (0 for kQueueFull)
};

using PoolCallback = std::function<void(PoolOutcome)>;
// True once nobody waits for the request's answer any more (its client
// closed the connection).
using ClientGone = std::function<bool()>;

struct PoolSettings {
  std::size_t queue_limit = 64;
  std::chrono::milliseconds queue_timeout{3000};
};

class WorkerPool {
 public:
  WorkerPool(boost::asio::io_context& io, PoolSettings settings, Metrics& metrics);

  // Adopts a connected worker socket (from the supervisor); the worker
  // becomes available once its hello arrives.
  void add_worker(int fd);

  // Queues `request`; `done` is called exactly once, on the io_context,
  // unless this throws (std::bad_alloc), in which case it is never called.
  // Refused (kQueueFull) only when no worker is idle and the queue is full.
  // A waiting request for which `client_gone` holds is never run: it ends
  // with kClientGone when a worker would have taken it, or when it would
  // have made the queue full.
  void submit(protocol::Request request, PoolCallback done, ClientGone client_gone = {});

  // Called after every change of workers(), busy() or queued().
  void set_change_listener(std::function<void()> listener) { listener_ = std::move(listener); }

  // Called with (slot, pid) of a worker given up on at its answer deadline:
  // a stopped or wedged worker never exits by itself, so someone must kill it.
  void set_gave_up_listener(std::function<void(int, int)> listener) {
    gave_up_listener_ = std::move(listener);
  }

  std::size_t workers() const;
  std::size_t busy() const;
  std::size_t queued() const { return queue_.size(); }
  bool idle() const { return busy() == 0 && queue_.empty(); }

 private:
  struct Pending {
    protocol::Request request;
    PoolCallback done;
    ClientGone client_gone;
    std::chrono::steady_clock::time_point enqueued;
    // When a worker took it; unset while it waits (PoolOutcome::queue_seconds).
    std::optional<std::chrono::steady_clock::time_point> started;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  struct Worker {
    explicit Worker(boost::asio::io_context& io) : socket(io) {}
    boost::asio::local::stream_protocol::socket socket;
    protocol::FrameReader reader;
    std::vector<char> buffer = std::vector<char>(64 * 1024);
    bool ready = false;     // hello received
    bool retiring = false;  // sent its last answer; only its EOF is expected
    std::int32_t slot = -1, pid = 0;
    std::chrono::milliseconds answer_deadline{0};  // from the hello; 0: none
    boost::asio::steady_timer answer_timer{socket.get_executor()};
    std::uint64_t started = 0;  // requests started here; tells a stale timer apart
    std::shared_ptr<Pending> current;
    std::string outgoing;  // the frame being written
  };

  bool has_idle_worker() const;
  // Ends `pending` (taken off the queue) with kClientGone if its client left.
  bool drop_if_client_gone(const std::shared_ptr<Pending>& pending);
  // Drops every queued request whose client left.
  void prune_client_gone();
  void dispatch();
  // Calls pending->done; an exception from it is logged, so the pool's own
  // state stays consistent.
  void finish(const std::shared_ptr<Pending>& pending, PoolOutcome outcome);
  void start(const std::shared_ptr<Worker>& worker, std::shared_ptr<Pending> pending);
  void read_more(const std::shared_ptr<Worker>& worker);
  void on_frame(const std::shared_ptr<Worker>& worker, protocol::FrameKind kind, std::string& body);
  void drop(const std::shared_ptr<Worker>& worker, const char* why);
  void update_gauges();

  boost::asio::io_context& io_;
  PoolSettings settings_;
  Metrics& metrics_;
  std::deque<std::shared_ptr<Pending>> queue_;
  std::vector<std::shared_ptr<Worker>> workers_;
  std::function<void()> listener_;
  std::function<void(int, int)> gave_up_listener_;
};

}  // namespace cjs::server
